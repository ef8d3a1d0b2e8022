"""The accounts use cases in memory (the shape of issue 19): fakes of the unit
of work, the repository, the password hasher and the orders port; no
RabbitMQ or PostgreSQL. Sign-in (one lone statement per request, a member who
withdraws between the password check and the session), withdrawal (the orders
port asked with no transaction open, nothing erased when refused), the role
re-check before a body is read, and closing a partner. What crosses processes
(races of two withdrawals, argon2 under load, the HTTP routes) stays in the
other files of this directory."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from accounts import domain, schemas
from accounts.use_cases import Accounts, Settings
from chassis import Actor
from chassis.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from chassis.fakes import InMemoryTransactions
from chassis.validation import parse

NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


class FakeStore:
    """store.py's functions over dicts (only those these use cases reach)."""

    def __init__(self):
        self.members, self.sessions, self.partners, self.memberships = {}, {}, {}, {}

    # members and sessions
    def insert_member(self, tx, *, kind, login_id, password_hash, name, phone, terms_agreed):
        if any(m["login_id"].lower() == login_id.lower() for m in self.members.values()):
            return None
        member_id = str(uuid.uuid4())
        self.members[member_id] = {
            "id": member_id,
            "kind": kind,
            "login_id": login_id,
            "password_hash": password_hash,
            "name": name,
            "phone": phone,
            "must_change_password": False,
            "created_at": NOW,
        }
        return dict(self.members[member_id])

    def member_by_login(self, tx, login_id):
        return next((dict(m) for m in self.members.values() if m["login_id"].lower() == login_id.lower()), None)

    def member_by_id(self, tx, member_id, lock=False):
        row = self.members.get(str(member_id))
        return dict(row) if row else None

    def set_password_hash(self, tx, member_id, password_hash):
        self.members[str(member_id)]["password_hash"] = password_hash

    def delete_expired_sessions(self, tx, member_id):
        pass

    def insert_session(self, tx, token_hash, *, kind, ttl_seconds, member_id=None, customer_id=None):
        row = {"kind": kind, "member_id": member_id, "expires_at": NOW + dt.timedelta(seconds=ttl_seconds)}
        self.sessions[token_hash] = row
        return dict(row)

    def session_principal(self, tx, token_hash, partner_id):
        session = self.sessions.get(token_hash)
        if session is None:
            return None
        role = self.memberships.get((partner_id, session["member_id"])) if partner_id else None
        return {**session, "customer_id": None, "role": role, "customer_name": None}

    def erase_member(self, tx, member_id, pseudonym):
        del self.members[str(member_id)]
        self.sessions = {h: s for h, s in self.sessions.items() if s["member_id"] != member_id}
        self.memberships = {k: r for k, r in self.memberships.items() if k[1] != member_id}

    # partners and staff
    def add_partner(self, name, status, admins):
        partner_id = str(uuid.uuid4())
        self.partners[partner_id] = {
            "id": partner_id,
            "name": name,
            "category": "shop",
            "status": status,
            "status_reason": None,
            "business_number": "1234567890",
            "via_agency": False,
            "channel_id": None,
            "time_zone": "Asia/Seoul",
            "created_at": NOW,
            "submitted_at": NOW,
            "verified_at": NOW if status == "verified" else None,
        }
        for member_id in admins:
            self.memberships[(partner_id, member_id)] = "admin"
        return partner_id

    def partner_by_id(self, tx, partner_id, lock=False):
        row = self.partners.get(str(partner_id))
        return dict(row) if row else None

    def role_of(self, tx, member_id, partner_id):
        return self.memberships.get((str(partner_id), str(member_id)))

    def admin_partners(self, tx, member_id):
        return [
            {k: self.partners[pid][k] for k in ("id", "name", "status")}
            for (pid, mid), role in sorted(self.memberships.items())
            if mid == member_id and role == "admin"
        ]

    lock_admin_partners = admin_partners

    def admin_counts(self, tx, partner_ids):
        return {
            pid: sum(1 for (p, _m), role in self.memberships.items() if p == pid and role == "admin")
            for pid in partner_ids
        }

    def close_partner(self, tx, partner_id, open_bookings):
        self.partners[str(partner_id)].update(status="closed", closed_at=NOW, open_bookings=open_bookings)
        return dict(self.partners[str(partner_id)])


