"""Insights SQL. Every query of partner data filters by partner_id (the public
product reviews filter by product). Functions take a unit of work."""

from __future__ import annotations

from datetime import date, datetime, time

from chassis import paging
from chassis.db import add_filters, like_part

from . import domain

# --- customers' identity ------------------------------------------------------------------


def lock_customer(uow, customer_id: str) -> None:
    """Events about one customer and their erasure run one at a time (no row
    written under the old id after the erasure moved them to the pseudonym)."""
    uow.execute("SELECT pg_advisory_xact_lock(hashtextextended('insights.customer:' || %s, 0))", (customer_id,))


def contact_known(uow, customer_id: str) -> bool:
    return uow.fetch_one("SELECT 1 FROM contacts WHERE customer_id = %s", (customer_id,)) is not None


def remember_contact(uow, row: dict) -> None:
    uow.execute(
        """INSERT INTO contacts (customer_id, name, phone, erased, pseudonym)
                   VALUES (%(customer_id)s, %(name)s, %(phone)s, %(erased)s, %(pseudonym)s)
                   ON CONFLICT (customer_id) DO NOTHING""",
        row,
    )


def contact(uow, customer_id: str) -> dict | None:
    return uow.fetch_one("SELECT * FROM contacts WHERE customer_id = %s", (customer_id,))


def touch_customer(uow, partner_id: str, key: str, contact_row: dict | None, occurred_at: datetime) -> None:
    """The partner's customer row under ``key`` (the id, or the pseudonym once erased)."""
    contact_row = contact_row or {}
    erased = bool(contact_row.get("erased"))
    name = key if erased else contact_row.get("name")
    phone = None if erased else contact_row.get("phone")
    uow.execute(
        """INSERT INTO customers (partner_id, customer_id, name, phone, phone_last4, erased, first_seen_at,
                                  last_activity_at)
           VALUES (%(p)s, %(c)s, %(name)s, %(phone)s, %(last4)s, %(erased)s, %(at)s, %(at)s)
           ON CONFLICT (partner_id, customer_id) DO UPDATE
           SET first_seen_at = least(customers.first_seen_at, EXCLUDED.first_seen_at),
               last_activity_at = greatest(customers.last_activity_at, EXCLUDED.last_activity_at)""",
        {
            "p": partner_id,
            "c": key,
            "name": name,
            "phone": phone,
            "last4": domain.phone_search_key(phone),
            "erased": erased,
            "at": occurred_at,
        },
    )


def refresh_customer(uow, partner_id: str, key: str) -> None:
    """Visit count, last visit, total spent and coupon use from the customer's
    bookings and orders with this partner (domain.py, Customers)."""
    uow.execute(
        """WITH facts AS (
               SELECT status, visited_at, occurred_at, total AS spent, coupon_id FROM bookings
                WHERE customer_id = %(c)s AND partner_id = %(p)s
               UNION ALL
               SELECT status, visited_at, occurred_at, total - refunded_total, coupon_id FROM orders
                WHERE customer_id = %(c)s AND partner_id = %(p)s)
           UPDATE customers SET
               visit_count = a.visits, last_visit_at = a.last_visit, total_spent = a.spent, coupon_uses = a.coupons
           FROM (SELECT count(*) FILTER (WHERE status = 'completed') AS visits,
                        max(coalesce(visited_at, occurred_at)) FILTER (WHERE status = 'completed') AS last_visit,
                        coalesce(sum(spent) FILTER (WHERE status = 'completed'), 0) AS spent,
                        count(*) FILTER (WHERE coupon_id IS NOT NULL AND status <> ALL (%(back)s)) AS coupons
                 FROM facts) a
           WHERE customers.partner_id = %(p)s AND customers.customer_id = %(c)s""",
        {"p": partner_id, "c": key, "back": list(domain.COUPON_GIVEN_BACK)},
    )


