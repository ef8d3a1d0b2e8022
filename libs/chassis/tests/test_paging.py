import uuid
from datetime import UTC, datetime

import pytest

from chassis.errors import ValidationFailed
from chassis.paging import clamp_limit, decode_cursor, encode_cursor, page


def test_limit_defaults_to_20_and_is_clamped_to_1_to_100():
    assert [clamp_limit(v) for v in (None, 0, 5, 100, 1000)] == [20, 1, 5, 100, 100]


def test_cursor_round_trips_typed_values():
    when, ident = datetime(2026, 11, 26, 9, 30, tzinfo=UTC), uuid.uuid4()
    cursor = encode_cursor(when.isoformat(), ident, 42)
    assert decode_cursor(cursor, datetime.fromisoformat, uuid.UUID, int) == (when, ident, 42)
    assert decode_cursor(None, int) is None and decode_cursor("", int) is None


@pytest.mark.parametrize("forged", ["!!!", "bm90IGpzb24", encode_cursor(1, 2), encode_cursor("x")])
def test_a_cursor_this_list_did_not_give_out_is_a_422_naming_it(forged):
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(forged, int)
    assert list(refused.value.details["fields"]) == ["cursor"]


def test_page_gives_a_next_cursor_only_when_more_rows_exist():
    rows = [{"id": i} for i in range(4)]
    first = page(rows, 3, lambda row: (row["id"],))
    assert [r["id"] for r in first["items"]] == [0, 1, 2] and decode_cursor(first["next_cursor"], int) == (2,)
    assert page(rows[:3], 3, lambda row: (row["id"],))["next_cursor"] is None
