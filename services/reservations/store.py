"""SQL of the reservations service. Every query on partner data filters by
partner_id, every query on a customer's data by customer_id. Rows that change
are locked (``FOR UPDATE``) before the rule that decides the change is applied;
timers and the release queue claim rows with ``FOR UPDATE SKIP LOCKED`` so
several instances share the work without doing any of it twice."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
from psycopg.types.json import Jsonb

from chassis import paging
from chassis.db import add_filters, like_part
from chassis.privacy import name_grams, phone_key

from .domain import NumberTaken

RESERVATION_COLUMNS = """
    reservation_id::text AS reservation_id, number, partner_id, product_id, product_name, product_version,
    schedule_type, payment, cancel_policy, confirmation, allow_partial_cancel, request_ttl_hours, customer_id,
    holder_customer_id, booker_name, booker_phone, booker_phone_last4, status, use_date, use_time, lines, total,
    refund_amount, fee_amount, hold_sequence, reason, due_at, conversation_id, pseudonymised, created_at, updated_at,
    coupon, discount_amount, holder_name, holder_phone
"""
UPDATABLE = {
    "status",
    "use_date",
    "use_time",
    "lines",
    "total",
    "refund_amount",
    "fee_amount",
    "hold_sequence",
    "reason",
    "due_at",
    "conversation_id",
    "holder_customer_id",
    "holder_name",
    "holder_phone",
}


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


# --- booking settings ------------------------------------------------------------------


def product_settings(uow, partner_id: str, product_id: str) -> dict | None:
    return uow.fetch_one(
        """SELECT confirmation, request_ttl_hours, allow_partial_cancel, updated_at
                            FROM product_settings WHERE partner_id = %s AND product_id = %s""",
        (partner_id, product_id),
    )


def save_product_settings(uow, partner_id: str, product_id: str, settings: dict, actor: str | None) -> dict:
    """``settings``: every field (domain.BookingSettings.stored)."""
    return uow.fetch_one(
        """INSERT INTO product_settings (partner_id, product_id, confirmation, request_ttl_hours,
                                         allow_partial_cancel, updated_by)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (partner_id, product_id) DO UPDATE SET
               confirmation = EXCLUDED.confirmation, request_ttl_hours = EXCLUDED.request_ttl_hours,
               allow_partial_cancel = EXCLUDED.allow_partial_cancel, updated_by = EXCLUDED.updated_by,
               updated_at = now()
           RETURNING confirmation, request_ttl_hours, allow_partial_cancel, updated_at""",
        (
            partner_id,
            product_id,
            settings["confirmation"],
            settings["request_ttl_hours"],
            settings["allow_partial_cancel"],
            actor,
        ),
    )


# --- idempotent creation -----------------------------------------------------------------

INTENT_COLUMNS = """customer_id, idempotency_key, fingerprint, reservation_id::text AS reservation_id, number,
                    partner_id, hold_sequence, state, response_status, response, created_at, updated_at"""


def claim_intent(
    uow, customer_id: str, key: str, fingerprint: str, reservation_id: uuid.UUID, number: str, partner_id: str
) -> dict | None:
    """The new intent, or None when the customer already used this key (a
    concurrent first use waits for the other transaction to commit);
    ``NumberTaken`` when the drawn number is another booking's (nothing is written)."""
    try:
        return uow.fetch_one(
            f"""INSERT INTO booking_intents (customer_id, idempotency_key, fingerprint, reservation_id, number,
                                             partner_id)
                VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (customer_id, idempotency_key) DO NOTHING
                RETURNING {INTENT_COLUMNS}""",
            (customer_id, key, fingerprint, reservation_id, number, partner_id),
        )
    except psycopg.errors.UniqueViolation as taken:
        raise NumberTaken(number) from taken


def intent(uow, customer_id: str, key: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        f"SELECT {INTENT_COLUMNS} FROM booking_intents WHERE customer_id = %s "
        f"AND idempotency_key = %s {'FOR UPDATE' if lock else ''}",
        (customer_id, key),
    )


