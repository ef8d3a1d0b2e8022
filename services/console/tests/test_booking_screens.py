"""The booking screens' own logic (no gateway): the calendar's month grid, the
edit form's body and the calendar forms' gateway calls. The screens end to end
are in tests/browser/test_booking_screens.py."""

from __future__ import annotations

import datetime as dt

from werkzeug.datastructures import MultiDict

from console.booking_screens import calendar_change, edit_body, month_grid, month_of


def test_r_cat_2_the_month_grid_starts_on_sunday_and_puts_slots_and_blocks_on_their_days():
    inventory = {
        "slots": [{"date": "2026-12-09", "time": "10:00", "capacity": 3, "remaining": 3}],
        "blocks": [{"block_id": "b1", "date": "2026-12-09", "time": None, "reason": "휴무"}],
    }
    weeks = month_grid(dt.date(2026, 12, 1), inventory)
    assert weeks[0][:2] == [None, None] and weeks[0][2]["date"] == "2026-12-01"  # 1 Dec 2026 is a Tuesday
    days = {d["date"]: d for week in weeks for d in week if d}
    assert len(days) == 31
    assert [b["block_id"] for b in days["2026-12-09"]["blocks"]] == ["b1"]
    assert days["2026-12-09"]["slots"][0]["time"] == "10:00" and days["2026-12-10"]["slots"] == []


def test_a_month_that_is_not_a_month_is_this_month():
    assert month_of("2026-02") == dt.date(2026, 2, 1)
    assert month_of("not-a-month") == dt.date.today().replace(day=1)


def test_r_cat_5_an_edit_keeps_each_person_types_id_and_drops_empty_rows():
    form = MultiDict(
        [
            ("name", "디자인 컷"),
            ("description", ""),
            ("deadline_hours", "24"),
            ("price_id", "p1"),
            ("price_label", "성인"),
            ("price_amount", "30000"),
            ("price_id", ""),
            ("price_label", "어린이"),
            ("price_amount", "15000"),
            ("price_id", ""),
            ("price_label", ""),
            ("price_amount", ""),
        ]
    )
    body = edit_body(form)
    assert body["prices"] == [
        {"label": "성인", "amount": 30000, "price_id": "p1"},
        {"label": "어린이", "amount": 15000},
    ]
    assert body["cancel_policy"] == {"deadline_hours_before": 24}


class FakeCtx:
    def __init__(self, **fields):
        self.form = MultiDict(fields)


def test_the_calendar_forms_map_to_the_inventory_and_blocks_routes():
    base = "/v1/partners/P/products/X"
    assert calendar_change(FakeCtx(do="unblock", block_id="b1"), "P", "X") == ("DELETE", f"{base}/blocks/b1", None)
    assert calendar_change(FakeCtx(do="block", date="2026-12-09", reason="휴무"), "P", "X") == (
        "POST",
        f"{base}/blocks",
        {"reason": "휴무", "dates": ["2026-12-09"]},
    )
    assert calendar_change(FakeCtx(do="block", date="2026-12-09", time="10:00"), "P", "X")[2]["times"] == [
        {"date": "2026-12-09", "time": "10:00"}
    ]
    assert calendar_change(FakeCtx(do="slot", date="2026-12-09", time="10:00", capacity="3"), "P", "X") == (
        "PUT",
        f"{base}/inventory",
        {"slots": [{"date": "2026-12-09", "capacity": 3, "time": "10:00"}]},
    )
