"""The accounts application layer (the shape of issue 19): what each request
does, in which transaction, and what it asks of another service.

It works through collaborators handed in by the nameko class (service.py) and
replaced by in-memory fakes in tests/test_use_cases.py:

* ``Transactions`` that open a ``UnitOfWork`` each (``chassis.db``: the outbox
  in the same transaction), or a lone ``statement()`` where one SELECT is all
  there is (``authenticate``, on every partner request: no BEGIN/COMMIT, #20);
* the repository (``store.py``: explicit SQL, no rules), whose functions take
  the transaction first;
* ``PasswordsPort`` (argon2id off the eventlet hub, bounded: passwords.py) and
  ``OrdersPort`` (the orders a closed partner still has to finish, R-ACC-14).

Calls that name a partner take the caller (``chassis.Actor``) and re-check its
role in that partner here: another partner's objects are ``*_not_found`` (no
BOLA oracle), staff without the role a 403. Such calls take the raw body and
parse it *after* that check, so a caller who may not act learns nothing from
what they sent (``who may, before what they sent``). The rules are
domain.py's; the replies views.py's rendering of the rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from chassis import Actor, paging
from chassis.errors import Forbidden
from chassis.jsonvalues import jsonable
from chassis.ports import Transactions, UnitOfWork
from chassis.rpc_contracts import PartnerInfo
from chassis.validation import parse

from . import domain, errors, events, schemas
from .views import (
    api_key_view,
    invitation_view,
    list_params,
    listing,
    member_view,
    my_partner_view,
    notice_view,
    partner_view,
    place_view,
    staff_view,
)

Row = dict[str, Any]
View = dict[str, Any]
STAFF_ADMIN_ROLES = ("admin", "master")


class PasswordsPort(Protocol):
    """Hashing and checking passwords (passwords.Argon2Passwords); each may be a 503 ``busy``."""

    def hash(self, password: str) -> str: ...

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """An unknown member (no hash) costs as long as a wrong password (R-ACC-2)."""
        ...

    def needs_rehash(self, stored_hash: str) -> bool: ...


class OrdersPort(Protocol):
    def unfinished_orders(self, partner_ids: list[Any]) -> dict[Any, int]: ...


@dataclass(frozen=True)
class Settings:
    """The service config the use cases read (config.yaml, ``PC_*SESSION_TTL_SECONDS``)."""

    session_ttl_seconds: int = 12 * 3600  # members and operators
    customer_session_ttl_seconds: int = 30 * 24 * 3600


@dataclass(eq=False)
class Accounts:
    """One worker's use cases; ``store`` is the repository module (or a fake of it)."""

    db: Transactions
    store: Any
    passwords: PasswordsPort
    orders: OrdersPort
    settings: Settings = field(default_factory=Settings)

    # --- who is asking ---------------------------------------------------------------------------

    def _member(self, uow: UnitOfWork, member_id: Any, lock: bool = False) -> Row:
        known = domain.as_uuid(member_id)
        row: Row | None = self.store.member_by_id(uow, known, lock) if known else None
        if row is None:
            raise errors.not_found("member")
        return row

    def _operator(self, uow: UnitOfWork, actor_id: Any) -> Row:
        row = self._member(uow, actor_id)
        if row["kind"] != "operator":
            raise errors.not_an_operator()
        return row

    def _role(
        self,
        uow: UnitOfWork,
        actor: Actor,
        partner_id: Any,
        allowed: Sequence[str] = domain.ROLES,
        person_only: bool = False,
    ) -> str:
        """The caller's role in the partner, re-checked here: not staff is a
        404 (no BOLA oracle), staff without the role a 403."""
        pid = domain.as_uuid(partner_id)
        role: str | None = None
        if pid is not None and actor.kind == "api_key":
            role = domain.API_KEY_ROLE if domain.as_uuid(actor.partner_id) == pid else None
        elif pid is not None and actor.kind == "member" and domain.as_uuid(actor.member_id):
            role = self.store.role_of(uow, actor.member_id, pid)
        if role is None:
            raise errors.not_found("partner")
        if person_only and actor.kind != "member":
            raise errors.api_key_not_allowed()
        if role not in allowed:
            raise errors.role_not_allowed(role)
        return role

    def _admin(self, uow: UnitOfWork, actor: Actor, partner_id: Any, action: str) -> str:
        role = self._role(uow, actor, partner_id, person_only=True)
        if role != "admin":
            raise errors.admin_only(action, role)
        return role

    # --- authentication (every request) ----------------------------------------------------------

    def authenticate(self, token: Any, partner_id: Any = None) -> View:
        """The caller of a bearer token and its role in ``partner_id`` (one
        indexed query), or 401 for an unknown, expired or revoked token."""
        kind = domain.token_kind(token) if isinstance(token, str) else None
        if kind is None:
            raise errors.invalid_token()
        pid = domain.as_uuid(partner_id) if partner_id else None
        with self.db.statement() as uow:  # one SELECT, on every partner request: no BEGIN/COMMIT (#20)
            if kind == "api_key":
                key = self.store.api_key_principal(uow, domain.token_hash(token))
                if key is None:
                    raise errors.invalid_token()
                return _api_key_principal(key, pid)
            row = self.store.session_principal(uow, domain.token_hash(token), pid)
        if row is None or (kind == "customer") != (row["kind"] == "customer"):
            raise errors.invalid_token()
        return {
            "kind": row["kind"],
            "member_id": str(row["member_id"]) if row["member_id"] else None,
            "customer_id": str(row["customer_id"]) if row["customer_id"] else None,
            "partner_id": pid if row["role"] else None,
            "role": row["role"],
            "name": row["customer_name"],  # an in-store order is called by it, with no lookup (#20)
        }

    # --- members and sessions --------------------------------------------------------------------

    def sign_up(self, data: schemas.SignUp) -> View:
        """R-ACC-1: a member only with ``agree_terms: true``; login ids unique case-insensitively."""
        password_hash = self.passwords.hash(data.password)
        with self.db.transaction() as uow:
            row = self.store.insert_member(
                uow,
                kind="member",
                login_id=data.login_id,
                password_hash=password_hash,
                name=data.name,
                phone=domain.normalize_phone(data.phone),
                terms_agreed=True,
            )
            if row is None:
                raise errors.login_id_taken(data.login_id)
        return member_view(row)

    def login(self, data: schemas.Login) -> View:
        """The password is checked outside any transaction (it takes ~0.1 s);
        the session is written in a second one that finds the member still there."""
        with self.db.transaction() as uow:
            member = self.store.member_by_login(uow, data.login_id)
        if not self.passwords.verify(member["password_hash"] if member else None, data.password):
            raise errors.invalid_credentials()
        assert member is not None  # verify refuses no member (after hashing as long, R-ACC-2)
        token = domain.new_token(member["kind"])
        rehashed = self.passwords.hash(data.password) if self.passwords.needs_rehash(member["password_hash"]) else None
        with self.db.transaction() as uow:
            if self.store.member_by_id(uow, member["id"], lock=True) is None:
                raise errors.invalid_credentials()  # withdrew meanwhile
            if rehashed:
                self.store.set_password_hash(uow, member["id"], rehashed)
            self.store.delete_expired_sessions(uow, member["id"])
            session = self.store.insert_session(
                uow,
                domain.token_hash(token),
                kind=member["kind"],
                member_id=member["id"],
                ttl_seconds=self.settings.session_ttl_seconds,
            )
        return {
            "token": token,
            "expires_at": jsonable(session["expires_at"]),
            "member_id": str(member["id"]),
            "kind": member["kind"],
            "must_change_password": member["must_change_password"],
        }

    def change_password(self, member_id: Any, token: str, data: schemas.PasswordChange) -> None:
        """R-ACC-16: the old password required; every other session of the member
        ends (this one stays, so the app that changed it stays signed in)."""
        with self.db.transaction() as uow:
            member = self._member(uow, member_id)
        if not self.passwords.verify(member["password_hash"], data.old_password):
            raise errors.invalid_credentials()
        new_hash = self.passwords.hash(data.new_password)
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)
            self.store.change_password(uow, member_id, new_hash, must_change=False)
            self.store.end_sessions(uow, member_id, except_token_hash=domain.token_hash(token))

    def list_sessions(self, member_id: Any, token: str) -> View:
        current = domain.token_hash(token)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            rows = self.store.sessions_of_member(uow, member_id)
        return {
            "items": [
                {
                    "session_id": str(r["id"]),
                    "created_at": jsonable(r["created_at"]),
                    "expires_at": jsonable(r["expires_at"]),
                    "current": bytes(r["token_hash"]) == current,
                }
                for r in rows
            ],
            "next_cursor": None,
        }

    def end_session(self, member_id: Any, session_id: Any) -> None:
        sid = domain.as_uuid(session_id)
        with self.db.transaction() as uow:
            if sid is None or not self.store.end_session(uow, member_id, sid):
                raise errors.not_found("session")

    def reset_password(self, operator_id: Any, member_id: Any) -> View:
        """An operator's forced reset (R-ACC-16): a temporary password, shown
        to the operator once to hand over; every session of the member ends,
        and their next login says ``must_change_password``."""
        temporary = domain.temporary_password()
        new_hash = self.passwords.hash(temporary)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            member = self._member(uow, member_id, lock=True)
            if member["kind"] != "member":
                raise errors.not_found("member")
            self.store.change_password(uow, member["id"], new_hash, must_change=True)
            ended = self.store.end_sessions(uow, member["id"])
        return {"member_id": str(member["id"]), "temporary_password": temporary, "sessions_ended": ended}

    def logout(self, token: Any) -> None:
        """Ends the session of ``token`` (members, operators, customers)."""
        kind = domain.token_kind(token) if isinstance(token, str) else None
        if kind == "api_key":
            raise Forbidden("not_a_session", "an API key is revoked through its partner's api-keys route")
        if kind is None:
            raise errors.invalid_token()
        with self.db.transaction() as uow:
            ended = self.store.delete_session(uow, domain.token_hash(token))
        if not ended:
            raise errors.invalid_token()

    def customer_session(self, data: schemas.VerifiedIdentity) -> View:
        """A customer token for an identity the gateway verified from the
        messenger's ID token (R-ACC-12, ``gateway.idtoken``): the customer is
        the issuer's ``sub``; their phone is the token's verified one, kept
        current on every sign-in; a missing name keeps the one we have."""
        token = domain.new_token("customer")
        with self.db.transaction() as uow:
            customer = self.store.upsert_customer(
                uow,
                data.issuer,
                data.subject,
                data.name or domain.DEFAULT_CUSTOMER_NAME,
                domain.national_phone(data.phone_number),
                keep_name=not data.name,
            )
            session = self.store.insert_session(
                uow,
                domain.token_hash(token),
                kind="customer",
                customer_id=customer["id"],
                ttl_seconds=self.settings.customer_session_ttl_seconds,
            )
        return {"token": token, "customer_id": str(customer["id"]), "expires_at": jsonable(session["expires_at"])}

    def customer_contact(self, customer_id: Any) -> View:
        """For other services only: a customer's name and phone (digits), which
        events never carry. An erased customer has neither: ``erased`` true and
        the ``pseudonym`` their data now lives under."""
        cid = domain.as_uuid(customer_id) if isinstance(customer_id, str) else None
        with self.db.transaction() as uow:
            row = self.store.customer_by_id(uow, cid) if cid else None
        if row is None:
            raise errors.not_found("customer")
        pseudonym = events.customer_pseudonym(row["id"])
        if row["phone"] == pseudonym:  # erase_customer: name and phone became the pseudonym
            return {"customer_id": str(row["id"]), "name": None, "phone": None, "erased": True, "pseudonym": pseudonym}
        return {
            "customer_id": str(row["id"]),
            "name": row["name"],
            "phone": row["phone"],
            "erased": False,
            "pseudonym": None,
        }

    def get_me(self, member_id: Any) -> View:
        with self.db.transaction() as uow:
            return member_view(self._member(uow, member_id))

    def update_me(self, member_id: Any, data: schemas.ProfileUpdate) -> View:
        """R-ACC-2: name and phone; the login id stays."""
        changes = data.model_dump(exclude_none=True)
        if "phone" in changes:
            changes["phone"] = domain.normalize_phone(changes["phone"])
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)
            return member_view(self.store.update_profile(uow, member_id, changes))

    # --- withdrawal and erasure (R-ACC-3..5, R-ACC-14) ------------------------------------------

    def withdraw(self, member_id: Any) -> None:
        """R-ACC-3..5: refused while the member is the only admin of a partner
        that operates; otherwise personal data, sessions, memberships and the
        API keys they made are gone at once, and ``member.withdrawn`` goes out.
        Partners and their settlement data stay (R-ACC-5)."""
        self._check_no_orders_left_alone(member_id)
        with self.db.transaction() as uow:
            member = self._member(uow, member_id, lock=True)
            admin_of = self.store.lock_admin_partners(uow, member["id"])
            counts = self.store.admin_counts(uow, [p["id"] for p in admin_of]) if admin_of else {}
            blocking = domain.last_admin_partners(admin_of, counts)
            if blocking:
                raise errors.last_admin(blocking)
            self.store.erase_member(uow, member["id"], events.member_pseudonym(member["id"]))
            uow.publish("member.withdrawn", events.member_withdrawn(member["id"]))

    def _check_no_orders_left_alone(self, member_id: Any) -> None:
        """R-ACC-14: the only admin of a closed partner with orders still to finish
        stays until they are delivered (409 ``orders_to_finish``). Asked of orders
        before the withdrawal's locks, with no transaction open: a closed partner
        takes no new order, so the answer can only shrink meanwhile."""
        with self.db.transaction() as uow:
            member = self._member(uow, member_id)
            admin_of = self.store.admin_partners(uow, member["id"])
            counts = self.store.admin_counts(uow, [p["id"] for p in admin_of]) if admin_of else {}
        alone = domain.closed_partners_alone(admin_of, counts)
        if not alone:
            return
        open_orders = self.orders.unfinished_orders([p["id"] for p in alone])
        waiting = [{**p, "open_orders": open_orders[p["id"]]} for p in alone if open_orders.get(p["id"])]
        if waiting:
            raise errors.orders_to_finish(waiting)

    def erase_customer(self, customer_id: Any, reason: str | None = None) -> View:
        """A customer's erasure request: their name and phone are gone at once and
        ``customer.erased`` tells the other services to pseudonymise theirs."""
        cid = domain.as_uuid(customer_id)
        if cid is None:
            raise errors.not_found("customer")
        with self.db.transaction() as uow:
            erased = self.store.erase_customer(uow, cid, events.customer_pseudonym(cid))
            if erased is None:
                raise errors.not_found("customer")
            payload = events.customer_erased(cid, erased["phone"])
            uow.publish("customer.erased", payload)
        return {**payload, "status": "erased", "reason": reason}

    def erase_member(self, member_id: Any, reason: str | None = None) -> View:
        """A member's erasure request taken by ops: a withdrawal on their behalf,
        under the same last-admin rule (R-ACC-3, R-ACC-4)."""
        self.withdraw(member_id)
        return {**events.member_withdrawn(member_id), "status": "withdrawn", "reason": reason}

    # --- a member's partners and invitations (R-ACC-6, R-ACC-7) ----------------------------------

    def my_partners(self, member_id: Any, query: Any = None) -> View:
        """R-ACC-7: name, role and status of each partner, and where the app lands."""
        _params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            rows = self.store.partners_of_member(uow, member_id, limit, after)
        result = listing(rows, limit, my_partner_view)
        result["landing"] = domain.landing_for(result["items"])
        return result

    def my_invitations(self, member_id: Any, query: Any = None) -> View:
        _params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            return listing(self.store.pending_invitations_of(uow, member_id, limit, after), limit, invitation_view)

    def accept_invitation(self, member_id: Any, invitation_id: Any) -> View:
        """R-ACC-6: accepting adds the partner to the member's list."""
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)  # serialised with a withdrawal of the invitee
            invitation = self._own_invitation(uow, member_id, invitation_id)
            if not self.store.add_membership(
                uow, invitation["partner_id"], invitation["member_id"], invitation["role"]
            ):
                raise errors.already_member()
            self.store.decide_invitation(uow, invitation["id"], "accepted")
            partner = errors.found(self.store.partner_by_id(uow, invitation["partner_id"]), "partner")
        return {
            "invitation_id": str(invitation["id"]),
            "status": "accepted",
            "partner_id": str(partner["id"]),
            "name": partner["name"],
            "category": partner["category"],
            "role": invitation["role"],
            "partner_status": partner["status"],
        }

    def decline_invitation(self, member_id: Any, invitation_id: Any) -> View:
        with self.db.transaction() as uow:
            invitation = self._own_invitation(uow, member_id, invitation_id)
            self.store.decide_invitation(uow, invitation["id"], "declined")
        return {
            "invitation_id": str(invitation["id"]),
            "status": "declined",
            "partner_id": str(invitation["partner_id"]),
        }

    def _own_invitation(self, uow: UnitOfWork, member_id: Any, invitation_id: Any) -> Row:
        """The caller's pending invitation; one already answered is a 409 saying so (issue 17 item 10)."""
        iid, mid = domain.as_uuid(invitation_id), domain.as_uuid(member_id)
        row: Row | None = self.store.invitation_for(uow, iid, mid) if iid and mid else None
        if row is None:
            raise errors.not_found("invitation")
        if row["status"] != "pending":
            raise errors.invitation_not_pending(row)
        return row

    # --- partners (R-ACC-8, R-ACC-9) -------------------------------------------------------------

    def create_partner(self, member_id: Any, data: schemas.PartnerCreate) -> View:
        """R-ACC-8: the caller becomes admin; the partner awaits verification.
        R-ACC-9: lodging partners only through an official agency."""
        if data.category in domain.AGENCY_ONLY_CATEGORIES and not data.via_agency:
            raise errors.agency_required(data.category)
        with self.db.transaction() as uow:
            member = self._member(uow, member_id, lock=True)  # serialised with a withdrawal
            if member["kind"] != "member":
                raise Forbidden(message="operators do not run partners")
            partner = self.store.insert_partner(
                uow,
                name=data.name,
                category=data.category,
                business_number=data.business_number,
                via_agency=data.via_agency,
            )
            self.store.add_membership(uow, partner["id"], member["id"], "admin")
            uow.publish("partner.registered", events.partner_changed(partner), partner_id=str(partner["id"]))
        return partner_view(partner, "admin")

    def get_partner(self, actor: Actor, partner_id: Any) -> View:
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id)
            return partner_view(errors.found(self.store.partner_by_id(uow, partner_id), "partner"), role)

    def update_partner(self, actor: Actor, partner_id: Any, body: Any) -> View:
        """Name at any time; the business number only until it is verified
        (changing it would void the review, R-ACC-8)."""
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PartnerUpdate, body)
            partner = errors.found(self.store.partner_by_id(uow, partner_id, lock=True), "partner")
            # channel_id may be cleared with null; name and business number only replaced
            changes = {
                k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None or k == "channel_id"
            }
            if "business_number" in changes and partner["status"] == "verified":
                raise errors.field_locked("business_number", partner["status"])
            return partner_view(errors.found(self.store.update_partner(uow, partner_id, changes), "partner"), role)

    def partner_info(self, partner_id: Any) -> View:
        """For other services: a partner's name, category and status (sale only
        when ``verified``, R-ACC-8). No caller check: ids only, no personal data."""
        pid = domain.as_uuid(partner_id)
        with self.db.transaction() as uow:
            row = self.store.partner_by_id(uow, pid) if pid else None
        if row is None:
            raise errors.not_found("partner")
        view = partner_view(row)
        return PartnerInfo.of({key: view[key] for key in PartnerInfo.model_fields})

    def review_partner(
        self, operator_id: Any, partner_id: Any, status: str, reason: str | None, from_statuses: tuple[str, ...]
    ) -> View:
        """An operator's decision (R-ACC-8): ``verified`` opens the partner for
        sale, ``rejected`` says why; the application it judged is kept with it
        (R-ACC-15 compares a re-submission against it)."""
        action = "verify" if status == "verified" else "reject"
        pid = domain.as_uuid(partner_id)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            partner = self.store.partner_by_id(uow, pid, lock=True) if pid else None
            if partner is None:
                raise errors.not_found("partner")
            if partner["status"] not in from_statuses:
                raise errors.invalid_state(partner["status"], action)
            self.store.insert_partner_review(
                uow, partner["id"], status, reason, self._application(uow, partner), domain.as_uuid(operator_id)
            )
            partner = errors.found(self.store.set_partner_status(uow, str(partner["id"]), status, reason), "partner")
            uow.publish(f"partner.{status}", events.partner_changed(partner), partner_id=pid)
        return partner_view(partner)

    def _application(self, uow: UnitOfWork, partner: Row) -> Row:
        return domain.application_of(partner, self.store.all_places_of_partner(uow, partner["id"]))

    # --- a partner's life after registration (R-ACC-14, R-ACC-15, issue 18 item 13) ------------

    def resubmit_partner(self, actor: Actor, partner_id: Any, body: Any = None) -> View:
        """R-ACC-15: an admin re-submits a rejected partner once something the
        operator could have named changed; 409 ``nothing_changed`` otherwise.
        ``partner.resubmitted`` (with ``changes`` and the rejection's ``reason``)
        tells notifications to tell the operators."""
        with self.db.transaction() as uow:
            role = self._admin(uow, actor, partner_id, "resubmit")
            if body:
                raise errors.invalid_fields({"body": "resubmit takes no body: correct the partner or its places first"})
            partner = errors.found(self.store.partner_by_id(uow, partner_id, lock=True), "partner")
            if partner["status"] != "rejected":
                raise errors.invalid_state(partner["status"], "resubmit")
            rejection = self.store.last_rejections(uow, [partner["id"]]).get(str(partner["id"]))
            changes = domain.application_changes(rejection and rejection["snapshot"], self._application(uow, partner))
            if rejection is not None and not changes:
                raise errors.nothing_changed(partner["status_reason"])
            partner = errors.found(self.store.resubmit_partner(uow, partner["id"]), "partner")
            uow.publish(
                "partner.resubmitted",
                {**events.partner_changed(partner), "changes": changes, "reason": rejection and rejection["reason"]},
                partner_id=str(partner["id"]),
            )
        return {**partner_view(partner, role), "changes": changes}

    def close_partner(self, actor: Actor, partner_id: Any, body: Any) -> View:
        """R-ACC-14: an admin stops the partner operating, once and for good; its
        members may then withdraw (R-ACC-4 no longer holds them). ``partner.closed``
        (with ``open_bookings``) stops the catalog selling and makes reservations
        cancel (full refund) or keep the open bookings."""
        with self.db.transaction() as uow:
            role = self._admin(uow, actor, partner_id, "close")  # who may, before what they sent
            data = parse(schemas.ClosePartner, body)
            partner = errors.found(self.store.partner_by_id(uow, partner_id, lock=True), "partner")
            if not domain.may_close(partner["status"]):
                raise errors.invalid_state(partner["status"], "close")
            partner = errors.found(self.store.close_partner(uow, partner["id"], data.open_bookings), "partner")
            uow.publish(
                "partner.closed",
                {**events.partner_changed(partner), "open_bookings": data.open_bookings},
                partner_id=str(partner["id"]),
            )
        return partner_view(partner, role)

    def partner_queue(self, operator_id: Any, params: schemas.PartnerQueueQuery) -> View:
        """Issue 18 item 13: partners in a status (default ``pending_verification``),
        oldest submission first, each with what to check and, for a
        re-submission, the last rejection and what changed since."""
        after = paging.decode_cursor(params.cursor, dt.datetime.fromisoformat, uuid.UUID)
        limit = paging.clamp_limit(params.limit)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            rows = self.store.partners_by_status(uow, params.status, limit, after)
            ids = [row["id"] for row in rows[:limit]]
            places = self.store.places_of_partners(uow, ids)
            rejections = self.store.last_rejections(uow, ids)
        items = [
            _queue_entry(row, places.get(str(row["id"]), []), rejections.get(str(row["id"]))) for row in rows[:limit]
        ]
        last = rows[limit - 1] if len(rows) > limit else None
        return {
            "items": items,
            "next_cursor": paging.encode_cursor(last["submitted_at"].isoformat(), last["id"]) if last else None,
        }

    def operator_ids(self) -> list[str]:
        """For notifications: the operators to tell of applications and re-submissions."""
        with self.db.transaction() as uow:
            ids: list[str] = self.store.operator_ids(uow)
            return ids

    # --- staff (R-ACC-4, R-ACC-6) ----------------------------------------------------------------

    def list_staff(self, actor: Actor, partner_id: Any, query: Any = None) -> View:
        return self._page_for_members(
            actor, partner_id, query, self.store.staff_of_partner, lambda row: staff_view(row, actor.member_id)
        )

    def invite(self, actor: Actor, partner_id: Any, body: Any) -> View:
        """R-ACC-6: invite a member by login id with a role; they accept or decline."""
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            data = parse(schemas.Invite, body)
            if not domain.may_assign(role, None, data.role):
                raise errors.role_not_allowed(role)
            invitee = self.store.member_by_login(uow, data.login_id)
            if invitee is None or invitee["kind"] != "member":
                raise errors.not_found("member")
            if self.store.role_of(uow, invitee["id"], partner_id) is not None:
                raise errors.already_member()
            invitation = self.store.insert_invitation(uow, partner_id, invitee["id"], data.role, actor.member_id)
            if invitation is None:
                raise errors.already_invited()
            uow.publish("staff.invited", events.staff_invited(invitation), partner_id=str(partner_id))
        return {**invitation_view(invitation), "member_id": str(invitee["id"])}

    def change_role(self, actor: Actor, partner_id: Any, member_id: Any, body: Any) -> View:
        """Admins change any role; masters only between master and member. The
        last admin of a partner cannot be demoted (R-ACC-4)."""
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            data = parse(schemas.RoleChange, body)
            target = self._staff_target(uow, partner_id, member_id)
            if not domain.may_assign(role, target["role"], data.role):
                raise errors.role_not_allowed(role)
            self._keep_an_admin(uow, partner_id, target, data.role)
            self.store.set_role(uow, partner_id, target["member_id"], data.role)
            row = errors.found(self.store.staff_member(uow, partner_id, target["member_id"]), "member")
        return staff_view(row, actor.member_id)

    def remove_staff(self, actor: Actor, partner_id: Any, member_id: Any) -> None:
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            target = self._staff_target(uow, partner_id, member_id)
            if not domain.may_assign(role, target["role"], None):
                raise errors.role_not_allowed(role)
            self._keep_an_admin(uow, partner_id, target, None)
            self.store.remove_membership(uow, partner_id, target["member_id"])

    def _staff_target(self, uow: UnitOfWork, partner_id: Any, member_id: Any) -> Row:
        mid = domain.as_uuid(member_id)
        role = self.store.role_of(uow, mid, partner_id) if mid else None
        if role is None:
            raise errors.not_found("member")
        return {"member_id": mid, "role": role}

    def _keep_an_admin(self, uow: UnitOfWork, partner_id: Any, target: Row, new_role: str | None) -> None:
        """The partner row is locked first, so two demotions cannot both pass."""
        if target["role"] != "admin" or new_role == "admin":
            return
        partner = errors.found(self.store.partner_by_id(uow, partner_id, lock=True), "partner")
        if self.store.admin_count(uow, partner_id) <= 1:
            raise errors.last_admin([partner])

    def _page_for_members(
        self, actor: Actor, partner_id: Any, query: Any, rows_of: Callable[..., list[Row]], view: Callable[[Row], View]
    ) -> View:
        """One page of a partner's list that any of its members may read (staff R-ACC-6, places R-ACC-9)."""
        _params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id)
            rows = rows_of(uow, partner_id, limit, after)
        return listing(rows, limit, view)

    # --- places (R-ACC-9) ------------------------------------------------------------------------

    def create_place(self, actor: Actor, partner_id: Any, body: Any) -> View:
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PlaceCreate, body)
            return place_view(self.store.insert_place(uow, partner_id, data.model_dump()))

    def list_places(self, actor: Actor, partner_id: Any, query: Any = None) -> View:
        return self._page_for_members(actor, partner_id, query, self.store.places_of_partner, place_view)

    def update_place(self, actor: Actor, partner_id: Any, place_id: Any, body: Any) -> View:
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PlaceUpdate, body)
            known_id = self._place(uow, partner_id, place_id)["id"]
            changes = data.model_dump(exclude_unset=True)
            if not changes:
                return place_view(self._place(uow, partner_id, known_id))
            return place_view(self.store.update_place(uow, partner_id, known_id, changes))

    def get_place(self, partner_id: Any, place_id: Any) -> View:
        """For other services (catalog's place_id): the place of that partner, or 404."""
        with self.db.transaction() as uow:
            return place_view(self._place(uow, domain.as_uuid(partner_id), place_id))

    def storefront(self, partner_id: Any, place_ids: Sequence[Any] = ()) -> View:
        """For the catalog's shop views (R-CAT-4): the partner's public name, status
        (sale only when ``verified``) and channel, and its named places as
        customers see them; an unknown partner has ``partner`` None."""
        pid = domain.as_uuid(partner_id)
        wanted = {str(p) for p in place_ids or () if domain.as_uuid(p)}
        with self.db.transaction() as uow:
            partner = self.store.partner_by_id(uow, pid) if pid else None
            places = self.store.all_places_of_partner(uow, pid) if partner and wanted else []
        return {
            "partner": _storefront_partner(partner) if partner else None,
            "places": {str(p["id"]): _storefront_place(p) for p in places if str(p["id"]) in wanted},
        }

    def _place(self, uow: UnitOfWork, partner_id: Any, place_id: Any) -> Row:
        pid = domain.as_uuid(place_id)
        row: Row | None = self.store.place_of_partner(uow, partner_id, pid) if pid and partner_id else None
        if row is None:
            raise errors.not_found("place")
        return row

    # --- API keys (R-ACC-13) ---------------------------------------------------------------------

    def create_api_key(self, actor: Actor, partner_id: Any, body: Any) -> View:
        """R-ACC-13: an admin gives the partner a key with scopes and an optional
        expiry. The key is returned once; only its hash is kept. It belongs to
        the partner: its creator's later role or withdrawal changes nothing."""
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            data = parse(schemas.ApiKeyCreate, body)
            key = domain.new_token("api_key")
            row = self.store.insert_api_key(
                uow,
                partner_id,
                data.name,
                domain.token_hash(key),
                key[:10],
                actor.member_id,
                sorted(set(data.scopes)),
                data.expires_at,
            )
        return {**api_key_view(row), "key": key}

    def list_api_keys(self, actor: Actor, partner_id: Any, query: Any = None) -> View:
        _params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            return listing(self.store.api_keys_of_partner(uow, partner_id, limit, after), limit, api_key_view)

    def revoke_api_key(self, actor: Actor, partner_id: Any, key_id: Any) -> None:
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            kid = domain.as_uuid(key_id)
            if not kid or not self.store.revoke_api_key(uow, partner_id, kid):
                raise errors.not_found("api_key")

    # --- notices (R-ACC-10) and the dashboard (R-ACC-11) -----------------------------------------

    def create_notice(self, operator_id: Any, data: schemas.NoticeCreate) -> View:
        with self.db.transaction() as uow:
            operator = self._operator(uow, operator_id)
            return notice_view(
                self.store.insert_notice(uow, data.title, data.body, operator["id"], data.category, data.important)
            )

    def list_notices(self, query: Any = None) -> View:
        """Newest first; ``q`` searches titles: each of its words anywhere in the
        title, any order and case; ``category`` filters."""
        params, limit, after = list_params(schemas.NoticeQuery, query)
        with self.db.transaction() as uow:
            rows = self.store.notices(uow, (params.q or "").split(), params.category, limit, after)
            return listing(rows, limit, notice_view)

    def dashboard_context(self, actor: Actor, partner_id: Any) -> View:
        """What the gateway's dashboard needs from accounts: the partner, the
        viewer's role, the sections to ask for (R-ACC-11) and recent notices."""
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id)
            partner = errors.found(self.store.partner_by_id(uow, partner_id), "partner")
            shown = self.store.dashboard_notices(uow, domain.DASHBOARD_NOTICES)
        view = partner_view(partner)
        return {
            "partner": {key: view[key] for key in ("partner_id", "name", "category", "status")},
            "role": role,
            "sections": domain.dashboard_sections(partner["category"], role),
            "notices": [{k: v for k, v in notice_view(n).items() if k != "body"} for n in shown],
            "help": domain.help_page(partner["category"]),
        }


