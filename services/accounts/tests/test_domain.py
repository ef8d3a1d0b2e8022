"""Pure rules of accounts (no broker, no database)."""

import pytest

from accounts import domain
from accounts.passwords import hash_slots, hasher, needs_rehash, verify_password
from accounts.schemas import ListQuery, PartnerCreate, SignUp, Withdraw
from chassis.errors import ValidationFailed
from chassis.validation import parse, parse_query

SIGN_UP = {"login_id": "daon", "password": "long password", "name": "n", "phone": "010-1234-5678", "agree_terms": True}


@pytest.mark.parametrize(
    "actor, target, new_role, allowed",
    [
        ("admin", None, "admin", True),
        ("admin", "admin", "member", True),
        ("admin", "admin", None, True),
        ("master", None, "master", True),
        ("master", None, "member", True),
        ("master", None, "admin", False),
        ("master", "member", "master", True),
        ("master", "master", None, True),
        ("master", "admin", "member", False),
        ("master", "admin", None, False),
        ("master", "member", "admin", False),
        ("member", None, "member", False),
        ("member", "member", None, False),
    ],
)
def test_who_may_give_or_take_which_role(actor, target, new_role, allowed):
    """api.md Roles: admins any role; masters only masters and members."""
    assert domain.may_assign(actor, target, new_role) is allowed


def test_r_acc_4_last_admin_only_of_operating_partners():
    partners = [
        {"id": "a", "status": "verified"},
        {"id": "b", "status": "pending_verification"},
        {"id": "c", "status": "rejected"},
        {"id": "d", "status": "verified"},
    ]
    blocking = domain.last_admin_partners(partners, {"a": 1, "b": 1, "c": 1, "d": 2})
    assert [p["id"] for p in blocking] == ["a", "b"]
    assert domain.last_admin_partners([], {}) == []


def test_r_acc_7_admins_land_on_the_dashboard_others_on_the_list():
    assert domain.landing_for([{"role": "master", "partner_id": "p1"}, {"role": "admin", "partner_id": "p2"}]) == {
        "screen": "dashboard",
        "partner_id": "p2",
    }
    assert domain.landing_for([{"role": "member", "partner_id": "p1"}])["screen"] == "partner_list"
    assert domain.landing_for([])["screen"] == "partner_list"


def test_r_acc_11_dashboard_sections_by_category_and_role():
    assert domain.dashboard_sections("salon", "admin") == ["catalog", "reservations", "insights", "settlement"]
    assert domain.dashboard_sections("exhibition", "member") == ["catalog", "reservations", "insights"]
    assert domain.dashboard_sections("cafe", "master") == ["catalog", "orders", "insights", "settlement"]
    assert domain.dashboard_sections("fashion", "member") == ["catalog", "orders", "insights"]


def test_r_acc_10_title_search_is_literal():
    assert domain.like_pattern("100%") == "%100\\%%"
    assert domain.like_pattern("a_b\\c") == "%a\\_b\\\\c%"


def test_identifiers_phones_and_tokens():
    assert domain.as_uuid("2A44B86A-0C9F-4DF0-A937-0DCC9C5DD375") == "2a44b86a-0c9f-4df0-a937-0dcc9c5dd375"
    assert [domain.as_uuid(v) for v in ("1 OR 1=1", None, 7, "")] == [None, None, None, None]
    assert domain.normalize_phone("+82 10-1234-5678") == "821012345678"
    session, key, customer = domain.new_token("member"), domain.new_token("api_key"), domain.new_token("customer")
    assert [domain.token_kind(t) for t in (session, key, customer, "Bearer x")] == [
        "session",
        "api_key",
        "customer",
        None,
    ]
    assert domain.token_hash(session) == domain.token_hash(session) != domain.token_hash(key)
    assert len(session) > 40 and session != domain.new_token("member")


def test_request_schemas_refuse_what_the_contract_refuses():
    """R-ACC-1 agreement, R-ACC-3 confirmation, strict types, NUL, unknown fields."""
    assert parse(SignUp, SIGN_UP).login_id == "daon"
    for bad, field in [
        ({"agree_terms": False}, "agree_terms"),
        ({"agree_terms": "true"}, "agree_terms"),
        ({"name": "a\x00b"}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"password": "short"}, "password"),
        ({"login_id": "has space"}, "login_id"),
        ({"kind": "operator"}, "kind"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            parse(SignUp, {**SIGN_UP, **bad})
        assert field in refused.value.details["fields"]
    for confirm in (False, "yes", 1, None):
        with pytest.raises(ValidationFailed):
            parse(Withdraw, {"confirm": confirm})
    with pytest.raises(ValidationFailed):
        parse(PartnerCreate, {"name": "p", "category": "salon", "business_number": "12-34"})
    assert parse_query(ListQuery, {"limit": "5", "unknown": "ignored"}).limit == 5


def test_passwords_verify_and_rehash_at_a_new_cost():
    cheap, dearer = hasher(1, 1024, 1), hasher(2, 2048, 1)
    slots = hash_slots(1024, 16, 1.0)
    stored = cheap.hash("long password")
    assert verify_password(cheap, slots, stored, "long password")
    assert not verify_password(cheap, slots, stored, "wrong password")
    assert not verify_password(cheap, slots, None, "anything")  # unknown member: same work, never a match
    assert not verify_password(cheap, slots, "not a hash", "long password")
    assert not needs_rehash(cheap, stored) and needs_rehash(dearer, stored)
    assert verify_password(dearer, slots, stored, "long password")  # each hash carries its own cost


def test_issue_15_a_place_keeps_its_name_and_address_null_is_refused_not_stored():
    from accounts.schemas import PlaceUpdate

    for field in ("name", "address"):
        with pytest.raises(ValidationFailed) as refused:
            parse(PlaceUpdate, {field: None})
        assert list(refused.value.details["fields"]) == [field]
    assert parse(PlaceUpdate, {"phone": None}).model_dump(exclude_unset=True) == {"phone": None}  # cleared
    assert "default" not in PlaceUpdate.model_json_schema()["properties"]["name"]
