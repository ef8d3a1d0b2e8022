"""chassis.idempotency: one Idempotency-Key semantics (../shared/api.md): the
same key and body get the first response, a refusal included; another body is
409 idempotency_key_reused; keys are 1 to 200 visible ASCII characters."""

from __future__ import annotations

import pytest

from chassis import idempotency
from chassis.errors import Conflict, DomainError, NotFound, ValidationFailed


def test_a_key_is_1_to_200_visible_ascii_characters():
    assert idempotency.check_key("a" * 200) == "a" * 200
    assert idempotency.check_key("order-1:~!") == "order-1:~!"


@pytest.mark.parametrize("key", ["a" * 201, "with space", "키", "tab\there", 42])
def test_another_key_is_a_422_naming_the_header(key):
    with pytest.raises(ValidationFailed) as caught:
        idempotency.check_key(key, "an order")
    assert caught.value.code == "validation_failed"
    assert list(caught.value.details["fields"]) == ["Idempotency-Key"]


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_key_is_required_where_creating_names_what(key):
    with pytest.raises(ValidationFailed) as caught:
        idempotency.check_key(key, "a reservation")
    assert caught.value.code == "idempotency_key_required"
    assert "reservation" in caught.value.message
    assert idempotency.check_key(key) is None  # where a key is only honoured


def test_the_same_parsed_body_has_the_same_fingerprint():
    first = idempotency.fingerprint({"product_id": "p", "quantity": 2, "lines": [{"a": 1, "b": 2}]})
    assert idempotency.fingerprint({"lines": [{"b": 2, "a": 1}], "quantity": 2, "product_id": "p"}) == first
    assert idempotency.fingerprint({"product_id": "p", "quantity": 3, "lines": [{"a": 1, "b": 2}]}) != first


def test_the_same_key_with_another_body_is_409_reused():
    idempotency.check_same_body("abc", "abc")
    with pytest.raises(Conflict) as caught:
        idempotency.check_same_body("abc", "abd")
    assert caught.value.code == "idempotency_key_reused" and caught.value.status == 409


def test_a_pending_key_has_nothing_to_replay():
    assert idempotency.replay({"state": "pending", "response_status": None, "response": None}) is None
    assert idempotency.replay({"state": "abandoned", "response_status": None, "response": None}) is None


def test_an_answered_key_replays_its_first_response():
    record = idempotency.answered({"number": "ABC", "status": "requested"})
    assert record == {"state": "done", "response_status": 201, "response": {"number": "ABC", "status": "requested"}}
    assert idempotency.replay(record) == {"number": "ABC", "status": "requested"}


def test_a_refused_key_raises_its_refusal_again():
    refusal = Conflict("capacity_exhausted", "no seats left", {"product_id": "p"})
    record = idempotency.refused(refusal)
    assert record["state"] == "failed" and record["response_status"] == 409
    with pytest.raises(DomainError) as caught:
        idempotency.replay(record)
    assert (caught.value.code, caught.value.message, caught.value.details, caught.value.status) == (
        "capacity_exhausted",
        "no seats left",
        {"product_id": "p"},
        409,
    )
    with pytest.raises(DomainError) as caught:
        idempotency.replay(idempotency.refused(NotFound("product_not_found", "no such product")))
    assert caught.value.status == 404


def test_an_erased_response_spends_the_key():
    with pytest.raises(Conflict) as caught:
        idempotency.replay({"state": "done", "response_status": 201, "response": None})
    assert caught.value.code == "idempotency_key_reused"
