"""The accounts service: members, sessions, partners and roles (R-ACC-1..16).

Entrypoints only: they parse the input (schemas.py, ``Actor.from_wire``) and
call the application layer (use_cases.py), which works through a unit of
work, the repository (store.py) and its ports (passwords, orders); the rules
are domain.py's and the replies views.py's. Calls that name a partner take
the caller (``actor``: chassis.Actor's wire shape); the use case re-checks its
role in that partner before it reads the body: another partner's objects are
``*_not_found``.

RPCs for other services: ``authenticate(token, partner_id)`` (the gateway, on
every request), ``partner_info(partner_id)``, ``get_place(partner_id, place_id)``,
``storefront`` (catalog), ``operator_ids`` (notifications) and
``customer_contact(customer_id)`` (insights).
"""

from __future__ import annotations

from chassis import Actor
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import schemas, store
from .passwords import Argon2Passwords
from .use_cases import Accounts, Settings


class AccountsService(DataService):
    name = "accounts"

    @property
    def accounts(self) -> Accounts:
        """This worker's use cases, with its transactions, hasher and orders (chassis.rpc's
        ``DeferredProxy``: made only if a withdrawal calls it, not on every ``authenticate``)."""
        settings = Settings(
            session_ttl_seconds=int(self.config.get("SESSION_TTL_SECONDS") or Settings.session_ttl_seconds),
            customer_session_ttl_seconds=int(
                self.config.get("CUSTOMER_SESSION_TTL_SECONDS") or Settings.customer_session_ttl_seconds
            ),
        )
        return Accounts(self.db, store, Argon2Passwords(self.config), self.services.orders, settings)

    # --- authentication (every request) ------------------------------------------------------

    @rpc
    def authenticate(self, token, partner_id=None) -> dict:
        return self.accounts.authenticate(token, partner_id)

    # --- members and sessions (R-ACC-1, R-ACC-2, R-ACC-12, R-ACC-16) --------------------------

    @rpc
    def sign_up(self, body) -> dict:
        return self.accounts.sign_up(parse(schemas.SignUp, body))

    @rpc
    def login(self, body) -> dict:
        return self.accounts.login(parse(schemas.Login, body))

    @rpc
    def change_password(self, member_id, token, body) -> None:
        self.accounts.change_password(member_id, token, parse(schemas.PasswordChange, body))

    @rpc
    def list_sessions(self, member_id, token) -> dict:
        return self.accounts.list_sessions(member_id, token)

    @rpc
    def end_session(self, member_id, session_id) -> None:
        self.accounts.end_session(member_id, session_id)

    @rpc
    def reset_password(self, operator_id, member_id) -> dict:
        return self.accounts.reset_password(operator_id, member_id)

    @rpc
    def logout(self, token) -> None:
        self.accounts.logout(token)

    @rpc
    def customer_session(self, identity) -> dict:
        return self.accounts.customer_session(parse(schemas.VerifiedIdentity, identity))

    @rpc
    def customer_contact(self, customer_id) -> dict:
        return self.accounts.customer_contact(customer_id)

    @rpc
    def get_me(self, member_id) -> dict:
        return self.accounts.get_me(member_id)

    @rpc
    def update_me(self, member_id, body) -> dict:
        return self.accounts.update_me(member_id, parse(schemas.ProfileUpdate, body))

    # --- withdrawal and erasure requests (R-ACC-3..5; ops: tools/pcops.py erasure request) ----

    @rpc
    def withdraw(self, member_id, body) -> None:
        parse(schemas.Withdraw, body)  # confirm: true, nothing else
        self.accounts.withdraw(member_id)

    @rpc
    def erase_customer(self, customer_id, reason=None) -> dict:
        return self.accounts.erase_customer(customer_id, reason)

    @rpc
    def erase_member(self, member_id, reason=None) -> dict:
        return self.accounts.erase_member(member_id, reason)

    # --- a member's partners and invitations (R-ACC-6, R-ACC-7) -------------------------------

    @rpc
    def my_partners(self, member_id, query=None) -> dict:
        return self.accounts.my_partners(member_id, query)

    @rpc
    def my_invitations(self, member_id, query=None) -> dict:
        return self.accounts.my_invitations(member_id, query)

    @rpc
    def accept_invitation(self, member_id, invitation_id) -> dict:
        return self.accounts.accept_invitation(member_id, invitation_id)

    @rpc
    def decline_invitation(self, member_id, invitation_id) -> dict:
        return self.accounts.decline_invitation(member_id, invitation_id)

    # --- partners and their life after registration (R-ACC-8, R-ACC-14, R-ACC-15) -------------

    @rpc
    def create_partner(self, member_id, body) -> dict:
        return self.accounts.create_partner(member_id, parse(schemas.PartnerCreate, body))

    @rpc
    def get_partner(self, actor, partner_id) -> dict:
        return self.accounts.get_partner(Actor.from_wire(actor), partner_id)

    @rpc
    def update_partner(self, actor, partner_id, body) -> dict:
        return self.accounts.update_partner(Actor.from_wire(actor), partner_id, body)

    @rpc
    def partner_info(self, partner_id) -> dict:
        return self.accounts.partner_info(partner_id)

    @rpc
    def verify_partner(self, operator_id, partner_id, body=None) -> dict:
        reason = parse(schemas.Verification, body).reason
        return self.accounts.review_partner(
            operator_id, partner_id, "verified", reason, ("pending_verification", "rejected")
        )

    @rpc
    def reject_partner(self, operator_id, partner_id, body) -> dict:
        reason = parse(schemas.Rejection, body).reason
        return self.accounts.review_partner(operator_id, partner_id, "rejected", reason, ("pending_verification",))

    @rpc
    def resubmit_partner(self, actor, partner_id, body=None) -> dict:
        return self.accounts.resubmit_partner(Actor.from_wire(actor), partner_id, body)

    @rpc
    def close_partner(self, actor, partner_id, body) -> dict:
        return self.accounts.close_partner(Actor.from_wire(actor), partner_id, body)

    @rpc
    def partner_queue(self, operator_id, query=None) -> dict:
        return self.accounts.partner_queue(operator_id, parse_query(schemas.PartnerQueueQuery, query or {}))

    @rpc
    def operator_ids(self) -> list[str]:
        return self.accounts.operator_ids()

    # --- staff (R-ACC-4, R-ACC-6) -------------------------------------------------------------

    @rpc
    def list_staff(self, actor, partner_id, query=None) -> dict:
        return self.accounts.list_staff(Actor.from_wire(actor), partner_id, query)

    @rpc
    def invite(self, actor, partner_id, body) -> dict:
        return self.accounts.invite(Actor.from_wire(actor), partner_id, body)

    @rpc
    def change_role(self, actor, partner_id, member_id, body) -> dict:
        return self.accounts.change_role(Actor.from_wire(actor), partner_id, member_id, body)

    @rpc
    def remove_staff(self, actor, partner_id, member_id) -> None:
        self.accounts.remove_staff(Actor.from_wire(actor), partner_id, member_id)

    # --- places (R-ACC-9) ---------------------------------------------------------------------

    @rpc
    def create_place(self, actor, partner_id, body) -> dict:
        return self.accounts.create_place(Actor.from_wire(actor), partner_id, body)

    @rpc
    def list_places(self, actor, partner_id, query=None) -> dict:
        return self.accounts.list_places(Actor.from_wire(actor), partner_id, query)

    @rpc
    def update_place(self, actor, partner_id, place_id, body) -> dict:
        return self.accounts.update_place(Actor.from_wire(actor), partner_id, place_id, body)

    @rpc
    def get_place(self, partner_id, place_id) -> dict:
        return self.accounts.get_place(partner_id, place_id)

    @rpc
    def storefront(self, partner_id, place_ids=()) -> dict:
        return self.accounts.storefront(partner_id, place_ids)

    # --- API keys (R-ACC-13) ------------------------------------------------------------------

    @rpc
    def create_api_key(self, actor, partner_id, body) -> dict:
        return self.accounts.create_api_key(Actor.from_wire(actor), partner_id, body)

    @rpc
    def list_api_keys(self, actor, partner_id, query=None) -> dict:
        return self.accounts.list_api_keys(Actor.from_wire(actor), partner_id, query)

    @rpc
    def revoke_api_key(self, actor, partner_id, key_id) -> None:
        self.accounts.revoke_api_key(Actor.from_wire(actor), partner_id, key_id)

    # --- notices (R-ACC-10) and the dashboard (R-ACC-11) --------------------------------------

    @rpc
    def create_notice(self, operator_id, body) -> dict:
        return self.accounts.create_notice(operator_id, parse(schemas.NoticeCreate, body))

    @rpc
    def list_notices(self, query=None) -> dict:
        return self.accounts.list_notices(query)

    @rpc
    def dashboard_context(self, actor, partner_id) -> dict:
        return self.accounts.dashboard_context(Actor.from_wire(actor), partner_id)
