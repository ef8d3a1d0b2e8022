"""The client generated from the document (``support.typed_client``) drives
the platform: typed operations, typed bodies, typed answers (issue 15). What
the document promises is what a generated client can use."""

from __future__ import annotations

from support.api import DEFAULT_PASSWORD


def test_a_generated_client_signs_in_and_manages_its_sessions(partner_center):
    pc = partner_center("catalog", "reservations")
    typed = pc.typed()
    from pc_client.api.accounts import change_password, my_sessions
    from pc_client.api.platform import healthz
    from pc_client.models import Error, Health, PasswordChange, SessionList

    health = healthz.sync(client=typed)
    assert isinstance(health, Health) and health.status == "ok"
    assert health.services.additional_properties["reservations"] == "ok"

    member = pc.sign_up_member()
    second_token = pc.login(member.login_id)
    mine = pc.typed(member.token)
    sessions = my_sessions.sync(client=mine)
    assert isinstance(sessions, SessionList) and len(sessions.items) == 2 and sessions.next_cursor is None

    wrong = change_password.sync(
        client=mine, body=PasswordChange(old_password="not my password", new_password="a new long password")
    )
    assert isinstance(wrong, Error) and wrong.error.code == "invalid_credentials"
    answer = change_password.sync_detailed(
        client=mine, body=PasswordChange(old_password=DEFAULT_PASSWORD, new_password="a new long password")
    )
    assert answer.status_code == 204
    assert len(my_sessions.sync(client=mine).items) == 1  # the other session ended (R-ACC-16)
    assert pc.client(second_token).get("/v1/me").status_code == 401

    customer = pc.customer_session()  # itself through the typed client (support.api)
    assert customer.client.get("/v1/shop/reservations").status_code == 200
