"""Schemathesis (pinned in requirements.lock) against a real running platform
(issue 15): every service and the gateway, as the other cross-service tests
start them, with a partner admin's, a customer's, an operator's token and a
partner API key; every check its version has, over the served
``/v1/openapi.json``, bounded in time. 0 failures on every operation the
document describes (and no 5xx on any); the failures of operations still on
test_openapi's PENDING list (their models are being written) are reported, and
count as soon as an operation leaves that list.

Where a check is wrong about this API it is configured narrowly in
``schemathesis.toml`` beside this file (read there why), never turned off.
The run writes its JSON report to ``reports/schemathesis/`` when
``PC_SCHEMATHESIS_REPORT=1`` (the failures listed by operation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from api_contract.salon import salon_with_a_product
from chassis.config import REPO_ROOT

SERVICES = ("catalog", "reservations", "orders", "notifications", "settlement", "insights")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("PC_SCHEMATHESIS_EXAMPLES", "5"))
MAX_SECONDS = int(os.environ.get("PC_SCHEMATHESIS_SECONDS", "100"))  # each of the three runs
ST = str(Path(sys.executable).with_name("st"))


def schemathesis(url: str, tokens: dict, report: Path, *filters: str) -> tuple[int, str, dict]:
    """One ``st run`` over the document; its exit code, its output and its JSON report."""
    env = {
        **os.environ,
        **tokens,
        "NO_COLOR": "1",
        "PYTHONPATH": os.pathsep.join([str(CONFIG.parent), os.environ.get("PYTHONPATH", "")]),
    }  # st_hooks
    command = [
        ST,
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_SECONDS),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--seed",
        "15",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        *filters,
    ]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=MAX_SECONDS * 3)
    found = json.loads(report.read_text()) if report.exists() else {}
    return finished.returncode, finished.stdout + finished.stderr, found


# Operations that end the session, the member or the partner the other operations run as: run
# last, as people of their own, so that they neither end the others' tokens mid-run nor go untested.
ENDINGS = (
    r"^/v1/(me/withdraw|me/password|me/sessions/\{session_id\}|sessions/current|partners/\{pid\}/close"
    r"|partners/\{pid\}/api-keys/\{key_id\}|partners/\{pid\}/members/\{member_id\})$"
)


def people(pc) -> dict:
    """A partner (verified, with a place and a product) run by its admin, an API key of it and a customer."""
    partner, place, product = salon_with_a_product(pc)
    return {
        "PC_ST_STAFF": partner.admin.token,
        "PC_ST_API_KEY": pc.api_key(partner).token,
        "PC_ST_CUSTOMER": pc.customer_session().token,
        "PC_ST_PARTNER": partner.partner_id,
        "PC_ST_PLACE": place["place_id"],
        "PC_ST_PRODUCT": product["product_id"],
        # the document's example placeholders (st_hooks): <place_id>, <product_id>, <partner_id>
        "PC_ST_PLACE_ID": place["place_id"],
        "PC_ST_PRODUCT_ID": product["product_id"],
        "PC_ST_PARTNER_ID": partner.partner_id,
    }


SERVER_ERRORS = {"ST101", "ST102"}  # a 5xx: never acceptable, on any operation


def pending_operations() -> set[str]:
    """``METHOD /path`` of the operations whose models are still being written
    (services/gateway/tests/test_openapi.py PENDING: that list only shrinks)."""
    from gateway.service import GatewayService, document_of
    from gateway.tests.test_openapi import PENDING

    return {
        f"{verb.upper()} {path}"
        for path, verbs in document_of(GatewayService)["paths"].items()
        for verb, op in verbs.items()
        if op.get("operationId") in PENDING
    }


def judged(report: dict, pending: set[str]) -> tuple[list[str], list[str]]:
    """The report's failures as (failing, pending): a failure of an operation
    the document does not describe yet is pending, unless it is a 5xx."""
    failing: list[str] = []
    waiting: list[str] = []
    for failure in report.get("failures", []):
        for operation in failure["operations"]:
            line = f"{failure['code']} {failure['title']}: {operation}"
            (waiting if operation in pending and failure["code"] not in SERVER_ERRORS else failing).append(line)
    failing += [f"error: {error}" for error in report.get("errors", [])]
    return failing, waiting


@pytest.mark.timeout(1500)
def test_schemathesis_finds_nothing_the_document_does_not_promise(partner_center, tmp_path):
    pc = partner_center(*SERVICES)
    operator = pc.operator()
    report_dir = Path(REPO_ROOT) / "reports" / "schemathesis" if os.environ.get("PC_SCHEMATHESIS_REPORT") else tmp_path
    report_dir.mkdir(parents=True, exist_ok=True)
    tokens = people(pc)
    runs = {
        # partner, shop and public operations: the partner admin's, the key's and the customer's tokens
        "partner-and-shop": (tokens, ["--exclude-path-regex", "^/v1/ops/", "--exclude-path-regex", ENDINGS]),
        # the operators' area: the operator's token as the staff token
        "operators": ({**tokens, "PC_ST_STAFF": operator.token}, ["--include-path-regex", "^/v1/ops/"]),
        # what ends a session, a member or a partner, with people of its own
        "endings": (people(pc), ["--include-path-regex", ENDINGS]),
    }
    pending = pending_operations()
    failed, waiting = [], []
    for name, (run_tokens, filters) in runs.items():
        code, output, report = schemathesis(pc.url, run_tokens, report_dir / f"{name}.json", *filters)
        (report_dir / f"{name}.txt").write_text(output)  # every failure with its request, to reproduce
        assert report, f"{name}: schemathesis wrote no report (exit {code}):\n{output[-4000:]}"
        failing, pending_here = judged(report, pending)
        failed += [f"{name}: {line}" for line in failing]
        waiting += [f"{name}: {line}" for line in pending_here]
    if waiting:  # reported, not failed: these operations are on test_openapi's PENDING list
        print("schemathesis, operations whose models are pending:\n" + "\n".join(waiting))
        warnings.warn(
            f"schemathesis: {len(waiting)} failures on operations whose models are pending "
            f"(test_openapi PENDING); PC_SCHEMATHESIS_REPORT=1 keeps them in reports/schemathesis/",
            stacklevel=1,
        )
    assert not failed, "schemathesis failures:\n" + "\n".join(failed)
