"""chassis.validation: nothing is coerced (issue 15, defect 3). A body is strict
JSON; a query's strings become the JSON they spell for their field's type;
dates are YYYY-MM-DD strings only; a query error names its parameter."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import Field, model_validator

from chassis.errors import ValidationFailed
from chassis.validation import MAX_ID_LENGTH, Strict, invalid_query, parse, parse_query, require_id


class Body(Strict):
    amount: int | None = None
    name: str | None = None
    day: date | None = None
    at: datetime | None = None
    dates: list[date] | None = None
    private: bool | None = None
    rate: float | None = None


class Query(Strict):
    limit: int = 20
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    unread: bool | None = None
    q: str | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid_query(**{"from": "must not be after 'to'"})
        return self


def refused(model_parse, model, data) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        model_parse(model, data)
    return caught.value.details["fields"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"amount": True}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": 1.0}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"name": 5}, "name"),
        ({"day": 0}, "day"),
        ({"day": "1796342400"}, "day"),
        ({"day": "2026-1-1"}, "day"),
        ({"at": 1796342400}, "at"),
        ({"at": "1796342400"}, "at"),
        ({"dates": [0]}, "dates"),
        ({"dates": ["2026-01-01", 20260101]}, "dates"),
        ({"private": 1}, "private"),
        ({"private": "true"}, "private"),
        ({"rate": "0.5"}, "rate"),
    ],
)
def test_a_body_takes_only_its_json_types(data, field):
    fields = refused(parse, Body, data)
    assert list(fields) == [field] or list(fields)[0].startswith(field + ".")


def test_a_body_reads_what_json_carries():
    body = parse(
        Body,
        {
            "amount": 1000,
            "name": " 김다온 ",
            "day": "2026-01-01",
            "at": "2026-01-01T09:00:00+09:00",
            "dates": ["2026-01-01", "2026-01-02"],
            "private": False,
            "rate": 1,
        },
    )
    assert (body.amount, body.name, body.day, body.dates[1], body.private, body.rate) == (
        1000,
        "김다온",
        date(2026, 1, 1),
        date(2026, 1, 2),
        False,
        1.0,
    )
    assert body.at.utcoffset().total_seconds() == 9 * 3600
    assert parse(Body, None) == Body()


def test_a_body_error_is_a_body_error():
    with pytest.raises(ValidationFailed) as caught:
        parse(Body, {"amount": True, "extra": 1})
    assert caught.value.message == "request body is invalid"
    assert set(caught.value.details["fields"]) == {"amount", "extra"}


def test_a_query_reads_ints_from_digits_and_dates_from_yyyy_mm_dd():
    query = parse_query(Query, {"limit": "20", "from": "2026-01-01", "to": "2026-01-31", "unread": "true", "q": "5678"})
    assert (query.limit, query.date_from, query.date_to, query.unread, query.q) == (
        20,
        date(2026, 1, 1),
        date(2026, 1, 31),
        True,
        "5678",
    )
    assert parse_query(Query, {}) == Query()
    assert parse_query(Query, {"limit": "2177167942085972736"}).limit == 2177167942085972736  # a number, not refused


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"from": "1796342400"}, "from"),
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"limit": "20.0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"unread": "1"}, "unread"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"page": "2"}, "page"),
    ],
)
def test_a_query_error_names_the_parameter(query, parameter):
    with pytest.raises(ValidationFailed) as caught:
        parse_query(Query, query)
    assert caught.value.message == "request query is invalid"
    assert list(caught.value.details["fields"]) == [parameter]
    assert "body" not in caught.value.details["fields"]


@pytest.mark.parametrize("value", [None, "", "   ", 42, ["p-1"]])
def test_an_id_argument_is_required_and_named(value):
    with pytest.raises(ValidationFailed) as caught:
        require_id(value, "partner_id")
    assert caught.value.details["fields"] == {"partner_id": "required"}


def test_an_id_argument_has_one_length_limit():
    assert require_id("p" * MAX_ID_LENGTH, "customer_id") == "p" * MAX_ID_LENGTH
    with pytest.raises(ValidationFailed) as caught:
        require_id("p" * (MAX_ID_LENGTH + 1), "customer_id")
    assert list(caught.value.details["fields"]) == ["customer_id"]
