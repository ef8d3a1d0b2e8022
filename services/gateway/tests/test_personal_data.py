"""Personal data (issue 16): query strings that search for people are not
written to the access log; pseudonyms are keyed, not a hash anyone can redo."""

import hashlib
import logging

from chassis.privacy import pseudonym


def test_access_log_lines_carry_no_query_values(platform, caplog):
    pc = platform
    partner = pc.create_partner()
    with caplog.at_level(logging.INFO, logger="nameko.web.server"):
        pc.client(partner.admin.token).get(f"{partner.path}/members", params={"q": "김다온", "phone": "01012345678"})
    lines = [r.getMessage() for r in caplog.records if r.name == "nameko.web.server"]
    assert any(f"{partner.path}/members?q=-" in line for line in lines), lines
    assert not any("01012345678" in line or "%EA%B9%80" in line or "김다온" in line for line in lines)


def test_pseudonyms_are_keyed_and_cannot_be_recomputed_from_the_id(monkeypatch):
    customer_id = "0b5e3c8e-2f54-4b1a-9d0c-3f1a2b3c4d5e"
    bare = "customer-" + hashlib.sha256(f"customer:{customer_id}".encode()).hexdigest()[:16]
    assert pseudonym("customer", customer_id) != bare
    default = pseudonym("customer", customer_id)
    assert default == pseudonym("customer", customer_id)  # stable
    monkeypatch.setenv("PC_PSEUDONYM_KEY", "another deployment's key")
    assert pseudonym("customer", customer_id) not in (bare, default)  # the key makes it
