"""SQL of the orders service. Every query that reads partner or customer data
filters by the partner (or the customer) it was asked for."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import AbstractContextManager

from psycopg.types.json import Jsonb

from chassis import paging
from chassis.db import add_filters


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


# --- creation and the Idempotency-Key -------------------------------------------------


def claim_creation_key(uow, customer_id: str, key: str, partner_id: str, fingerprint: str, hold_id: str) -> dict:
    """The key's row: a new one (pending, with this hold id) or the one already there."""
    row = uow.fetch_one(
        """INSERT INTO creation_keys (customer_id, key, partner_id, fingerprint, hold_id) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (customer_id, key) DO NOTHING RETURNING *""",
        (customer_id, key, partner_id, fingerprint, hold_id),
    )
    found = row or creation_key(uow, customer_id, key)
    assert found is not None, "a key row inserted, or found committed, just now"
    return found


def creation_key(uow, customer_id: str, key: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        "SELECT * FROM creation_keys WHERE customer_id = %s AND key = %s" + (" FOR UPDATE" if lock else ""),
        (customer_id, key),
    )


def drop_pending_key(uow, customer_id: str, key: str, hold_id: str) -> None:
    """A key whose hold id another hold has: it never was this body's."""
    uow.execute(
        "DELETE FROM creation_keys WHERE customer_id = %s AND key = %s AND hold_id = %s AND state = 'pending'",
        (customer_id, key, hold_id),
    )


def finish_creation_key(uow, customer_id: str, key: str, order_id, answer: dict) -> None:
    """``answer``: chassis.idempotency.answered, the columns of the first reply."""
    uow.execute(
        """UPDATE creation_keys SET order_id = %s, state = %s, response_status = %s, response = %s
                    WHERE customer_id = %s AND key = %s""",
        (order_id, answer["state"], answer["response_status"], Jsonb(answer["response"]), customer_id, key),
    )


def refuse_creation_key(uow, customer_id: str, key: str, hold_id: str, refusal: dict) -> None:
    """``refusal``: chassis.idempotency.refused, replayed to the same key and body from now on."""
    uow.execute(
        """UPDATE creation_keys SET state = %s, response_status = %s, response = %s
                    WHERE customer_id = %s AND key = %s AND hold_id = %s AND state = 'pending'""",
        (refusal["state"], refusal["response_status"], Jsonb(refusal["response"]), customer_id, key, hold_id),
    )


def claim_stale_keys(uow, older_than_seconds: float, lease_seconds: float, limit: int) -> list[dict]:
    """Creations interrupted between their hold and their order (a crash, a lost
    catalog reply), marked swept (their creation can no longer finish) and claimed
    for ``lease_seconds``: the timer releases their holds after this commits."""
    return uow.fetch_all(
        """UPDATE creation_keys SET swept_at = now()
            WHERE (customer_id, key) IN (
                SELECT customer_id, key FROM creation_keys WHERE state = 'pending'
                   AND created_at < now() - make_interval(secs => %s)
                   AND (swept_at IS NULL OR swept_at < now() - make_interval(secs => %s))
                 ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)
           RETURNING *""",
        (older_than_seconds, lease_seconds, limit),
    )


def delete_expired_keys(uow, older_than_hours: float, limit: int = 5000) -> int:
    """Answered keys past their replay window (a retry after that is a new request)."""
    deleted = uow.execute(
        """DELETE FROM creation_keys WHERE ctid IN (
               SELECT ctid FROM creation_keys WHERE state <> 'pending'
                  AND created_at < now() - make_interval(hours => %s) LIMIT %s)""",
        (int(older_than_hours), limit),
    ).rowcount
    return (
        deleted
        + uow.execute(
            """DELETE FROM request_keys WHERE ctid IN (
               SELECT ctid FROM request_keys WHERE created_at < now() - make_interval(hours => %s) LIMIT %s)""",
            (int(older_than_hours), limit),
        ).rowcount
    )