def erase_customer(uow, customer_id: str, pseudonym: str) -> dict:
    """customer.erased: every partner's rows of the customer move to the
    pseudonym; name -> pseudonym, phone gone; counts and amounts stay."""
    uow.execute(
        """INSERT INTO contacts (customer_id, name, phone, erased, pseudonym) VALUES (%s, NULL, NULL, true, %s)
           ON CONFLICT (customer_id) DO UPDATE SET name = NULL, phone = NULL, erased = true,
                                                   pseudonym = EXCLUDED.pseudonym""",
        (customer_id, pseudonym),
    )
    seen = uow.fetch_all(
        """DELETE FROM customers WHERE customer_id = %s RETURNING partner_id, first_seen_at, last_activity_at""",
        (customer_id,),
    )
    moved = {"customers": len(seen)}
    for table in ("bookings", "orders"):
        moved[table] = uow.execute(
            f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s", (pseudonym, customer_id)
        ).rowcount
    moved["held_tickets"] = uow.execute(
        "UPDATE bookings SET holder_id = %s WHERE holder_id = %s", (pseudonym, customer_id)
    ).rowcount
    moved["reviews"] = uow.execute(
        "UPDATE reviews SET customer_id = %s, author = %s WHERE customer_id = %s", (pseudonym, pseudonym, customer_id)
    ).rowcount
    erased = {"erased": True}
    for row in seen:
        touch_customer(uow, row["partner_id"], pseudonym, erased, row["first_seen_at"])
        touch_customer(uow, row["partner_id"], pseudonym, erased, row["last_activity_at"])
        refresh_customer(uow, row["partner_id"], pseudonym)
    return moved


# --- facts -------------------------------------------------------------------------------


def _newer(table: str) -> str:
    return f"EXCLUDED.occurred_at >= {table}.occurred_at"


def _snapshot(table: str, columns: tuple[str, ...]) -> str:
    newer = _newer(table)
    return ", ".join(f"{c} = CASE WHEN {newer} THEN EXCLUDED.{c} ELSE {table}.{c} END" for c in columns)


BOOKING_SNAPSHOT = (
    "product_id",
    "status",
    "use_date",
    "use_time",
    "quantity",
    "total",
    "discount_amount",
    "coupon_id",
    "holder_id",
    "occurred_at",
)


ROLLUP_COLUMNS = "status, product_id, stat_date, use_date, use_time, quantity, total, fees"


def apply_booking(uow, fact: dict, key: str) -> None:
    """The newest event's snapshot wins; fees add up; booked_at is the earliest
    event seen; visited_at is the completion's time whenever it arrives. The
    rollups change by what this made the booking differ (the caller holds the
    customer's lock, so events of one booking never interleave here)."""
    old = uow.fetch_one(
        f"""SELECT {ROLLUP_COLUMNS} FROM bookings
                            WHERE partner_id = %s AND reservation_number = %s FOR UPDATE""",
        (fact["partner_id"], fact["reservation_number"]),
    )
    new = uow.fetch_one(
        f"""INSERT INTO bookings (partner_id, reservation_number, product_id, customer_id, status, use_date,
                                  use_time, booked_at, quantity, total, discount_amount, coupon_id, fees,
                                  visited_at, holder_id, occurred_at)
            VALUES (%(partner_id)s, %(reservation_number)s, %(product_id)s, %(key)s, %(status)s, %(use_date)s,
                    %(use_time)s, %(occurred_at)s, %(quantity)s, %(total)s, %(discount_amount)s, %(coupon_id)s,
                    %(fee)s, %(visited_at)s, %(holder_id)s, %(occurred_at)s)
            ON CONFLICT (partner_id, reservation_number) DO UPDATE SET
                {_snapshot("bookings", BOOKING_SNAPSHOT)},
                booked_at = least(bookings.booked_at, EXCLUDED.booked_at),
                fees = bookings.fees + EXCLUDED.fees,
                visited_at = coalesce(EXCLUDED.visited_at, bookings.visited_at)
            RETURNING {ROLLUP_COLUMNS}""",
        {**fact, "key": key},
    )
    days, slots = domain.rollup_deltas(old, new)
    add_to_rollups(uow, fact["partner_id"], days, slots)


