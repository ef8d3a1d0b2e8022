"""R-STL-1, R-STL-2 over random order histories, in the real settlement
database (issue 18 item 2): sales, partial refunds before and after completion,
cancellations, duplicate and out-of-order deliveries. Whatever happens, no
order's commission goes below 0, no refund is booked without its sale, and
each order leaves the partner what the customer paid less what was refunded
less the commission on what was kept (nothing for an order never completed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chassis.envelope import Envelope
from chassis.money import refund_by_product
from settlement import domain, errors, store
from settlement.tests.helpers import at, new_partner

DAY = date(2025, 3, 3)


def record(ledger, envelope) -> None:
    """What the event handler does, minus the inbox (duplicates reach the ledger's own keys)."""
    with ledger.uow() as uow:
        for movement in domain.movements_for(envelope.type, envelope.payload, str(envelope.event_id)):
            store.record_movement(
                uow,
                envelope.payload["partner_id"],
                movement,
                event_id=envelope.event_id,
                occurred_at=envelope.occurred_at,
                customer_ref="customer-x",
            )


class Order:
    """An order as the orders service tells it in its events (chassis.money's amounts)."""

    def __init__(self, partner: str, order_id: str, lines: list[tuple[int, int, int]], discount_pct: int):
        self.partner, self.order_id, self.status = partner, order_id, "preparing_shipment"
        self.lines: list[dict[str, Any]] = [
            {
                "line_id": f"{order_id}-{i}",
                "product_id": f"p{pid}",
                "product_name": f"P{pid}",
                "unit_price": price,
                "quantity": units,
                "amount": price * units,
                "refunded_quantity": 0,
            }
            for i, (pid, price, units) in enumerate(lines)
        ]
        self.discount = sum(line["amount"] for line in self.lines) * discount_pct // 100
        self.total = sum(line["amount"] for line in self.lines) - self.discount
        self.refunded = 0

    def remaining(self) -> list[str]:
        return [line["line_id"] for line in self.lines for _ in range(line["quantity"] - line["refunded_quantity"])]

    def event(self, kind: str, **fields) -> Envelope:
        payload = {
            "partner_id": self.partner,
            "order_id": self.order_id,
            "customer_id": "c",
            "channel": "parcel",
            "status": self.status,
            "total": self.total,
            "lines": [dict(line) for line in self.lines],
            "discount_amount": self.discount,
            "refunded_total": self.refunded,
            **fields,
        }
        return Envelope(
            type=f"order.{kind}", source="orders", partner_id=self.partner, payload=payload, occurred_at=at(DAY)
        )

    def refund(self, line_id: str) -> Envelope:
        by_product = refund_by_product(self.lines, [{"line_id": line_id, "quantity": 1}], self.discount)
        next(line for line in self.lines if line["line_id"] == line_id)["refunded_quantity"] += 1
        self.refunded += sum(by_product.values())
        return self.event(
            "refund_approved",
            refund_amount=sum(by_product.values()),
            refunded_line_ids=[line_id],
            request_id=f"rq-{line_id}-{self.refunded}",
            refund_products=[{"product_id": p, "amount": a} for p, a in by_product.items()],
        )


histories = st.lists(
    st.tuples(
        st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50_000), st.integers(1, 3)), min_size=1, max_size=3),
        st.integers(0, 60),  # coupon discount, % of the gross
        st.lists(st.integers(0, 99), max_size=3),  # units refunded before completion
        st.sampled_from(["complete", "cancel", "stay_open"]),
        st.lists(st.integers(0, 99), max_size=4),  # units refunded after completion
        st.booleans(),  # a refund delivered before its sale
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, bps=st.integers(0, 3000))
def test_r_stl_1_r_stl_2_commission_never_negative_and_each_order_leaves_paid_less_refunded_less_commission(
    ledger, history, bps
):
    partner = new_partner()
    with ledger.uow() as uow:
        store.add_rate(uow, "partner", partner, bps, date(2000, 1, 1))
    orders = []
    for n, (lines, discount_pct, before, ending, after, early_refund) in enumerate(history):
        order = Order(partner, f"O{n}", lines, discount_pct)
        orders.append(order)
        for pick in before:  # R-ORD-8 before shipment: at least one unit stays, else it is a cancellation
            units = order.remaining()
            if len(units) > 1:
                record(ledger, order.refund(units[pick % len(units)]))
        if ending == "cancel":
            order.status = "cancelled"
            record(ledger, order.event("cancelled", refund_amount=order.total - order.refunded))
            order.refunded = order.total
        elif ending == "complete":
            order.status = "completed"
            sale, completed = order.event("delivered"), order.event("completed")  # one transaction in orders
            refunds = []
            for pick in after:
                if order.remaining():
                    refunds.append(order.refund(order.remaining()[pick % len(order.remaining())]))
            if early_refund and refunds:  # out of order: the refund waits (is retried) until its sale is booked
                with pytest.raises(errors.SaleNotBookedYet):
                    record(ledger, refunds[0])
            for envelope in [sale, completed, sale, *refunds, *refunds[:1]]:  # with duplicates
                record(ledger, envelope)
        check(ledger, partner, orders, bps)


def check(ledger, partner: str, orders: list[Order], bps: int) -> None:
    with ledger.uow() as uow:
        assert store.unbalanced_transactions(uow, partner) == []
        rows = uow.fetch_all(
            """SELECT t.source_ref, t.kind, sum(e.credit - e.debit) FILTER (WHERE e.account = 'partner_payable') AS net,
                      sum(e.credit - e.debit) FILTER (WHERE e.account = 'commission_revenue') AS commission
                 FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
                WHERE t.partner_id = %s GROUP BY t.source_ref, t.kind""",
            (partner,),
        )
    for order in orders:
        mine = [r for r in rows if r["source_ref"] == order.order_id]
        kinds = {r["kind"] for r in mine}
        assert "refund" not in kinds or "sale" in kinds  # never a refund without its sale
        assert sum(int(r["commission"] or 0) for r in mine) >= 0  # commission >= 0 per order
        kept = order.total - order.refunded
        expected = kept - domain.commission_for(kept, bps) if order.status == "completed" else 0
        assert sum(int(r["net"] or 0) for r in mine) == expected, order.order_id