def claim_request_key(uow, customer_id: str, key: str, fingerprint: str) -> dict | None:
    """None when this request is the key's first (it goes on); else the first one's row. A racing
    request with the same key waits here until the first commits or rolls back."""
    inserted = uow.fetch_one(
        """INSERT INTO request_keys (customer_id, key, fingerprint) VALUES (%s, %s, %s)
           ON CONFLICT (customer_id, key) DO NOTHING RETURNING key""",
        (customer_id, key, fingerprint),
    )
    if inserted:
        return None
    return uow.fetch_one("SELECT * FROM request_keys WHERE customer_id = %s AND key = %s", (customer_id, key))


def save_request_response(uow, customer_id: str, key: str, response: dict) -> None:
    uow.execute(
        "UPDATE request_keys SET response = %s WHERE customer_id = %s AND key = %s", (Jsonb(response), customer_id, key)
    )


def delete_key(uow, customer_id: str, key: str) -> None:
    uow.execute(
        "DELETE FROM creation_keys WHERE customer_id = %s AND key = %s AND state = 'pending'", (customer_id, key)
    )


def next_order_number(uow, partner_id: str, day) -> int:
    """The partner's next short order number of the day (1, 2, 3 ...): the counter
    row's lock orders concurrent creations, so no two orders share a number."""
    return uow.fetch_one(
        """INSERT INTO order_numbers (partner_id, day, last_number) VALUES (%s, %s, 1)
           ON CONFLICT (partner_id, day) DO UPDATE SET last_number = order_numbers.last_number + 1
           RETURNING last_number""",
        (partner_id, day),
    )["last_number"]


def insert_order(uow, order: dict, lines: list) -> dict:
    row = uow.fetch_one(
        """INSERT INTO orders (order_id, partner_id, customer_id, channel, status, total, hold_id, shipping,
                               note, received_at, auto_complete_at, coupon, discount_amount, number, number_day,
                               customer_name)
           VALUES (%(order_id)s, %(partner_id)s, %(customer_id)s, %(channel)s, %(status)s, %(total)s, %(hold_id)s,
                   %(shipping)s, %(note)s, %(received_at)s, %(auto_complete_at)s, %(coupon)s, %(discount_amount)s,
                   %(number)s, %(number_day)s, %(customer_name)s)
           RETURNING *""",
        {
            **order,
            "shipping": Jsonb(order["shipping"]) if order["shipping"] else None,
            "coupon": Jsonb(order["coupon"]) if order.get("coupon") else None,
            "discount_amount": order.get("discount_amount", 0),
        },
    )
    insert_lines(uow, order["order_id"], order["hold_id"], lines)
    return row


def insert_lines(uow, order_id, hold_id: str, lines: list, replaces: dict | None = None) -> None:
    with uow.conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO order_lines (line_id, order_id, position, product_id, product_name, option_id,
                                        option_label, quantity, unit_price, hold_id, hold_line, replaces_line_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    line.line_id,
                    order_id,
                    line.position,
                    line.product_id,
                    line.product_name,
                    line.option_id,
                    line.option_label,
                    line.quantity,
                    line.unit_price,
                    hold_id,
                    line.hold_line,
                    (replaces or {}).get(line.line_id),
                )
                for line in lines
            ],
        )


# --- reading orders ------------------------------------------------------------------


def order_row(
    uow, order_id, partner_id: str | None = None, customer_id: str | None = None, lock: bool = False
) -> dict | None:
    """The order, only if it is the partner's (or the customer's) own."""
    oid = as_uuid(order_id)
    if oid is None:
        return None
    sql = "SELECT * FROM orders WHERE order_id = %s"
    params: list = [oid]
    if partner_id is not None:
        sql += " AND partner_id = %s"
        params.append(partner_id)
    if customer_id is not None:
        sql += " AND customer_id = %s"
        params.append(customer_id)
    return uow.fetch_one(sql + (" FOR UPDATE" if lock else ""), params)


def line_rows(uow, order_id) -> list[dict]:
    return uow.fetch_all("SELECT * FROM order_lines WHERE order_id = %s ORDER BY position", (order_id,))


