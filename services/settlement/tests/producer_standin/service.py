"""Stand-ins for reservations and orders: each simulated booking or order is
one transaction that writes the producer's own record and its events to the
outbox, like the real services; ``settlement_totals`` answers the contract of
settlement/reconcile.py from those records."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from chassis.service import DataService, rpc
from settlement.domain import business_date


class StandIn(DataService):
    def _publish(self, uow, event_type: str, payload: dict, figure: str | None = None, amount: int = 0):
        envelope = uow.publish(event_type, payload, partner_id=payload["partner_id"])
        if figure and amount:
            uow.execute(
                "INSERT INTO standin_money (partner_id, figure, amount, business_date) VALUES (%s, %s, %s, %s)",
                (payload["partner_id"], figure, amount, business_date(envelope.occurred_at)),
            )

    @rpc
    def settlement_totals(self, partner_id, period_start: str, period_end: str) -> dict:
        with self.db.transaction() as uow:
            rows = uow.fetch_all(
                """SELECT partner_id, figure, sum(amount) AS amount FROM standin_money
                   WHERE business_date BETWEEN %s AND %s AND (%s::text IS NULL OR partner_id = %s)
                   GROUP BY partner_id, figure""",
                (date.fromisoformat(period_start), date.fromisoformat(period_end), partner_id, partner_id),
            )
        totals: dict = {}
        for row in rows:
            totals.setdefault(row["partner_id"], {"sales": 0, "fees": 0, "refunds": 0})[row["figure"]] = int(
                row["amount"]
            )
        return totals


class ReservationsStandIn(StandIn):
    name = "reservations"

    @rpc
    def simulate(self, partner_ids: list[str], count: int, seed: int) -> int:
        """``count`` bookings: most completed, some cancelled with or without a fee,
        some partly cancelled (a fee) and then completed for the rest."""
        rnd = random.Random(seed)
        for i in range(count):
            partner = rnd.choice(partner_ids)
            total = rnd.randrange(1000, 200_000, 100)
            base = {
                "partner_id": partner,
                "reservation_number": f"R{seed}-{i}",
                "product_id": f"prod-{i % 7}",
                "product_name": f"Product {i % 7}",
                "customer_id": f"cust-{rnd.randrange(500)}",
                "booker_name_masked": "김*온",
                "lines": [],
            }
            roll = rnd.random()
            with self.db.transaction() as uow:
                if roll < 0.25:
                    fee = total * rnd.choice([0, 10, 30]) // 100
                    self._publish(
                        uow,
                        "reservation.cancelled",
                        {
                            **base,
                            "status": "cancelled",
                            "total": total,
                            "fee_amount": fee,
                            "refund_amount": total - fee,
                        },
                        "fees",
                        fee,
                    )
                elif roll < 0.35:
                    part = total // 2
                    fee = part // 10
                    self._publish(
                        uow,
                        "reservation.cancelled",
                        {
                            **base,
                            "status": "confirmed",
                            "total": total - part,
                            "fee_amount": fee,
                            "refund_amount": part - fee,
                        },
                        "fees",
                        fee,
                    )
                    self._publish(
                        uow,
                        "reservation.completed",
                        {**base, "status": "completed", "total": total - part},
                        "sales",
                        total - part,
                    )
                else:
                    self._publish(
                        uow, "reservation.completed", {**base, "status": "completed", "total": total}, "sales", total
                    )
        return count


class OrdersStandIn(StandIn):
    name = "orders"

    @rpc
    def simulate(self, partner_ids: list[str], count: int, seed: int) -> int:
        """``count`` orders: some cancelled before completion, deliveries that
        announce both ``delivered`` and ``completed``, some partial refunds."""
        rnd = random.Random(seed)
        for i in range(count):
            partner = rnd.choice(partner_ids)
            amounts = (rnd.randrange(1000, 60_000, 100) for _ in range(rnd.randint(1, 3)))  # drawn as lines are
            lines: list[dict[str, Any]] = [
                {
                    "line_id": f"O{seed}-{i}-{n}",
                    "product_id": f"goods-{rnd.randrange(5)}",
                    "product_name": "Goods",
                    "quantity": 1,
                    "unit_price": amount,
                    "amount": amount,
                }
                for n, amount in enumerate(amounts)
            ]
            total = sum(line["amount"] for line in lines)
            channel = rnd.choice(["takeout", "delivery", "parcel"])
            base = {
                "partner_id": partner,
                "order_id": f"O{seed}-{i}",
                "customer_id": f"cust-{rnd.randrange(500)}",
                "channel": channel,
                "total": total,
                "lines": lines,
            }
            roll = rnd.random()
            with self.db.transaction() as uow:
                if roll < 0.15:
                    self._publish(uow, "order.cancelled", {**base, "status": "cancelled", "refund_amount": total})
                    continue
                if channel != "takeout":
                    self._publish(uow, "order.delivered", {**base, "status": "delivered"}, "sales", total)
                    self._publish(uow, "order.completed", {**base, "status": "completed"})  # the same sale
                else:
                    self._publish(uow, "order.completed", {**base, "status": "completed"}, "sales", total)
                refunded = 0
                for request in range(rnd.choice([0, 0, 0, 1, 2])):
                    amount = (total - refunded) * rnd.choice([30, 50, 100]) // 100
                    if amount <= 0:
                        break
                    refunded += amount
                    self._publish(
                        uow,
                        "order.refund_approved",
                        {
                            **base,
                            "status": "completed",
                            "refund_amount": amount,
                            "refunded_line_ids": [],
                            "request_id": f"rq-{i}-{request}",
                        },
                        "refunds",
                        amount,
                    )
        return count
