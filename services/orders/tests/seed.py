"""Orders written straight into an orders database (for the timer at scale,
in tests and in tools/benches/orders.py): setup without going through the
catalog, as if they had been ordered earlier."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg


def insert_orders(
    database_url: str,
    count: int,
    *,
    partner_id: str,
    received_at: dt.datetime,
    channel: str = "dine_in",
    status: str = "received",
) -> list[str]:
    """``count`` orders of one line (an Americano, 4,500 KRW) received at ``received_at``;
    dine-in and takeout ones are due one hour later (R-ORD-2). Returns their ids."""
    due = received_at + dt.timedelta(hours=1) if channel in ("dine_in", "takeout") else None
    ids = [uuid.uuid4() for _ in range(count)]
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO orders (order_id, partner_id, customer_id, channel, status, total, hold_id, received_at,
                                   auto_complete_at) VALUES (%s, %s, %s, %s, %s, 4500, %s, %s, %s)""",
            [
                (i, partner_id, f"customer-{n % 97}", channel, status, f"seed-{i.hex}", received_at, due)
                for n, i in enumerate(ids)
            ],
        )
        cur.executemany(
            """INSERT INTO order_lines (line_id, order_id, position, product_id, product_name, option_id, option_label,
                                        quantity, unit_price, hold_id, hold_line)
               VALUES (%s, %s, 0, 'product-americano', 'Americano', 'op_regular', 'regular', 1, 4500, %s, 0)""",
            [(f"ln_{i.hex}_0", i, f"seed-{i.hex}") for i in ids],
        )
    return [str(i) for i in ids]