def add_to_rollups(uow, partner_id: str, days: dict, slots: dict) -> None:
    """Rows in key order, so that concurrent events lock them in one order (no deadlock)."""
    for (stat_date, product_id, status), (bookings, people, sales, fees) in sorted(days.items()):
        uow.execute(
            """INSERT INTO booking_days (partner_id, stat_date, product_id, status, bookings, people, sales, fees)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (partner_id, stat_date, product_id, status) DO UPDATE SET
                   bookings = booking_days.bookings + EXCLUDED.bookings,
                   people = booking_days.people + EXCLUDED.people,
                   sales = booking_days.sales + EXCLUDED.sales, fees = booking_days.fees + EXCLUDED.fees""",
            (partner_id, stat_date, product_id, status, bookings, people, sales, fees),
        )
    for (use_date, use_time), (bookings, people) in sorted(
        slots.items(), key=lambda kv: (kv[0][0], kv[0][1] or time.min)
    ):
        uow.execute(
            """INSERT INTO booking_slots (partner_id, use_date, use_time, bookings, people) VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (partner_id, use_date, use_time) DO UPDATE SET
                   bookings = booking_slots.bookings + EXCLUDED.bookings,
                   people = booking_slots.people + EXCLUDED.people""",
            (partner_id, use_date, use_time, bookings, people),
        )


def rebuild_rollups(uow, partner_id: str) -> None:
    """A partner's rollups recounted from its bookings and orders (bulk loads, repair)."""
    rebuild_booking_rollups(uow, partner_id)
    rebuild_order_rollups(uow, partner_id)


def rebuild_order_rollups(uow, partner_id: str) -> None:
    uow.execute("DELETE FROM order_days WHERE partner_id = %s", (partner_id,))
    uow.execute("DELETE FROM order_product_days WHERE partner_id = %s", (partner_id,))
    uow.execute(
        """INSERT INTO order_days (partner_id, stat_date, status, orders, sales, refunds)
           SELECT partner_id, stat_date, status, count(*),
                  coalesce(sum(total) FILTER (WHERE status = 'completed'), 0),
                  coalesce(sum(refunded_total) FILTER (WHERE status = 'completed'), 0)
           FROM orders WHERE partner_id = %s GROUP BY partner_id, stat_date, status""",
        (partner_id,),
    )
    uow.execute(
        """INSERT INTO order_product_days (partner_id, stat_date, product_id, sales, refunds)
           SELECT o.partner_id, o.stat_date, op.product_id, sum(op.sales), sum(op.refunds)
           FROM orders o JOIN order_products op ON op.partner_id = o.partner_id AND op.order_id = o.order_id
           WHERE o.partner_id = %s AND o.status = 'completed' GROUP BY o.partner_id, o.stat_date, op.product_id""",
        (partner_id,),
    )


def rebuild_booking_rollups(uow, partner_id: str) -> None:
    uow.execute("DELETE FROM booking_days WHERE partner_id = %s", (partner_id,))
    uow.execute("DELETE FROM booking_slots WHERE partner_id = %s", (partner_id,))
    uow.execute(
        """INSERT INTO booking_days (partner_id, stat_date, product_id, status, bookings, people, sales, fees)
           SELECT partner_id, stat_date, product_id, status, count(*), sum(quantity),
                  coalesce(sum(total) FILTER (WHERE status = 'completed'), 0), sum(fees)
           FROM bookings WHERE partner_id = %s GROUP BY partner_id, stat_date, product_id, status""",
        (partner_id,),
    )
    uow.execute(
        """INSERT INTO booking_slots (partner_id, use_date, use_time, bookings, people)
           SELECT partner_id, use_date, use_time, count(*), sum(quantity)
           FROM bookings WHERE partner_id = %s AND use_date IS NOT NULL AND status = ANY (%s)
           GROUP BY partner_id, use_date, use_time""",
        (partner_id, list(domain.SLOT_HOLDING_STATES)),
    )


ORDER_SNAPSHOT = ("channel", "status", "total", "refunded_total", "discount_amount", "coupon_id", "occurred_at")


ORDER_ROLLUP_COLUMNS = "status, stat_date, total, refunded_total"


