"""Error messages rendered from the code and details (issue 17 item 10, api.md v1.1 Errors)."""

import string

from chassis import messages


def test_accept_language_picks_by_quality_and_defaults_to_korean():
    assert messages.language_of(None) == "ko"
    assert messages.language_of("") == "ko"
    assert messages.language_of("fr-FR, de;q=0.8") == "ko"
    assert messages.language_of("en-US,en;q=0.9") == "en"
    assert messages.language_of("ko;q=0.5, en;q=0.8") == "en"
    assert messages.language_of("en;q=0.3, ko-KR") == "ko"
    assert messages.language_of("en;q=bad") == "ko"


def test_the_most_specific_entry_the_details_fill_wins():
    details = {"number": "AB12CD34", "status": "requested", "action": "complete"}
    korean = messages.render("invalid_state", details, "ko", "cannot complete")
    english = messages.render("invalid_state", details, "en", "cannot complete")
    assert "AB12CD34" in korean and "먼저 확정" in korean
    assert "confirm it first" in english
    # Another object's invalid_state (no number): the general entry, state said in Korean.
    assert messages.render("invalid_state", {"status": "verified", "action": "reject"}, "ko") == (
        "인증 완료 상태라 거절할 수 없습니다. 검수 대기 중인 것만 거절합니다."
    )


def test_unknown_code_keeps_the_services_english_and_gets_the_statuss_korean():
    assert messages.render("brand_new_code", {}, "en", "the service's words", 409) == "the service's words"
    assert messages.render("brand_new_code", {}, "ko", "the service's words", 409) == messages.CATALOGUE["conflict"][0]


def test_validation_names_the_fields_in_both_languages():
    details = {"fields": {"lines.0.quantity": "must be positive", "date": "required"}}
    assert "lines.0.quantity, date" in messages.render("validation_failed", details, "ko")
    assert "lines.0.quantity, date" in messages.render("validation_failed", details, "en")


def test_every_entry_has_korean_and_english_with_the_same_placeholders():
    for key, entries in messages.CATALOGUE.items():
        for korean, english in entries if isinstance(entries, list) else [entries]:
            names = [{n for _, n, _, _ in string.Formatter().parse(text) if n} for text in (korean, english)]
            assert names[0] == names[1], key
            assert any("\uac00" <= ch <= "\ud7a3" for ch in korean), key
