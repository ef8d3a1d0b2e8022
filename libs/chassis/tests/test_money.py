"""The one allocation rule of an order's money over its products (chassis.money, issue 18, R-STL-4)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from chassis.money import products_of, refund_by_product, split_amount


def test_split_amount_adds_up_exactly():
    for amount, weights in ((100, [1, 1, 1]), (93000, [78000, 15000]), (7, [0, 0]), (5, [3])):
        shares = split_amount(amount, weights)
        assert sum(shares) == amount and len(shares) == len(weights)
    assert split_amount(100, [1, 1, 1]) == [34, 33, 33]
    assert split_amount(5, [0, 0]) == [5, 0]


lines_st = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 60_000), st.integers(1, 4)), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(lines=lines_st, discount_pct=st.integers(0, 100), order=st.randoms(use_true_random=False))
def test_r_stl_4_refunds_in_any_parts_add_up_to_what_was_paid_per_product(lines, discount_pct, order):
    """However the units are refunded, one by one in any order, every product's
    refunds add up to exactly what was paid for it, and never go negative."""
    rows = [
        {
            "line_id": f"l{i}",
            "product_id": f"p{pid}",
            "product_name": f"P{pid}",
            "unit_price": price,
            "quantity": units,
            "refunded_quantity": 0,
        }
        for i, (pid, price, units) in enumerate(lines)
    ]
    gross = sum(r["unit_price"] * r["quantity"] for r in rows)
    discount = gross * discount_pct // 100
    paid = {p.product_id: p.paid for p in products_of(rows, discount)}
    assert sum(paid.values()) == gross - discount and min(paid.values()) >= 0
    units = [r["line_id"] for r in rows for _ in range(r["quantity"])]
    order.shuffle(units)
    refunded = {pid: 0 for pid in paid}
    for line_id in units:
        for pid, amount in refund_by_product(rows, [{"line_id": line_id, "quantity": 1}], discount).items():
            assert amount >= 0
            refunded[pid] += amount
        next(r for r in rows if r["line_id"] == line_id)["refunded_quantity"] += 1
    assert refunded == paid
    assert {p.product_id: p.refunded for p in products_of(rows, discount)} == paid