def lines_of_orders(uow, order_ids: list) -> dict:
    rows = uow.fetch_all("SELECT * FROM order_lines WHERE order_id = ANY(%s) ORDER BY order_id, position", (order_ids,))
    by_order: dict = {}
    for row in rows:
        by_order.setdefault(row["order_id"], []).append(row)
    return by_order


def list_orders(
    uow,
    *,
    partner_id: str | None = None,
    customer_id: str | None = None,
    channels: list[str] | None = None,
    statuses: list[str] | None = None,
    limit: int = 20,
    after: tuple | None = None,
) -> list[dict]:
    """Newest first (R-ORD-1); one row more than asked, to know whether more follow."""
    where: list[str] = []
    params: list[object] = []  # SQL parameters: text, arrays, numbers
    add_filters(
        where,
        params,
        ("partner_id = %s", partner_id),
        ("customer_id = %s", customer_id),
        ("channel = ANY(%s)", channels or None),  # no channel named: every channel
        ("status = ANY(%s)", statuses or None),
    )
    paging.keyset(where, params, "received_at, order_id", after, "%s::timestamptz, %s::uuid")
    params.append(limit + 1)
    return uow.fetch_all(
        f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY received_at DESC, order_id DESC LIMIT %s", params
    )


# --- changing orders -------------------------------------------------------------------

UPDATABLE = {
    "status",
    "preparing_at",
    "shipment_prepared_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "completed_by",
    "booked_at",
    "cancelled_at",
    "cancelled_by",
    "cancel_reason",
    "courier",
    "invoice_number",
    "actor_id",
    "refunded_amount",
    "payment_status",
    "preparation_minutes",
    "ready_at",
    "tracking_url",
}


def open_orders_of(uow, partner_id: str, states: tuple[str, ...]) -> list[dict]:
    """A partner's orders in ``states``, locked in id order (R-ACC-14)."""
    return uow.fetch_all(
        """SELECT * FROM orders WHERE partner_id = %s AND status = ANY(%s)
                            ORDER BY order_id FOR UPDATE""",
        (partner_id, list(states)),
    )


def open_order_counts(uow, partner_ids: list[str], states: tuple[str, ...]) -> dict[str, int]:
    rows = uow.fetch_all(
        """SELECT partner_id, count(*) AS n FROM orders
                            WHERE partner_id = ANY(%s) AND status = ANY(%s) GROUP BY partner_id""",
        (list(partner_ids), list(states)),
    )
    return {row["partner_id"]: row["n"] for row in rows}


def update_order(uow, order_id, **fields) -> dict:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {unknown}")
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    return uow.fetch_one(
        f"UPDATE orders SET {assignments} WHERE order_id = %(order_id)s RETURNING *", {**fields, "order_id": order_id}
    )


def refund_line_units(uow, order_id, refund: list[dict]) -> None:
    for item in refund:
        uow.execute(
            "UPDATE order_lines SET refunded_quantity = refunded_quantity + %s WHERE order_id = %s AND line_id = %s",
            (item["quantity"], order_id, item["line_id"]),
        )


def move_line_units(uow, order_id, line_id: str, quantity: int) -> None:
    """An exchange takes units off the old line (they move to the new option's line)."""
    uow.execute(
        "UPDATE order_lines SET quantity = quantity - %s, exchanged_out = exchanged_out + %s "
        "WHERE order_id = %s AND line_id = %s",
        (quantity, quantity, order_id, line_id),
    )


# --- the auto-complete timer (R-ORD-2) --------------------------------------------------------


def claim_due_orders(uow, as_of: dt.datetime, states: tuple[str, ...], limit: int) -> list[dict]:
    """Orders in ``states`` due by ``as_of``; rows another instance holds are
    skipped, so each order is completed by exactly one pass."""
    return uow.fetch_all(
        """SELECT * FROM orders
            WHERE status = ANY(%s) AND auto_complete_at IS NOT NULL AND auto_complete_at <= %s
            ORDER BY auto_complete_at LIMIT %s FOR UPDATE SKIP LOCKED""",
        (list(states), as_of, limit),
    )


