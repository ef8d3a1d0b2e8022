"""Personal data shown to others: one masking rule everywhere (../shared/api.md)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re


def mask_phone(phone: str | None) -> str | None:
    """``010-1234-5678`` -> ``010-****-5678``: the prefix and last four digits stay."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return f"{digits[:3]}-****-{digits[-4:]}"


def format_phone(digits: str | None) -> str | None:
    """Stored digits as their owner reads them: ``010-1234-5678``, ``021-234-5678``."""
    if not digits or not digits.isdigit():
        return digits
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return digits


def mask_name(name: str | None) -> str | None:
    """``김다온`` -> ``김*온``; ``Kim`` -> ``K*m``; one letter stays as it is."""
    if not name or len(name) < 2:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def last_four_digits(phone: str | None) -> str | None:
    """What R-RSV-8 search matches on."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-4:] if len(digits) >= 4 else None


DEVELOPMENT_PSEUDONYM_KEY = "partner-center development pseudonym key"


def pseudonym(kind: str, identifier: str) -> str:
    """A stable pseudonymous reference that reveals nothing of the person:
    keyed (HMAC-SHA256 with ``PC_PSEUDONYM_KEY``, the same in every service),
    so a partner who knows customer ids cannot recompute it (a bare hash they could)."""
    key = (os.environ.get("PC_PSEUDONYM_KEY") or DEVELOPMENT_PSEUDONYM_KEY).encode()
    return f"{kind}-" + hmac.new(key, f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()[:16]


def phone_key(phone: str | None) -> str | None:
    """A phone number as a keyed pseudonym (``pseudonym("phone", digits)``): what
    ``customer.erased`` carries so that a service holding that phone for someone
    else's purpose (a ticket handed to it, R-RSV-10) can find and clear it
    (R-ACC-3) without the phone itself ever travelling on the bus."""
    digits = re.sub(r"\D", "", phone or "")
    return pseudonym("phone", digits) if digits else None


def search_terms(q: str | None) -> tuple[str | None, str | None]:
    """A search box for people (R-RSV-8): a phone number, whole or its last 4
    digits (spaces and dashes ignored), is searched by its last 4 digits;
    anything else is a part of the name, anywhere in it (issue 17 item 8: 길동
    finds 홍길동). As (last 4 digits, lower-cased name part)."""
    if not q or not q.strip():
        return None, None
    q = q.strip()
    digits = re.sub(r"[\s-]", "", q)
    if digits.isdigit() and len(digits) >= 4:
        return digits[-4:], None
    return None, q.lower()


def name_grams(part: str) -> list[str]:
    """The index keys a name part needs (R-RSV-8): its characters' pairs, or the
    one character. Names are indexed by every character and every pair of
    neighbours (the SQL function ``name_grams``), so any part of a name, Korean
    included, is found through a GIN index whatever its length; the LIKE that
    follows removes pairs found apart."""
    if len(part) < 2:
        return [part]
    return sorted({part[i : i + 2] for i in range(len(part) - 1)})