def restart_intent(uow, customer_id: str, key: str) -> dict | None:
    """An abandoned attempt starts again with the next hold id."""
    return uow.fetch_one(
        f"""UPDATE booking_intents SET state = 'pending', hold_sequence = hold_sequence + 1, updated_at = now()
            WHERE customer_id = %s AND idempotency_key = %s AND state = 'abandoned' RETURNING {INTENT_COLUMNS}""",
        (customer_id, key),
    )


def finish_intent(uow, customer_id: str, key: str, answer: dict) -> dict:
    """``answer``: the key's state, response_status and response (chassis.idempotency).
    The response as stored: replays send exactly this (jsonb orders the keys its own way)."""
    return uow.fetch_one(
        """UPDATE booking_intents SET state = %s, response_status = %s, response = %s,
                                   updated_at = now()
                            WHERE customer_id = %s AND idempotency_key = %s RETURNING response""",
        (answer["state"], answer["response_status"], Jsonb(answer["response"]), customer_id, key),
    )["response"]


def stale_intents(uow, older_than: dt.datetime, limit: int) -> list[dict]:
    return uow.fetch_all(
        f"""SELECT {INTENT_COLUMNS} FROM booking_intents WHERE state = 'pending' AND updated_at < %s
            ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED""",
        (older_than, limit),
    )


def abandon_intent(uow, customer_id: str, key: str) -> None:
    uow.execute(
        """UPDATE booking_intents SET state = 'abandoned', updated_at = now()
                   WHERE customer_id = %s AND idempotency_key = %s""",
        (customer_id, key),
    )


# --- reservations ------------------------------------------------------------------------


def record_booking(
    uow, customer_id: str, key: str, hold_sequence: int, r: dict, response: dict, history: dict
) -> dict | None:
    """One statement: the key becomes ``done`` with its response, the reservation and
    its first step are inserted, but only while this attempt is the key's pending one
    (a concurrent copy waits on the key's row, then finds it done and inserts nothing).
    Returns the response as stored (replays send exactly this), or None."""
    row = uow.fetch_one(
        """WITH done AS (
               UPDATE booking_intents SET state = 'done', response_status = 201, response = %(response)s,
                      updated_at = now()
               WHERE customer_id = %(customer_id)s AND idempotency_key = %(key)s AND state = 'pending'
                 AND hold_sequence = %(hold_sequence)s
               RETURNING response),
           booked AS (
               INSERT INTO reservations (reservation_id, number, partner_id, product_id, product_name,
                   product_version, schedule_type, payment, cancel_policy, confirmation, allow_partial_cancel,
                   request_ttl_hours, customer_id, holder_customer_id, booker_name, booker_phone, booker_phone_last4,
                   status, use_date, use_time, lines, total, hold_sequence, hold_attempts, due_at, created_at,
                   updated_at, coupon, discount_amount)
               SELECT %(reservation_id)s, %(number)s, %(partner_id)s, %(product_id)s, %(product_name)s,
                   %(product_version)s, %(schedule_type)s, %(payment)s, %(cancel_policy)s, %(confirmation)s,
                   %(allow_partial_cancel)s, %(request_ttl_hours)s, %(customer_id)s, %(customer_id)s,
                   %(booker_name)s, %(booker_phone)s, %(booker_phone_last4)s, %(status)s, %(use_date)s,
                   %(use_time)s, %(lines)s, %(total)s, %(hold_sequence)s, %(hold_sequence)s, %(due_at)s,
                   %(created_at)s, %(created_at)s, %(coupon)s, %(discount_amount)s
               FROM done RETURNING reservation_id),
           step AS (
               INSERT INTO reservation_history (reservation_id, at, action, actor_kind, actor_id, details)
               SELECT reservation_id, %(created_at)s, 'booked', 'customer', %(customer_id)s, %(history)s FROM booked)
           SELECT response FROM done""",
        {
            **r,
            "cancel_policy": Jsonb(r["cancel_policy"]),
            "lines": Jsonb(r["lines"]),
            "response": Jsonb(response),
            "coupon": Jsonb(r["coupon"]) if r.get("coupon") else None,
            "discount_amount": r.get("discount_amount", 0),
            "history": Jsonb(history),
            "key": key,
            "customer_id": customer_id,
            "hold_sequence": hold_sequence,
        },
    )
    return row["response"] if row else None


