"""Schemathesis hooks (schemathesis.toml, ``hooks``): how this API differs
from what JSON Schema alone can say, narrowed here and nowhere else (README,
"Schemathesis").

JSON Schema's ``"type": "integer"`` admits ``5.0`` (a number with a zero
fraction is an integer there); this API's integers are JSON integers only,
nothing is coerced (issue 15, defect 3: ``chassis.validation``), so a
schema-valid ``5.0`` is refused with a 422. Every integral float schemathesis
generates is sent as the integer it equals: the same JSON Schema value, written
the way this API reads it. Bodies with real fractions, strings, booleans are
sent as generated.

The document's examples name the objects they need as placeholders
(``"place_id": "<place_id>"``): the run's own objects stand in for them
(``PC_ST_PLACE_ID``, ``PC_ST_PRODUCT_ID``, ..., set by the test).
"""

from __future__ import annotations

import os
import re

import schemathesis

PLACEHOLDER = re.compile(r"<([a-z_]+)>")


def filled(value: str) -> str:
    return PLACEHOLDER.sub(lambda found: os.environ.get(f"PC_ST_{found.group(1).upper()}", found.group(0)), value)


def as_sent(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    if isinstance(value, str) and "<" in value:
        return filled(value)
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, (dict, list, float)):
        case.body = as_sent(case.body)
    if isinstance(case.query, dict):
        case.query = {
            key: (str(int(value)) if isinstance(value, float) and value.is_integer() else value)
            for key, value in case.query.items()
        }
