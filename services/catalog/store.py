"""SQL of the catalog. Every query that reads partner data filters by partner_id.

Lock order, the same in every transaction so none waits on another in a
cycle: product rows (by product_id), a hold's own row, then capacity buckets
(by product_id, bucket_key), then a coupon row and its redemption row.
"""

from __future__ import annotations

import datetime as dt
import uuid

from psycopg.types.json import Jsonb

from chassis import paging
from chassis.db import add_filters

from .domain import COUPON_UPDATABLE, Availability, BucketNeed

PRODUCT_VIEW = """
SELECT p.product_id::text AS product_id, p.partner_id, p.kind, p.live_version, p.next_revision,
       p.live_revision_id::text AS live_revision_id, p.open_revision_id::text AS open_revision_id,
       p.sale_starts_at, p.sale_ends_at, p.paused, p.created_at, p.updated_at,
       lr.content AS live_content, lr.decided_at AS live_approved_at,
       o.number AS open_number, o.status AS open_status, o.content AS open_content,
       o.created_at AS open_created_at, o.updated_at AS open_updated_at, o.submitted_at AS open_submitted_at,
       rj.revision_id::text AS rejected_revision_id, rj.number AS rejected_number, rj.reason AS rejected_reason,
       rj.decided_at AS rejected_at, rj.content AS rejected_content
FROM products p
LEFT JOIN revisions lr ON lr.revision_id = p.live_revision_id
LEFT JOIN revisions o ON o.revision_id = p.open_revision_id
LEFT JOIN LATERAL (
    SELECT r.revision_id, r.number, r.reason, r.decided_at, r.content FROM revisions r
    WHERE r.product_id = p.product_id AND r.status = 'rejected' AND r.number > coalesce(p.live_version, 0)
    ORDER BY r.number DESC LIMIT 1) rj ON true
"""


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


# --- products and revisions -----------------------------------------------------