def reservation(uow, number: str, *, partner_id: str | None = None, lock: bool = False) -> dict | None:
    where, params = "number = %s", [number]
    if partner_id is not None:
        where += " AND partner_id = %s"
        params.append(partner_id)
    return uow.fetch_one(
        f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {where} {'FOR UPDATE' if lock else ''}", params
    )


def reservation_by_id(uow, reservation_id, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE reservation_id = %s {'FOR UPDATE' if lock else ''}",
        (reservation_id,),
    )


def open_reservations_of(uow, partner_id: str, statuses: tuple[str, ...]) -> list[dict]:
    """A partner's reservations in these states, locked (R-ACC-14)."""
    return uow.fetch_all(
        f"""SELECT {RESERVATION_COLUMNS} FROM reservations
                             WHERE partner_id = %s AND status = ANY(%s)
                             ORDER BY reservation_id FOR UPDATE""",
        (partner_id, list(statuses)),
    )


def update_reservation(uow, reservation_id: str, changes: dict) -> dict:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = {k: Jsonb(v) if k == "lines" else v for k, v in changes.items()}
    assignments = ", ".join(f"{k} = %({k})s" for k in values)
    return uow.fetch_one(
        f"""UPDATE reservations SET {assignments}, updated_at = now()
                             WHERE reservation_id = %(reservation_id)s RETURNING {RESERVATION_COLUMNS}""",
        {**values, "reservation_id": reservation_id},
    )


def next_hold_number(uow, reservation_id: str) -> int:
    """A hold number never used for this reservation: an id the catalog has
    released (even a refused attempt's, by its guard) can never hold again."""
    return uow.fetch_one(
        """UPDATE reservations SET hold_attempts = greatest(hold_attempts, hold_sequence) + 1
                            WHERE reservation_id = %s RETURNING hold_attempts""",
        (reservation_id,),
    )["hold_attempts"]


def record_history(
    uow, reservation_id: str, action: str, actor_kind: str, actor_id: str | None, details: dict | None = None
) -> None:
    uow.execute(
        """INSERT INTO reservation_history (reservation_id, action, actor_kind, actor_id, details)
                   VALUES (%s, %s, %s, %s, %s)""",
        (reservation_id, action, actor_kind, actor_id, Jsonb(details or {})),
    )


def history(uow, reservation_id: str) -> list[dict]:
    return uow.fetch_all(
        """SELECT at, action, actor_kind, actor_id, details FROM reservation_history
                            WHERE reservation_id = %s ORDER BY id""",
        (reservation_id,),
    )


def record_money(uow, partner_id: str, number: str, kind: str, amount: int) -> None:
    if amount > 0:
        uow.execute(
            "INSERT INTO money_movements (partner_id, number, kind, amount) VALUES (%s, %s, %s, %s)",
            (partner_id, number, kind, amount),
        )


# --- lists, board, dashboard --------------------------------------------------------------