def complete_due(uow, order_ids: list, states: tuple[str, ...]) -> list[dict]:
    """Completed by the system at the due time itself, whenever the pass runs (R-ORD-2)."""
    return uow.fetch_all(
        """UPDATE orders SET status = 'completed', completed_at = auto_complete_at, completed_by = 'system',
                           booked_at = now()
            WHERE order_id = ANY(%s) AND status = ANY(%s) RETURNING *""",
        (order_ids, list(states)),
    )


def pipeline(uow) -> AbstractContextManager:
    """Statements sent in one round trip (a batch's outbox rows)."""
    return uow.conn.pipeline()


def record_timer_pass(uow, instance: str, as_of, started_at, completed: int) -> None:
    uow.execute(
        """INSERT INTO timer_passes (instance, as_of, started_at, finished_at, completed)
                   VALUES (%s, %s, %s, clock_timestamp(), %s)""",
        (instance, as_of, started_at, completed),
    )


# --- stock given back to the catalog ------------------------------------------------------


def insert_release(uow, release_id: str, order: dict, hold_id: str, lines: list[dict] | None) -> None:
    uow.execute(
        """INSERT INTO stock_releases (release_id, order_id, partner_id, hold_id, lines)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (release_id) DO NOTHING""",
        (release_id, order["order_id"], order["partner_id"], hold_id, Jsonb(lines) if lines is not None else None),
    )


def claim_release(uow, release_id: str, lease_seconds: float) -> dict | None:
    """The release, claimed for ``lease_seconds`` (None when sent, or claimed by another)."""
    return uow.fetch_one(
        """UPDATE stock_releases SET claimed_until = now() + make_interval(secs => %s)
            WHERE release_id = %s AND released_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
           RETURNING *""",
        (lease_seconds, release_id),
    )


def claim_pending_releases(uow, older_than_seconds: float, lease_seconds: float, limit: int) -> list[dict]:
    """Releases not confirmed after ``older_than_seconds`` and claimed by no one, claimed."""
    return uow.fetch_all(
        """UPDATE stock_releases SET claimed_until = now() + make_interval(secs => %s)
            WHERE release_id IN (
                SELECT release_id FROM stock_releases WHERE released_at IS NULL
                   AND created_at < now() - make_interval(secs => %s)
                   AND (claimed_until IS NULL OR claimed_until < now())
                 ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)
           RETURNING *""",
        (lease_seconds, older_than_seconds, limit),
    )


def mark_released(uow, release_id: str) -> None:
    uow.execute("UPDATE stock_releases SET released_at = now() WHERE release_id = %s", (release_id,))


def release_failed(uow, release_id: str, error: str) -> None:
    """The catalog did not confirm: the claim ends, the timer's next pass tries again."""
    uow.execute(
        "UPDATE stock_releases SET attempts = attempts + 1, last_error = %s, claimed_until = NULL "
        "WHERE release_id = %s",
        (error[:500], release_id),
    )


# --- refund and exchange requests (R-ORD-8) ------------------------------------------------


def insert_request(uow, request: dict) -> dict:
    return uow.fetch_one(
        """INSERT INTO order_requests (request_id, order_id, partner_id, customer_id, kind, reason, lines, amount)
           VALUES (%(request_id)s, %(order_id)s, %(partner_id)s, %(customer_id)s, %(kind)s, %(reason)s, %(lines)s,
                   %(amount)s) RETURNING *""",
        {**request, "lines": Jsonb(request["lines"])},
    )


def request_row(uow, partner_id: str, kind: str, request_id) -> dict | None:
    rid = as_uuid(request_id)
    if rid is None:
        return None
    return uow.fetch_one(
        "SELECT * FROM order_requests WHERE request_id = %s AND partner_id = %s AND kind = %s", (rid, partner_id, kind)
    )


def requests_of_order(uow, order_id) -> list[dict]:
    return uow.fetch_all(
        "SELECT * FROM order_requests WHERE order_id = %s ORDER BY created_at, request_id", (order_id,)
    )


def set_exchange_hold(uow, request_id, hold_id: str) -> None:
    uow.execute(
        "UPDATE order_requests SET exchange_hold_id = %s WHERE request_id = %s AND exchange_hold_id IS NULL",
        (hold_id, request_id),
    )


