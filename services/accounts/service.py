"""The accounts service: members, sessions, partners and roles (R-ACC-1..11).

Entrypoints validate (schemas.py), apply the rules (domain.py) and run SQL
(store.py) in one unit of work each. Calls that name a partner take the
caller (``actor``: chassis.Actor's wire shape) and re-check the caller's role
in that partner here: another partner's objects are ``*_not_found``.

RPCs for other services: ``authenticate(token, partner_id)`` (the gateway, on
every request), ``partner_info(partner_id)``, ``get_place(partner_id, place_id)`` and
``customer_contact(customer_id)`` (insights).
"""

from __future__ import annotations

from collections.abc import Callable

from chassis import Actor
from chassis.jsonvalues import jsonable
from chassis.rpc_contracts import PartnerInfo
from chassis.service import DataService, rpc
from chassis.validation import parse

from . import domain, errors, events, schemas, store
from .lifecycle import PartnerLifecycle
from .passwords import hash_password, hasher_from_config, needs_rehash, slots_from_config, verify_password
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

DEFAULT_SESSION_TTL = 12 * 3600
DEFAULT_CUSTOMER_SESSION_TTL = 30 * 24 * 3600
STAFF_ADMIN_ROLES = ("admin", "master")


class AccountsService(PartnerLifecycle, DataService):
    name = "accounts"

    # --- helpers -------------------------------------------------------------------

    @property
    def _hasher(self):
        return hasher_from_config(self.config)

    @property
    def _hash_slots(self):
        return slots_from_config(self._hasher, self.config)

    def _ttl(self, key: str, default: int) -> int:
        return int(self.config.get(key) or default)

    def _member(self, uow, member_id, lock: bool = False) -> dict:
        row = store.member_by_id(uow, known, lock) if (known := domain.as_uuid(member_id)) else None
        if row is None:
            raise errors.not_found("member")
        return row

    def _operator(self, uow, actor_id) -> dict:
        row = self._member(uow, actor_id)
        if row["kind"] != "operator":
            raise errors.not_an_operator()
        return row

    def _role(self, uow, actor: Actor, partner_id, allowed=domain.ROLES, person_only: bool = False) -> str:
        """The caller's role in the partner, re-checked here: not staff is a
        404 (no BOLA oracle), staff without the role a 403."""
        pid = domain.as_uuid(partner_id)
        role = None
        if pid is not None and actor.kind == "api_key":
            role = domain.API_KEY_ROLE if domain.as_uuid(actor.partner_id) == pid else None
        elif pid is not None and actor.kind == "member" and domain.as_uuid(actor.member_id):
            role = store.role_of(uow, actor.member_id, pid)
        if role is None:
            raise errors.not_found("partner")
        if person_only and actor.kind != "member":
            raise errors.api_key_not_allowed()
        if role not in allowed:
            raise errors.role_not_allowed(role)
        return role

    # --- authentication (every request) ------------------------------------------------

    @rpc
    def authenticate(self, token, partner_id=None) -> dict:
        """The caller of a bearer token and its role in ``partner_id`` (one
        indexed query), or 401 for an unknown, expired or revoked token."""
        kind = domain.token_kind(token) if isinstance(token, str) else None
        if kind is None:
            raise errors.invalid_token()
        pid = domain.as_uuid(partner_id) if partner_id else None
        with self.db.statement() as uow:  # one SELECT, on every partner request: no BEGIN/COMMIT (#20)
            if kind == "api_key":
                key = store.api_key_principal(uow, domain.token_hash(token))
                if key is None:
                    raise errors.invalid_token()
                own = str(key["partner_id"])
                return {
                    "kind": "api_key",
                    "member_id": None,
                    "customer_id": None,
                    "partner_id": own,
                    "role": domain.API_KEY_ROLE if pid == own else None,
                    "api_key_id": str(key["id"]),
                    "scopes": list(key["scopes"]),
                }
            row = store.session_principal(uow, domain.token_hash(token), pid)
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

    # --- members and sessions ------------------------------------------------------------

    @rpc
    def sign_up(self, body) -> dict:
        """R-ACC-1: a member only with ``agree_terms: true``; login ids unique case-insensitively."""
        data = parse(schemas.SignUp, body)
        password_hash = hash_password(self._hasher, self._hash_slots, data.password)
        with self.db.transaction() as uow:
            row = store.insert_member(
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

    @rpc
    def login(self, body) -> dict:
        data = parse(schemas.Login, body)
        with self.db.transaction() as uow:
            member = store.member_by_login(uow, data.login_id)
        if not verify_password(
            self._hasher, self._hash_slots, member["password_hash"] if member else None, data.password
        ):
            raise errors.invalid_credentials()
        assert member is not None  # verify_password refuses no member (after hashing as long, R-ACC-2)
        token = domain.new_token(member["kind"])
        rehashed = (
            hash_password(self._hasher, self._hash_slots, data.password)
            if needs_rehash(self._hasher, member["password_hash"])
            else None
        )
        with self.db.transaction() as uow:
            if store.member_by_id(uow, member["id"], lock=True) is None:
                raise errors.invalid_credentials()  # withdrew meanwhile
            if rehashed:
                store.set_password_hash(uow, member["id"], rehashed)
            store.delete_expired_sessions(uow, member["id"])
            session = store.insert_session(
                uow,
                domain.token_hash(token),
                kind=member["kind"],
                member_id=member["id"],
                ttl_seconds=self._ttl("SESSION_TTL_SECONDS", DEFAULT_SESSION_TTL),
            )
        return {
            "token": token,
            "expires_at": jsonable(session["expires_at"]),
            "member_id": str(member["id"]),
            "kind": member["kind"],
            "must_change_password": member["must_change_password"],
        }

    # --- passwords and sessions (R-ACC-16) ------------------------------------------------

    @rpc
    def change_password(self, member_id, token, body) -> None:
        """The old password required; every other session of the member ends
        (this one stays, so the app that changed it stays signed in)."""
        data = parse(schemas.PasswordChange, body)
        with self.db.transaction() as uow:
            member = self._member(uow, member_id)
        if not verify_password(self._hasher, self._hash_slots, member["password_hash"], data.old_password):
            raise errors.invalid_credentials()
        new_hash = hash_password(self._hasher, self._hash_slots, data.new_password)
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)
            store.change_password(uow, member_id, new_hash, must_change=False)
            store.end_sessions(uow, member_id, except_token_hash=domain.token_hash(token))

    @rpc
    def list_sessions(self, member_id, token) -> dict:
        current = domain.token_hash(token)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            rows = store.sessions_of_member(uow, member_id)
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

    @rpc
    def end_session(self, member_id, session_id) -> None:
        sid = domain.as_uuid(session_id)
        with self.db.transaction() as uow:
            if sid is None or not store.end_session(uow, member_id, sid):
                raise errors.not_found("session")

    @rpc
    def reset_password(self, operator_id, member_id) -> dict:
        """An operator's forced reset (R-ACC-16): a temporary password, shown
        to the operator once to hand over; every session of the member ends,
        and their next login says ``must_change_password``."""
        temporary = domain.temporary_password()
        new_hash = hash_password(self._hasher, self._hash_slots, temporary)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            member = self._member(uow, member_id, lock=True)
            if member["kind"] != "member":
                raise errors.not_found("member")
            store.change_password(uow, member["id"], new_hash, must_change=True)
            ended = store.end_sessions(uow, member["id"])
        return {"member_id": str(member["id"]), "temporary_password": temporary, "sessions_ended": ended}

    @rpc
    def logout(self, token) -> None:
        """Ends the session of ``token`` (members, operators, customers)."""
        kind = domain.token_kind(token) if isinstance(token, str) else None
        if kind == "api_key":
            raise errors.Forbidden("not_a_session", "an API key is revoked through its partner's api-keys route")
        if kind is None:
            raise errors.invalid_token()
        with self.db.transaction() as uow:
            ended = store.delete_session(uow, domain.token_hash(token))
        if not ended:
            raise errors.invalid_token()

    @rpc
    def customer_session(self, identity) -> dict:
        """A customer token for an identity the gateway verified from the
        messenger's ID token (R-ACC-12, ``gateway.idtoken``): the customer is
        the issuer's ``sub``; their phone is the token's verified one, kept
        current on every sign-in; a missing name keeps the one we have."""
        data = parse(schemas.VerifiedIdentity, identity)
        token = domain.new_token("customer")
        with self.db.transaction() as uow:
            customer = store.upsert_customer(
                uow,
                data.issuer,
                data.subject,
                data.name or domain.DEFAULT_CUSTOMER_NAME,
                domain.national_phone(data.phone_number),
                keep_name=not data.name,
            )
            session = store.insert_session(
                uow,
                domain.token_hash(token),
                kind="customer",
                customer_id=customer["id"],
                ttl_seconds=self._ttl("CUSTOMER_SESSION_TTL_SECONDS", DEFAULT_CUSTOMER_SESSION_TTL),
            )
        return {"token": token, "customer_id": str(customer["id"]), "expires_at": jsonable(session["expires_at"])}

    @rpc
    def customer_contact(self, customer_id) -> dict:
        """For other services only (no gateway route): a customer's name and
        phone (digits), which events never carry. insights asks it the first
        time it sees a customer (issue #11). An erased customer has neither:
        ``erased`` true and the ``pseudonym`` their data now lives under."""
        cid = domain.as_uuid(customer_id) if isinstance(customer_id, str) else None
        with self.db.transaction() as uow:
            row = store.customer_by_id(uow, cid) if cid else None
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

    @rpc
    def get_me(self, member_id) -> dict:
        with self.db.transaction() as uow:
            return member_view(self._member(uow, member_id))

    @rpc
    def update_me(self, member_id, body) -> dict:
        """R-ACC-2: name and phone; the login id stays."""
        data = parse(schemas.ProfileUpdate, body)
        changes = data.model_dump(exclude_none=True)
        if "phone" in changes:
            changes["phone"] = domain.normalize_phone(changes["phone"])
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)
            return member_view(store.update_profile(uow, member_id, changes))

    @rpc
    def withdraw(self, member_id, body) -> None:
        """R-ACC-3..5: refused while the member is the only admin of a partner
        that operates; otherwise personal data, sessions, memberships and the
        API keys they made are gone at once, and ``member.withdrawn`` goes out.
        Partners and their settlement data stay (R-ACC-5)."""
        parse(schemas.Withdraw, body)
        self._check_no_orders_left_alone(member_id)
        with self.db.transaction() as uow:
            member = self._member(uow, member_id, lock=True)
            admin_of = store.lock_admin_partners(uow, member["id"])
            counts = store.admin_counts(uow, [p["id"] for p in admin_of]) if admin_of else {}
            blocking = domain.last_admin_partners(admin_of, counts)
            if blocking:
                raise errors.last_admin(blocking)
            store.erase_member(uow, member["id"], events.member_pseudonym(member["id"]))
            uow.publish("member.withdrawn", events.member_withdrawn(member["id"]))

    def _check_no_orders_left_alone(self, member_id) -> None:
        """R-ACC-14: the only admin of a closed partner with orders still to finish
        stays until they are delivered (409 ``orders_to_finish``). Asked of orders
        before the withdrawal's locks: a closed partner takes no new order, so the
        answer can only shrink meanwhile."""
        with self.db.transaction() as uow:
            member = self._member(uow, member_id)
            admin_of = store.admin_partners(uow, member["id"])
            counts = store.admin_counts(uow, [p["id"] for p in admin_of]) if admin_of else {}
        alone = domain.closed_partners_alone(admin_of, counts)
        if not alone:
            return
        open_orders = self.services.orders.unfinished_orders([p["id"] for p in alone])
        waiting = [{**p, "open_orders": open_orders[p["id"]]} for p in alone if open_orders.get(p["id"])]
        if waiting:
            raise errors.orders_to_finish(waiting)

    # --- data-erasure requests (ops: tools/pcops.py erasure request) -------------------

    @rpc
    def erase_customer(self, customer_id, reason=None) -> dict:
        """A customer's erasure request: their name and phone are gone at once and
        ``customer.erased`` tells the other services to pseudonymise theirs."""
        customer_id = domain.as_uuid(customer_id)
        if customer_id is None:
            raise errors.not_found("customer")
        with self.db.transaction() as uow:
            erased = store.erase_customer(uow, customer_id, events.customer_pseudonym(customer_id))
            if erased is None:
                raise errors.not_found("customer")
            payload = events.customer_erased(customer_id, erased["phone"])
            uow.publish("customer.erased", payload)
        return {**payload, "status": "erased", "reason": reason}

    @rpc
    def erase_member(self, member_id, reason=None) -> dict:
        """A member's erasure request taken by ops: a withdrawal on their behalf,
        under the same last-admin rule (R-ACC-3, R-ACC-4)."""
        self.withdraw(member_id, {"confirm": True})
        return {**events.member_withdrawn(member_id), "status": "withdrawn", "reason": reason}

    @rpc
    def my_partners(self, member_id, query=None) -> dict:
        """R-ACC-7: name, role and status of each partner, and where the app lands."""
        params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            rows = store.partners_of_member(uow, member_id, limit, after)
        result = listing(rows, limit, my_partner_view)
        result["landing"] = domain.landing_for(result["items"])
        return result

    @rpc
    def my_invitations(self, member_id, query=None) -> dict:
        params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._member(uow, member_id)
            return listing(store.pending_invitations_of(uow, member_id, limit, after), limit, invitation_view)

    @rpc
    def accept_invitation(self, member_id, invitation_id) -> dict:
        """R-ACC-6: accepting adds the partner to the member's list."""
        with self.db.transaction() as uow:
            self._member(uow, member_id, lock=True)  # serialised with a withdrawal of the invitee
            invitation = self._own_invitation(uow, member_id, invitation_id)
            if not store.add_membership(uow, invitation["partner_id"], invitation["member_id"], invitation["role"]):
                raise errors.already_member()
            store.decide_invitation(uow, invitation["id"], "accepted")
            partner = errors.found(store.partner_by_id(uow, invitation["partner_id"]), "partner")
        return {
            "invitation_id": str(invitation["id"]),
            "status": "accepted",
            "partner_id": str(partner["id"]),
            "name": partner["name"],
            "category": partner["category"],
            "role": invitation["role"],
            "partner_status": partner["status"],
        }

    @rpc
    def decline_invitation(self, member_id, invitation_id) -> dict:
        with self.db.transaction() as uow:
            invitation = self._own_invitation(uow, member_id, invitation_id)
            store.decide_invitation(uow, invitation["id"], "declined")
        return {
            "invitation_id": str(invitation["id"]),
            "status": "declined",
            "partner_id": str(invitation["partner_id"]),
        }

    def _own_invitation(self, uow, member_id, invitation_id) -> dict:
        """The caller's pending invitation; one already answered is a 409 saying so (issue 17 item 10)."""
        invitation_id, member_id = domain.as_uuid(invitation_id), domain.as_uuid(member_id)
        row = store.invitation_for(uow, invitation_id, member_id) if invitation_id and member_id else None
        if row is None:
            raise errors.not_found("invitation")
        if row["status"] != "pending":
            raise errors.invitation_not_pending(row)
        return row

    # --- partners ---------------------------------------------------------------------------

    @rpc
    def create_partner(self, member_id, body) -> dict:
        """R-ACC-8: the caller becomes admin; the partner awaits verification.
        R-ACC-9: lodging partners only through an official agency."""
        data = parse(schemas.PartnerCreate, body)
        if data.category in domain.AGENCY_ONLY_CATEGORIES and not data.via_agency:
            raise errors.agency_required(data.category)
        with self.db.transaction() as uow:
            member = self._member(uow, member_id, lock=True)  # serialised with a withdrawal
            if member["kind"] != "member":
                raise errors.Forbidden(message="operators do not run partners")
            partner = store.insert_partner(
                uow,
                name=data.name,
                category=data.category,
                business_number=data.business_number,
                via_agency=data.via_agency,
            )
            store.add_membership(uow, partner["id"], member["id"], "admin")
            uow.publish("partner.registered", events.partner_changed(partner), partner_id=str(partner["id"]))
        return partner_view(partner, "admin")

    @rpc
    def get_partner(self, actor, partner_id) -> dict:
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id)
            return partner_view(errors.found(store.partner_by_id(uow, partner_id), "partner"), role)

    @rpc
    def update_partner(self, actor, partner_id, body) -> dict:
        """Name at any time; the business number only until it is verified
        (changing it would void the review, R-ACC-8)."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PartnerUpdate, body)
            partner = errors.found(store.partner_by_id(uow, partner_id, lock=True), "partner")
            # channel_id may be cleared with null; name and business number only replaced
            changes = {
                k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None or k == "channel_id"
            }
            if "business_number" in changes and partner["status"] == "verified":
                raise errors.field_locked("business_number", partner["status"])
            return partner_view(errors.found(store.update_partner(uow, partner_id, changes), "partner"), role)

    @rpc
    def partner_info(self, partner_id) -> dict:
        """For other services: a partner's name, category and status (sale only
        when ``verified``, R-ACC-8). No caller check: ids only, no personal data."""
        pid = domain.as_uuid(partner_id)
        with self.db.transaction() as uow:
            row = store.partner_by_id(uow, pid) if pid else None
        if row is None:
            raise errors.not_found("partner")
        return PartnerInfo.of({key: partner_view(row)[key] for key in PartnerInfo.model_fields})

    @rpc
    def verify_partner(self, operator_id, partner_id, body=None) -> dict:
        """R-ACC-8: an operator's business verification opens the partner for sale."""
        data = parse(schemas.Verification, body)
        return self._review_partner(
            operator_id, partner_id, "verified", data.reason, ("pending_verification", "rejected"), "verify"
        )

    @rpc
    def reject_partner(self, operator_id, partner_id, body) -> dict:
        data = parse(schemas.Rejection, body)
        return self._review_partner(
            operator_id, partner_id, "rejected", data.reason, ("pending_verification",), "reject"
        )

    def _review_partner(self, operator_id, partner_id, status, reason, from_statuses, action) -> dict:
        pid = domain.as_uuid(partner_id)
        with self.db.transaction() as uow:
            self._operator(uow, operator_id)
            partner = store.partner_by_id(uow, pid, lock=True) if pid else None
            if partner is None:
                raise errors.not_found("partner")
            if partner["status"] not in from_statuses:
                raise errors.invalid_state(partner["status"], action)
            self._record_decision(uow, partner, status, reason, operator_id)
            partner = errors.found(store.set_partner_status(uow, str(partner["id"]), status, reason), "partner")
            uow.publish(f"partner.{status}", events.partner_changed(partner), partner_id=pid)
        return partner_view(partner)

    # --- staff (R-ACC-6) ---------------------------------------------------------------------

    def _page_for_members(
        self, actor: Actor, partner_id, query, rows_of: Callable[..., list[dict]], view: Callable[[dict], dict]
    ) -> dict:
        """One page of a partner's list that any of its members may read (staff R-ACC-6, places R-ACC-9)."""
        _params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id)
            rows = rows_of(uow, partner_id, limit, after)
        return listing(rows, limit, view)

    @rpc
    def list_staff(self, actor, partner_id, query=None) -> dict:
        actor = Actor.from_wire(actor)
        return self._page_for_members(
            actor, partner_id, query, store.staff_of_partner, lambda row: staff_view(row, actor.member_id)
        )

    @rpc
    def invite(self, actor, partner_id, body) -> dict:
        """R-ACC-6: invite a member by login id with a role; they accept or decline."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            data = parse(schemas.Invite, body)
            if not domain.may_assign(role, None, data.role):
                raise errors.role_not_allowed(role)
            invitee = store.member_by_login(uow, data.login_id)
            if invitee is None or invitee["kind"] != "member":
                raise errors.not_found("member")
            if store.role_of(uow, invitee["id"], partner_id) is not None:
                raise errors.already_member()
            invitation = store.insert_invitation(uow, partner_id, invitee["id"], data.role, actor.member_id)
            if invitation is None:
                raise errors.already_invited()
            uow.publish("staff.invited", events.staff_invited(invitation), partner_id=str(partner_id))
        return {**invitation_view(invitation), "member_id": str(invitee["id"])}

    @rpc
    def change_role(self, actor, partner_id, member_id, body) -> dict:
        """Admins change any role; masters only between master and member. The
        last admin of a partner cannot be demoted (R-ACC-4)."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            data = parse(schemas.RoleChange, body)
            target = self._staff_target(uow, partner_id, member_id)
            if not domain.may_assign(role, target["role"], data.role):
                raise errors.role_not_allowed(role)
            self._keep_an_admin(uow, partner_id, target, data.role)
            store.set_role(uow, partner_id, target["member_id"], data.role)
            row = errors.found(store.staff_member(uow, partner_id, target["member_id"]), "member")
        return staff_view(row, actor.member_id)

    @rpc
    def remove_staff(self, actor, partner_id, member_id) -> None:
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES, person_only=True)
            target = self._staff_target(uow, partner_id, member_id)
            if not domain.may_assign(role, target["role"], None):
                raise errors.role_not_allowed(role)
            self._keep_an_admin(uow, partner_id, target, None)
            store.remove_membership(uow, partner_id, target["member_id"])

    def _staff_target(self, uow, partner_id, member_id) -> dict:
        mid = domain.as_uuid(member_id)
        role = store.role_of(uow, mid, partner_id) if mid else None
        if role is None:
            raise errors.not_found("member")
        return {"member_id": mid, "role": role}

    def _keep_an_admin(self, uow, partner_id, target: dict, new_role: str | None) -> None:
        """The partner row is locked first, so two demotions cannot both pass."""
        if target["role"] != "admin" or new_role == "admin":
            return
        partner = errors.found(store.partner_by_id(uow, partner_id, lock=True), "partner")
        if store.admin_count(uow, partner_id) <= 1:
            raise errors.last_admin([partner])

    # --- places (R-ACC-9) ---------------------------------------------------------------------

    @rpc
    def create_place(self, actor, partner_id, body) -> dict:
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PlaceCreate, body)
            return place_view(store.insert_place(uow, partner_id, data.model_dump()))

    @rpc
    def list_places(self, actor, partner_id, query=None) -> dict:
        return self._page_for_members(Actor.from_wire(actor), partner_id, query, store.places_of_partner, place_view)

    @rpc
    def update_place(self, actor, partner_id, place_id, body) -> dict:
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, STAFF_ADMIN_ROLES)
            data = parse(schemas.PlaceUpdate, body)
            place_id = self._place(uow, partner_id, place_id)["id"]
            changes = data.model_dump(exclude_unset=True)
            if not changes:
                return place_view(self._place(uow, partner_id, place_id))
            return place_view(store.update_place(uow, partner_id, place_id, changes))

    @rpc
    def get_place(self, partner_id, place_id) -> dict:
        """For other services (catalog's place_id): the place of that partner, or 404."""
        with self.db.transaction() as uow:
            return place_view(self._place(uow, domain.as_uuid(partner_id), place_id))

    @rpc
    def storefront(self, partner_id, place_ids=()) -> dict:
        """For the catalog's shop views (R-CAT-4): the partner's public name, status
        (sale only when ``verified``) and channel, and its named places as
        customers see them; an unknown partner has ``partner`` None."""
        pid = domain.as_uuid(partner_id)
        wanted = {str(p) for p in place_ids or () if domain.as_uuid(p)}
        with self.db.transaction() as uow:
            partner = store.partner_by_id(uow, pid) if pid else None
            places = store.all_places_of_partner(uow, pid) if partner and wanted else []
        return {
            "partner": {
                "partner_id": str(partner["id"]),
                "name": partner["name"],
                "status": partner["status"],
                "channel_id": partner.get("channel_id"),
            }
            if partner
            else None,
            "places": {
                str(p["id"]): {
                    "place_id": str(p["id"]),
                    "name": p["name"],
                    "address": p["address"],
                    "phone": p["phone"],
                    "map_url": p.get("map_url"),
                }
                for p in places
                if str(p["id"]) in wanted
            },
        }

    def _place(self, uow, partner_id, place_id) -> dict:
        pid = domain.as_uuid(place_id)
        row = store.place_of_partner(uow, partner_id, pid) if pid and partner_id else None
        if row is None:
            raise errors.not_found("place")
        return row

    # --- API keys ---------------------------------------------------------------------------------

    @rpc
    def create_api_key(self, actor, partner_id, body) -> dict:
        """R-ACC-13: an admin gives the partner a key with scopes and an optional
        expiry. The key is returned once; only its hash is kept. It belongs to
        the partner: its creator's later role or withdrawal changes nothing."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            data = parse(schemas.ApiKeyCreate, body)
            key = domain.new_token("api_key")
            row = store.insert_api_key(
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

    @rpc
    def list_api_keys(self, actor, partner_id, query=None) -> dict:
        actor = Actor.from_wire(actor)
        params, limit, after = list_params(schemas.ListQuery, query)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            return listing(store.api_keys_of_partner(uow, partner_id, limit, after), limit, api_key_view)

    @rpc
    def revoke_api_key(self, actor, partner_id, key_id) -> None:
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            self._role(uow, actor, partner_id, ("admin",), person_only=True)
            kid = domain.as_uuid(key_id)
            if not kid or not store.revoke_api_key(uow, partner_id, kid):
                raise errors.not_found("api_key")

    # --- notices (R-ACC-10) and the dashboard (R-ACC-11) ---------------------------------------------

    @rpc
    def create_notice(self, operator_id, body) -> dict:
        data = parse(schemas.NoticeCreate, body)
        with self.db.transaction() as uow:
            operator = self._operator(uow, operator_id)
            return notice_view(
                store.insert_notice(uow, data.title, data.body, operator["id"], data.category, data.important)
            )

    @rpc
    def list_notices(self, query=None) -> dict:
        """Newest first; ``q`` searches titles: each of its words anywhere in the
        title, any order and case; ``category`` filters."""
        params, limit, after = list_params(schemas.NoticeQuery, query)
        with self.db.transaction() as uow:
            return listing(
                store.notices(uow, (params.q or "").split(), params.category, limit, after), limit, notice_view
            )

    @rpc
    def dashboard_context(self, actor, partner_id) -> dict:
        """What the gateway's dashboard needs from accounts: the partner, the
        viewer's role, the sections to ask for (R-ACC-11) and recent notices."""
        actor = Actor.from_wire(actor)
        with self.db.transaction() as uow:
            role = self._role(uow, actor, partner_id)
            partner = errors.found(store.partner_by_id(uow, partner_id), "partner")
            shown = store.dashboard_notices(uow, domain.DASHBOARD_NOTICES)
        return {
            "partner": {key: partner_view(partner)[key] for key in ("partner_id", "name", "category", "status")},
            "role": role,
            "sections": domain.dashboard_sections(partner["category"], role),
            "notices": [{k: v for k, v in notice_view(n).items() if k != "body"} for n in shown],
            "help": domain.help_page(partner["category"]),
        }
