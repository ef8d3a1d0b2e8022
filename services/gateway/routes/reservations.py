"""Reservations routes (../shared/api.md, Reservations; R-RSV-1..11).

Thin: bodies and query strings go to the reservations RPCs as they came (the
service validates them, 422 naming the fields) with the caller: the customer
id for the shop's routes, the partner from the path and the staff member for
the partner center's. The service filters by them, so another customer's or
another partner's reservation is a 404 there too.

Added to the contract's table, because users need them:
``GET /v1/shop/reservations/{number}/cancellation-quote`` (what cancelling
would cost now; ``?lines=0:1`` for part of it), ``GET /v1/shop/shared/{token}``
(a shared reservation before saving it), ``POST /v1/shop/transfers/{token}/accept``
(the friend takes the ticket handed to their phone), and
``GET, PUT /v1/partners/{pid}/products/{id}/booking-settings`` (auto or manual
confirmation, request expiry, partial cancellation). Conversations themselves
are notifications' routes.
"""

from __future__ import annotations

from chassis.reviews import ReviewIn
from chassis.validation import NoBody
from contract.reservations import (
    BoardQuery,
    BookingSettingsOut,
    CancellationQuoteOut,
    CancelledReservationOut,
    ChangeDateIn,
    ChatInvitationOut,
    ChatInvitationPage,
    ChatInvitationQuery,
    CustomerCancelIn,
    CustomerListQuery,
    CustomerReservationOut,
    MyReservationOut,
    MyReservationPage,
    OptionalReasonIn,
    PartnerListQuery,
    PartnerReservationDetailOut,
    PartnerReservationOut,
    PartnerReservationPage,
    ProductSettingsIn,
    QuoteQuery,
    RequiredReasonIn,
    ReservationBoardOut,
    ReservationCreate,
    ReservationReviewOut,
    SavedReservationOut,
    SharedReservationOut,
    ShareOut,
    TransferIn,
    TransferOfferOut,
)

from ..auth import actor_of, require_person
from ..http import query_of, route
from ..identity_models import ReservationPhoneOut
from ..ratelimit import RateLimitedRoutes


def customer_of(request) -> str:
    return request.principal.customer_id