def partner_reservations(
    uow,
    partner_id: str,
    *,
    status=None,
    last4=None,
    name_part=None,
    product_id=None,
    use_date=None,
    after=None,
    limit: int = 20,
) -> list[dict]:
    """Newest first; one row more than asked tells whether there is a next page.
    ``name_part`` anywhere in the booker's name (R-RSV-8, migration 0005's index)."""
    where: list[str] = ["partner_id = %s"]
    params: list[object] = [partner_id]  # SQL parameters: text, arrays, dates
    add_filters(
        where,
        params,
        ("status = %s", status),
        ("product_id = %s", product_id),
        ("use_date = %s", use_date),
        ("booker_phone_last4 = %s", last4),
    )
    if name_part is not None:
        where.append("name_grams(booker_name) @> %s::text[] AND lower(booker_name) LIKE %s")
        params += [name_grams(name_part), like_part(name_part)]
        # A common part (one character) is found fastest by walking the newest first;
        # parallel workers then cost more to start (~20 ms) than the walk itself.
        uow.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    paging.keyset(where, params, "created_at, reservation_id", after)
    return uow.fetch_all(
        f"""SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {" AND ".join(where)}
                             ORDER BY created_at DESC, reservation_id DESC LIMIT %s""",
        (*params, limit + 1),
    )


def customer_reservations(uow, customer_id: str, *, status=None, after=None, limit: int = 20) -> list[dict]:
    """What a customer booked, holds (R-RSV-10 transfers) or saved from a friend's share."""
    where, params = [], {"customer": customer_id, "limit": limit + 1}
    if status is not None:
        where.append("r.status = %(status)s")
        params["status"] = status
    if after is not None:
        where.append("(r.created_at, r.reservation_id) < (%(after_at)s, %(after_id)s)")
        params.update(after_at=after[0], after_id=after[1])
    return uow.fetch_all(
        f"""WITH mine AS (SELECT reservation_id FROM reservations WHERE customer_id = %(customer)s
                          UNION SELECT reservation_id FROM reservations WHERE holder_customer_id = %(customer)s
                          UNION SELECT reservation_id FROM saved_reservations WHERE customer_id = %(customer)s)
            SELECT {RESERVATION_COLUMNS} FROM reservations r JOIN mine USING (reservation_id)
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY r.created_at DESC, r.reservation_id DESC LIMIT %(limit)s""",
        params,
    )


def saved_by(uow, customer_id: str, reservation_id: str) -> bool:
    return (
        uow.fetch_one(
            "SELECT 1 FROM saved_reservations WHERE customer_id = %s AND reservation_id = %s",
            (customer_id, reservation_id),
        )
        is not None
    )


def board_counts(
    uow, partner_id: str, product_id: str, date_from: dt.date, date_to: dt.date, dated: bool
) -> list[dict]:
    """Reservations and booked quantity per slot and state (R-RSV-9)."""
    days = "AND use_date BETWEEN %s AND %s" if dated else ""
    params = (partner_id, product_id, *((date_from, date_to) if dated else ()))
    return uow.fetch_all(
        f"""SELECT use_date, use_time, status, count(*) AS reservations,
                   coalesce(sum((SELECT sum((l->>'quantity')::int - coalesce((l->>'cancelled')::int, 0))
                                 FROM jsonb_array_elements(lines) l)), 0)::int AS quantity
            FROM reservations WHERE partner_id = %s AND product_id = %s {days}
            GROUP BY use_date, use_time, status""",
        params,
    )


def status_counts(uow, partner_id: str) -> dict[str, int]:
    return {
        r["status"]: r["n"]
        for r in uow.fetch_all(
            "SELECT status, count(*) AS n FROM reservations WHERE partner_id = %s GROUP BY status", (partner_id,)
        )
    }


def today_counts(
    uow, partner_id: str, today: dt.date, day_start: dt.datetime, *, visiting: tuple[str, ...], awaiting: str
) -> dict:
    """Bookings made today; today's visits (reservations in the ``visiting`` states) and those ``awaiting``."""
    row = uow.fetch_one(
        """SELECT (SELECT count(*) FROM reservations WHERE partner_id = %(p)s AND created_at >= %(start)s
                   AND created_at < %(start)s + interval '1 day') AS bookings,
                  (SELECT count(*) FROM reservations WHERE partner_id = %(p)s AND use_date = %(today)s
                   AND status = ANY(%(visiting)s)) AS visits,
                  (SELECT count(*) FROM reservations WHERE partner_id = %(p)s AND use_date = %(today)s
                   AND status = %(awaiting)s) AS awaiting_confirmation""",
        {"p": partner_id, "start": day_start, "today": today, "visiting": list(visiting), "awaiting": awaiting},
    )
    return {k: int(v) for k, v in row.items()}


