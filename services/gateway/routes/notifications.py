"""Notifications routes (../shared/api.md, Notifications; R-NTF-1..3, R-RSV-11).

Thin: bodies and query strings go to the notifications RPCs as they came (the
service validates them, 422 naming the fields) with the caller: the partner
from the path and the staff member for the partner center's routes, the
customer for the shop's, the member for ``/v1/me``. The service filters by
them, so another partner's webhook or conversation is a 404 there too.

Inboxes answer in Korean unless ``?lang=en`` or an ``Accept-Language``
starting with ``en`` asks for English (both are stored). A partner API key has
no inbox (403 ``member_inbox_only``): partners' systems get webhooks.

Added to the contract's table, because users need them: marking a message
read (``POST .../notifications/{id}/read``, ``POST /v1/shop/messages/{id}/read``),
a member's own inbox across partners (``GET /v1/me/notifications``: an
invitation reaches a member before they are staff), one webhook, re-enabling
a disabled one and deleting it, the list of sent channel messages, and the
customer's side of conversations (``/v1/shop/conversations...``).
"""

from __future__ import annotations

from typing import Any

from chassis.errors import Forbidden, ValidationFailed
from chassis.validation import NoBody
from contract.notifications import (
    ChannelMessageIn,
    ChannelMessageOut,
    ChannelMessagePage,
    ChatMessageOut,
    ChatMessagePage,
    ConversationMessageCreate,
    ConversationPage,
    CreatedWebhookOut,
    DeliveryPage,
    InboxQuery,
    ListQuery,
    MessageOut,
    MessagePage,
    SecretRotation,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
)

from ..auth import actor_of
from ..http import query_of, route
from ..identity_models import RotatedSecretOut

P = "/v1/partners/<pid>"


def inbox_owner(request) -> dict:
    """The staff member whose inbox this is (as ``actor``); a partner API key
    has none, refused here so that the event stream refuses before it starts."""
    if not request.principal.member_id:
        raise Forbidden("member_inbox_only", "the inbox belongs to a member; partners' systems use webhooks")
    return actor_of(request)


def inbox_query(request) -> dict:
    query = query_of(request)
    if "lang" not in query and request.headers.get("Accept-Language", "").lower().startswith("en"):
        query["lang"] = "en"
    return query


