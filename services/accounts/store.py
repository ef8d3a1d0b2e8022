"""SQL of the accounts service. Every function takes a unit of work (anything
with ``execute``/``fetch_one``/``fetch_all`` returning dict rows); every query
that touches partner data filters by the partner id."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from .domain import like_pattern

# --- members ---------------------------------------------------------------------


def insert_member(
    uow, *, kind: str, login_id: str, password_hash: str, name: str, phone: str | None, terms_agreed: bool
) -> dict | None:
    """The new member, or None when the login id is taken (case-insensitively)."""
    return uow.fetch_one(
        """INSERT INTO members (id, kind, login_id, password_hash, name, phone, terms_agreed_at)
           VALUES (%s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)
           ON CONFLICT (lower(login_id)) WHERE login_id IS NOT NULL DO NOTHING
           RETURNING *""",
        (uuid.uuid4(), kind, login_id, password_hash, name, phone, terms_agreed),
    )


def create_operator(uow, login_id: str, password_hash: str) -> dict:
    """An operator account (``make operator``; never sign-up). Running it again
    for the same login resets the operator's password; a member's login id is refused."""
    existing = uow.fetch_one("SELECT * FROM members WHERE lower(login_id) = lower(%s) FOR UPDATE", (login_id,))
    if existing is None:
        created = insert_member(
            uow,
            kind="operator",
            login_id=login_id,
            password_hash=password_hash,
            name=login_id,
            phone=None,
            terms_agreed=False,
        )
        if created is None:
            raise ValueError(f"{login_id!r} was taken by a member meanwhile")
        return created
    if existing["kind"] != "operator":
        raise ValueError(f"{login_id!r} is a member's login id, not an operator's")
    uow.execute(
        "UPDATE members SET password_hash = %s, updated_at = now() WHERE id = %s", (password_hash, existing["id"])
    )
    uow.execute("DELETE FROM sessions WHERE member_id = %s", (existing["id"],))
    return existing


def member_by_login(uow, login_id: str) -> dict | None:
    return uow.fetch_one("SELECT * FROM members WHERE lower(login_id) = lower(%s) AND status = 'active'", (login_id,))


def member_by_id(uow, member_id: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        "SELECT * FROM members WHERE id = %s AND status = 'active'" + (" FOR UPDATE" if lock else ""), (member_id,)
    )


def set_password_hash(uow, member_id, password_hash: str) -> None:
    uow.execute("UPDATE members SET password_hash = %s WHERE id = %s", (password_hash, member_id))


def change_password(uow, member_id, password_hash: str, must_change: bool) -> None:
    uow.execute(
        """UPDATE members SET password_hash = %s, must_change_password = %s, password_changed_at = now(),
                   updated_at = now() WHERE id = %s""",
        (password_hash, must_change, member_id),
    )


def end_sessions(uow, member_id, except_token_hash: bytes | None = None) -> int:
    """Every session of the member but the one given (R-ACC-16)."""
    return uow.execute(
        "DELETE FROM sessions WHERE member_id = %s AND token_hash IS DISTINCT FROM %s", (member_id, except_token_hash)
    ).rowcount


def sessions_of_member(uow, member_id) -> list[dict]:
    return uow.fetch_all(
        """SELECT id, token_hash, created_at, expires_at FROM sessions
                            WHERE member_id = %s AND expires_at > now() ORDER BY created_at DESC, id""",
        (member_id,),
    )


def end_session(uow, member_id, session_id) -> bool:
    return (
        uow.fetch_one("DELETE FROM sessions WHERE member_id = %s AND id = %s RETURNING 1", (member_id, session_id))
        is not None
    )


def update_profile(uow, member_id: str, changes: dict) -> dict:
    columns = ", ".join(f"{column} = %({column})s" for column in changes)
    return uow.fetch_one(
        f"UPDATE members SET {columns}, updated_at = now() WHERE id = %(id)s RETURNING *", {**changes, "id": member_id}
    )


def erase_member(uow, member_id: str, pseudonym: str) -> None:
    """R-ACC-3: every personal column blanked and everything that opens the
    account deleted, at once. The row keeps its id and a pseudonym."""
    uow.execute(
        """UPDATE members SET login_id = NULL, password_hash = NULL, name = NULL, phone = NULL,
                  status = 'withdrawn', pseudonym = %s, withdrawn_at = now(), updated_at = now()
           WHERE id = %s""",
        (pseudonym, member_id),
    )
    uow.execute("DELETE FROM sessions WHERE member_id = %s", (member_id,))
    # The partner's API keys stay (R-ACC-13): a withdrawal must not break its integrations.
    uow.execute("UPDATE api_keys SET created_by = NULL WHERE created_by = %s", (member_id,))
    uow.execute("DELETE FROM memberships WHERE member_id = %s", (member_id,))
    uow.execute("DELETE FROM invitations WHERE member_id = %s", (member_id,))
    uow.execute("UPDATE invitations SET invited_by = NULL WHERE invited_by = %s", (member_id,))


# --- sessions and authentication -----------------------------------------------------


def insert_session(uow, token_hash: bytes, *, kind: str, member_id=None, customer_id=None, ttl_seconds: int) -> dict:
    return uow.fetch_one(
        """INSERT INTO sessions (token_hash, kind, member_id, customer_id, expires_at)
           VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s)) RETURNING expires_at""",
        (token_hash, kind, member_id, customer_id, ttl_seconds),
    )


def delete_expired_sessions(uow, member_id) -> None:
    uow.execute("DELETE FROM sessions WHERE member_id = %s AND expires_at <= now()", (member_id,))


def delete_session(uow, token_hash: bytes) -> bool:
    return (
        uow.fetch_one("DELETE FROM sessions WHERE token_hash = %s AND expires_at > now() RETURNING 1", (token_hash,))
        is not None
    )


def session_principal(uow, token_hash: bytes, partner_id: str | None) -> dict | None:
    """One indexed query: the session, the caller's role in ``partner_id`` and a
    customer's name (an erased customer has no session, so never the pseudonym)."""
    return uow.fetch_one(
        """SELECT s.kind, s.member_id, s.customer_id, m.role, m.partner_id, c.name AS customer_name
           FROM sessions s
           LEFT JOIN memberships m ON m.member_id = s.member_id AND m.partner_id = %s
           LEFT JOIN customers c ON c.id = s.customer_id
           WHERE s.token_hash = %s AND s.expires_at > now()""",
        (partner_id, token_hash),
    )


