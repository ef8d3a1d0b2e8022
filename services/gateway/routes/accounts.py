"""Accounts routes (api.md, Accounts): members, sessions, partners, staff,
places, API keys, notices, customer sessions (by the messenger's ID token,
``gateway.idtoken``), operators' reviews, dashboard.

The handlers stay thin: the body goes to the accounts RPC as it came (the
service validates it, 422 naming the fields) together with the caller
(``request.principal`` as a dict), and the service re-checks the caller's role
in the partner. Login, sign-up and customer sessions are rate limited per
client address (429 with Retry-After; ``gateway.ratelimit``).

Dashboard RPC convention (R-ACC-11), for catalog, reservations, orders and
settlement: each implements

    @rpc
    def dashboard_summary(self, partner_id: str, role: str) -> dict

returning a small JSON object about that partner (re-check nothing of the
caller: the gateway and accounts already did, but filter by partner_id),
shaped as ``{"counts": {<state>: <n>, ...}, ...}`` plus whatever else fits,
e.g. reservations ``{"counts": {...}, "today": {"bookings": n}}``, settlement
``{"sales": {"month_to_date": amount, "next_payout": {...}}}``. ``role`` is
the viewer's role (admin, master, member) for services that show less to some.
The gateway asks only the services the partner's category and the viewer's
role call for (accounts ``dashboard_sections``: booking partners reservations,
cafes and shops orders, the sales summary only for admin and master), all at
once, each with ``DASHBOARD_TIMEOUT`` seconds (gateway config, default 2). A
service that is not running, has no ``dashboard_summary`` yet, fails or is late
is listed in ``unavailable`` and its section is ``{"counts": {}}``.
"""

from __future__ import annotations

import eventlet

from chassis import messages
from chassis.errors import NotFound, Unauthenticated
from chassis.logging import get_logger
from chassis.validation import NoBody
from contract import accounts as c
from contract.accounts import PasswordChange
from contract.notifications import InboxQuery, MessagePage

from .. import devissuer
from ..auth import actor_of, bearer_token, customer_tokens
from ..http import query_of, route
from ..identity_models import PasswordResetOut, SessionList
from ..idtoken import IdTokenIn, IdTokens
from ..ratelimit import RateLimitedRoutes

log = get_logger(__name__)

DEFAULT_DASHBOARD_TIMEOUT = 2.0