def apply_order(uow, fact: dict, key: str, shares: list[dict]) -> None:
    """As apply_booking: the newest snapshot wins (with its product shares), and
    the order rollups change by the difference."""
    pk = (fact["partner_id"], fact["order_id"])
    old = uow.fetch_one(
        f"SELECT {ORDER_ROLLUP_COLUMNS} FROM orders WHERE partner_id = %s AND order_id = %s FOR UPDATE", pk
    )
    old_shares = uow.fetch_all(
        "SELECT product_id, sales, refunds FROM order_products "
        "WHERE partner_id = %s AND order_id = %s ORDER BY product_id",
        pk,
    )
    new = uow.fetch_one(
        f"""INSERT INTO orders (partner_id, order_id, customer_id, channel, status, received_at, total,
                                refunded_total, discount_amount, coupon_id, visited_at, occurred_at)
            VALUES (%(partner_id)s, %(order_id)s, %(key)s, %(channel)s, %(status)s, %(occurred_at)s, %(total)s,
                    %(refunded_total)s, %(discount_amount)s, %(coupon_id)s, %(visited_at)s, %(occurred_at)s)
            ON CONFLICT (partner_id, order_id) DO UPDATE SET
                {_snapshot("orders", ORDER_SNAPSHOT)},
                received_at = least(orders.received_at, EXCLUDED.received_at),
                visited_at = coalesce(EXCLUDED.visited_at, orders.visited_at)
            RETURNING {ORDER_ROLLUP_COLUMNS}, occurred_at = %(occurred_at)s AS applied""",
        {**fact, "key": key},
    )
    new_shares = old_shares
    if new["applied"]:  # this event's snapshot is the order's now: so are its product shares
        uow.execute("DELETE FROM order_products WHERE partner_id = %s AND order_id = %s", pk)
        for share in shares:
            uow.execute(
                """INSERT INTO order_products (partner_id, order_id, product_id, sales, refunds)
                           VALUES (%s, %s, %s, %s, %s)""",
                (*pk, share["product_id"], share["sales"], share["refunds"]),
            )
        new_shares = shares
    days, products = domain.order_rollup_deltas(old, old_shares, new, new_shares)
    for (stat_date, status), (orders, sales, refunds) in sorted(days.items()):
        uow.execute(
            """INSERT INTO order_days (partner_id, stat_date, status, orders, sales, refunds)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (partner_id, stat_date, status) DO UPDATE SET
                   orders = order_days.orders + EXCLUDED.orders, sales = order_days.sales + EXCLUDED.sales,
                   refunds = order_days.refunds + EXCLUDED.refunds""",
            (fact["partner_id"], stat_date, status, orders, sales, refunds),
        )
    for (stat_date, product_id), (sales, refunds) in sorted(products.items()):
        uow.execute(
            """INSERT INTO order_product_days (partner_id, stat_date, product_id, sales, refunds)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (partner_id, stat_date, product_id) DO UPDATE SET
                   sales = order_product_days.sales + EXCLUDED.sales,
                   refunds = order_product_days.refunds + EXCLUDED.refunds""",
            (fact["partner_id"], stat_date, product_id, sales, refunds),
        )


def name_products(uow, partner_id: str, named: list[tuple[str, str]], occurred_at: datetime) -> None:
    for product_id, name in named:
        uow.execute(
            """INSERT INTO products (partner_id, product_id, name, occurred_at) VALUES (%s, %s, %s, %s)
               ON CONFLICT (partner_id, product_id) DO UPDATE SET name = EXCLUDED.name,
                                                                  occurred_at = EXCLUDED.occurred_at
               WHERE products.occurred_at <= EXCLUDED.occurred_at""",
            (partner_id, product_id, name, occurred_at),
        )


def product_names(uow, partner_id: str, product_ids: list[str]) -> dict[str, str]:
    if not product_ids:
        return {}
    rows = uow.fetch_all(
        "SELECT product_id, name FROM products WHERE partner_id = %s AND product_id = ANY (%s)",
        (partner_id, product_ids),
    )
    return {r["product_id"]: r["name"] for r in rows}