API_KEY_LAST_USE_STEP = "1 minute"  # last use is kept to the minute: no write on every request


def api_key_principal(uow, key_hash: bytes) -> dict | None:
    """A live key (not revoked, not expired), its last use brought up to date."""
    key = uow.fetch_one(
        """SELECT id, partner_id, scopes, last_used_at FROM api_keys
                           WHERE key_hash = %s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())""",
        (key_hash,),
    )
    if key is not None:
        uow.execute(
            f"""UPDATE api_keys SET last_used_at = now() WHERE id = %s
                        AND (last_used_at IS NULL OR last_used_at < now() - interval '{API_KEY_LAST_USE_STEP}')""",
            (key["id"],),
        )
    return key


# --- partners and roles -----------------------------------------------------------------


def insert_partner(uow, *, name: str, category: str, business_number: str, via_agency: bool) -> dict:
    return uow.fetch_one(
        """INSERT INTO partners (id, name, category, business_number, via_agency)
           VALUES (%s, %s, %s, %s, %s) RETURNING *""",
        (uuid.uuid4(), name, category, business_number, via_agency),
    )


def partner_by_id(uow, partner_id: str, lock: bool = False) -> dict | None:
    return uow.fetch_one("SELECT * FROM partners WHERE id = %s" + (" FOR UPDATE" if lock else ""), (partner_id,))


