"""How an order's money is split over its products: the one allocation rule
that orders (refund amounts), settlement (the ledger's product facts) and
insights (revenue by product) all use (issue 18, R-STL-4).

The rule
--------
* An order's coupon ``discount`` is shared among its products in proportion
  to their gross amounts (unit price x units ordered), in integers that add up
  exactly: the remainder goes to the largest gross first (``split_amount``).
  What the customer paid for a product is its gross less its share.
* Units paid back are valued per product on everything refunded of it so far:
  ``refunded(v) = v - share x v // gross`` for ``v`` the gross value of the
  refunded units. So refunds of a product, in however many parts, add up to
  exactly what was paid for it, and every refund amount is the difference of
  that cumulative figure before and after it.
* An exchange moves units to another option of the same product at the same
  price, so it changes neither a product's gross nor its share.

Revenue (one definition, insights and settlement alike): what customers paid
for completed orders and bookings, after discounts, less what was paid back
on them. A refund approved before the order completed is booked with the
sale, when the order completes; an order that never completes (cancelled)
is no revenue at all. Cancellation and no-show fees are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def split_amount(amount: int, weights: list[int]) -> list[int]:
    """``amount`` in integer shares proportional to ``weights`` that add up
    exactly (the remainder goes to the largest weights first, the earlier on a
    tie); all to the first share when every weight is 0."""
    if not weights:
        return []
    total = sum(weights)
    if total <= 0:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * w // total for w in weights]
    for index in sorted(range(len(weights)), key=lambda i: -weights[i])[: amount - sum(shares)]:
        shares[index] += 1
    return shares


@dataclass(frozen=True)
class ProductMoney:
    product_id: str
    product_name: str
    gross: int  # unit prices x units ordered
    discount: int  # its share of the order's coupon discount
    refunded_value: int  # unit prices x units refunded

    @property
    def paid(self) -> int:
        return self.gross - self.discount

    @property
    def refunded(self) -> int:
        """What was paid back for the refunded units (cumulative, see the module doc)."""
        if self.gross <= 0:
            return 0
        return self.refunded_value - self.discount * self.refunded_value // self.gross

    @property
    def kept(self) -> int:
        return self.paid - self.refunded


def products_of(
    lines: list[dict[str, Any]], discount: int = 0, refunded: dict[str, int] | None = None
) -> list[ProductMoney]:
    """Per product, in order of first appearance. ``lines`` carry ``product_id``,
    ``product_name``, ``unit_price``, ``quantity`` and ``refunded_quantity``;
    ``refunded`` overrides the refunded units of some lines (line id -> units)."""
    by_product: dict[str, list[Any]] = {}
    for line in lines:
        units = (refunded or {}).get(line["line_id"], line.get("refunded_quantity") or 0)
        entry = by_product.setdefault(line["product_id"], [line["product_name"], 0, 0])
        entry[1] += int(line["unit_price"]) * int(line["quantity"])
        entry[2] += int(line["unit_price"]) * int(units)
    shares = (
        split_amount(discount, [gross for _, gross, _ in by_product.values()]) if discount else [0] * len(by_product)
    )
    return [
        ProductMoney(pid, name, gross, share, value)
        for (pid, (name, gross, value)), share in zip(by_product.items(), shares, strict=True)
    ]


def refund_by_product(lines: list[dict[str, Any]], refund: list[dict[str, Any]], discount: int = 0) -> dict[str, int]:
    """What refunding ``refund`` (``[{line_id, quantity}]``) pays back, per product:
    the cumulative figure after it less the one before."""
    after = {line["line_id"]: line.get("refunded_quantity") or 0 for line in lines}
    for item in refund:
        after[item["line_id"]] = after.get(item["line_id"], 0) + item["quantity"]
    before = {p.product_id: p.refunded for p in products_of(lines, discount)}
    return {
        p.product_id: p.refunded - before[p.product_id]
        for p in products_of(lines, discount, after)
        if p.refunded - before[p.product_id]
    }
