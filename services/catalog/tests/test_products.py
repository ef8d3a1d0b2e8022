"""Products and their review over RPC, against the real broker and database
(R-CAT-1..6): drafts, review, live vs pending, history, events, tenancy, 422s."""

import datetime as dt

import pytest

from chassis.errors import Conflict, NotFound, ValidationFailed

from .helpers import ACCOUNTS_STANDIN, approved, booking_body, day, db_value, goods_body, outbox, partner


@pytest.fixture
def catalog(run_service):
    run_service(ACCOUNTS_STANDIN)
    return run_service("catalog")


def test_r_cat_5_review_keeps_the_live_version_until_approval_and_records_every_step(catalog, rpc):
    pid = partner()
    draft = rpc.catalog.create_product(pid, booking_body(), "member-1")
    product_id = draft["product_id"]
    assert (draft["review_status"], draft["live"], draft["pending"]["status"]) == ("draft", None, "draft")
    with pytest.raises(NotFound):
        rpc.catalog.shop_get_product(product_id)  # consumers never see a draft

    review = rpc.catalog.submit_product(pid, product_id, "member-1")
    assert review["status"] == "pending" and review["changed_fields"][0] == "name"
    with pytest.raises(Conflict) as raised:
        rpc.catalog.submit_product(pid, product_id, "member-1")
    assert raised.value.code == "already_in_review"
    queue = rpc.catalog.list_reviews({"status": "pending"})
    assert [r["revision_id"] for r in queue["items"]] == [review["revision_id"]]

    live = rpc.catalog.approve_review(review["revision_id"], {}, "operator-1")
    assert live["live"]["version"] == 1 and live["pending"] is None and live["review_status"] == "approved"
    v1_prices = live["live"]["prices"]

    # Review fields go to a new revision; the sale window applies at once.
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    edited = rpc.catalog.update_product(
        pid,
        product_id,
        {"name": "Cut & wash", "prices": [{**v1_prices[0], "amount": 35000}], "sale_ends_at": ends},
        "member-2",
    )
    assert edited["live"]["name"] == "Hair cut" and edited["pending"]["name"] == "Cut & wash"
    assert edited["pending"]["changed_fields"] == ["name", "prices"]
    assert edited["pending"]["prices"][0]["price_id"] == v1_prices[0]["price_id"]
    assert edited["settings"]["sale_ends_at"] is not None
    assert rpc.catalog.shop_get_product(product_id)["name"] == "Hair cut"

    second = rpc.catalog.submit_product(pid, product_id, "member-2")
    rejected = rpc.catalog.reject_review(second["revision_id"], {"reason": "price must include VAT"}, "operator-1")
    assert rejected["live"]["name"] == "Hair cut" and rejected["pending"] is None
    assert rejected["review_status"] == "rejected"
    assert rejected["last_rejection"]["reason"] == "price must include VAT"
    with pytest.raises(Conflict) as raised:
        rpc.catalog.approve_review(second["revision_id"], {}, "operator-1")
    assert raised.value.code == "invalid_state"

    # After a rejection the next edit starts from the rejected content.
    fixed = rpc.catalog.update_product(pid, product_id, {"description": "VAT included"}, "member-2")
    assert (fixed["pending"]["name"], fixed["pending"]["status"]) == ("Cut & wash", "draft")
    third = rpc.catalog.submit_product(pid, product_id, "member-2")
    same = rpc.catalog.update_product(pid, product_id, {"description": "VAT included"}, "member-2")
    assert same["pending"]["status"] == "pending"  # an edit that changes nothing withdraws nothing
    # Editing a pending revision withdraws it from review.
    withdrawn = rpc.catalog.update_product(pid, product_id, {"images": []}, "member-2")
    assert withdrawn["pending"]["status"] == "draft"
    assert rpc.catalog.list_reviews({"status": "pending"})["items"] == []
    rpc.catalog.submit_product(pid, product_id, "member-2")
    final = rpc.catalog.approve_review(third["revision_id"], {"reason": "ok"}, "operator-1")
    assert final["live"]["version"] == 3 and final["live"]["name"] == "Cut & wash"
    assert rpc.catalog.shop_get_product(product_id)["prices"][0]["amount"] == 35000
    assert rpc.catalog.get_product_version(pid, product_id, 1)["prices"] == v1_prices  # kept for bookings
    unchanged = rpc.catalog.update_product(pid, product_id, {"name": "Cut & wash", "paused": False})
    assert unchanged["pending"] is None  # an edit that changes nothing opens no revision
    with pytest.raises(Conflict) as raised:
        rpc.catalog.submit_product(pid, product_id)
    assert raised.value.code == "nothing_to_submit"

    history = [(h["action"], h["actor"]) for h in rpc.catalog.product_history(pid, product_id)["items"]]
    assert history == [
        ("created", "member-1"),
        ("submitted", "member-1"),
        ("approved", "operator-1"),
        ("revision_started", "member-2"),
        ("settings_changed", "member-2"),
        ("submitted", "member-2"),
        ("rejected", "operator-1"),
        ("revision_started", "member-2"),
        ("submitted", "member-2"),
        ("review_withdrawn", "member-2"),
        ("submitted", "member-2"),
        ("approved", "operator-1"),
    ]
    events = outbox(catalog.config["DATABASE_URL"])
    assert [e["type"] for e in events] == [
        "product.submitted",
        "product.approved",
        "product.changed",
        "product.submitted",
        "product.rejected",
        "product.submitted",
        "product.submitted",
        "product.approved",
    ]
    assert events[4]["reason"] == "price must include VAT" and events[-1]["version"] == 3
    assert events[2]["fields"] == ["sale_ends_at"]