def update_partner(uow, partner_id: str, changes: dict) -> dict:
    columns = ", ".join(f"{column} = %({column})s" for column in changes)
    return uow.fetch_one(
        f"UPDATE partners SET {columns}, updated_at = now() WHERE id = %(id)s RETURNING *",
        {**changes, "id": partner_id},
    )


def set_partner_status(uow, partner_id: str, status: str, reason: str | None) -> dict:
    return uow.fetch_one(
        """UPDATE partners SET status = %s, status_reason = %s, updated_at = now(),
                  verified_at = CASE WHEN %s = 'verified' THEN now() ELSE verified_at END
           WHERE id = %s RETURNING *""",
        (status, reason, status, partner_id),
    )


def role_of(uow, member_id, partner_id: str) -> str | None:
    row = uow.fetch_one(
        "SELECT role FROM memberships WHERE member_id = %s AND partner_id = %s", (member_id, partner_id)
    )
    return row["role"] if row else None


def add_membership(uow, partner_id, member_id, role: str) -> bool:
    row = uow.fetch_one(
        """INSERT INTO memberships (partner_id, member_id, role) VALUES (%s, %s, %s)
           ON CONFLICT DO NOTHING RETURNING 1""",
        (partner_id, member_id, role),
    )
    return row is not None


def set_role(uow, partner_id: str, member_id: str, role: str) -> None:
    uow.execute(
        "UPDATE memberships SET role = %s WHERE partner_id = %s AND member_id = %s", (role, partner_id, member_id)
    )


def remove_membership(uow, partner_id: str, member_id: str) -> None:
    uow.execute("DELETE FROM memberships WHERE partner_id = %s AND member_id = %s", (partner_id, member_id))


def admin_count(uow, partner_id: str) -> int:
    return uow.fetch_one(
        "SELECT count(*) AS n FROM memberships WHERE partner_id = %s AND role = 'admin'", (partner_id,)
    )["n"]


def admin_partners(uow, member_id) -> list[dict]:
    """The partners this member is admin of (id, name, status), not locked."""
    return uow.fetch_all(
        """SELECT p.id::text AS id, p.name, p.status FROM partners p
           JOIN memberships m ON m.partner_id = p.id
           WHERE m.member_id = %s AND m.role = 'admin' ORDER BY p.id""",
        (member_id,),
    )


def lock_admin_partners(uow, member_id) -> list[dict]:
    """The partners this member is admin of, locked in id order so that two
    admins withdrawing at once are serialised (R-ACC-4) without deadlock."""
    return uow.fetch_all(
        """SELECT p.id::text AS id, p.name, p.status FROM partners p
           JOIN memberships m ON m.partner_id = p.id
           WHERE m.member_id = %s AND m.role = 'admin' ORDER BY p.id FOR UPDATE OF p""",
        (member_id,),
    )


def admin_counts(uow, partner_ids: list[str]) -> dict[str, int]:
    rows = uow.fetch_all(
        """SELECT partner_id::text AS partner_id, count(*) AS n FROM memberships
           WHERE partner_id = ANY(%s::uuid[]) AND role = 'admin' GROUP BY partner_id""",
        (partner_ids,),
    )
    return {row["partner_id"]: row["n"] for row in rows}


def _after(after: tuple | None, created: str = "created_at", ident: str = "id", descending: bool = False):
    """The keyset condition for the rows after ``after`` = (created_at, id), a
    decoded cursor (chassis.paging), or none for the first page."""
    if after is None:
        return "TRUE", ()
    op = "<" if descending else ">"
    return f"({created}, {ident}) {op} (%s, %s)", tuple(after)


