"""A partner after registration, through the gateway: the operators' queue with
what to check and their notifications (issue 18 item 13), re-submission after
a rejection with what changed (R-ACC-15), closing (R-ACC-14)."""

from chassis.testing import eventually
from support.api import assert_error, expect


def operator_titles(operator) -> list[str]:
    return [m["title"] for m in expect(operator.client.get("/v1/ops/notifications?limit=100"), 200)["items"]]


def queue(operator, status="pending_verification") -> dict:
    return {p["partner_id"]: p for p in expect(operator.client.get(f"/v1/ops/partners?status={status}"), 200)["items"]}


def test_r_acc_15_a_rejected_partner_corrects_and_resubmits_and_operators_see_what_changed(partner_center):
    pc = partner_center("notifications")
    operator = pc.operator()
    applicant = pc.create_partner(category="lodging", verified=False, name="바다 펜션")
    admin = applicant.admin.client

    # Operators hear of the application and find it in the queue with what to check.
    eventually(lambda: "새 입점 신청" in operator_titles(operator), message="operators told of the application")
    entry = queue(operator)[applicant.partner_id]
    assert entry["submission"] == {"kind": "application", "submitted_at": entry["submitted_at"]}
    assert [c["item"] for c in entry["checks"]] == ["business_number", "name", "category", "places", "via_agency"]
    assert entry["application"]["business_number"] == "1234567890"
    assert_error(admin.get("/v1/ops/partners"), 403, "forbidden")
    assert_error(operator.client.get("/v1/ops/partners?status=sleeping"), 422)

    expect(
        operator.client.post(
            f"/v1/ops/partners/{applicant.partner_id}/reject", json={"reason": "사업자등록번호가 등록증과 다릅니다"}
        ),
        200,
    )
    assert applicant.partner_id not in queue(operator)
    # Nothing corrected yet: refused, naming the operator's reason.
    refused = assert_error(admin.post(f"{applicant.path}/resubmit"), 409, "nothing_changed")
    assert "사업자등록번호가 등록증과 다릅니다" in refused["message"]
    master = pc.staff(applicant, "master")
    assert_error(master.client.post(f"{applicant.path}/resubmit"), 403, "admin_only")

    expect(admin.patch(applicant.path, json={"business_number": "220-81-62517"}), 200)
    expect(admin.post(f"{applicant.path}/places", json={"name": "본관", "address": "강릉시 해안로 1"}), 201)
    again = expect(admin.post(f"{applicant.path}/resubmit"), 200)
    assert again["status"] == "pending_verification"
    assert again["changes"] == {
        "business_number": {"before": "1234567890", "after": "2208162517"},
        "places": {"before": [], "after": ["본관 (강릉시 해안로 1)"]},
    }
    assert_error(admin.post(f"{applicant.path}/resubmit"), 409, "invalid_state")

    entry = queue(operator)[applicant.partner_id]
    assert entry["submission"]["kind"] == "resubmission"
    assert entry["submission"]["previous_rejection"]["reason"] == "사업자등록번호가 등록증과 다릅니다"
    assert entry["submission"]["changes"] == again["changes"]
    eventually(lambda: "입점 재심사 요청" in operator_titles(operator), message="operators told of the re-submission")
    english = expect(operator.client.get("/v1/ops/notifications", headers={"Accept-Language": "en"}), 200)
    resubmitted = next(m for m in english["items"] if m["title"] == "Partner re-submitted")
    assert "business_number, places" in resubmitted["body"]
    assert {a["kind"] for a in resubmitted["actions"]} == {"queue", "verify", "reject"}

    expect(operator.client.post(f"/v1/ops/partners/{applicant.partner_id}/verify", json={}), 200)
    assert applicant.partner_id not in queue(operator)
    assert applicant.partner_id in queue(operator, "verified")