def test_another_partners_product_does_not_exist_for_the_caller(catalog, rpc):
    owner, other = partner(), partner()
    product = approved(rpc, owner, booking_body())
    product_id = product["product_id"]
    price_id = product["live"]["prices"][0]["price_id"]
    calls = [
        lambda: rpc.catalog.get_product(other, product_id),
        lambda: rpc.catalog.update_product(other, product_id, {"name": "stolen"}),
        lambda: rpc.catalog.submit_product(other, product_id),
        lambda: rpc.catalog.set_inventory(
            other, product_id, {"slots": [{"date": day(), "time": "10:00", "capacity": 5}]}
        ),
        lambda: rpc.catalog.add_blocks(other, product_id, {"dates": [day()]}),
        lambda: rpc.catalog.product_history(other, product_id),
        lambda: rpc.catalog.get_live_product(other, product_id),
        lambda: rpc.catalog.slot_board(other, product_id, day(0), day(5)),
        lambda: rpc.catalog.hold(
            "h-other",
            other,
            [{"product_id": product_id, "price_id": price_id, "date": day(), "time": "10:00", "quantity": 1}],
        ),
        lambda: rpc.catalog.get_product(owner, "not-a-uuid"),
    ]
    for call in calls:
        with pytest.raises(NotFound) as raised:
            call()
        assert raised.value.code == "product_not_found" and "Hair cut" not in str(raised.value.details)
    assert rpc.catalog.list_products(other)["items"] == []
    assert rpc.catalog.get_product(owner, product_id)["name"] == "Hair cut"


def test_bad_bodies_are_422_naming_the_fields_and_write_nothing_and_lists_page(catalog, rpc):
    pid = partner()
    cases = [
        (booking_body(partner_id="p-x"), "partner_id"),
        (booking_body(prices=[{"label": "a", "amount": -1}]), "prices.0.amount"),
        (
            booking_body(quantity_mode="none", prices=[{"label": "a", "amount": 1, "max_quantity": 2}]),
            "prices.0.max_quantity",
        ),  # R-CAT-2
        (
            booking_body(cancel_policy={"fee_tiers": [{"hours_before": 48, "fee_percent": 10}]}),
            "cancel_policy.fee_tiers",
        ),  # R-CAT-6
        (booking_body(schedule_type="anytime", quantity_mode="slot"), "quantity_mode"),  # R-CAT-1
        (booking_body(name="a\x00b"), "name"),
        (
            booking_body(sale_starts_at="2030-01-02T00:00:00+09:00", sale_ends_at="2030-01-01T00:00:00+09:00"),
            "sale_ends_at",
        ),
        (goods_body(options=[]), "options"),
        ({"name": "no kind"}, "kind"),
    ]
    for body, field in cases:
        with pytest.raises(ValidationFailed) as raised:
            rpc.catalog.create_product(pid, body)
        assert field in raised.value.details["fields"], (field, raised.value.details)
    product = rpc.catalog.create_product(pid, booking_body())
    with pytest.raises(ValidationFailed) as raised:
        rpc.catalog.update_product(pid, product["product_id"], {"name": None, "kind": "goods"})
    assert set(raised.value.details["fields"]) == {"kind"}
    with pytest.raises(ValidationFailed) as raised:
        rpc.catalog.update_product(pid, product["product_id"], {"name": None})
    assert raised.value.details["fields"] == {"name": "may not be null"}
    with pytest.raises(ValidationFailed) as raised:
        rpc.catalog.list_products(pid, {"cursor": "forged", "limit": "x"})
    assert set(raised.value.details["fields"]) == {"limit"}
    url = catalog.config["DATABASE_URL"]
    assert db_value(url, "SELECT count(*) FROM products") == 1
    assert db_value(url, "SELECT count(*) FROM revisions") == 1

    # Lists: newest first, keyset cursors, limit clamped to 1..100.
    made = [product["product_id"]] + [
        rpc.catalog.create_product(pid, booking_body(name=f"p{i}"))["product_id"] for i in range(4)
    ]
    first = rpc.catalog.list_products(pid, {"limit": 2})
    second = rpc.catalog.list_products(pid, {"limit": 2, "cursor": first["next_cursor"]})
    third = rpc.catalog.list_products(pid, {"limit": 2, "cursor": second["next_cursor"]})
    listed = [p["product_id"] for page in (first, second, third) for p in page["items"]]
    assert listed == made[::-1] and third["next_cursor"] is None
    assert len(rpc.catalog.list_products(pid, {"limit": 1000})["items"]) == 5
    assert len(rpc.catalog.list_products(pid, {"limit": 0})["items"]) == 1
    assert rpc.catalog.shop_list_products(pid)["items"] == []  # none approved