def partners_of_member(uow, member_id, limit: int, after: tuple | None) -> list[dict]:
    condition, params = _after(after, "m.created_at", "m.partner_id")
    return uow.fetch_all(
        f"""SELECT p.id AS partner_id, p.name, p.category, p.status, m.role, m.created_at,
                   m.partner_id AS id
            FROM memberships m JOIN partners p ON p.id = m.partner_id
            WHERE m.member_id = %s AND {condition}
            ORDER BY m.created_at, m.partner_id LIMIT %s""",
        (member_id, *params, limit + 1),
    )


def staff_of_partner(uow, partner_id: str, limit: int, after: tuple | None) -> list[dict]:
    condition, params = _after(after, "s.created_at", "s.member_id")
    return uow.fetch_all(
        f"""SELECT s.member_id AS id, s.member_id, s.role, s.created_at, m.name, m.phone
            FROM memberships s JOIN members m ON m.id = s.member_id
            WHERE s.partner_id = %s AND {condition}
            ORDER BY s.created_at, s.member_id LIMIT %s""",
        (partner_id, *params, limit + 1),
    )


def staff_member(uow, partner_id: str, member_id) -> dict | None:
    return uow.fetch_one(
        """SELECT s.member_id, s.role, s.created_at, m.name, m.phone
           FROM memberships s JOIN members m ON m.id = s.member_id
           WHERE s.partner_id = %s AND s.member_id = %s""",
        (partner_id, member_id),
    )


# --- invitations ----------------------------------------------------------------------


def insert_invitation(uow, partner_id: str, member_id, role: str, invited_by) -> dict | None:
    """None when a pending invitation for this member and partner exists."""
    return uow.fetch_one(
        """INSERT INTO invitations (id, partner_id, member_id, role, invited_by) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (partner_id, member_id) WHERE status = 'pending' DO NOTHING RETURNING *""",
        (uuid.uuid4(), partner_id, member_id, role, invited_by),
    )


def invitation_for(uow, invitation_id: str, member_id, lock: bool = True) -> dict | None:
    """The caller's own invitation, with its partner's name (another member's is not found)."""
    return uow.fetch_one(
        "SELECT i.*, p.name AS partner_name FROM invitations i JOIN partners p ON p.id = i.partner_id"
        " WHERE i.id = %s AND i.member_id = %s" + (" FOR UPDATE OF i" if lock else ""),
        (invitation_id, member_id),
    )


def decide_invitation(uow, invitation_id, status: str) -> None:
    uow.execute("UPDATE invitations SET status = %s, decided_at = now() WHERE id = %s", (status, invitation_id))


def pending_invitations_of(uow, member_id, limit: int, after: tuple | None) -> list[dict]:
    condition, params = _after(after, "i.created_at", "i.id")
    return uow.fetch_all(
        f"""SELECT i.id, i.partner_id, i.role, i.status, i.created_at, p.name AS partner_name,
                   p.category AS partner_category
            FROM invitations i JOIN partners p ON p.id = i.partner_id
            WHERE i.member_id = %s AND i.status = 'pending' AND {condition}
            ORDER BY i.created_at, i.id LIMIT %s""",
        (member_id, *params, limit + 1),
    )


# --- places ---------------------------------------------------------------------------


def insert_place(uow, partner_id: str, fields: dict) -> dict:
    return uow.fetch_one(
        """INSERT INTO places (id, partner_id, name, address, phone, info, map_url)
           VALUES (%(id)s, %(partner_id)s, %(name)s, %(address)s, %(phone)s, %(info)s, %(map_url)s) RETURNING *""",
        {"id": uuid.uuid4(), "partner_id": partner_id, "map_url": None, **fields},
    )


def place_of_partner(uow, partner_id: str, place_id: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        "SELECT * FROM places WHERE id = %s AND partner_id = %s" + (" FOR UPDATE" if lock else ""),
        (place_id, partner_id),
    )


