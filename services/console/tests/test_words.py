"""Every word a screen names by its key exists in both languages: a missing key
shows the key itself (``coupon_uses`` once headed the 고객 table)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.words import LANGUAGES, WORDS, Words

CONSOLE = Path(__file__).resolve().parents[1]
# Words' own members, which templates reach the same way as words (w.state_name(...)).
MEMBERS = {name for name in dir(Words) if not name.startswith("_")} | {"lang", "index"}
ATTRIBUTE = re.compile(r"\bw\.([a-z_][a-z0-9_]*)\b")
CALLED_WITH_A_LITERAL = re.compile(r"\bw\(\s*['\"]([a-z_][a-z0-9_]*)['\"]\s*\)")
SOURCES = sorted(CONSOLE.glob("templates/*.html")) + sorted(CONSOLE.glob("*.py"))


def keys_named_in(source: Path) -> set[str]:
    text = source.read_text(encoding="utf-8")
    named = set(ATTRIBUTE.findall(text)) | set(CALLED_WITH_A_LITERAL.findall(text))
    return named - MEMBERS


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_word_a_screen_names_exists(source):
    assert keys_named_in(source) - WORDS.keys() == set()


def test_every_word_has_both_languages():
    assert [key for key, pair in WORDS.items() if len(pair) != len(LANGUAGES) or not all(pair)] == []


def test_the_scan_sees_the_words_screens_use():
    named = set().union(*(keys_named_in(source) for source in SOURCES))
    assert {"coupon_uses", "customers", "order_number", "statistics"} <= named


# The API's enumerations (libs/contract) that screens put into words by prefix: w('ord_' ~ status).
# The test may import the contract; the console itself does not.
def enumerations() -> list[tuple[str, tuple[str, ...]]]:
    from typing import get_args

    from contract import accounts, catalog, coupons, orders, reservations, settlement

    return [
        ("cat_", get_args(accounts.Category)),
        ("role_", get_args(accounts.Role)),
        ("status_", get_args(accounts.PartnerStatus)),
        ("ord_", get_args(orders.Status)),
        ("ch_", get_args(orders.Channel)),
        ("req_", get_args(orders.RequestStatus)),
        ("rsv_", get_args(reservations.Status)),
        ("display_", get_args(catalog.DisplayState)),
        ("goods_display_", get_args(catalog.DisplayState)),
        ("review_", get_args(catalog.ReviewStatus)),
        ("sch_", get_args(catalog.ScheduleType)),
        ("pay_", get_args(catalog.Payment)),
        ("schedule_", get_args(settlement.Schedule)),
        ("dist_", get_args(coupons.Distribution)),
        ("cs_", get_args(coupons.CouponState)),
    ]


@pytest.mark.parametrize(("prefix", "values"), enumerations(), ids=lambda item: item if isinstance(item, str) else "")
def test_every_value_of_the_api_a_screen_shows_has_words(prefix, values):
    assert values, prefix  # the enumeration was found
    assert [value for value in values if prefix + value not in WORDS] == []