def forget_exchange_hold(uow, request_id, hold_id: str) -> None:
    """A spent exchange hold id (given back): the next approval takes a new one."""
    uow.execute(
        "UPDATE order_requests SET exchange_hold_id = NULL WHERE request_id = %s AND exchange_hold_id = %s",
        (request_id, hold_id),
    )


def decide_request(
    uow, request_id, status: str, actor_id: str | None, reason: str | None, amount: int | None = None
) -> dict:
    """``amount``: what an approved refund pays back, as computed at approval (reconciliation reads it)."""
    return uow.fetch_one(
        """UPDATE order_requests SET status = %s, decided_by = %s, decision_reason = %s, decided_at = now(),
                  amount = coalesce(%s, amount)
            WHERE request_id = %s RETURNING *""",
        (status, actor_id, reason, amount, request_id),
    )


def update_request(uow, request_id, **fields) -> dict:
    """An exchange's steps (issue 18 item 7): status, courier, invoice, link and times."""
    allowed = {
        "status",
        "return_courier",
        "return_invoice_number",
        "return_tracking_url",
        "returned_at",
        "courier",
        "invoice_number",
        "tracking_url",
        "shipped_at",
        "delivered_at",
    }
    if set(fields) - allowed:
        raise ValueError(f"not updatable: {set(fields) - allowed}")
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    return uow.fetch_one(
        f"UPDATE order_requests SET {assignments} WHERE request_id = %(request_id)s RETURNING *",
        {**fields, "request_id": request_id},
    )


def courier(uow, name: str) -> dict | None:
    """The courier a partner typed, by its code, name or an alias (case and spaces aside)."""
    return uow.fetch_one(
        """SELECT code, name, tracking_template FROM couriers
            WHERE lower(replace(%(n)s, ' ', '')) IN (lower(code), lower(replace(name, ' ', '')))
               OR lower(replace(%(n)s, ' ', '')) IN (SELECT lower(replace(a, ' ', '')) FROM unnest(aliases) AS a)
            LIMIT 1""",
        {"n": name},
    )


def couriers(uow) -> list[dict]:
    return uow.fetch_all("SELECT code, name, aliases, tracking_template FROM couriers ORDER BY code")


def close_open_requests(uow, order_id, reason: str) -> None:
    """A cancelled order's open refund and exchange requests are rejected with it
    (its cancellation refunded everything left)."""
    uow.execute(
        "UPDATE order_requests SET status = 'rejected', decision_reason = %s, decided_at = now() "
        "WHERE order_id = %s AND status = 'requested'",
        (reason, order_id),
    )


def list_requests(uow, partner_id: str, kind: str, status: str | None, limit: int, after) -> list[dict]:
    where, params = ["partner_id = %s", "kind = %s"], [partner_id, kind]
    add_filters(where, params, ("status = %s", status or None))
    paging.keyset(where, params, "created_at, request_id", after, "%s::timestamptz, %s::uuid")
    return uow.fetch_all(
        f"SELECT * FROM order_requests WHERE {' AND '.join(where)} ORDER BY created_at DESC, request_id DESC LIMIT %s",
        [*params, limit + 1],
    )


# --- inquiries and reviews (R-ORD-9) ---------------------------------------------------------


def insert_inquiry(uow, inquiry: dict) -> dict:
    return uow.fetch_one(
        """INSERT INTO inquiries (inquiry_id, order_id, partner_id, customer_id, body)
           VALUES (%(inquiry_id)s, %(order_id)s, %(partner_id)s, %(customer_id)s, %(body)s) RETURNING *""",
        inquiry,
    )


def insert_review(uow, review: dict) -> dict | None:
    return uow.fetch_one(
        """INSERT INTO reviews (review_id, order_id, line_id, partner_id, customer_id, rating, body)
           VALUES (%(review_id)s, %(order_id)s, %(line_id)s, %(partner_id)s, %(customer_id)s, %(rating)s, %(body)s)
           ON CONFLICT (line_id) DO NOTHING RETURNING *""",
        review,
    )