class FakePasswords:
    """A hash is the password reversed; ``verified`` records what each check was given."""

    def __init__(self, stale=False):
        self.stale, self.verified, self.hashed = stale, [], 0

    def hash(self, password):
        self.hashed += 1
        return "h:" + password[::-1]

    def verify(self, stored_hash, password):
        self.verified.append(stored_hash)
        return stored_hash == "h:" + password[::-1]

    def needs_rehash(self, stored_hash):
        return self.stale


class FakeOrders:
    """orders.unfinished_orders, failing if asked while a transaction is open (no RPC under a lock)."""

    def __init__(self, unfinished):
        self.unfinished, self.asked, self.db = unfinished, [], None

    def unfinished_orders(self, partner_ids):
        assert self.db.open == 0, "orders asked inside a transaction"
        self.asked.append(list(partner_ids))
        return {pid: self.unfinished[pid] for pid in partner_ids if pid in self.unfinished}


class CountingTransactions(InMemoryTransactions):
    """Counts which kind of unit of work each request opened."""

    def __init__(self, store):
        super().__init__(store)
        self.transactions = self.statements = 0

    def transaction(self):
        self.transactions += 1
        return super().transaction()

    def statement(self):
        self.statements += 1
        return super().statement()


def world(unfinished=None, passwords=None):
    store = FakeStore()
    db = CountingTransactions(store)
    orders = FakeOrders(unfinished or {})
    orders.db = db
    accounts = Accounts(db, store, passwords or FakePasswords(), orders, Settings(session_ttl_seconds=600))
    return accounts, store, db, orders


def member(accounts, login_id="kim"):
    body = {"login_id": login_id, "password": "s3cret-pass", "name": "김민지", "phone": "010-1234-5678"}
    return accounts.sign_up(parse(schemas.SignUp, {**body, "agree_terms": True}))["member_id"]


def login(accounts, login_id="kim", password="s3cret-pass"):
    return accounts.login(parse(schemas.Login, {"login_id": login_id, "password": password}))


def as_member(member_id):
    return Actor("member", member_id)


# --- sign-in and authentication (R-ACC-2, #20) ----------------------------------------------------


def test_login_writes_a_session_of_the_configured_lifetime_and_authenticate_reads_it_in_one_statement():
    accounts, store, db, _ = world()
    member_id = member(accounts)
    session = login(accounts)
    assert session["member_id"] == member_id and session["kind"] == "member"
    assert session["expires_at"] == (NOW + dt.timedelta(seconds=600)).isoformat()
    before = (db.transactions, db.statements)
    principal = accounts.authenticate(session["token"])
    assert principal["member_id"] == member_id and principal["role"] is None
    assert (db.transactions, db.statements) == (before[0], before[1] + 1)  # no BEGIN/COMMIT on every request


def test_an_unknown_login_is_checked_against_no_hash_and_refused_like_a_wrong_password():
    passwords = FakePasswords()
    accounts, store, _, _ = world(passwords=passwords)
    member(accounts)
    for login_id, password in (("nobody", "s3cret-pass"), ("kim", "wrong-password")):
        with pytest.raises(Unauthenticated) as refused:
            login(accounts, login_id, password)
        assert refused.value.code == "invalid_credentials"
    assert passwords.verified[0] is None  # hashed as long as a wrong password (R-ACC-2)
    assert store.sessions == {}


def test_a_hash_made_at_a_cost_no_longer_current_is_replaced_at_login_and_a_current_one_is_not():
    for stale, rehashed in ((True, 1), (False, 0)):
        accounts, store, _, _ = world(passwords=FakePasswords(stale=stale))
        member_id = member(accounts)
        store.members[member_id]["password_hash"] = "h:" + "s3cret-pass"[::-1]
        calls = []
        store.set_password_hash = lambda tx, mid, new_hash, calls=calls: calls.append((mid, new_hash))
        login(accounts)
        assert len(calls) == rehashed


def test_a_member_who_withdrew_during_the_password_check_gets_no_session():
    passwords = FakePasswords()
    accounts, store, _, _ = world(passwords=passwords)
    member_id = member(accounts)
    verify = passwords.verify

    def verify_then_withdraw(stored_hash, password):
        ok = verify(stored_hash, password)
        accounts.withdraw(member_id)  # another worker, while the hash ran outside any transaction
        return ok

    passwords.verify = verify_then_withdraw
    with pytest.raises(Unauthenticated):
        login(accounts)
    assert store.sessions == {}