def money_totals(uow, partner_id: str | None, start: dt.datetime, end: dt.datetime) -> list[dict]:
    where = "occurred_at >= %s AND occurred_at < %s" + (" AND partner_id = %s" if partner_id else "")
    params = (start, end, *((partner_id,) if partner_id else ()))
    return uow.fetch_all(
        f"""SELECT partner_id, kind, sum(amount)::bigint AS amount, count(*) AS n
                             FROM money_movements WHERE {where} GROUP BY partner_id, kind""",
        params,
    )


# --- timers ---------------------------------------------------------------------------------


def due_reservations(uow, as_of: dt.datetime, limit: int) -> list[dict]:
    return uow.fetch_all(
        f"""SELECT {RESERVATION_COLUMNS} FROM reservations WHERE due_at <= %s
                             ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED""",
        (as_of, limit),
    )


# --- releases to the catalog -------------------------------------------------------------------


def queue_release(
    uow, release_id: str, hold_id: str, partner_id: str, lines: list | None, delay_seconds: float = 0
) -> None:
    """``delay_seconds``: a guard for a hold about to be taken, cancelled (``release_done``)
    by the transaction that adopts the hold; if that never commits, the timer releases it."""
    uow.execute(
        """INSERT INTO pending_releases (release_id, hold_id, partner_id, lines, next_attempt_at)
                   VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))
                   ON CONFLICT (release_id) DO NOTHING""",
        (release_id, hold_id, partner_id, Jsonb(lines) if lines is not None else None, delay_seconds),
    )


def claim_releases(uow, release_ids: list[str], lease_seconds: float) -> list[dict]:
    """These releases, if due and not claimed by another instance: each is then
    not due again for ``lease_seconds`` (the sender marks it done or failed first)."""
    return _claim_releases(
        uow,
        "release_id = ANY(%(ids)s) AND next_attempt_at <= now()",
        {"ids": list(release_ids), "limit": len(release_ids), "lease": lease_seconds},
    )


def claim_due_releases(uow, limit: int, lease_seconds: float) -> list[dict]:
    return _claim_releases(uow, "next_attempt_at <= now()", {"limit": limit, "lease": lease_seconds})


def _claim_releases(uow, where: str, params: dict) -> list[dict]:
    return uow.fetch_all(
        f"""UPDATE pending_releases SET next_attempt_at = now() + make_interval(secs => %(lease)s)
            WHERE release_id IN (SELECT release_id FROM pending_releases WHERE {where}
                                 ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
            RETURNING release_id, hold_id, partner_id, lines, attempts""",
        params,
    )


def release_done(uow, release_id: str) -> None:
    uow.execute("DELETE FROM pending_releases WHERE release_id = %s", (release_id,))


def release_failed(uow, release_id: str, error: str, retry_seconds: float) -> None:
    uow.execute(
        """UPDATE pending_releases SET attempts = attempts + 1, last_error = %s,
                          next_attempt_at = now() + make_interval(secs => %s)
                   WHERE release_id = %s""",
        (error[:500], retry_seconds, release_id),
    )


def pending_release_count(uow) -> int:
    return uow.fetch_one("SELECT count(*) AS n FROM pending_releases")["n"]


# --- sharing, transfers (R-RSV-10) ---------------------------------------------------------


def insert_share(uow, token_hash: bytes, reservation_id: str, customer_id: str) -> None:
    uow.execute(
        "INSERT INTO shares (token_hash, reservation_id, created_by) VALUES (%s, %s, %s)",
        (token_hash, reservation_id, customer_id),
    )