def feedback_row(uow, table: str, partner_id: str, object_id, lock: bool = False) -> dict | None:
    oid = as_uuid(object_id)
    if oid is None:
        return None
    key = {"inquiries": "inquiry_id", "reviews": "review_id"}[table]
    return uow.fetch_one(
        f"SELECT * FROM {table} WHERE {key} = %s AND partner_id = %s" + (" FOR UPDATE" if lock else ""),
        (oid, partner_id),
    )


def answer(uow, table: str, object_id, text: str, actor_id: str | None) -> dict | None:
    """The first answer (or reply) wins; None when there already is one."""
    key, column, by, at = {
        "inquiries": ("inquiry_id", "answer", "answered_by", "answered_at"),
        "reviews": ("review_id", "reply", "replied_by", "replied_at"),
    }[table]
    return uow.fetch_one(
        f"UPDATE {table} SET {column} = %s, {by} = %s, {at} = now() WHERE {key} = %s AND {column} IS NULL RETURNING *",
        (text, actor_id, object_id),
    )


def feedback_of_order(uow, table: str, order_id) -> list[dict]:
    return uow.fetch_all(f"SELECT * FROM {table} WHERE order_id = %s ORDER BY created_at", (order_id,))


def list_feedback(uow, table: str, partner_id: str, done: bool | None, limit: int, after) -> list[dict]:
    key, column = {"inquiries": ("inquiry_id", "answer"), "reviews": ("review_id", "reply")}[table]
    where, params = ["partner_id = %s"], [partner_id]
    if done is not None:
        where.append(f"{column} IS {'NOT ' if done else ''}NULL")
    if after:
        where.append(f"(created_at, {key}) < (%s::timestamptz, %s::uuid)")
        params += after
    return uow.fetch_all(
        f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY created_at DESC, {key} DESC LIMIT %s",
        [*params, limit + 1],
    )


# --- erasure -------------------------------------------------------------------------------