def test_an_api_key_token_cannot_log_out_and_a_garbage_token_is_401():
    accounts, *_ = world()
    with pytest.raises(Forbidden) as api_key:
        accounts.logout(domain.new_token("api_key"))
    assert api_key.value.code == "not_a_session"
    for token in ("not-a-token", None, 42):
        with pytest.raises(Unauthenticated):
            accounts.authenticate(token)


# --- withdrawal (R-ACC-3, R-ACC-4, R-ACC-14) -------------------------------------------------------


def test_the_last_admin_of_an_operating_partner_may_not_withdraw_and_nothing_is_erased():
    accounts, store, db, orders = world()
    member_id = member(accounts)
    store.add_partner("카페 소담", "verified", [member_id])
    with pytest.raises(Conflict) as refused:
        accounts.withdraw(member_id)
    assert refused.value.code == "last_admin" and refused.value.details["partner_names"] == ["카페 소담"]
    assert member_id in store.members and db.outbox == []
    assert orders.asked == []  # no closed partner: orders is not asked at all


def test_the_last_admin_of_a_closed_partner_stays_while_its_orders_are_on_their_way():
    accounts, store, db, _ = world()
    member_id = member(accounts)
    closed = store.add_partner("옷가게 하루", "closed", [member_id])
    accounts.orders.unfinished[closed] = 2
    with pytest.raises(Conflict) as refused:
        accounts.withdraw(member_id)
    assert refused.value.code == "orders_to_finish" and refused.value.details["open_orders"] == {closed: 2}
    assert member_id in store.members and db.outbox == []


def test_withdrawal_erases_the_member_and_tells_the_others_once_the_orders_are_delivered():
    accounts, store, db, orders = world()
    member_id = member(accounts)
    closed = store.add_partner("옷가게 하루", "closed", [member_id])
    session = login(accounts)
    accounts.withdraw(member_id)
    assert orders.asked == [[closed]]
    assert member_id not in store.members
    assert [event for event, _ in db.outbox] == ["member.withdrawn"]
    assert db.outbox[0][1]["member_id"] == member_id
    with pytest.raises(Unauthenticated):
        accounts.authenticate(session["token"])


# --- who may, before what they sent ------------------------------------------------------------------


def test_the_role_is_checked_before_the_body_is_read():
    accounts, store, _, _ = world()
    admin, stranger = member(accounts, "admin"), member(accounts, "stranger")
    partner_id = store.add_partner("헤어살롱", "verified", [admin])
    bad_body = {"login_id": 7, "role": "emperor"}
    with pytest.raises(NotFound) as not_staff:
        accounts.invite(as_member(stranger), partner_id, bad_body)
    assert not_staff.value.code == "partner_not_found"  # another partner's staff: no oracle
    api_key = Actor("api_key", partner_id=partner_id, api_key_id=str(uuid.uuid4()))
    with pytest.raises(Forbidden) as by_key:
        accounts.invite(api_key, partner_id, bad_body)
    assert by_key.value.code == "api_key_not_allowed"
    with pytest.raises(ValidationFailed):
        accounts.invite(as_member(admin), partner_id, bad_body)  # the admin learns what is wrong with it


# --- closing a partner (R-ACC-14) ----------------------------------------------------------------


def test_an_admin_closes_a_partner_once_and_the_event_says_what_becomes_of_open_bookings():
    accounts, store, db, _ = world()
    admin = member(accounts, "admin")
    partner_id = store.add_partner("전시 공간", "verified", [admin])
    closed = accounts.close_partner(as_member(admin), partner_id, {"open_bookings": "cancel", "confirm": True})
    assert closed["status"] == "closed"
    assert [(event, payload["open_bookings"]) for event, payload in db.outbox] == [("partner.closed", "cancel")]
    with pytest.raises(Conflict) as again:
        accounts.close_partner(as_member(admin), partner_id, {"open_bookings": "cancel", "confirm": True})
    assert again.value.code == "invalid_state"
    assert len(db.outbox) == 1


def test_a_master_may_not_close_the_partner():
    accounts, store, db, _ = world()
    admin, master = member(accounts, "admin"), member(accounts, "master")
    partner_id = store.add_partner("전시 공간", "verified", [admin])
    store.memberships[(partner_id, master)] = "master"
    with pytest.raises(Forbidden) as refused:
        accounts.close_partner(as_member(master), partner_id, {"open_bookings": "cancel", "confirm": True})
    assert refused.value.code == "admin_only"
    assert store.partners[partner_id]["status"] == "verified" and db.outbox == []
