from chassis.privacy import format_phone, last_four_digits, mask_name, mask_phone


def test_phone_keeps_prefix_and_last_four_digits_only():
    assert mask_phone("010-1234-5678") == "010-****-5678"
    assert mask_phone("01012345678") == "010-****-5678"
    assert mask_phone("+82 10 1234 5678") == "821-****-5678"
    assert mask_phone("") == ""


def test_name_masking_and_search_digits():
    assert (mask_name("김다온"), mask_name("이율"), mask_name("Kim")) == ("김*온", "이*", "K*m")
    assert last_four_digits("010-1234-5678") == "5678"
    assert last_four_digits("12") is None


def test_the_owner_reads_their_phone_whole_and_formatted():
    assert format_phone("01012345678") == "010-1234-5678"
    assert format_phone("0215551234") == "021-555-1234"
    assert format_phone("") == ""