def apply_review(uow, fact: dict, key: str, author: str | None) -> None:
    """A posted review's rating and text, and a reply, merged whatever order
    they arrive in (each is written once by its producer)."""
    uow.execute(
        """INSERT INTO reviews (review_id, partner_id, kind, subject_id, line_id, product_id, customer_id, author,
                                rating, body, reply, posted_at, replied_at, posted)
           VALUES (%(review_id)s, %(partner_id)s, %(kind)s, %(subject_id)s, %(line_id)s, %(product_id)s, %(key)s,
                   %(author)s, %(rating)s, %(body)s, %(reply)s, %(posted_at)s, %(replied_at)s, %(posted)s)
           ON CONFLICT (review_id) DO UPDATE SET
               rating = coalesce(reviews.rating, EXCLUDED.rating),
               body = coalesce(reviews.body, EXCLUDED.body),
               reply = coalesce(reviews.reply, EXCLUDED.reply),
               replied_at = coalesce(reviews.replied_at, EXCLUDED.replied_at),
               author = coalesce(reviews.author, EXCLUDED.author),
               line_id = coalesce(reviews.line_id, EXCLUDED.line_id),
               posted_at = CASE WHEN EXCLUDED.posted THEN EXCLUDED.posted_at ELSE reviews.posted_at END,
               posted = reviews.posted OR EXCLUDED.posted
           WHERE reviews.partner_id = EXCLUDED.partner_id""",
        {**fact, "key": key, "author": author},
    )


# --- customer list and segments ---------------------------------------------------------------


def list_customers(
    uow,
    partner_id: str,
    *,
    last4: str | None,
    name_part: str | None,
    visited_since: datetime | None,
    after: tuple | None,
    limit: int,
) -> list[dict]:
    """Most recent activity first; one row more than asked tells whether there is a next page.
    ``name_part`` anywhere in the name (R-RSV-8 as reservations search it; one partner's customers)."""
    where = ["partner_id = %s"]
    params: list[object] = [partner_id]
    add_filters(
        where,
        params,
        ("phone_last4 = %s", last4),
        ("lower(name) LIKE %s", like_part(name_part) if name_part is not None else None),
        ("last_visit_at >= %s", visited_since),
    )
    paging.keyset(where, params, "last_activity_at, customer_id", after)
    return uow.fetch_all(
        f"""SELECT * FROM customers WHERE {" AND ".join(where)}
                             ORDER BY last_activity_at DESC, customer_id DESC LIMIT %s""",
        (*params, limit + 1),
    )


def segment_customers(
    uow,
    partner_id: str,
    *,
    visited_since: datetime | None,
    min_visits: int | None,
    min_total_spent: int | None,
    limit: int,
) -> list[str]:
    """Ids of the partner's customers in a segment; erased customers are never targeted."""
    where = ["partner_id = %s", "NOT erased"]
    params: list[object] = [partner_id]
    for condition, value in (
        ("last_visit_at >= %s", visited_since),
        ("visit_count >= %s", min_visits),
        ("total_spent >= %s", min_total_spent),
    ):
        if value is not None:
            where.append(condition)
            params.append(value)
    rows = uow.fetch_all(
        f"SELECT customer_id FROM customers WHERE {' AND '.join(where)} ORDER BY customer_id LIMIT %s", (*params, limit)
    )
    return [r["customer_id"] for r in rows]


# ``id`` is not an erased customer's pseudonym (nobody a message can reach).
NOT_ERASED = "NOT EXISTS (SELECT 1 FROM contacts c WHERE c.erased AND c.pseudonym = {id})"


def channel_customers(uow, partner_id: str, customer_ids: list[str] | None) -> list[str]:
    """The partner's customers (who booked or ordered, and who holds a ticket handed
    to them), or those of ``customer_ids`` among them; never an erased customer."""
    rows = uow.fetch_all(
        f"""SELECT customer_id FROM (
                SELECT customer_id FROM customers WHERE partner_id = %(p)s AND NOT erased
                UNION
                SELECT holder_id FROM bookings b WHERE partner_id = %(p)s AND holder_id IS NOT NULL
                                                   AND {NOT_ERASED.format(id="b.holder_id")}) audience
            WHERE %(ids)s::text[] IS NULL OR customer_id = ANY (%(ids)s)
            ORDER BY customer_id""",
        {"p": partner_id, "ids": customer_ids},
    )
    return [r["customer_id"] for r in rows]


def ticket_holders_on(uow, partner_id: str, use_date: date | None, states: tuple[str, ...]) -> list[str]:
    """Who holds a booking of the partner in ``states`` on ``use_date``; never an erased customer."""
    rows = uow.fetch_all(
        f"""SELECT DISTINCT coalesce(holder_id, customer_id) AS customer_id FROM bookings b
            WHERE partner_id = %s AND use_date = %s AND status = ANY (%s)
              AND {NOT_ERASED.format(id="coalesce(b.holder_id, b.customer_id)")}
            ORDER BY 1""",
        (partner_id, use_date, list(states)),
    )
    return [r["customer_id"] for r in rows]


