"""Settlement through the gateway, per rule: what each role may read, the
operator's runs, rates and schedules, and records that outlive a member's
withdrawal (R-STL-1..5, R-ACC-5; api.md, Settlement and Roles)."""

from __future__ import annotations

from datetime import timedelta

from settlement import domain
from settlement.tests.helpers import at, deliver, reservation_event, wait_until_settlement_knows, week_of_sales
from support.api import assert_error, expect


def test_r_stl_1_to_5_settlement_routes_by_role_through_the_gateway(partner_center, amqp_uri):
    pc = partner_center("settlement", service_config={"settlement": {"SCHEDULED_RUNS": False}})
    cafe, other = pc.create_partner(category="cafe"), pc.create_partner(category="salon")
    admin, master, member = cafe.admin.client, pc.staff(cafe, "master"), pc.staff(cafe, "member")
    operator, customer = pc.operator().client, pc.customer_session().client
    wait_until_settlement_knows(pc, cafe.partner_id)

    today = domain.today_in_partner_zone()
    week_end = domain.schedule_period_end("weekly", today - timedelta(days=1))
    deliver(
        amqp_uri,
        [
            *week_of_sales(cafe.partner_id, week_end, "Beans", refunded_at=at(today)),
            reservation_event("completed", other.partner_id, "R-900", total=7000, occurred_at=at(week_end)),
        ],
    )

    # R-STL-1: the ledger, for admins and masters of this partner only.
    ledger_path = f"{cafe.path}/ledger?from={(week_end - timedelta(days=6)).isoformat()}&to={today.isoformat()}"
    ledger = expect(admin.get(ledger_path), 200)
    assert sorted((t["kind"], t["amount"]) for t in ledger["items"]) == [
        ("commission", 1000),
        ("commission", 5000),
        ("commission_reversal", 250),
        ("refund", 5000),
        ("sale", 20000),
        ("sale", 100000),
    ]  # cafe: 5%
    assert ledger["next_cursor"] is None
    assert expect(master.client.get(ledger_path), 200) == ledger
    assert_error(member.client.get(ledger_path), 403, "forbidden")
    assert_error(other.admin.client.get(ledger_path), 404)
    assert_error(pc.anonymous.get(ledger_path), 401, "unauthenticated")
    assert_error(customer.get(ledger_path), 403, "forbidden")
    assert_error(operator.get(ledger_path), 403, "forbidden")
    bad = assert_error(admin.get(f"{cafe.path}/ledger?limit=lots&from=2026-02-30"), 422, "validation_failed")
    assert {"limit", "from"} <= set(bad["details"]["fields"])
    assert len(expect(admin.get(f"{cafe.path}/ledger?limit=2"), 200)["items"]) == 2

    # R-STL-4: sales by day and product, and the dashboard's settlement section by role.
    summary = expect(
        admin.get(
            f"{cafe.path}/sales-summary?from={(week_end - timedelta(days=6)).isoformat()}&to={today.isoformat()}"
        ),
        200,
    )
    assert summary["totals"]["sales"] == 120000 and summary["totals"]["refunds"] == 5000
    assert {p["product_id"]: p["net_sales"] for p in summary["products"]} == {"prod-1": 100000, "goods-1": 15000}
    assert_error(member.client.get(f"{cafe.path}/sales-summary"), 403, "forbidden")
    assert_error(admin.get(f"{cafe.path}/sales-summary?from=2026-01-01&to=2025-01-01"), 422)
    board = expect(admin.get(f"{cafe.path}/dashboard"), 200)
    assert board["sections"]["settlement"]["sales"]["unsettled_balance"] == 100000 + 20000 - 5000 - 6000 + 250
    member_board = expect(member.client.get(f"{cafe.path}/dashboard"), 200)
    assert "sales" not in member_board["sections"].get("settlement", {})

    # R-STL-2, R-STL-3: an operator closes the week; the partner sees the payout and the invoice.
    runs = "/v1/ops/settlement/runs"
    assert_error(admin.post(runs, json={"period_end": week_end.isoformat()}), 403, "forbidden")
    assert set(assert_error(operator.post(runs, json={}), 422)["details"]["fields"]) == {"period_end"}
    assert (
        "amount"
        in assert_error(operator.post(runs, json={"period_end": week_end.isoformat(), "amount": 1}), 422)["details"][
            "fields"
        ]
    )
    assert_error(operator.post(runs, json={"period_end": today.isoformat()}), 409, "period_not_over")
    run = expect(operator.post(runs, json={"period_end": week_end.isoformat()}), 201)
    statement = next(s for s in run["statements"] if s["partner_id"] == cafe.partner_id)
    assert (statement["sales"], statement["commission"], statement["payout"]["amount"]) == (120000, 6000, 114000)
    again = expect(operator.post(runs, json={"period_end": week_end.isoformat()}), 200)  # nothing changes
    assert again["statements"] == run["statements"] and again["created"] is False
    assert_error(
        operator.post(runs, json={"period_end": (week_end - timedelta(days=1)).isoformat()}),
        409,
        "period_already_closed",
    )
    payouts = expect(admin.get(f"{cafe.path}/payouts"), 200)
    assert [(p["period_end"], p["payout"]["amount"]) for p in payouts["items"]] == [(week_end.isoformat(), 114000)]
    assert payouts["items"][0]["payout"]["status"] in ("upcoming", "paid")
    invoices = expect(admin.get(f"{cafe.path}/tax-invoices"), 200)
    assert [(i["invoice_number"], i["total_amount"]) for i in invoices["items"]] == [("TI-000001", 6000)]
    assert_error(member.client.get(f"{cafe.path}/payouts"), 403)
    assert_error(other.admin.client.get(f"{cafe.path}/tax-invoices"), 404)
    assert expect(other.admin.client.get(f"{other.path}/tax-invoices"), 200)["items"][0]["total_amount"] == 560

    # R-STL-2: rates only from a future date; payout schedules per partner; operators only.
    rates = "/v1/ops/settlement/commission-rates"
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (
        expect(
            operator.post(
                rates,
                json={"scope": "partner", "subject": cafe.partner_id, "rate_bps": 300, "effective_from": tomorrow},
            ),
            201,
        )["rate_bps"]
        == 300
    )
    assert_error(
        operator.post(
            rates,
            json={
                "scope": "partner",
                "subject": "7d1c54b2-8a55-4c8e-9a43-3f1a1e0c0009",
                "rate_bps": 300,
                "effective_from": tomorrow,
            },
        ),
        404,
        "partner_not_found",
    )  # issue 18 item 6
    assert_error(
        operator.post(
            rates, json={"scope": "category", "subject": "cafe", "rate_bps": 300, "effective_from": today.isoformat()}
        ),
        422,
    )
    assert_error(
        operator.post(rates, json={"scope": "planet", "subject": "x", "rate_bps": 20000, "effective_from": tomorrow}),
        422,
    )
    assert_error(admin.post(rates, json={}), 403)
    assert any(r["subject"] == cafe.partner_id for r in expect(operator.get(rates), 200)["items"])
    schedule_path = f"/v1/ops/partners/{cafe.partner_id}/payout-schedule"
    assert expect(operator.put(schedule_path, json={"schedule": "monthly", "delay_days": 5}), 200) == {
        "schedule": "monthly",
        "delay_days": 5,
    }
    assert_error(admin.put(schedule_path, json={"schedule": "weekly", "delay_days": 1}), 403)
    assert_error(
        operator.put("/v1/ops/partners/no-such-partner/payout-schedule", json={"schedule": "weekly", "delay_days": 1}),
        404,
    )

    # R-ACC-5, R-STL-5: a member's withdrawal erases their data, never the partner's settlement records.
    expect(master.client.post("/v1/me/withdraw", json={"confirm": True}), 204)
    assert expect(admin.get(ledger_path), 200) == ledger
    assert expect(admin.get(f"{cafe.path}/payouts"), 200)["items"] == payouts["items"]