def update_place(uow, partner_id: str, place_id: str, changes: dict) -> dict:
    columns = ", ".join(f"{column} = %({column})s" for column in changes)
    return uow.fetch_one(
        f"""UPDATE places SET {columns}, updated_at = now()
            WHERE id = %(id)s AND partner_id = %(partner_id)s RETURNING *""",
        {**changes, "id": place_id, "partner_id": partner_id},
    )


def places_of_partner(uow, partner_id: str, limit: int, after: tuple | None) -> list[dict]:
    condition, params = _after(after)
    return uow.fetch_all(
        f"""SELECT * FROM places WHERE partner_id = %s AND {condition}
                             ORDER BY created_at, id LIMIT %s""",
        (partner_id, *params, limit + 1),
    )


# --- API keys ---------------------------------------------------------------------------

API_KEY_COLUMNS = (
    "id, partner_id, name, key_prefix, scopes, expires_at, last_used_at, created_by, created_at, revoked_at"
)


def insert_api_key(
    uow, partner_id: str, name: str, key_hash: bytes, key_prefix: str, created_by, scopes: list[str], expires_at
) -> dict:
    return uow.fetch_one(
        f"""INSERT INTO api_keys (id, partner_id, name, key_hash, key_prefix, created_by, scopes, expires_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {API_KEY_COLUMNS}""",
        (uuid.uuid4(), partner_id, name, key_hash, key_prefix, created_by, scopes, expires_at),
    )


def api_keys_of_partner(uow, partner_id: str, limit: int, after: tuple | None) -> list[dict]:
    condition, params = _after(after)
    return uow.fetch_all(
        f"""SELECT {API_KEY_COLUMNS} FROM api_keys
            WHERE partner_id = %s AND revoked_at IS NULL AND {condition}
            ORDER BY created_at, id LIMIT %s""",
        (partner_id, *params, limit + 1),
    )


def revoke_api_key(uow, partner_id: str, key_id: str) -> bool:
    row = uow.fetch_one(
        """UPDATE api_keys SET revoked_at = now()
                           WHERE id = %s AND partner_id = %s AND revoked_at IS NULL RETURNING 1""",
        (key_id, partner_id),
    )
    return row is not None


# --- notices ------------------------------------------------------------------------------


def insert_notice(uow, title: str, body: str, created_by, category: str = "notice", important: bool = False) -> dict:
    return uow.fetch_one(
        """INSERT INTO notices (id, title, body, created_by, category, important)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING *""",
        (uuid.uuid4(), title, body, created_by, category, important),
    )