class ReservationsRoutes(RateLimitedRoutes):
    # --- the shop: customers (R-RSV-3..5, R-RSV-10, R-RSV-11) -------------------------------

    @route(
        "POST",
        "/v1/shop/reservations",
        access="customer",
        body_model=ReservationCreate,
        response_model=CustomerReservationOut,
        status=201,
        idempotency="required",
        rate_limit="booking",  # per customer (issue 16), counted before the body is read
        errors={
            404: ["product_not_found", "coupon_not_found"],
            409: [
                "capacity_exhausted",
                "out_of_stock",
                "partner_not_open",
                "product_not_bookable",
                "product_unavailable",
                "slot_not_offered",
                "slot_blocked",
                "slot_past",
                "sale_not_started",
                "sale_ended",
                "coupon_not_issued",
                "coupon_not_started",
                "coupon_expired",
                "coupon_paused",
                "coupon_exhausted",
                "coupon_limit_reached",
                "coupon_min_spend",
                "coupon_not_applicable",
                "idempotency_key_reused",
                "booking_interrupted",
            ],
        },
        summary="book: Idempotency-Key required, coupon_code or coupon_id optional; 201 {number, status, "
        "total, discount_amount, cancel_deadline}; 409 capacity_exhausted, partner_not_open, coupon_* "
        "refusals (R-RSV-1, R-RSV-3, R-ACC-8, issue #11)",
    )
    def shop_create_reservation(self, request):
        return 201, self.services.reservations.create_reservation(
            customer_of(request), request.json_body, request.headers.get("Idempotency-Key")
        )

    @route(
        "GET",
        "/v1/shop/reservations",
        access="customer",
        query_model=CustomerListQuery,
        response_model=MyReservationPage,
        summary="my reservations: booked, handed to me or saved from a share; newest first",
    )
    def shop_list_reservations(self, request):
        return 200, self.services.reservations.list_customer_reservations(customer_of(request), query_of(request))

    @route(
        "GET",
        "/v1/shop/reservations/<number>",
        access="customer",
        response_model=MyReservationOut,
        errors={404: ["reservation_not_found"]},
        summary="one of my reservations: booked (role booker), handed to me (holder) or saved from a share "
        "(friend: no money) (R-RSV-10)",
    )
    def shop_get_reservation(self, request, number):
        return 200, self.services.reservations.get_customer_reservation(customer_of(request), number)

    @route(
        "GET",
        "/v1/shop/reservations/<number>/cancellation-quote",
        access="customer",
        query_model=QuoteQuery,
        response_model=CancellationQuoteOut,
        errors={404: ["reservation_not_found"], 409: ["not_ticket_holder"]},
        summary="refund and fee if cancelled now, or the refusal code; ?lines=0:1 for part (R-RSV-4)",
    )
    def shop_cancellation_quote(self, request, number):
        return 200, self.services.reservations.cancellation_quote(customer_of(request), number, query_of(request))

    @route(
        "POST",
        "/v1/shop/reservations/<number>/cancel",
        access="customer",
        body_model=CustomerCancelIn,
        response_model=CancelledReservationOut,
        errors={
            404: ["reservation_not_found"],
            409: [
                "not_cancellable_state",
                "partial_cancel_not_allowed",
                "deadline_passed",
                "non_refundable",
                "fee_changed",
                "not_ticket_holder",
            ],
        },
        summary="cancel all or some lines {lines?, expected_fee?, reason?}; 409 deadline_passed, fee_changed, "
        "partial_cancel_not_allowed, not_cancellable_state, non_refundable (R-RSV-4)",
    )
    def shop_cancel_reservation(self, request, number):
        return 200, self.services.reservations.cancel_by_customer(customer_of(request), number, request.json_body)

    @route(
        "POST",
        "/v1/shop/reservations/<number>/change-date",
        access="customer",
        body_model=ChangeDateIn,
        response_model=CustomerReservationOut,
        errors={
            404: ["reservation_not_found"],
            409: [
                "not_changeable_state",
                "line_completed",
                "anytime_product",
                "priced_product",
                "use_date_passed",
                "not_direct_listing",
                "not_ticket_holder",
                "concurrent_change",
                "capacity_exhausted",
                "slot_not_offered",
                "slot_blocked",
                "slot_past",
                "partner_not_open",
            ],
        },
        summary="move to {date, time?}; 409 with the reason code of R-RSV-5",
    )
    def shop_change_date(self, request, number):
        return 200, self.services.reservations.change_date(customer_of(request), number, request.json_body)

    @route(
        "POST",
        "/v1/shop/reservations/<number>/share",
        body_model=NoBody,
        access="customer",
        response_model=ShareOut,
        status=201,
        errors={404: ["reservation_not_found"], 409: ["invalid_state"]},
        summary="a share token for friends (R-RSV-10)",
    )
    def shop_share_reservation(self, request, number):
        return 201, self.services.reservations.share(customer_of(request), number)

    @route(
        "GET",
        "/v1/shop/shared/<token>",
        access="customer",
        response_model=SharedReservationOut,
        errors={404: ["share_not_found"]},
        summary="a reservation shared with me (R-RSV-10)",
    )
    def shop_get_shared(self, request, token):
        return 200, self.services.reservations.get_shared(customer_of(request), token)

    @route(
        "POST",
        "/v1/shop/shared/<token>/save",
        body_model=NoBody,
        access="customer",
        response_model=SavedReservationOut,
        errors={404: ["share_not_found"]},
        summary="save a shared reservation to my list (R-RSV-10)",
    )
    def shop_save_shared(self, request, token):
        return 200, self.services.reservations.save_shared(customer_of(request), token)

    @route(
        "POST",
        "/v1/shop/reservations/<number>/transfer",
        access="customer",
        body_model=TransferIn,
        response_model=TransferOfferOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state", "not_ticket_holder"]},
        summary="hand the ticket to {to_phone}: a token the friend accepts with (R-RSV-10)",
    )
    def shop_transfer_reservation(self, request, number):
        return 200, self.services.reservations.transfer(customer_of(request), number, request.json_body)

    @route(
        "POST",
        "/v1/shop/transfers/<token>/accept",
        body_model=NoBody,
        access="customer",
        response_model=CustomerReservationOut,
        errors={404: ["transfer_not_found"], 409: ["invalid_state"]},
        summary="take the ticket handed to me (R-RSV-10)",
    )
    def shop_accept_transfer(self, request, token):
        return 200, self.services.reservations.accept_transfer(customer_of(request), token)

    @route(
        "POST",
        "/v1/shop/reservations/<number>/reviews",
        access="customer",
        body_model=ReviewIn,
        response_model=ReservationReviewOut,
        status=201,
        idempotency="optional",
        errors={404: ["reservation_not_found"], 409: ["review_not_allowed", "review_exists", "idempotency_key_reused"]},
        summary="review a completed reservation of mine, once {rating 1..5, body}; Idempotency-Key honoured; "
        "409 review_not_allowed (naming the state), review_exists (R-RSV-6, R-CAT-6)",
    )
    def shop_review_reservation(self, request, number):
        return 201, self.services.reservations.post_review(
            customer_of(request), number, request.json_body, request.headers.get("Idempotency-Key")
        )

    @route(
        "GET",
        "/v1/shop/chat-invitations",
        access="customer",
        query_model=ChatInvitationQuery,
        response_model=ChatInvitationPage,
        summary="partners' chat requests to me, ?state=pending|accepted|declined (R-RSV-11)",
    )
    def shop_chat_invitations(self, request):
        return 200, self.services.reservations.list_chat_invitations(customer_of(request), query_of(request))

    @route(
        "POST",
        "/v1/shop/chat-invitations/<invitation_id>/accept",
        body_model=NoBody,
        access="customer",
        response_model=ChatInvitationOut,
        errors={404: ["invitation_not_found"], 409: ["invalid_state"]},
        summary="accept: the conversation is created and linked to the reservation (R-RSV-11)",
    )
    def shop_accept_chat(self, request, invitation_id):
        return 200, self.services.reservations.answer_chat(customer_of(request), invitation_id, True)

    @route(
        "POST",
        "/v1/shop/chat-invitations/<invitation_id>/decline",
        body_model=NoBody,
        access="customer",
        response_model=ChatInvitationOut,
        errors={404: ["invitation_not_found"], 409: ["invalid_state"]},
        summary="decline a chat request (R-RSV-11)",
    )
    def shop_decline_chat(self, request, invitation_id):
        return 200, self.services.reservations.answer_chat(customer_of(request), invitation_id, False)

    # --- the partner center (R-RSV-2, R-RSV-6..9, R-RSV-11) -----------------------------------

    @route(
        "GET",
        "/v1/partners/<pid>/reservations",
        access="partner:read",
        query_model=PartnerListQuery,
        response_model=PartnerReservationPage,
        summary="?status=&q=&product_id=&date=; q = booker name or last 4 phone digits (R-RSV-8)",
    )
    def partner_list_reservations(self, request, pid):
        return 200, self.services.reservations.list_reservations(pid, query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/reservations/<number>",
        access="partner:read",
        response_model=PartnerReservationDetailOut,
        errors={404: ["reservation_not_found"]},
        summary="a reservation with its history",
    )
    def partner_get_reservation(self, request, pid, number):
        return 200, self.services.reservations.get_reservation(pid, number)

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/reveal-phone",
        access="partner:manage",
        body_model=NoBody,
        response_model=ReservationPhoneOut,
        errors={403: ["api_key_not_allowed"], 404: ["reservation_not_found"]},
        summary="the booker's whole phone, for admins and masters; recorded in the history (R-RSV-12)",
    )
    def partner_reveal_reservation_phone(self, request, pid, number):
        require_person(request.principal)
        return 200, self.services.reservations.reveal_phone(pid, number, actor_of(request))

    def _act(self, request, pid, number, action):
        return 200, self.services.reservations.partner_action(pid, number, action, request.json_body, actor_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/confirm",
        access="partner:operate",
        body_model=OptionalReasonIn,
        response_model=PartnerReservationOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state"]},
        summary="confirm the whole reservation (R-RSV-2); 409 invalid_state",
    )
    def partner_confirm_reservation(self, request, pid, number):
        return self._act(request, pid, number, "confirm")

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/reject",
        access="partner:operate",
        body_model=RequiredReasonIn,
        response_model=PartnerReservationOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state"]},
        summary="reject the whole reservation {reason} (R-RSV-2); 409 invalid_state",
    )
    def partner_reject_reservation(self, request, pid, number):
        return self._act(request, pid, number, "reject")

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/complete",
        access="partner:operate",
        body_model=OptionalReasonIn,
        response_model=PartnerReservationOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state"]},
        summary="mark used; the customer is invited to review (R-RSV-6); 409 invalid_state",
    )
    def partner_complete_reservation(self, request, pid, number):
        return self._act(request, pid, number, "complete")

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/cancel",
        access="partner:operate",
        body_model=RequiredReasonIn,
        response_model=PartnerReservationOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state"]},
        summary="cancel {reason} with a full refund; 409 invalid_state",
    )
    def partner_cancel_reservation(self, request, pid, number):
        return self._act(request, pid, number, "cancel")

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/no-show",
        access="partner:operate",
        body_model=OptionalReasonIn,
        response_model=PartnerReservationOut,
        errors={404: ["reservation_not_found"], 409: ["invalid_state", "no_show_not_allowed", "use_time_not_reached"]},
        summary="mark a prepaid booking as not used, once its time has come; 409 invalid_state",
    )
    def partner_no_show_reservation(self, request, pid, number):
        return self._act(request, pid, number, "no_show")

    @route(
        "GET",
        "/v1/partners/<pid>/reservation-board",
        access="partner:read",
        query_model=BoardQuery,
        response_model=ReservationBoardOut,
        errors={404: ["product_not_found"]},
        summary="?product_id=&from=&to=: per slot requested, confirmed, completed, remaining, blocked (R-RSV-9)",
    )
    def partner_reservation_board(self, request, pid):
        return 200, self.services.reservations.reservation_board(pid, query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/reservations/<number>/chat-requests",
        body_model=NoBody,
        access="partner:operate",
        response_model=ChatInvitationOut,
        status=201,
        errors={404: ["reservation_not_found"], 409: ["chat_already_open"]},
        summary="invite the customer to chat; a conversation only once they accept (R-RSV-11)",
    )
    def partner_request_chat(self, request, pid, number):
        return 201, self.services.reservations.request_chat(pid, number, actor_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/products/<product_id>/booking-settings",
        access="partner:read",
        response_model=BookingSettingsOut,
        errors={404: ["product_not_found"]},
        summary="confirmation (auto/manual), request expiry, partial cancellation of a product's bookings",
    )
    def partner_booking_settings(self, request, pid, product_id):
        return 200, self.services.reservations.get_product_settings(pid, product_id)

    @route(
        "PUT",
        "/v1/partners/<pid>/products/<product_id>/booking-settings",
        access="partner:manage",
        body_model=ProductSettingsIn,
        response_model=BookingSettingsOut,
        errors={404: ["product_not_found"]},
        summary="{confirmation?, request_ttl_hours?, allow_partial_cancel?}: for bookings made from now on",
    )
    def partner_set_booking_settings(self, request, pid, product_id):
        return 200, self.services.reservations.set_product_settings(
            pid, product_id, request.json_body, actor_of(request)
        )