def erase_customer(uow, customer_id: str, pseudonym: str) -> int:
    """Name, phone and address go; amounts, lines and states stay. The
    customer id becomes the pseudonym, so nothing links back to the person."""
    count = uow.execute(
        """UPDATE orders SET customer_id = %s, shipping = NULL, note = NULL, erased_at = now()
            WHERE customer_id = %s""",
        (pseudonym, customer_id),
    ).rowcount
    for table in ("order_requests", "inquiries", "reviews"):
        uow.execute(f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id))
    # R-ACC-3: free text the customer wrote may name them or give a phone: it goes too.
    uow.execute("UPDATE inquiries SET body = '' WHERE customer_id = %s", (pseudonym,))
    uow.execute("UPDATE order_requests SET reason = '' WHERE customer_id = %s", (pseudonym,))
    # Stored responses hold the address: the replay window closes for an erased customer. Creations
    # still pending keep their row (the timer releases their hold) under the pseudonym.
    uow.execute("DELETE FROM creation_keys WHERE customer_id = %s AND state <> 'pending'", (customer_id,))
    uow.execute("DELETE FROM request_keys WHERE customer_id = %s", (customer_id,))
    uow.execute("UPDATE creation_keys SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id))
    return count


def erase_member(uow, member_id: str, pseudonym: str) -> None:
    """A withdrawn member's id (R-ACC-3) stays nowhere as the actor of a change."""
    uow.execute("UPDATE orders SET actor_id = %s WHERE actor_id = %s", (pseudonym, member_id))
    uow.execute("UPDATE order_requests SET decided_by = %s WHERE decided_by = %s", (pseudonym, member_id))
    uow.execute("UPDATE inquiries SET answered_by = %s WHERE answered_by = %s", (pseudonym, member_id))
    uow.execute("UPDATE reviews SET replied_by = %s WHERE replied_by = %s", (pseudonym, member_id))
    uow.execute("UPDATE contact_access SET actor_id = %s WHERE actor_id = %s", (pseudonym, member_id))


# --- dashboard and reconciliation ---------------------------------------------------------------


def status_counts(uow, partner_id: str, states: tuple[str, ...]) -> dict[tuple[str, str], int]:
    rows = uow.fetch_all(
        "SELECT channel, status, count(*) AS n FROM orders WHERE partner_id = %s "
        "AND status = ANY(%s) GROUP BY channel, status",
        (partner_id, list(states)),
    )
    return {(r["channel"], r["status"]): r["n"] for r in rows}


def day_figures(uow, partner_id: str, start, end) -> dict:
    return uow.fetch_one(
        """SELECT count(*) FILTER (WHERE received_at >= %(start)s AND received_at < %(end)s) AS received,
                  count(*) FILTER (WHERE status = 'completed' AND completed_at >= %(start)s
                                   AND completed_at < %(end)s) AS completed,
                  count(*) FILTER (WHERE status = 'cancelled' AND cancelled_at >= %(start)s
                                   AND cancelled_at < %(end)s) AS cancelled,
                  coalesce(sum(total) FILTER (WHERE status = 'completed' AND completed_at >= %(start)s
                                              AND completed_at < %(end)s), 0) AS completed_sales
             FROM orders WHERE partner_id = %(pid)s
              AND (received_at >= %(start)s OR completed_at >= %(start)s OR cancelled_at >= %(start)s)""",
        {"pid": partner_id, "start": start, "end": end},
    )


def open_feedback_counts(uow, partner_id: str) -> dict:
    return uow.fetch_one(
        """SELECT (SELECT count(*) FROM order_requests WHERE partner_id = %(p)s AND kind = 'refund'
                     AND status = 'requested') AS refund_requests,
                  (SELECT count(*) FROM order_requests WHERE partner_id = %(p)s AND kind = 'exchange'
                     AND status = 'requested') AS exchange_requests,
                  (SELECT count(*) FROM inquiries WHERE partner_id = %(p)s AND answer IS NULL) AS unanswered_inquiries,
                  (SELECT count(*) FROM reviews WHERE partner_id = %(p)s AND reply IS NULL) AS unreplied_reviews""",
        {"p": partner_id},
    )


def sales_and_refunds(uow, partner_id: str | None, start, end) -> list[dict]:
    """Per partner: completed sales by completion time; approved refunds of completed
    orders, by decision time, or by completion time when approved before it (the
    ledger books those with the sale, issue 18); a cancelled order's are none."""
    partner_filter = "AND o.partner_id = %(pid)s" if partner_id else ""
    return uow.fetch_all(
        f"""SELECT partner_id, sum(sales) AS sales, sum(sales_count) AS sales_count, sum(refunds) AS refunds
              FROM (SELECT o.partner_id, o.total AS sales, 1 AS sales_count, 0 AS refunds FROM orders o
                     WHERE o.status = 'completed' AND o.total > 0 AND o.booked_at >= %(start)s
                       AND o.booked_at < %(end)s {partner_filter}
                    UNION ALL
                    SELECT o.partner_id, 0, 0, r.amount FROM order_requests r JOIN orders o USING (order_id)
                     WHERE r.kind = 'refund' AND r.status = 'approved' AND r.amount > 0 AND o.status = 'completed'
                       AND greatest(r.decided_at, o.booked_at) >= %(start)s
                       AND greatest(r.decided_at, o.booked_at) < %(end)s {partner_filter}) AS movements
             GROUP BY partner_id ORDER BY partner_id""",
        {"pid": partner_id, "start": start, "end": end},
    )


# --- staff access to a customer's contact (R-RSV-12) ------------------------------------------


def record_contact_access(
    uow, partner_id: str, order_id: str, reason: str, actor_kind: str, actor_id: str | None
) -> None:
    uow.execute(
        """INSERT INTO contact_access (partner_id, order_id, reason, actor_kind, actor_id)
                   VALUES (%s, %s, %s, %s, %s)""",
        (partner_id, order_id, reason, actor_kind, actor_id),
    )


def contact_access_of_order(uow, order_id: str) -> list[dict]:
    return uow.fetch_all(
        """SELECT reason, actor_kind, actor_id, at FROM contact_access
                            WHERE order_id = %s ORDER BY id""",
        (order_id,),
    )