class NotificationsRoutes:
    services: Any  # the gateway's RPC proxies (GatewayService)

    # --- inboxes (R-NTF-1, R-NTF-2) ----------------------------------------------------------

    @route(
        "GET",
        f"{P}/notifications",
        access="partner:read",
        query_model=InboxQuery,
        response_model=MessagePage,
        errors={403: ["member_inbox_only"]},
        summary="my messages from this partner, newest first; ?lang=ko|en, ?unread=true",
    )
    def partner_notifications(self, request, pid):
        return 200, self.services.notifications.list_partner_notifications(
            pid, inbox_owner(request), inbox_query(request)
        )

    @route(
        "POST",
        f"{P}/notifications/<message_id>/read",
        body_model=NoBody,
        access="partner:read",
        query_model=InboxQuery,
        response_model=MessageOut,
        errors={403: ["member_inbox_only"], 404: ["message_not_found"]},
        summary="mark a message read (R-NTF-1)",
    )
    def read_partner_notification(self, request, pid, message_id):
        return 200, self.services.notifications.mark_partner_notification_read(
            pid, inbox_owner(request), message_id, inbox_query(request)
        )

    @route(
        "GET",
        "/v1/me/notifications",
        access="member",
        query_model=InboxQuery,
        response_model=MessagePage,
        summary="my messages from every partner, invitations included; ?lang=ko|en, ?unread=true",
    )
    def member_notifications(self, request):
        return 200, self.services.notifications.list_member_notifications(
            request.principal.member_id, inbox_query(request)
        )

    @route(
        "GET",
        "/v1/shop/messages",
        access="customer",
        query_model=InboxQuery,
        response_model=MessagePage,
        summary="customer inbox: bookings, orders, partners' channel messages (R-NTF-3)",
    )
    def customer_messages(self, request):
        return 200, self.services.notifications.list_customer_messages(
            request.principal.customer_id, inbox_query(request)
        )

    @route(
        "POST",
        "/v1/shop/messages/<message_id>/read",
        body_model=NoBody,
        access="customer",
        query_model=InboxQuery,
        response_model=MessageOut,
        errors={404: ["message_not_found"]},
        summary="mark a message read (R-NTF-3)",
    )
    def read_customer_message(self, request, message_id):
        return 200, self.services.notifications.mark_customer_message_read(
            request.principal.customer_id, message_id, inbox_query(request)
        )

    # --- webhooks --------------------------------------------------------------------------------

    @route(
        "POST",
        f"{P}/webhooks",
        access="partner:manage",
        body_model=WebhookCreate,
        response_model=CreatedWebhookOut,
        status=201,
        description="The URL must reach the internet (a private or local address is a 422 naming "
        "``url``); deliveries are signed with the secret (R-NTF-1).",
        summary="register: url, events[] (types, '<family>.*' or '*'); 201 {id, secret}: the secret is shown once",
    )
    def create_webhook(self, request, pid):
        return 201, self.services.notifications.create_webhook(pid, request.json_body)

    @route(
        "GET",
        f"{P}/webhooks",
        access="partner:manage",
        query_model=ListQuery,
        response_model=WebhookPage,
        summary="the partner's webhooks, without secrets (one page)",
    )
    def list_webhooks(self, request, pid):
        return 200, self.services.notifications.list_webhooks(pid, query_of(request))

    @route(
        "GET",
        f"{P}/webhooks/<webhook_id>",
        access="partner:manage",
        response_model=WebhookOut,
        errors={404: ["webhook_not_found"]},
        summary="one webhook and its status",
    )
    def get_webhook(self, request, pid, webhook_id):
        return 200, self.services.notifications.get_webhook(pid, webhook_id)

    @route(
        "DELETE",
        f"{P}/webhooks/<webhook_id>",
        access="partner:manage",
        status=204,
        errors={404: ["webhook_not_found"]},
        summary="remove a webhook",
    )
    def delete_webhook(self, request, pid, webhook_id):
        self.services.notifications.delete_webhook(pid, webhook_id)
        return 204, None

    @route(
        "POST",
        f"{P}/webhooks/<webhook_id>/enable",
        body_model=NoBody,
        access="partner:manage",
        response_model=WebhookOut,
        errors={404: ["webhook_not_found"]},
        summary="switch a disabled webhook back on",
    )
    def enable_webhook(self, request, pid, webhook_id):
        return 200, self.services.notifications.enable_webhook(pid, webhook_id)

    @route(
        "POST",
        f"{P}/webhooks/<webhook_id>/rotate-secret",
        access="partner:manage",
        body_model=SecretRotation,
        response_model=RotatedSecretOut,
        status=201,
        errors={404: ["webhook_not_found"]},
        summary="a new secret, shown once; the previous one also signs for overlap_hours (default 24)",
    )
    def rotate_webhook_secret(self, request, pid, webhook_id):
        return 201, self.services.notifications.rotate_webhook_secret(pid, webhook_id, request.json_body)

    @route(
        "GET",
        f"{P}/webhooks/<webhook_id>/deliveries",
        access="partner:manage",
        query_model=ListQuery,
        response_model=DeliveryPage,
        errors={404: ["webhook_not_found"]},
        summary="delivery log: newest first, each delivery with its attempts",
    )
    def webhook_deliveries(self, request, pid, webhook_id):
        return 200, self.services.notifications.webhook_deliveries(pid, webhook_id, query_of(request))

    # --- channel messages (R-NTF-3) ------------------------------------------------------------------

    @route(
        "POST",
        f"{P}/channel-messages",
        access="partner:manage",
        body_model=ChannelMessageIn,
        response_model=ChannelMessageOut,
        status=201,
        rate_limited=True,
        summary="coupon (coupon_code of a live coupon of the partner, else 422) or notice to customers: "
        "audience all | booked_on (use_date) | customers "
        "(customer_ids) | segment (segment: {visited_within_days, min_visits, min_total_spent}); "
        "429 rate_limited",
    )
    def send_channel_message(self, request, pid):
        body = request.json_body
        if isinstance(body, dict) and body.get("audience") == "segment":
            body = self._segment_as_customers(pid, body)
        if isinstance(body, dict) and body.get("kind") == "coupon" and body.get("coupon_code"):
            # issue 18: a coupon message names a live coupon of this partner (the catalog's), else 422
            self.services.catalog.live_coupon_by_code(pid, body["coupon_code"])
        return 201, self.services.notifications.send_channel_message(pid, actor_of(request), body)

    def _segment_as_customers(self, pid: str, body: dict) -> dict:
        """``audience: segment`` (issue #11): insights resolves the segment into
        the partner's customer ids (422 naming ``segment`` when it is invalid,
        empty or over one message's 1,000 customers), sent on as audience
        ``customers``, so notifications' own checks still apply to each id."""
        if "customer_ids" in body:
            raise ValidationFailed(
                message="request body is invalid", details={"fields": {"customer_ids": "only for audience customers"}}
            )
        resolved = self.services.insights.segment_customers(pid, {"segment": body.get("segment")})
        rest = {key: value for key, value in body.items() if key not in ("audience", "segment")}
        return {**rest, "audience": "customers", "customer_ids": resolved["customer_ids"]}

    @route(
        "GET",
        f"{P}/channel-messages",
        access="partner:manage",
        query_model=ListQuery,
        response_model=ChannelMessagePage,
        summary="channel messages sent, newest first (R-NTF-3)",
    )
    def list_channel_messages(self, request, pid):
        return 200, self.services.notifications.list_channel_messages(pid, query_of(request))

    # --- conversations (R-RSV-11) ----------------------------------------------------------------------

    @route(
        "GET",
        f"{P}/conversations",
        access="partner:read",
        query_model=ListQuery,
        response_model=ConversationPage,
        summary="conversations opened by accepted chat invitations, newest first, with unread counts",
    )
    def list_conversations(self, request, pid):
        return 200, self.services.notifications.list_conversations(pid, query_of(request))

    @route(
        "GET",
        f"{P}/conversations/<conversation_id>/messages",
        access="partner:read",
        query_model=ListQuery,
        response_model=ChatMessagePage,
        errors={404: ["conversation_not_found"]},
        summary="a conversation's messages, newest first (reading clears the unread count)",
    )
    def conversation_messages(self, request, pid, conversation_id):
        return 200, self.services.notifications.partner_conversation_messages(pid, conversation_id, query_of(request))

    @route(
        "POST",
        f"{P}/conversations/<conversation_id>/messages",
        access="partner:operate",
        body_model=ConversationMessageCreate,
        response_model=ChatMessageOut,
        status=201,
        errors={404: ["conversation_not_found"]},
        summary="write to the customer: body",
    )
    def post_conversation_message(self, request, pid, conversation_id):
        return 201, self.services.notifications.post_partner_conversation_message(
            pid, actor_of(request), conversation_id, request.json_body
        )

    @route(
        "GET",
        "/v1/shop/conversations",
        access="customer",
        query_model=ListQuery,
        response_model=ConversationPage,
        summary="my conversations with partners (R-RSV-11)",
    )
    def customer_conversations(self, request):
        return 200, self.services.notifications.list_customer_conversations(
            request.principal.customer_id, query_of(request)
        )

    @route(
        "GET",
        "/v1/shop/conversations/<conversation_id>/messages",
        access="customer",
        query_model=ListQuery,
        response_model=ChatMessagePage,
        errors={404: ["conversation_not_found"]},
        summary="a conversation's messages, newest first",
    )
    def customer_conversation_messages(self, request, conversation_id):
        return 200, self.services.notifications.customer_conversation_messages(
            request.principal.customer_id, conversation_id, query_of(request)
        )

    @route(
        "POST",
        "/v1/shop/conversations/<conversation_id>/messages",
        access="customer",
        body_model=ConversationMessageCreate,
        response_model=ChatMessageOut,
        status=201,
        errors={404: ["conversation_not_found"]},
        summary="write to the partner: body",
    )
    def post_customer_conversation_message(self, request, conversation_id):
        return 201, self.services.notifications.post_customer_conversation_message(
            request.principal.customer_id, conversation_id, request.json_body
        )