class AccountsRoutes(RateLimitedRoutes):
    id_tokens = IdTokens()

    # --- members and sessions -----------------------------------------------------------

    @route(
        "POST",
        "/v1/members",
        access="public",
        body_model=c.SignUp,
        response_model=c.Member,
        status=201,
        errors={409: ["login_id_taken"]},
        rate_limit="signup",
        summary="sign up (R-ACC-1: agree_terms must be true)",
        description="A member account from a login id (unique, case-insensitively), a password, a name and a "
        "phone, only with agree_terms true (R-ACC-1). Rate limited per client address.",
    )
    def sign_up(self, request):
        return 201, self.services.accounts.sign_up(request.json_body)

    @route(
        "POST",
        "/v1/sessions",
        access="public",
        body_model=c.Login,
        response_model=c.LoginSession,
        status=201,
        errors={401: ["invalid_credentials"]},
        rate_limit="login",
        summary="log in: a member or operator token",
        description="A session token for a member or an operator (send it as Authorization: Bearer). "
        "must_change_password is true after an operator's forced reset (R-ACC-16). "
        "Rate limited per client address.",
    )
    def log_in(self, request):
        return 201, self.services.accounts.login(request.json_body)

    @route(
        "DELETE",
        "/v1/sessions/current",
        access="public",
        status=204,
        errors={401: ["unauthenticated", "invalid_token"], 403: ["not_a_session"]},
        summary="log out (the token of this request)",
        description="Ends the session of the bearer token sent (members, operators, customers); an API key is "
        "revoked through its partner's api-keys route instead (R-ACC-13).",
    )
    def log_out(self, request):
        token = bearer_token(request)
        if token is None:
            raise Unauthenticated(message="send Authorization: Bearer <token>")
        self.services.accounts.logout(token)
        customer_tokens.forget(token)
        return 204, None

    @route(
        "POST",
        "/v1/customer-sessions",
        access="public",
        body_model=IdTokenIn,
        response_model=c.CustomerSessionOut,
        status=201,
        errors={401: ["invalid_id_token"]},
        rate_limit="login",
        summary="a customer token for the messenger's ID token (R-ACC-12); 401 invalid_id_token",
    )
    def customer_session(self, request):
        return 201, self.services.accounts.customer_session(self.id_tokens.verify(request.json_body))

    @route(
        "GET",
        devissuer.JWKS_PATH,
        access="public",
        response_model=c.Jwks,
        errors={404: ["route_not_found"]},
        summary="the development issuer's public keys (404 unless it is the configured issuer)",
    )
    def dev_issuer_jwks(self, request):
        if self.id_tokens.dev_issuer is None:
            raise NotFound("route_not_found", "there is no development issuer here")
        return 200, self.id_tokens.dev_issuer.jwks()

    @route(
        "POST",
        "/v1/me/password",
        access="member",
        body_model=PasswordChange,
        status=204,
        errors={401: ["invalid_credentials"]},
        summary="change my password, the old one required; my other sessions end (R-ACC-16)",
    )
    def change_password(self, request):
        self.services.accounts.change_password(request.principal.member_id, bearer_token(request), request.json_body)
        return 204, None

    @route(
        "GET",
        "/v1/me/sessions",
        access="member",
        response_model=SessionList,
        summary="my open sessions, the current one marked",
    )
    def my_sessions(self, request):
        return 200, self.services.accounts.list_sessions(request.principal.member_id, bearer_token(request))

    @route(
        "DELETE",
        "/v1/me/sessions/<session_id>",
        access="member",
        status=204,
        errors={404: ["session_not_found"]},
        summary="end one of my sessions",
    )
    def end_my_session(self, request, session_id):
        self.services.accounts.end_session(request.principal.member_id, session_id)
        return 204, None

    @route(
        "GET",
        "/v1/me",
        access="member",
        response_model=c.Member,
        errors={404: ["member_not_found"]},
        summary="my profile (R-ACC-2)",
    )
    def get_me(self, request):
        return 200, self.services.accounts.get_me(request.principal.member_id)

    @route(
        "PATCH",
        "/v1/me",
        access="member",
        body_model=c.ProfileUpdate,
        response_model=c.Member,
        errors={404: ["member_not_found"]},
        summary="edit my name and phone (R-ACC-2)",
        description="Name and phone; the login id stays (R-ACC-2).",
    )
    def update_me(self, request):
        return 200, self.services.accounts.update_me(request.principal.member_id, request.json_body)

    @route(
        "POST",
        "/v1/me/withdraw",
        access="member",
        body_model=c.Withdraw,
        status=204,
        errors={404: ["member_not_found"], 409: ["last_admin"]},
        summary="withdraw (R-ACC-3..5); 409 last_admin",
        description="Refused while the member is the only admin of a partner that operates (R-ACC-4: invite "
        "another admin or close the partner, R-ACC-14); otherwise personal data, sessions, "
        "memberships and the member's API keys are gone at once (R-ACC-3); partners and their "
        "settlement data stay (R-ACC-5).",
    )
    def withdraw(self, request):
        self.services.accounts.withdraw(request.principal.member_id, request.json_body)
        return 204, None

    @route(
        "GET",
        "/v1/me/partners",
        access="member",
        query_model=c.ListQuery,
        response_model=c.MyPartners,
        errors={404: ["member_not_found"]},
        summary="my partners and where to land (R-ACC-7)",
        description="Name, category, role and status of each partner of mine; landing says where the app goes: "
        "an admin to its partner's dashboard, others to the list (R-ACC-7).",
    )
    def my_partners(self, request):
        return 200, self.services.accounts.my_partners(request.principal.member_id, query_of(request))

    @route(
        "GET",
        "/v1/me/invitations",
        access="member",
        query_model=c.ListQuery,
        response_model=c.MyInvitationPage,
        errors={404: ["member_not_found"]},
        summary="my pending invitations (R-ACC-6)",
    )
    def my_invitations(self, request):
        return 200, self.services.accounts.my_invitations(request.principal.member_id, query_of(request))

    @route(
        "POST",
        "/v1/invitations/<invitation_id>/accept",
        body_model=NoBody,
        access="member",
        response_model=c.InvitationAccepted,
        errors={404: ["invitation_not_found", "member_not_found"], 409: ["invitation_not_pending", "already_member"]},
        summary="accept (R-ACC-6)",
        description="Accepting adds the partner to my list (R-ACC-6); an invitation "
        "is answered once (409 invitation_not_pending).",
    )
    def accept_invitation(self, request, invitation_id):
        return 200, self.services.accounts.accept_invitation(request.principal.member_id, invitation_id)

    @route(
        "POST",
        "/v1/invitations/<invitation_id>/decline",
        body_model=NoBody,
        access="member",
        response_model=c.InvitationDeclined,
        errors={404: ["invitation_not_found"], 409: ["invitation_not_pending"]},
        summary="decline (R-ACC-6)",
    )
    def decline_invitation(self, request, invitation_id):
        return 200, self.services.accounts.decline_invitation(request.principal.member_id, invitation_id)

    # --- partners and staff ---------------------------------------------------------------------

    @route(
        "POST",
        "/v1/partners",
        access="member",
        body_model=c.PartnerCreate,
        response_model=c.PartnerOfMine,
        status=201,
        errors={403: ["forbidden"], 404: ["member_not_found"], 422: ["agency_required"]},
        summary="register a partner; the caller is its admin (R-ACC-8)",
        description="The partner awaits an operator's verification before it sells (R-ACC-8); lodging partners "
        "onboard only through an official agency, via_agency true (R-ACC-9).",
    )
    def create_partner(self, request):
        return 201, self.services.accounts.create_partner(request.principal.member_id, request.json_body)

    @route(
        "GET",
        "/v1/partners/<pid>",
        access="partner:read",
        response_model=c.PartnerOfMine,
        summary="a partner",
        description="The partner with the caller's role in it.",
    )
    def get_partner(self, request, pid):
        return 200, self.services.accounts.get_partner(actor_of(request), pid)

    @route(
        "PATCH",
        "/v1/partners/<pid>",
        access="partner:manage",
        body_model=c.PartnerUpdate,
        response_model=c.PartnerOfMine,
        errors={403: ["role_not_allowed"], 409: ["field_locked"]},
        summary="edit a partner",
        description="Name and channel at any time (channel_id null clears it); the business number only "
        "until the partner is verified (409 field_locked, R-ACC-8).",
    )
    def update_partner(self, request, pid):
        return 200, self.services.accounts.update_partner(actor_of(request), pid, request.json_body)

    @route(
        "GET",
        "/v1/partners/<pid>/members",
        access="partner:read",
        query_model=c.ListQuery,
        response_model=c.StaffPage,
        summary="a partner's staff",
        description="Colleagues with their roles; phones masked except the caller's own.",
    )
    def list_staff(self, request, pid):
        return 200, self.services.accounts.list_staff(actor_of(request), pid, query_of(request))

    @route(
        "POST",
        "/v1/partners/<pid>/invitations",
        access="partner:staff",
        body_model=c.Invite,
        response_model=c.InvitationSent,
        status=201,
        errors={
            403: ["role_not_allowed", "api_key_not_allowed"],
            404: ["member_not_found"],
            409: ["already_member", "already_invited"],
        },
        summary="invite a member (R-ACC-6)",
        description="A member, by login id, with a role; they accept or decline (R-ACC-6). Masters invite "
        "masters and members only.",
    )
    def invite(self, request, pid):
        return 201, self.services.accounts.invite(actor_of(request), pid, request.json_body)

    @route(
        "PATCH",
        "/v1/partners/<pid>/members/<member_id>",
        access="partner:staff",
        body_model=c.RoleChange,
        response_model=c.Staff,
        errors={403: ["role_not_allowed", "api_key_not_allowed"], 404: ["member_not_found"], 409: ["last_admin"]},
        summary="change a role",
        description="Admins change any role, masters only between master and member; the last admin of a "
        "partner cannot be demoted (R-ACC-4).",
    )
    def change_role(self, request, pid, member_id):
        return 200, self.services.accounts.change_role(actor_of(request), pid, member_id, request.json_body)

    @route(
        "DELETE",
        "/v1/partners/<pid>/members/<member_id>",
        access="partner:staff",
        status=204,
        errors={403: ["role_not_allowed", "api_key_not_allowed"], 404: ["member_not_found"], 409: ["last_admin"]},
        summary="remove staff",
        description="The last admin of a partner stays (R-ACC-4).",
    )
    def remove_staff(self, request, pid, member_id):
        self.services.accounts.remove_staff(actor_of(request), pid, member_id)
        return 204, None

    # --- places (R-ACC-9) and API keys --------------------------------------------------------------

    @route(
        "POST",
        "/v1/partners/<pid>/close",
        access="partner:staff",
        body_model=c.ClosePartner,
        service_checks_body=True,  # admins only (R-ACC-14): a master hears 403 admin_only, not a 422
        response_model=c.PartnerOfMine,
        errors={403: ["admin_only", "api_key_not_allowed"], 409: ["invalid_state"]},
        summary="admin: stop operating, open bookings cancelled (full refund) or served (R-ACC-14)",
    )
    def close_partner(self, request, pid):
        return 200, self.services.accounts.close_partner(actor_of(request), pid, request.json_body)

    @route(
        "POST",
        "/v1/partners/<pid>/resubmit",
        access="partner:staff",
        body_model=NoBody,
        response_model=c.PartnerResubmitted,
        errors={403: ["admin_only", "api_key_not_allowed"], 409: ["invalid_state", "nothing_changed"]},
        summary="admin: re-submit a rejected partner once corrected (R-ACC-15)",
    )
    def resubmit_partner(self, request, pid):
        return 200, self.services.accounts.resubmit_partner(actor_of(request), pid)  # NoBody: nothing to pass

    @route(
        "POST",
        "/v1/partners/<pid>/places",
        access="partner:manage",
        body_model=c.PlaceCreate,
        response_model=c.Place,
        status=201,
        errors={403: ["role_not_allowed"]},
        summary="add a place (R-ACC-9)",
    )
    def create_place(self, request, pid):
        return 201, self.services.accounts.create_place(actor_of(request), pid, request.json_body)

    @route(
        "GET",
        "/v1/partners/<pid>/places",
        access="partner:read",
        query_model=c.ListQuery,
        response_model=c.PlacePage,
        summary="a partner's places",
    )
    def list_places(self, request, pid):
        return 200, self.services.accounts.list_places(actor_of(request), pid, query_of(request))

    @route(
        "PATCH",
        "/v1/partners/<pid>/places/<place_id>",
        access="partner:manage",
        body_model=c.PlaceUpdate,
        response_model=c.Place,
        errors={403: ["role_not_allowed"], 404: ["place_not_found"]},
        summary="edit a place",
        description="Fields left out stay; name and address may not be null.",
    )
    def update_place(self, request, pid, place_id):
        return 200, self.services.accounts.update_place(actor_of(request), pid, place_id, request.json_body)

    @route(
        "POST",
        "/v1/partners/<pid>/api-keys",
        access="partner:staff",
        body_model=c.ApiKeyCreate,
        service_checks_body=True,  # admins only (R-ACC-13): a master hears 403, not a 422
        response_model=c.ApiKeyCreated,
        status=201,
        errors={403: ["role_not_allowed", "api_key_not_allowed"]},
        summary="an API key, shown once",
        description="Admins give the partner a key with scopes and an optional expiry (R-ACC-13); the key is "
        "returned once and only its hash is kept.",
    )
    def create_api_key(self, request, pid):
        return 201, self.services.accounts.create_api_key(actor_of(request), pid, request.json_body)

    @route(
        "GET",
        "/v1/partners/<pid>/api-keys",
        access="partner:staff",
        query_model=c.ListQuery,
        response_model=c.ApiKeyPage,
        errors={403: ["role_not_allowed", "api_key_not_allowed"]},
        summary="a partner's API keys (no secrets, R-ACC-13)",
    )
    def list_api_keys(self, request, pid):
        return 200, self.services.accounts.list_api_keys(actor_of(request), pid, query_of(request))

    @route(
        "DELETE",
        "/v1/partners/<pid>/api-keys/<key_id>",
        access="partner:staff",
        status=204,
        errors={403: ["role_not_allowed", "api_key_not_allowed"], 404: ["api_key_not_found"]},
        summary="revoke an API key (R-ACC-13)",
    )
    def revoke_api_key(self, request, pid, key_id):
        self.services.accounts.revoke_api_key(actor_of(request), pid, key_id)
        return 204, None

    # --- notices (R-ACC-10), dashboard (R-ACC-11) ----------------------------------------------------

    @route(
        "GET",
        "/v1/notices",
        access="member",
        query_model=c.NoticeQuery,
        response_model=c.NoticePage,
        summary="platform notices, ?q= searches titles (R-ACC-10)",
        description="Newest first; q: each of its words anywhere in the title; category filters (R-ACC-10).",
    )
    def list_notices(self, request):
        return 200, self.services.accounts.list_notices(query_of(request))

    @route(
        "GET",
        "/v1/partners/<pid>/dashboard",
        access="partner:read",
        response_model=c.Dashboard,
        summary="summary by partner category and role (R-ACC-11)",
    )
    def dashboard(self, request, pid):
        context = self.services.accounts.dashboard_context(actor_of(request), pid)
        timeout = float(self.config.get("DASHBOARD_TIMEOUT") or DEFAULT_DASHBOARD_TIMEOUT)
        sections, unavailable = {}, []
        for service, summary in self._ask_summaries(context["sections"], pid, context["role"], timeout):
            if summary is None:
                unavailable.append(service)
                summary = {"counts": {}}
            sections[service] = summary
        return 200, {
            "partner": context["partner"],
            "role": context["role"],
            "sections": sections,
            "unavailable": sorted(unavailable),
            "notices": context["notices"],
            "help": context.get("help"),
        }

    def _ask_summaries(self, services: list[str], partner_id: str, role: str, timeout: float):
        def ask(service):
            try:
                return service, self.services.get(service).call_with_timeout(
                    "dashboard_summary", timeout, partner_id, role
                )
            except Exception as exc:  # not there yet, no such method, failing or late: the rest still shows
                log.info("dashboard_section_unavailable", service=service, error=repr(exc)[:200])
                return service, None

        return eventlet.GreenPool(max(1, len(services))).imap(ask, services)

    # --- operators -----------------------------------------------------------------------------------

    @route(
        "GET",
        "/v1/ops/partners",
        access="operator",
        query_model=c.PartnerQueueQuery,
        response_model=c.QueuedPartnerPage,
        summary="partners by ?status= (default pending_verification), oldest first, with what to check "
        "and, for a re-submission, what changed (R-ACC-15)",
    )
    def partner_queue(self, request):
        return 200, self.services.accounts.partner_queue(request.principal.member_id, query_of(request))

    @route(
        "GET",
        "/v1/ops/notifications",
        access="operator",
        query_model=InboxQuery,
        response_model=MessagePage,
        summary="the operator's messages: new applications and re-submissions; ?lang=ko|en (R-NTF-1)",
    )
    def operator_notifications(self, request):
        query = query_of(request)
        if "lang" not in query:
            query["lang"] = messages.language_of(request.headers.get("Accept-Language"))
        return 200, self.services.notifications.list_member_notifications(request.principal.member_id, query)

    @route(
        "POST",
        "/v1/ops/partners/<pid>/verify",
        access="operator",
        body_model=c.Verification,
        response_model=c.Partner,
        errors={404: ["partner_not_found"], 409: ["invalid_state"]},
        summary="verify a partner (R-ACC-8)",
        description="An operator's business verification opens the partner for sale (R-ACC-8); a pending or "
        "rejected partner only.",
    )
    def verify_partner(self, request, pid):
        return 200, self.services.accounts.verify_partner(request.principal.member_id, pid, request.json_body)

    @route(
        "POST",
        "/v1/ops/partners/<pid>/reject",
        access="operator",
        body_model=c.Rejection,
        response_model=c.Partner,
        errors={404: ["partner_not_found"], 409: ["invalid_state"]},
        summary="reject a partner (R-ACC-8)",
        description="A pending partner, with the reason its admin reads; it may re-submit once corrected (R-ACC-15).",
    )
    def reject_partner(self, request, pid):
        return 200, self.services.accounts.reject_partner(request.principal.member_id, pid, request.json_body)

    @route(
        "POST",
        "/v1/ops/members/<member_id>/password-reset",
        access="operator",
        body_model=NoBody,
        response_model=PasswordResetOut,
        errors={404: ["member_not_found"]},
        summary="force a password reset: a temporary password shown once; the member's sessions end (R-ACC-16)",
    )
    def reset_password(self, request, member_id):
        return 200, self.services.accounts.reset_password(request.principal.member_id, member_id)

    @route(
        "POST",
        "/v1/ops/notices",
        access="operator",
        body_model=c.NoticeCreate,
        response_model=c.Notice,
        status=201,
        summary="publish a notice (R-ACC-10)",
    )
    def create_notice(self, request):
        return 201, self.services.accounts.create_notice(request.principal.member_id, request.json_body)