# --- statistics ----------------------------------------------------------------------------


def booking_groups(uow, partner_id: str, date_from: date, date_to: date) -> list[dict]:
    """The period's bookings by state, by product and by day, from the rollup."""
    return uow.fetch_all(
        """SELECT CASE WHEN GROUPING(status) = 0 THEN 'status' WHEN GROUPING(product_id) = 0 THEN 'product'
                       ELSE 'day' END AS grouping,
                  status, product_id, stat_date, sum(bookings)::int AS bookings, sum(people)::int AS people,
                  sum(sales)::bigint AS sales, sum(fees)::bigint AS fees
           FROM booking_days
           WHERE partner_id = %s AND stat_date BETWEEN %s AND %s
           GROUP BY GROUPING SETS ((status), (product_id), (stat_date))""",
        (partner_id, date_from, date_to),
    )


def busiest_slots(uow, partner_id: str, date_from: date, date_to: date, limit: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT use_date, use_time, bookings, people FROM booking_slots
           WHERE partner_id = %s AND use_date BETWEEN %s AND %s AND bookings > 0
           ORDER BY bookings DESC, people DESC, use_date, use_time NULLS FIRST LIMIT %s""",
        (partner_id, date_from, date_to, limit),
    )


def order_groups(uow, partner_id: str, date_from: date, date_to: date) -> list[dict]:
    return uow.fetch_all(
        """SELECT stat_date, status, orders, sales, refunds FROM order_days
                            WHERE partner_id = %s AND stat_date BETWEEN %s AND %s""",
        (partner_id, date_from, date_to),
    )


def order_product_revenue(uow, partner_id: str, date_from: date, date_to: date) -> list[dict]:
    return uow.fetch_all(
        """SELECT product_id, sum(sales)::bigint AS sales, sum(refunds)::bigint AS refunds FROM order_product_days
           WHERE partner_id = %s AND stat_date BETWEEN %s AND %s GROUP BY product_id""",
        (partner_id, date_from, date_to),
    )


def customer_counts(uow, partner_id: str, since: datetime) -> dict:
    return uow.fetch_one(
        """SELECT count(*) AS customers, count(*) FILTER (WHERE first_seen_at >= %s) AS new_this_month
           FROM customers WHERE partner_id = %s""",
        (since, partner_id),
    )


# --- reviews -------------------------------------------------------------------------------


def list_reviews(
    uow,
    *,
    partner_id: str | None = None,
    product_id: str | None = None,
    replied: bool | None = None,
    after: tuple | None,
    limit: int,
) -> list[dict]:
    """Newest first; the partner's (optionally of one product) or one product's (public)."""
    where: list[str] = ["r.rating IS NOT NULL"]
    params: list[object] = []
    add_filters(where, params, ("r.partner_id = %s", partner_id), ("r.product_id = %s", product_id))
    if replied is not None:
        where.append(f"r.reply IS {'NOT ' if replied else ''}NULL")
    paging.keyset(where, params, "r.posted_at, r.review_id", after)
    return uow.fetch_all(
        f"""SELECT r.*, p.name AS product_name FROM reviews r
            LEFT JOIN products p ON p.partner_id = r.partner_id AND p.product_id = r.product_id
            WHERE {" AND ".join(where)}
            ORDER BY r.posted_at DESC, r.review_id DESC LIMIT %s""",
        (*params, limit + 1),
    )


def product_rating(uow, product_id: str) -> dict:
    return uow.fetch_one(
        """SELECT round(avg(rating), 2)::float8 AS average, count(*) AS count FROM reviews
                            WHERE product_id = %s AND rating IS NOT NULL""",
        (product_id,),
    )


def partner_review_counts(uow, partner_id: str) -> dict:
    return uow.fetch_one(
        """SELECT count(*) AS reviews, count(*) FILTER (WHERE reply IS NULL) AS unreplied,
                  round(avg(rating), 2)::float8 AS average
           FROM reviews WHERE partner_id = %s AND rating IS NOT NULL""",
        (partner_id,),
    )