def shared_reservation_id(uow, token_hash: bytes) -> str | None:
    row = uow.fetch_one(
        "SELECT reservation_id::text AS reservation_id FROM shares WHERE token_hash = %s", (token_hash,)
    )
    return row["reservation_id"] if row else None


def save_for(uow, customer_id: str, reservation_id: str) -> bool:
    """True when newly saved."""
    return (
        uow.fetch_one(
            """INSERT INTO saved_reservations (customer_id, reservation_id) VALUES (%s, %s)
                            ON CONFLICT DO NOTHING RETURNING 1""",
            (customer_id, reservation_id),
        )
        is not None
    )


def withdraw_pending_transfer(uow, reservation_id: str) -> None:
    uow.execute(
        "UPDATE transfers SET state = 'withdrawn' WHERE reservation_id = %s AND state = 'pending'", (reservation_id,)
    )


def insert_transfer(uow, token_hash: bytes, reservation_id: str, from_customer: str, to_phone: str) -> dict:
    return uow.fetch_one(
        """INSERT INTO transfers (transfer_id, token_hash, reservation_id, from_customer_id, to_phone, to_phone_key,
                                  state)
           VALUES (%s, %s, %s, %s, %s, %s, 'pending') RETURNING transfer_id::text AS transfer_id, to_phone, state,
           created_at""",
        (uuid.uuid4(), token_hash, reservation_id, from_customer, to_phone, phone_key(to_phone)),
    )


def transfer_by_token(uow, token_hash: bytes) -> dict | None:
    return uow.fetch_one(
        """SELECT transfer_id::text AS transfer_id, reservation_id::text AS reservation_id,
                                   from_customer_id, to_phone, state, to_customer_id
                            FROM transfers WHERE token_hash = %s FOR UPDATE""",
        (token_hash,),
    )


def pending_transfer(uow, reservation_id: str) -> dict | None:
    return uow.fetch_one(
        """SELECT transfer_id::text AS transfer_id, to_phone, state, created_at FROM transfers
                            WHERE reservation_id = %s AND state = 'pending'""",
        (reservation_id,),
    )


def accept_transfer(uow, transfer_id: str, customer_id: str) -> None:
    uow.execute(
        """UPDATE transfers SET state = 'accepted', to_customer_id = %s, accepted_at = now()
                   WHERE transfer_id = %s""",
        (customer_id, transfer_id),
    )


# --- chat requests (R-RSV-11) --------------------------------------------------------------

INVITATION_COLUMNS = """i.invitation_id::text AS invitation_id, i.reservation_id::text AS reservation_id,
    i.partner_id, i.customer_id, i.state, i.requested_by, i.conversation_id, i.created_at, i.decided_at"""


def open_invitation(uow, reservation_id: str) -> dict | None:
    return uow.fetch_one(
        f"SELECT {INVITATION_COLUMNS} FROM chat_invitations i WHERE reservation_id = %s AND state = 'pending'",
        (reservation_id,),
    )


def insert_invitation(uow, reservation: dict, requested_by: str | None) -> dict:
    return uow.fetch_one(
        f"""INSERT INTO chat_invitations AS i (invitation_id, reservation_id, partner_id, customer_id, state,
                requested_by) VALUES (%s, %s, %s, %s, 'pending', %s) RETURNING {INVITATION_COLUMNS}""",
        (
            uuid.uuid4(),
            reservation["reservation_id"],
            reservation["partner_id"],
            reservation["holder_customer_id"],
            requested_by,
        ),
    )


def invitation_for_customer(uow, invitation_id, customer_id: str) -> dict | None:
    if as_uuid(invitation_id) is None:
        return None
    return uow.fetch_one(
        f"""SELECT {INVITATION_COLUMNS}, r.number FROM chat_invitations i
                             JOIN reservations r USING (reservation_id)
                             WHERE i.invitation_id = %s AND i.customer_id = %s FOR UPDATE OF i""",
        (as_uuid(invitation_id), customer_id),
    )