def _api_key_principal(key: Row, partner_id: str | None) -> View:
    """An API key acts for its own partner only, with its scopes (R-ACC-13)."""
    own = str(key["partner_id"])
    return {
        "kind": "api_key",
        "member_id": None,
        "customer_id": None,
        "partner_id": own,
        "role": domain.API_KEY_ROLE if partner_id == own else None,
        "api_key_id": str(key["id"]),
        "scopes": list(key["scopes"]),
    }


def _queue_entry(partner: Row, places: list[Row], rejection: Row | None) -> View:
    application = domain.application_of(partner, places)
    submission: View = {
        "kind": "resubmission" if rejection else "application",
        "submitted_at": partner["submitted_at"].isoformat(),
    }
    if rejection:
        submission.update(
            previous_rejection={"reason": rejection["reason"], "rejected_at": rejection["decided_at"].isoformat()},
            changes=domain.application_changes(rejection["snapshot"], application),
        )
    return {
        **partner_view(partner),
        "application": application,
        "submission": submission,
        "checks": domain.checks_for(application),
    }


def _storefront_partner(partner: Row) -> View:
    return {
        "partner_id": str(partner["id"]),
        "name": partner["name"],
        "status": partner["status"],
        "channel_id": partner.get("channel_id"),
    }


def _storefront_place(place: Row) -> View:
    return {
        "place_id": str(place["id"]),
        "name": place["name"],
        "address": place["address"],
        "phone": place["phone"],
        "map_url": place.get("map_url"),
    }