def test_r_cat_4_display_states_and_the_dashboard_counts(catalog, rpc):
    pid = partner()
    now = dt.datetime.now(dt.UTC)
    bookable = approved(rpc, pid, booking_body(name="bookable"))
    rpc.catalog.set_inventory(pid, bookable["product_id"], {"slots": [{"date": day(), "time": "10:00", "capacity": 1}]})
    approved(rpc, pid, booking_body(name="nothing offered"))
    approved(rpc, pid, booking_body(name="upcoming", sale_starts_at=(now + dt.timedelta(days=2)).isoformat()))
    ended = approved(rpc, pid, booking_body(name="ended"))
    rpc.catalog.update_product(
        pid,
        ended["product_id"],
        {
            "sale_starts_at": (now - dt.timedelta(days=9)).isoformat(),
            "sale_ends_at": (now - dt.timedelta(days=1)).isoformat(),
        },
    )
    shirt = approved(rpc, pid, goods_body(options=[{"label": "S", "amount": 1000}]))
    option_id = shirt["live"]["options"][0]["option_id"]
    rpc.catalog.set_inventory(pid, shirt["product_id"], {"stock": [{"option_id": option_id, "quantity": 0}]})
    voucher = approved(rpc, pid, booking_body(name="voucher", schedule_type="anytime", quantity_mode="none"))
    rpc.catalog.update_product(pid, voucher["product_id"], {"paused": True})
    rpc.catalog.create_product(pid, booking_body(name="draft"))

    states = {p["name"]: p["display_state"] for p in rpc.catalog.shop_list_products(pid)["items"]}
    assert states == {
        "bookable": "bookable",
        "nothing offered": "unavailable",
        "upcoming": "upcoming",
        "ended": "closed",
        "Linen shirt": "closed",
        "voucher": "unavailable",
    }
    shop_shirt = rpc.catalog.shop_get_product(shirt["product_id"])
    assert shop_shirt["options"][0]["sold_out"] is True  # R-CAT-3
    assert [e["option_id"] for e in outbox(catalog.config["DATABASE_URL"], "product.sold_out")] == [option_id]
    summary = rpc.catalog.dashboard_summary(pid, "member")
    assert summary == {
        "counts": {"bookable": 1, "unavailable": 2, "closed": 2, "upcoming": 1},
        "total": 7,
        "live": 6,
        "review": {"draft": 1, "pending": 0, "rejected": 0},
    }


def test_r_cat_6_policies_are_versioned_and_quoted_for_the_version_sold(catalog, rpc):
    pid = partner()
    product = approved(
        rpc,
        pid,
        booking_body(
            payment="prepaid",
            cancel_policy={"deadline_hours_before": 1, "fee_tiers": [{"hours_before": 48, "fee_percent": 20}]},
        ),
    )
    product_id = product["product_id"]
    revision = rpc.catalog.update_product(
        pid, product_id, {"cancel_policy": {"non_refundable": True, "deadline_hours_before": 1}}
    )
    rpc.catalog.submit_product(pid, product_id)
    rpc.catalog.approve_review(revision["pending"]["revision_id"], {}, "operator-1")
    use_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=24)
    old = rpc.catalog.quote_cancellation(pid, product_id, {"version": 1, "amount": 50000, "use_at": use_at.isoformat()})
    assert (old["allowed"], old["fee"], old["refund"]) == (True, 10000, 40000)
    new = rpc.catalog.quote_cancellation(pid, product_id, {"version": 2, "amount": 50000, "use_at": use_at.isoformat()})
    assert (new["allowed"], new["reason"]) == (False, "non_refundable")
    with pytest.raises(NotFound):
        rpc.catalog.quote_cancellation(pid, product_id, {"version": 3, "amount": 1})