def decide_invitation(uow, invitation_id: str, state: str, conversation_id: str | None) -> dict:
    return uow.fetch_one(
        f"""UPDATE chat_invitations i SET state = %s, conversation_id = %s, decided_at = now()
                             WHERE invitation_id = %s RETURNING {INVITATION_COLUMNS}""",
        (state, conversation_id, invitation_id),
    )


def customer_invitations(uow, customer_id: str, state: str | None, after, limit: int) -> list[dict]:
    where, params = ["i.customer_id = %s"], [customer_id]
    add_filters(where, params, ("i.state = %s", state or None))
    paging.keyset(where, params, "i.created_at, i.invitation_id", after)
    return uow.fetch_all(
        f"""SELECT {INVITATION_COLUMNS}, r.number, r.product_name, r.use_date, r.use_time FROM chat_invitations i
            JOIN reservations r USING (reservation_id) WHERE {" AND ".join(where)}
            ORDER BY i.created_at DESC, i.invitation_id DESC LIMIT %s""",
        (*params, limit + 1),
    )


# --- erasure (member.withdrawn, customer.erased) -----------------------------------------------


def pseudonymise_customer(uow, customer_id: str, pseudonym: str) -> dict:
    """Booker data goes, amounts stay. Stored creation responses carry the
    booker's name and phone: they are dropped (a replay is no longer possible)."""
    booked = uow.execute(
        """UPDATE reservations SET customer_id = %(p)s, booker_name = NULL, booker_phone = NULL,
                  booker_phone_last4 = NULL, pseudonymised = true, updated_at = now()
           WHERE customer_id = %(c)s""",
        {"c": customer_id, "p": pseudonym},
    ).rowcount
    uow.execute(
        """UPDATE reservations SET holder_customer_id = %s, holder_name = NULL, holder_phone = NULL
                   WHERE holder_customer_id = %s""",
        (pseudonym, customer_id),
    )
    uow.execute(
        """UPDATE booking_intents SET customer_id = %s, response = NULL
                   WHERE customer_id = %s""",
        (pseudonym, customer_id),
    )
    uow.execute("""UPDATE saved_reservations SET customer_id = %s WHERE customer_id = %s""", (pseudonym, customer_id))
    uow.execute("UPDATE shares SET created_by = %s WHERE created_by = %s", (pseudonym, customer_id))
    uow.execute(
        "UPDATE transfers SET from_customer_id = %s, to_phone = NULL, to_phone_key = NULL WHERE from_customer_id = %s",
        (pseudonym, customer_id),
    )
    # R-ACC-3: a transfer handed to the erased customer names them by phone too.
    uow.execute(
        "UPDATE transfers SET to_customer_id = %s, to_phone = NULL, to_phone_key = NULL WHERE to_customer_id = %s",
        (pseudonym, customer_id),
    )
    uow.execute("UPDATE chat_invitations SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id))
    uow.execute("UPDATE reservation_history SET actor_id = %s WHERE actor_id = %s", (pseudonym, customer_id))
    return {"reservations": booked}


def forget_transfers_to_phone(uow, key: str) -> int:
    """R-ACC-3 (issue 16): transfers addressed to an erased customer's phone (by its
    keyed pseudonym) lose it; a pending one is withdrawn, since nobody can take it
    any more (the booker may hand the ticket on again). Rows from before the key
    was stored get theirs first."""
    for row in uow.fetch_all("""SELECT transfer_id, to_phone FROM transfers
                                WHERE to_phone_key IS NULL AND to_phone IS NOT NULL FOR UPDATE"""):
        uow.execute(
            "UPDATE transfers SET to_phone_key = %s WHERE transfer_id = %s",
            (phone_key(row["to_phone"]), row["transfer_id"]),
        )
    return uow.execute(
        """UPDATE transfers SET to_phone = NULL, to_phone_key = NULL,
                                 state = CASE WHEN state = 'pending' THEN 'withdrawn' ELSE state END
                          WHERE to_phone_key = %s""",
        (key,),
    ).rowcount


def pseudonymise_member(uow, member_id: str, pseudonym: str) -> dict:
    """A withdrawn partner member: only their id as the actor of steps and chat requests."""
    steps = uow.execute(
        "UPDATE reservation_history SET actor_id = %s WHERE actor_id = %s", (pseudonym, member_id)
    ).rowcount
    uow.execute("UPDATE chat_invitations SET requested_by = %s WHERE requested_by = %s", (pseudonym, member_id))
    uow.execute("UPDATE product_settings SET updated_by = %s WHERE updated_by = %s", (pseudonym, member_id))
    return {"steps": steps}


# --- reviews (R-RSV-6, R-CAT-6) ------------------------------------------------------------------

REVIEW_COLUMNS = """review_id::text AS review_id, reservation_id::text AS reservation_id, number, partner_id,
                    product_id, customer_id, rating, body, reply, replied_by, request_key, request_fingerprint,
                    created_at, replied_at"""


def insert_review(uow, review: dict) -> dict | None:
    """The new review, or None when the reservation already has one, or when the
    customer's Idempotency-Key is already another review's (the caller tells which)."""
    return uow.fetch_one(
        f"""INSERT INTO reviews (review_id, reservation_id, number, partner_id, product_id, customer_id, rating,
                                 body, request_key, request_fingerprint)
            VALUES (%(review_id)s, %(reservation_id)s, %(number)s, %(partner_id)s, %(product_id)s, %(customer_id)s,
                    %(rating)s, %(body)s, %(request_key)s, %(request_fingerprint)s)
            ON CONFLICT DO NOTHING RETURNING {REVIEW_COLUMNS}""",
        review,
    )


def review_by_key(uow, customer_id: str, key: str) -> dict | None:
    return uow.fetch_one(
        f"SELECT {REVIEW_COLUMNS} FROM reviews WHERE customer_id = %s AND request_key = %s", (customer_id, key)
    )


def review_of_reservation(uow, reservation_id: str) -> dict | None:
    return uow.fetch_one(f"SELECT {REVIEW_COLUMNS} FROM reviews WHERE reservation_id = %s", (reservation_id,))


def review(uow, partner_id: str, review_id) -> dict | None:
    """The partner's review (another partner's is None, like an unknown id)."""
    if as_uuid(review_id) is None:
        return None
    return uow.fetch_one(
        f"SELECT {REVIEW_COLUMNS} FROM reviews WHERE review_id = %s AND partner_id = %s",
        (as_uuid(review_id), partner_id),
    )


def reply_review(uow, partner_id: str, review_id: str, text: str, actor_id: str | None) -> dict | None:
    """The first reply wins; None when there already is one."""
    return uow.fetch_one(
        f"""UPDATE reviews SET reply = %s, replied_by = %s, replied_at = now()
            WHERE review_id = %s AND partner_id = %s AND reply IS NULL RETURNING {REVIEW_COLUMNS}""",
        (text, actor_id, review_id, partner_id),
    )


def pseudonymise_customer_reviews(uow, customer_id: str, pseudonym: str) -> int:
    """The reviewer becomes the pseudonym; rating and text stay (the product's reviews
    and average do not change). The Idempotency-Key goes: a replay is no longer possible."""
    return uow.execute(
        """UPDATE reviews SET customer_id = %s, request_key = NULL, request_fingerprint = NULL
                          WHERE customer_id = %s""",
        (pseudonym, customer_id),
    ).rowcount


def pseudonymise_member_reviews(uow, member_id: str, pseudonym: str) -> int:
    return uow.execute("UPDATE reviews SET replied_by = %s WHERE replied_by = %s", (pseudonym, member_id)).rowcount