def notices(uow, words: list[str], category: str | None, limit: int, after: tuple | None) -> list[dict]:
    """Newest first; every one of ``words`` somewhere in the title, in any order
    and case (R-ACC-10, issue 17 item 8: "정산 안내" finds "12월 정산 일정 안내")."""
    condition, params = _after(after, descending=True)
    where = ["title ILIKE %s"] * len(words) + (["category = %s"] if category else [])
    filters = [like_pattern(word) for word in words] + ([category] if category else [])
    return uow.fetch_all(
        f"""SELECT id, title, body, category, important, created_at FROM notices
            WHERE {" AND ".join(where + [condition])}
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (*filters, *params, limit + 1),
    )


def dashboard_notices(uow, limit: int) -> list[dict]:
    """Important notices first (issue 17 item 13), then the newest."""
    return uow.fetch_all(
        """SELECT id, title, body, category, important, created_at FROM notices
           ORDER BY important DESC, created_at DESC, id DESC LIMIT %s""",
        (limit,),
    )


# --- customers ------------------------------------------------------------------------------


def upsert_customer(uow, issuer: str, subject: str, name: str, phone: str, keep_name: bool = False) -> dict:
    """One customer per (issuer, subject) of the messenger's identity
    provider (R-ACC-12); the phone it verified last is kept."""
    return uow.fetch_one(
        f"""INSERT INTO customers (id, issuer, subject, name, phone) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (issuer, subject) WHERE subject IS NOT NULL DO UPDATE SET
               phone = EXCLUDED.phone, {"" if keep_name else "name = EXCLUDED.name, "}updated_at = now()
           RETURNING *""",
        (uuid.uuid4(), issuer, subject, name, phone),
    )


def erase_customer(uow, customer_id: str, pseudonym: str) -> dict | None:
    """An erasure request: name and phone become the pseudonym, the link to
    the identity provider's user is cut (signing in again makes a new
    customer) and every session of the customer ends. Returns {"phone": the
    phone as it was} (None when erased before), or None for no such customer."""
    before = uow.fetch_one("SELECT phone FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
    if before is None:
        return None
    uow.execute(
        """UPDATE customers SET name = %s, phone = %s, subject = NULL, updated_at = now()
                   WHERE id = %s""",
        (pseudonym, pseudonym, customer_id),
    )
    uow.execute("DELETE FROM sessions WHERE customer_id = %s", (customer_id,))
    return {"phone": None if before["phone"] == pseudonym else before["phone"]}


def customer_by_id(uow, customer_id: str) -> dict | None:
    return uow.fetch_one("SELECT * FROM customers WHERE id = %s", (customer_id,))


# --- a partner's application, closing (R-ACC-14, R-ACC-15) ---------------------------------


def all_places_of_partner(uow, partner_id) -> list[dict]:
    return uow.fetch_all("SELECT * FROM places WHERE partner_id = %s ORDER BY created_at, id", (partner_id,))


def insert_partner_review(uow, partner_id, decision: str, reason: str | None, snapshot: dict, decided_by) -> None:
    uow.execute(
        """INSERT INTO partner_reviews (id, partner_id, decision, reason, snapshot, decided_by)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
        (uuid.uuid4(), partner_id, decision, reason, Jsonb(snapshot), decided_by),
    )


def last_rejections(uow, partner_ids: list) -> dict[str, dict]:
    """partner id -> its latest rejection (reason, snapshot, decided_at)."""
    rows = uow.fetch_all(
        """SELECT DISTINCT ON (partner_id) partner_id::text AS partner_id, reason, snapshot, decided_at
           FROM partner_reviews WHERE partner_id = ANY(%s::uuid[]) AND decision = 'rejected'
           ORDER BY partner_id, decided_at DESC""",
        ([str(p) for p in partner_ids],),
    )
    return {row["partner_id"]: row for row in rows}


def partners_by_status(uow, status: str, limit: int, after: tuple | None) -> list[dict]:
    """The operators' queue: oldest submission first."""
    condition, params = _after(after, "submitted_at", "id")
    return uow.fetch_all(
        f"""SELECT * FROM partners WHERE status = %s AND {condition}
                             ORDER BY submitted_at, id LIMIT %s""",
        (status, *params, limit + 1),
    )


def places_of_partners(uow, partner_ids: list) -> dict[str, list[dict]]:
    rows = uow.fetch_all(
        """SELECT * FROM places WHERE partner_id = ANY(%s::uuid[]) ORDER BY created_at, id""",
        ([str(p) for p in partner_ids],),
    )
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(str(row["partner_id"]), []).append(row)
    return grouped


def resubmit_partner(uow, partner_id) -> dict:
    return uow.fetch_one(
        """UPDATE partners SET status = 'pending_verification', submitted_at = now(),
                                   updated_at = now() WHERE id = %s RETURNING *""",
        (partner_id,),
    )


def close_partner(uow, partner_id, open_bookings: str) -> dict:
    return uow.fetch_one(
        """UPDATE partners SET status = 'closed', closed_at = now(), open_bookings = %s,
                                   updated_at = now() WHERE id = %s RETURNING *""",
        (open_bookings, partner_id),
    )


def operator_ids(uow) -> list[str]:
    return [
        str(r["id"])
        for r in uow.fetch_all(
            "SELECT id FROM members WHERE kind = 'operator' AND status = 'active' ORDER BY created_at, id"
        )
    ]