def insert_product(uow, product_id, partner_id: str, kind: str, settings: dict) -> None:
    uow.execute(
        """INSERT INTO products (product_id, partner_id, kind, sale_starts_at, sale_ends_at, paused)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
        (product_id, partner_id, kind, settings["sale_starts_at"], settings["sale_ends_at"], settings["paused"]),
    )


def insert_revision(uow, product_id, partner_id: str, content: dict) -> dict:
    """A new draft revision, numbered from the product's counter; it becomes the open one."""
    number = uow.fetch_one(
        """UPDATE products SET next_revision = next_revision + 1, updated_at = now()
                              WHERE product_id = %s RETURNING next_revision - 1 AS number""",
        (product_id,),
    )["number"]
    revision_id = uuid.uuid4()
    uow.execute(
        """INSERT INTO revisions (revision_id, product_id, partner_id, number, status, content)
                   VALUES (%s, %s, %s, %s, 'draft', %s)""",
        (revision_id, product_id, partner_id, number, Jsonb(content)),
    )
    uow.execute("UPDATE products SET open_revision_id = %s WHERE product_id = %s", (revision_id, product_id))
    return {"revision_id": str(revision_id), "number": number}


def update_revision(uow, revision_id, content: dict, status: str) -> None:
    uow.execute(
        """UPDATE revisions SET content = %s, status = %s, updated_at = now(),
                          submitted_at = CASE WHEN %s = 'pending' THEN now() ELSE NULL END
                   WHERE revision_id = %s""",
        (Jsonb(content), status, status, revision_id),
    )


def set_revision_status(uow, revision_id, status: str) -> dict:
    return uow.fetch_one(
        """UPDATE revisions SET status = %s, updated_at = now(),
                                   submitted_at = CASE WHEN %s = 'pending' THEN now() ELSE submitted_at END
                            WHERE revision_id = %s RETURNING revision_id::text AS revision_id, number,
                                  submitted_at""",
        (status, status, revision_id),
    )


def decide_revision(uow, revision_id, status: str, operator: str | None, reason: str | None) -> dict:
    return uow.fetch_one(
        """UPDATE revisions SET status = %s, decided_at = now(), decided_by = %s, reason = %s,
                                   updated_at = now()
                            WHERE revision_id = %s RETURNING number, decided_at""",
        (status, operator, reason or None, revision_id),
    )


def make_live(uow, product_id, revision_id, number: int) -> None:
    uow.execute(
        """UPDATE products SET live_revision_id = %s, live_version = %s, open_revision_id = NULL,
                          updated_at = now() WHERE product_id = %s""",
        (revision_id, number, product_id),
    )


def close_open_revision(uow, product_id) -> None:
    uow.execute("UPDATE products SET open_revision_id = NULL, updated_at = now() WHERE product_id = %s", (product_id,))


def update_settings(uow, product_id, settings: dict) -> None:
    uow.execute(
        """UPDATE products SET sale_starts_at = %s, sale_ends_at = %s, paused = %s, updated_at = now()
                   WHERE product_id = %s""",
        (settings["sale_starts_at"], settings["sale_ends_at"], settings["paused"], product_id),
    )


def lock_product(uow, partner_id: str, product_id: str) -> dict | None:
    """The product row, locked for a change (every writer of a product takes this first)."""
    pid = as_uuid(product_id)
    if pid is None:
        return None
    return uow.fetch_one(
        "SELECT product_id FROM products WHERE product_id = %s AND partner_id = %s FOR UPDATE", (pid, partner_id)
    )


def product_view_row(uow, product_id: str, partner_id: str | None = None) -> dict | None:
    pid = as_uuid(product_id)
    if pid is None:
        return None
    if partner_id is None:
        return uow.fetch_one(PRODUCT_VIEW + " WHERE p.product_id = %s", (pid,))
    return uow.fetch_one(PRODUCT_VIEW + " WHERE p.product_id = %s AND p.partner_id = %s", (pid, partner_id))


def list_product_rows(
    uow, partner_id: str, limit: int, after: list[str] | None, kind: str | None = None, live_only: bool = False
) -> list[dict]:
    """Newest first, keyset paging on (created_at, product_id)."""
    where, params = ["p.partner_id = %s"], [partner_id]
    add_filters(where, params, ("p.kind = %s", kind or None))
    if live_only:
        where.append("p.live_revision_id IS NOT NULL")
    paging.keyset(where, params, "p.created_at, p.product_id", after, "%s::timestamptz, %s::uuid")
    return uow.fetch_all(
        PRODUCT_VIEW + " WHERE " + " AND ".join(where) + " ORDER BY p.created_at DESC, p.product_id DESC LIMIT %s",
        (*params, limit + 1),
    )


def all_product_rows(uow, partner_id: str) -> list[dict]:
    return uow.fetch_all(PRODUCT_VIEW + " WHERE p.partner_id = %s", (partner_id,))


def revision_contents(uow, product_id) -> list[dict]:
    return [r["content"] for r in uow.fetch_all("SELECT content FROM revisions WHERE product_id = %s", (product_id,))]


def revision_row(uow, revision_id: str) -> dict | None:
    rid = as_uuid(revision_id)
    if rid is None:
        return None
    return uow.fetch_one(
        """SELECT revision_id::text AS revision_id, product_id::text AS product_id, partner_id,
                                   number, status, content, created_at, submitted_at, decided_at, decided_by, reason
                            FROM revisions WHERE revision_id = %s""",
        (rid,),
    )


def revision_by_number(uow, partner_id: str, product_id: str, number: int) -> dict | None:
    pid = as_uuid(product_id)
    if pid is None:
        return None
    return uow.fetch_one(
        """SELECT r.revision_id::text AS revision_id, r.number, r.status, r.content, r.decided_at,
                                   p.kind, p.product_id::text AS product_id, p.partner_id
                            FROM revisions r JOIN products p USING (product_id)
                            WHERE r.product_id = %s AND p.partner_id = %s AND r.number = %s""",
        (pid, partner_id, number),
    )


def list_review_rows(uow, status: str, limit: int, after: list[str] | None) -> list[dict]:
    """Oldest submission first: the review queue is worked in order."""
    params: list = [status]
    where = "r.status = %s AND r.submitted_at IS NOT NULL"
    if after:
        where += " AND (r.submitted_at, r.revision_id) > (%s::timestamptz, %s::uuid)"
        params += after
    return uow.fetch_all(
        f"""
        SELECT r.revision_id::text AS revision_id, r.product_id::text AS product_id, r.partner_id, r.number,
               r.status, r.content, r.submitted_at, r.decided_at, r.decided_by, r.reason, p.kind,
               lr.content AS live_content, p.live_version
        FROM revisions r JOIN products p USING (product_id)
        LEFT JOIN revisions lr ON lr.revision_id = p.live_revision_id
        WHERE {where} ORDER BY r.submitted_at, r.revision_id LIMIT %s""",
        (*params, limit + 1),
    )


def record_history(
    uow, product_id, actor: str | None, action: str, revision_id=None, details: dict | None = None
) -> None:
    uow.execute(
        """INSERT INTO product_history (product_id, actor, action, revision_id, details)
                   VALUES (%s, %s, %s, %s, %s)""",
        (product_id, actor, action, revision_id, Jsonb(details or {})),
    )


def history_rows(uow, product_id) -> list[dict]:
    return uow.fetch_all(
        """SELECT at, actor, action, revision_id::text AS revision_id, details
                            FROM product_history WHERE product_id = %s ORDER BY id""",
        (product_id,),
    )


# --- availability (R-CAT-4) ------------------------------------------------------

FUTURE_UNBLOCKED = """
    (b.day IS NULL OR b.day > %(today)s OR (b.day = %(today)s AND (b.at_time IS NULL OR b.at_time > %(now)s)))
    AND NOT EXISTS (SELECT 1 FROM blocks k WHERE k.product_id = b.product_id AND k.day = b.day
                    AND (k.at_time IS NULL OR k.at_time = b.at_time))
"""


def availability(uow, product_ids: list[str], today: dt.date, now_time: dt.time) -> dict[str, Availability]:
    result = {pid: Availability() for pid in product_ids}
    if not product_ids:
        return result
    params = {"ids": [as_uuid(p) for p in product_ids], "today": today, "now": now_time}
    for row in uow.fetch_all(
        f"""
            SELECT b.product_id::text AS product_id, b.kind, count(*) AS offered,
                   count(*) FILTER (WHERE b.capacity IS NOT NULL AND b.taken < b.capacity) AS open
            FROM capacity_buckets b
            WHERE b.product_id = ANY(%(ids)s) AND b.kind IN ('slot', 'date', 'period') AND {FUTURE_UNBLOCKED}
            GROUP BY 1, 2""",
        params,
    ):
        result[row["product_id"]].offered[row["kind"]] = row["offered"]
        result[row["product_id"]].open[row["kind"]] = row["open"]
    for row in uow.fetch_all(
        """
            SELECT product_id::text AS product_id, substr(bucket_key, 8) AS option_id, capacity - taken AS remaining
            FROM capacity_buckets WHERE product_id = ANY(%(ids)s) AND kind = 'option' AND capacity IS NOT NULL""",
        params,
    ):
        result[row["product_id"]].options[row["option_id"]] = row["remaining"]
    return result


def upcoming_slots(uow, product_id: str, today: dt.date, now_time: dt.time, limit: int) -> list[dict]:
    """Future, unblocked dates/times in order, for consumers choosing a slot."""
    return uow.fetch_all(
        f"""
        SELECT b.kind, b.day, b.at_time, b.capacity, b.taken FROM capacity_buckets b
        WHERE b.product_id = %(pid)s AND b.kind IN ('slot', 'date') AND {FUTURE_UNBLOCKED}
        ORDER BY b.day, b.at_time NULLS FIRST LIMIT %(limit)s""",
        {"pid": as_uuid(product_id), "today": today, "now": now_time, "limit": limit},
    )


def bucket_rows(uow, product_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    params = {"pid": as_uuid(product_id), "from": date_from, "to": date_to}
    where = "product_id = %(pid)s"
    if date_from is not None:
        where += " AND (day IS NULL OR day BETWEEN %(from)s AND %(to)s)"
    return uow.fetch_all(
        f"""SELECT bucket_key, kind, day, at_time, capacity, taken FROM capacity_buckets
                             WHERE {where} ORDER BY kind, day NULLS FIRST, at_time NULLS FIRST, bucket_key""",
        params,
    )


# --- inventory and blocks ----------------------------------------------------------


def upsert_slot(uow, product_id, row: dict) -> dict | None:
    """Set a slot's capacity; None when it would go below what holds already took."""
    return uow.fetch_one(
        """
        INSERT INTO capacity_buckets (product_id, bucket_key, kind, day, at_time, capacity)
        VALUES (%s, %s, %s, %s, %s, %s)
        ON CONFLICT (product_id, bucket_key) DO UPDATE SET capacity = EXCLUDED.capacity
        WHERE EXCLUDED.capacity IS NULL OR capacity_buckets.taken <= EXCLUDED.capacity
        RETURNING bucket_key, taken, capacity""",
        (product_id, row["bucket_key"], row["kind"], row["day"], row["at_time"], row["capacity"]),
    )


def taken_of(uow, product_id, bucket_key: str) -> int:
    row = uow.fetch_one(
        "SELECT taken FROM capacity_buckets WHERE product_id = %s AND bucket_key = %s", (product_id, bucket_key)
    )
    return row["taken"] if row else 0


def set_stock(uow, product_id, option_id: str, quantity: int | None) -> dict:
    """Stock is what is available now: capacity = already taken + quantity (R-CAT-3)."""
    return uow.fetch_one(
        """
        INSERT INTO capacity_buckets (product_id, bucket_key, kind, capacity) VALUES (%s, %s, 'option', %s)
        ON CONFLICT (product_id, bucket_key) DO UPDATE SET capacity =
            CASE WHEN EXCLUDED.capacity IS NULL THEN NULL ELSE capacity_buckets.taken + EXCLUDED.capacity END
        RETURNING taken, capacity""",
        (product_id, f"option:{option_id}", quantity),
    )


def remove_slot(uow, product_id, bucket_key: str) -> int | None:
    """Delete an unbooked slot; returns what is taken when it cannot be deleted."""
    row = uow.fetch_one(
        "SELECT taken FROM capacity_buckets WHERE product_id = %s AND bucket_key = %s FOR UPDATE",
        (product_id, bucket_key),
    )
    if row is None:
        return None
    if row["taken"] > 0:
        return row["taken"]
    uow.execute("DELETE FROM capacity_buckets WHERE product_id = %s AND bucket_key = %s", (product_id, bucket_key))
    return None


def insert_block(uow, product_id, day: dt.date, at: dt.time | None, reason: str) -> dict:
    """A new block, or the existing one for the same date/time (blocking twice is harmless)."""
    row = uow.fetch_one(
        """
        INSERT INTO blocks (block_id, product_id, day, at_time, reason) VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (product_id, day, coalesce(at_time, '24:00'::time)) DO NOTHING
        RETURNING block_id::text AS block_id, day, at_time, reason""",
        (uuid.uuid4(), product_id, day, at, reason),
    )
    if row is None:
        row = uow.fetch_one(
            """SELECT block_id::text AS block_id, day, at_time, reason FROM blocks
                               WHERE product_id = %s AND day = %s AND at_time IS NOT DISTINCT FROM %s""",
            (product_id, day, at),
        )
    return row


def delete_block(uow, product_id, block_id: str) -> bool:
    bid = as_uuid(block_id)
    if bid is None:
        return False
    return (
        uow.fetch_one("DELETE FROM blocks WHERE product_id = %s AND block_id = %s RETURNING 1", (product_id, bid))
        is not None
    )


def block_rows(uow, product_id, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    if date_from is None:
        return uow.fetch_all(
            """SELECT block_id::text AS block_id, day, at_time, reason FROM blocks
                                WHERE product_id = %s ORDER BY day, at_time NULLS FIRST""",
            (product_id,),
        )
    return uow.fetch_all(
        """SELECT block_id::text AS block_id, day, at_time, reason FROM blocks
                            WHERE product_id = %s AND day BETWEEN %s AND %s ORDER BY day, at_time NULLS FIRST""",
        (product_id, date_from, date_to),
    )


# --- holds (R-RSV-3) ---------------------------------------------------------------


def claim_hold_id(
    uow,
    hold_id: str,
    partner_id: str,
    fingerprint: str,
    result: dict,
    lines: list[dict],
    redemption_key: str | None = None,
) -> bool:
    """Write the hold; False when the id is taken. A concurrent call with the
    same id waits here until this transaction ends, then finds the row."""
    return (
        uow.fetch_one(
            """INSERT INTO holds (hold_id, partner_id, status, fingerprint, result, lines, redemption_key)
                            VALUES (%s, %s, 'held', %s, %s, %s, %s) ON CONFLICT (hold_id) DO NOTHING RETURNING 1""",
            (hold_id, partner_id, fingerprint, Jsonb(result), Jsonb(lines), redemption_key),
        )
        is not None
    )


def set_hold_result(uow, hold_id: str, result: dict) -> None:
    uow.execute("UPDATE holds SET result = %s WHERE hold_id = %s", (Jsonb(result), hold_id))


def tombstone_hold_id(uow, hold_id: str, partner_id: str) -> bool:
    """A release for an id never held marks it released, so a hold that arrives
    later (its reply was lost, the caller gave up) takes nothing. True when
    the id was unknown. Waits, like claim_hold_id, for a hold in flight."""
    return (
        uow.fetch_one(
            """INSERT INTO holds (hold_id, partner_id, status, fingerprint, result, released_at)
                            VALUES (%s, %s, 'released', '', '{}', now()) ON CONFLICT (hold_id) DO NOTHING
                            RETURNING 1""",
            (hold_id, partner_id),
        )
        is not None
    )


def hold_row(uow, hold_id: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        "SELECT hold_id, partner_id, status, fingerprint, result, lines, created_at, released_at, "
        "redemption_key FROM holds WHERE hold_id = %s" + (" FOR UPDATE" if lock else ""),
        (hold_id,),
    )


def live_products_for_hold(uow, partner_id: str, product_ids: list[str], days: list[dt.date]) -> dict[str, dict]:
    """The live versions with their blocks among ``days``, locked FOR KEY
    SHARE in product order: holds run side by side, while an approval (FOR
    UPDATE) waits for them and they for it, so a hold never mixes two versions.
    Each row also says whether the partner is closed (R-ACC-14): the hold reads
    it in the same round trip (#20)."""
    ids = sorted({u for u in (as_uuid(p) for p in product_ids) if u is not None})
    rows = uow.fetch_all(
        """
        SELECT p.product_id::text AS product_id, p.partner_id, p.kind, p.live_version AS version,
               p.sale_starts_at, p.sale_ends_at, p.paused, r.content AS live,
               EXISTS (SELECT 1 FROM closed_partners c WHERE c.partner_id = p.partner_id) AS partner_closed,
               (SELECT coalesce(array_agg(ARRAY[k.day::text, coalesce(k.at_time::text, '')]), '{}')
                FROM blocks k WHERE k.product_id = p.product_id AND k.day = ANY(%s)) AS blocks
        FROM products p JOIN revisions r ON r.revision_id = p.live_revision_id
        WHERE p.partner_id = %s AND p.product_id = ANY(%s)
        ORDER BY p.product_id FOR KEY SHARE OF p""",
        (list(set(days)), partner_id, ids),
    )
    return {
        r["product_id"]: {
            **r,
            "blocks": _block_set(r["blocks"]),
            "settings": {
                "sale_starts_at": r["sale_starts_at"],
                "sale_ends_at": r["sale_ends_at"],
                "paused": r["paused"],
            },
        }
        for r in rows
    }


def _block_set(pairs) -> set:
    """{date (whole day) or (date, time)} from [[day, time or '']]."""
    blocks = set()
    for day, at in pairs or []:
        day = dt.date.fromisoformat(day)
        blocks.add((day, dt.time.fromisoformat(at)) if at else day)
    return blocks


def take(uow, need: BucketNeed) -> tuple[bool, bool, int | None, int | None]:
    """Take ``need.quantity`` from one row: (ok, row exists, taken, capacity)."""
    pid = as_uuid(need.product_id)
    if need.upsert_capacity is not None:  # a price maximum, created on first use
        row = uow.fetch_one(
            """
            INSERT INTO capacity_buckets (product_id, bucket_key, kind, capacity, taken)
            VALUES (%s, %s, 'price', %s, %s)
            ON CONFLICT (product_id, bucket_key) DO UPDATE
               SET taken = capacity_buckets.taken + EXCLUDED.taken, capacity = EXCLUDED.capacity
               WHERE capacity_buckets.taken + EXCLUDED.taken <= EXCLUDED.capacity
            RETURNING taken, capacity""",
            (pid, need.key, need.upsert_capacity, need.quantity),
        )
    elif need.enforce:
        untracked_ok = need.kind == "option"  # stock not tracked: unlimited (a unit without capacity is not)
        row = uow.fetch_one(
            """
            UPDATE capacity_buckets SET taken = taken + %(q)s
            WHERE product_id = %(pid)s AND bucket_key = %(key)s
              AND ((capacity IS NULL AND %(untracked)s) OR taken + %(q)s <= capacity)
            RETURNING taken, capacity""",
            {"q": need.quantity, "pid": pid, "key": need.key, "untracked": untracked_ok},
        )
    else:
        row = uow.fetch_one(
            """UPDATE capacity_buckets SET taken = taken + %s
                               WHERE product_id = %s AND bucket_key = %s RETURNING taken, capacity""",
            (need.quantity, pid, need.key),
        )
    if row is not None:
        return True, True, row["taken"], row["capacity"]
    current = uow.fetch_one(
        "SELECT taken, capacity FROM capacity_buckets WHERE product_id = %s AND bucket_key = %s", (pid, need.key)
    )
    if current is None:
        return (not need.required), False, None, None
    return False, True, current["taken"], current["capacity"]


def give_back(uow, product_id: str, bucket_key: str, quantity: int) -> dict | None:
    return uow.fetch_one(
        """UPDATE capacity_buckets SET taken = greatest(taken - %s, 0)
                            WHERE product_id = %s AND bucket_key = %s RETURNING taken, capacity""",
        (quantity, as_uuid(product_id), bucket_key),
    )


def set_hold_lines(uow, hold_id: str, lines: list[dict]) -> None:
    """A hold's lines: [{line, product_id, quantity, released, bucket_keys}]."""
    uow.execute("UPDATE holds SET lines = %s WHERE hold_id = %s", (Jsonb(lines), hold_id))


def claim_release_id(uow, hold_id: str, release_id: str, lines: list[dict]) -> bool:
    return (
        uow.fetch_one(
            """INSERT INTO hold_releases (hold_id, release_id, lines) VALUES (%s, %s, %s)
                            ON CONFLICT DO NOTHING RETURNING 1""",
            (hold_id, release_id, Jsonb(lines)),
        )
        is not None
    )


def mark_released(uow, hold_id: str, lines: list[dict], fully: bool) -> None:
    uow.execute(
        """UPDATE holds SET lines = %s, status = CASE WHEN %s THEN 'released' ELSE status END,
                          released_at = CASE WHEN %s THEN now() ELSE released_at END
                   WHERE hold_id = %s""",
        (Jsonb(lines), fully, fully, hold_id),
    )


# --- dashboard -------------------------------------------------------------------------


def review_counts(uow, partner_id: str) -> dict[str, int]:
    return {
        r["status"]: r["n"]
        for r in uow.fetch_all(
            """SELECT r.status, count(*) AS n FROM products p JOIN revisions r ON r.revision_id = p.open_revision_id
           WHERE p.partner_id = %s GROUP BY r.status""",
            (partner_id,),
        )
    }


# --- coupons (issue #11) ------------------------------------------------------------------

COUPON_COLUMNS = """coupon_id::text AS coupon_id, partner_id, name, discount_type, amount, percent, max_discount,
    min_spend, starts_at, ends_at, product_ids, total_limit, per_customer_limit, distribution, code, paused,
    redeemed, created_at, updated_at"""


def insert_coupon(uow, coupon_id, partner_id: str, fields: dict) -> dict:
    columns = ["coupon_id", "partner_id", *sorted(COUPON_UPDATABLE | {"distribution"})]
    values = {"coupon_id": coupon_id, "partner_id": partner_id, **{k: fields.get(k) for k in columns[2:]}}
    return uow.fetch_one(
        f"""INSERT INTO coupons ({", ".join(columns)})
                             VALUES ({", ".join(f"%({c})s" for c in columns)}) RETURNING {COUPON_COLUMNS}""",
        values,
    )


def coupon_row(uow, partner_id: str, coupon_id: str, lock: bool = False) -> dict | None:
    cid = as_uuid(coupon_id)
    if cid is None:
        return None
    return uow.fetch_one(
        f"SELECT {COUPON_COLUMNS} FROM coupons WHERE coupon_id = %s AND partner_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (cid, partner_id),
    )


def coupon_by_code(uow, partner_id: str, code: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        f"SELECT {COUPON_COLUMNS} FROM coupons WHERE partner_id = %s AND code = %s" + (" FOR UPDATE" if lock else ""),
        (partner_id, code.upper()),
    )


def update_coupon(uow, coupon_id: str, fields: dict) -> dict:
    unknown = set(fields) - COUPON_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {unknown}")
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    return uow.fetch_one(
        f"""UPDATE coupons SET {assignments}, updated_at = now() WHERE coupon_id = %(coupon_id)s
                             RETURNING {COUPON_COLUMNS}""",
        {**fields, "coupon_id": as_uuid(coupon_id)},
    )


def list_coupon_rows(uow, partner_id: str, limit: int, after: tuple | None) -> list[dict]:
    """Newest first, keyset paging on (created_at, coupon_id)."""
    where, params = "partner_id = %s", [partner_id]
    if after:
        where += " AND (created_at, coupon_id) < (%s::timestamptz, %s::uuid)"
        params += list(after)
    return uow.fetch_all(
        f"SELECT {COUPON_COLUMNS} FROM coupons WHERE {where} ORDER BY created_at DESC, coupon_id DESC LIMIT %s",
        (*params, limit + 1),
    )


def partner_product_ids(uow, partner_id: str, product_ids: list[str]) -> set[str]:
    """Which of ``product_ids`` are products of the partner."""
    ids = [as_uuid(p) for p in product_ids if as_uuid(p) is not None]
    return {
        r["product_id"]
        for r in uow.fetch_all(
            "SELECT product_id::text AS product_id FROM products WHERE partner_id = %s AND product_id = ANY(%s)",
            (partner_id, ids),
        )
    }


def issued_counts(uow, coupon_ids: list[str]) -> dict[str, int]:
    return {
        r["coupon_id"]: r["n"]
        for r in uow.fetch_all(
            """SELECT coupon_id::text AS coupon_id, count(*) AS n FROM coupon_issues WHERE coupon_id = ANY(%s)
           GROUP BY coupon_id""",
            ([as_uuid(c) for c in coupon_ids],),
        )
    }


def issue_coupon(uow, coupon_id: str, partner_id: str, customer_ids: list[str], by: str | None) -> int:
    """Give the coupon to customers; those who have it already are left as they are. Returns how many are new."""
    return len(
        uow.fetch_all(
            """INSERT INTO coupon_issues (coupon_id, customer_id, partner_id, issued_by)
           SELECT %s, c, %s, %s FROM unnest(%s::text[]) AS c ON CONFLICT DO NOTHING RETURNING 1""",
            (as_uuid(coupon_id), partner_id, by, list(dict.fromkeys(customer_ids))),
        )
    )


def is_issued(uow, coupon_id: str, customer_id: str) -> bool:
    return (
        uow.fetch_one(
            "SELECT 1 FROM coupon_issues WHERE coupon_id = %s AND customer_id = %s", (as_uuid(coupon_id), customer_id)
        )
        is not None
    )


def customer_coupon_rows(uow, customer_id: str, partner_id: str | None, limit: int, after: tuple | None) -> list[dict]:
    """The coupons issued to a customer, newest first, with their use of each."""
    where, params = ["i.customer_id = %s"], [customer_id]
    add_filters(where, params, ("i.partner_id = %s", partner_id or None))
    paging.keyset(where, params, "i.issued_at, i.coupon_id", after, "%s::timestamptz, %s::uuid")
    columns = ", ".join(f"c.{c.strip()}" for c in COUPON_COLUMNS.split(",") if "coupon_id" not in c)
    return uow.fetch_all(
        f"""
        SELECT c.coupon_id::text AS coupon_id, {columns}, i.issued_at,
               (SELECT count(*) FROM coupon_redemptions r WHERE r.coupon_id = c.coupon_id
                  AND r.customer_id = i.customer_id AND r.status = 'active') AS used
        FROM coupon_issues i JOIN coupons c USING (coupon_id)
        WHERE {" AND ".join(where)} ORDER BY i.issued_at DESC, i.coupon_id DESC LIMIT %s""",
        (*params, limit + 1),
    )


def redemption_row(uow, partner_id: str, redemption_key: str, lock: bool = False) -> dict | None:
    return uow.fetch_one(
        """SELECT partner_id, redemption_key, coupon_id::text AS coupon_id, customer_id, status,
                                   discount_amount, created_at, returned_at
                            FROM coupon_redemptions WHERE partner_id = %s AND redemption_key = %s"""
        + (" FOR UPDATE" if lock else ""),
        (partner_id, redemption_key),
    )


def customer_redemptions(uow, coupon_id: str, customer_id: str) -> int:
    return uow.fetch_one(
        """SELECT count(*) AS n FROM coupon_redemptions
                            WHERE coupon_id = %s AND customer_id = %s AND status = 'active'""",
        (as_uuid(coupon_id), customer_id),
    )["n"]


def redeem(uow, partner_id: str, redemption_key: str, coupon_id: str, customer_id: str, discount: int) -> None:
    """A new redemption (or a returned one taken again), counted on the coupon row the caller holds locked."""
    uow.execute(
        """INSERT INTO coupon_redemptions (partner_id, redemption_key, coupon_id, customer_id, status,
                                                   discount_amount)
                   VALUES (%s, %s, %s, %s, 'active', %s)
                   ON CONFLICT (partner_id, redemption_key) DO UPDATE SET
                       coupon_id = EXCLUDED.coupon_id, customer_id = EXCLUDED.customer_id, status = 'active',
                       discount_amount = EXCLUDED.discount_amount, created_at = now(), returned_at = NULL""",
        (partner_id, redemption_key, as_uuid(coupon_id), customer_id, discount),
    )
    uow.execute("UPDATE coupons SET redeemed = redeemed + 1 WHERE coupon_id = %s", (as_uuid(coupon_id),))


def return_redemption(uow, partner_id: str, redemption_key: str, coupon_id: str) -> None:
    uow.execute(
        """UPDATE coupon_redemptions SET status = 'returned', returned_at = now()
                   WHERE partner_id = %s AND redemption_key = %s""",
        (partner_id, redemption_key),
    )
    uow.execute("UPDATE coupons SET redeemed = redeemed - 1 WHERE coupon_id = %s", (as_uuid(coupon_id),))


def holds_still_held(uow, partner_id: str, redemption_key: str) -> int:
    return uow.fetch_one(
        """SELECT count(*) AS n FROM holds WHERE partner_id = %s AND redemption_key = %s
                              AND status = 'held'""",
        (partner_id, redemption_key),
    )["n"]


def pseudonymise_customer(uow, customer_id: str, pseudonym: str) -> dict[str, int]:
    """R-ACC-3: the customer's issues and redemptions stay (limits keep counting) under the pseudonym."""
    issues = uow.execute(
        "UPDATE coupon_issues SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id)
    ).rowcount
    redemptions = uow.execute(
        "UPDATE coupon_redemptions SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id)
    ).rowcount
    questions = uow.execute(
        "UPDATE product_questions SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id)
    ).rowcount
    return {"coupon_issues": issues, "coupon_redemptions": redemptions, "product_questions": questions}


# --- product questions (issue 18 item 12) -------------------------------------------------


def insert_question(uow, question: dict) -> dict:
    return uow.fetch_one(
        """INSERT INTO product_questions (question_id, product_id, partner_id, customer_id, body, private)
           VALUES (%(question_id)s, %(product_id)s, %(partner_id)s, %(customer_id)s, %(body)s, %(private)s)
           RETURNING *""",
        question,
    )


def product_questions(uow, product_id, limit: int, after: tuple | None) -> list[dict]:
    """A product's questions, newest first (limit + 1 rows: the page knows if more follow)."""
    return uow.fetch_all(
        """SELECT * FROM product_questions WHERE product_id = %(p)s
             AND (%(at)s::timestamptz IS NULL OR (created_at, question_id) < (%(at)s, %(id)s))
           ORDER BY created_at DESC, question_id DESC LIMIT %(n)s""",
        {"p": product_id, "at": after[0] if after else None, "id": after[1] if after else None, "n": limit + 1},
    )


def partner_questions(uow, partner_id: str, answered: bool | None, limit: int, after: tuple | None) -> list[dict]:
    return uow.fetch_all(
        """SELECT q.*, lr.content ->> 'name' AS product_name FROM product_questions q
             JOIN products p ON p.product_id = q.product_id
             LEFT JOIN revisions lr ON lr.revision_id = p.live_revision_id
            WHERE q.partner_id = %(pid)s AND (%(answered)s::boolean IS NULL OR (q.answer IS NOT NULL) = %(answered)s)
              AND (%(at)s::timestamptz IS NULL OR (q.created_at, q.question_id) < (%(at)s, %(id)s))
            ORDER BY q.created_at DESC, q.question_id DESC LIMIT %(n)s""",
        {
            "pid": partner_id,
            "answered": answered,
            "at": after[0] if after else None,
            "id": after[1] if after else None,
            "n": limit + 1,
        },
    )


def answer_question(uow, partner_id: str, question_id, text: str, actor: str | None) -> tuple[dict | None, bool]:
    """(the question, answered now): one answer per question, whoever comes first."""
    qid = as_uuid(question_id)
    if qid is None:
        return None, False
    row = uow.fetch_one(
        """UPDATE product_questions SET answer = %s, answered_by = %s, answered_at = now()
            WHERE question_id = %s AND partner_id = %s AND answer IS NULL RETURNING *""",
        (text, actor, qid, partner_id),
    )
    if row is not None:
        return row, True
    return uow.fetch_one(
        "SELECT * FROM product_questions WHERE question_id = %s AND partner_id = %s", (qid, partner_id)
    ), False


# --- closed partners (R-ACC-14) --------------------------------------------------------------


def close_partner(uow, partner_id: str) -> None:
    uow.execute("INSERT INTO closed_partners (partner_id) VALUES (%s) ON CONFLICT DO NOTHING", (partner_id,))


def partner_closed(uow, partner_id: str) -> bool:
    return uow.fetch_one("SELECT 1 FROM closed_partners WHERE partner_id = %s", (partner_id,)) is not None
