"""chassis.Actor: one actor model for every partner RPC (issue 19). It goes out
as to_wire() and comes back as the same actor; from_wire reads every shape the
services were sent before; histories record an API key as api_key:<id> (R-ACC-13)."""

from __future__ import annotations

import pytest

from chassis import Actor
from chassis.errors import ValidationFailed

MEMBER = Actor("member", "m-1", role="admin", partner_id="p-1")
KEY = Actor("api_key", role="api_key", partner_id="p-1", api_key_id="k-1")


@pytest.mark.parametrize(
    "actor",
    [
        MEMBER,
        KEY,
        Actor("operator", "o-1"),
        Actor("customer", "c-1"),
        Actor.system(),
        Actor.system("scheduler"),
    ],
)
def test_an_actor_comes_back_from_the_wire_as_it_went(actor):
    assert Actor.from_wire(actor.to_wire()) == actor


def test_the_wire_names_the_person_as_the_principal_did():
    assert MEMBER.to_wire()["member_id"] == "m-1" and MEMBER.to_wire()["customer_id"] is None
    assert Actor("customer", "c-1").to_wire()["customer_id"] == "c-1"
    assert KEY.to_wire()["member_id"] is None and KEY.to_wire()["api_key_id"] == "k-1"


@pytest.mark.parametrize(
    "sent, expected",
    [
        # the gateway's whole principal (asdict), scopes included
        (
            {
                "kind": "api_key",
                "member_id": None,
                "customer_id": None,
                "partner_id": "p-1",
                "role": "api_key",
                "api_key_id": "k-1",
                "scopes": ["orders:write"],
            },
            KEY,
        ),
        (
            {
                "kind": "member",
                "member_id": "m-1",
                "customer_id": None,
                "partner_id": "p-1",
                "role": "admin",
                "api_key_id": None,
                "scopes": [],
            },
            MEMBER,
        ),
        ({"kind": "customer", "customer_id": "c-1"}, Actor("customer", "c-1")),
        ({"member_id": "m-1"}, Actor("member", "m-1")),  # no kind: a member
        (
            {"kind": "api_key", "partner_id": "p-1", "member_id": None},  # notifications' staff lookup
            Actor("api_key", partner_id="p-1"),
        ),
        ("m-1", Actor("member", "m-1")),  # catalog: a bare member id
        ("api_key", Actor("api_key")),  # catalog: an API key without its id
        ("api_key:k-1", Actor("api_key", api_key_id="k-1")),
        ("operator:o-1", Actor("operator", "o-1")),  # settlement's run
        (None, Actor.system()),
        ("", Actor.system()),
    ],
)
def test_from_wire_reads_every_shape_the_services_are_sent(sent, expected):
    assert Actor.from_wire(sent) == expected


@pytest.mark.parametrize(
    "actor, recorded",
    [
        (MEMBER, "m-1"),
        (KEY, "api_key:k-1"),
        (Actor("api_key"), "api_key"),
        (Actor("operator", "o-1"), "o-1"),
        (Actor("customer", "c-1"), "c-1"),
        (Actor.system(), "system"),
        (Actor.system("scheduler"), "scheduler"),
    ],
)
def test_a_history_records_the_person_or_the_key_never_the_keys_maker(actor, recorded):
    assert actor.recorded_as == recorded


def test_only_people_have_a_member_id():
    assert (MEMBER.member_id, Actor("operator", "o-1").member_id, KEY.member_id) == ("m-1", "o-1", None)
    assert (Actor("customer", "c-1").customer_id, MEMBER.customer_id) == ("c-1", None)


@pytest.mark.parametrize("sent", [{"kind": "robot", "member_id": "m-1"}, {"kind": 1}, {"member_id": 5}, 42, ["m-1"]])
def test_an_actor_that_is_none_of_these_is_a_422_naming_actor(sent):
    with pytest.raises(ValidationFailed) as caught:
        Actor.from_wire(sent)
    assert list(caught.value.details["fields"]) == ["actor"]
