"""Rate limits hold for the platform, not per gateway process: two gateway
processes count in one Redis (gateway.ratelimit); bookings and orders are
limited per customer; X-Forwarded-For counts only through trusted proxies."""

import uuid

import requests

from chassis.testing import eventually, free_port
from support.api import assert_error, expect


def start_gateway_process(service_process, **env) -> str:
    port = free_port()
    service_process("gateway", PC_GATEWAY_PORT=str(port), PC_LOG_LEVEL="WARNING", **env).start()
    url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(f"{url}/v1/openapi.json", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    eventually(answers, timeout=60, interval=0.3, message="gateway process serving")
    return url


def test_login_limit_holds_across_two_gateway_processes_and_behind_trusted_proxies(platform, service_process):
    pc = platform
    member = pc.sign_up_member()
    shared = {
        "PC_RATE_LIMIT_LOGIN": "3/600",
        "PC_RATE_LIMIT_NAMESPACE": f"pc_test_{uuid.uuid4().hex[:12]}",
        "PC_TRUSTED_PROXIES": "127.0.0.1/32",
        "PC_OIDC_DEV_KEY_FILE": pc.dev_key_file,
    }
    first, second = (start_gateway_process(service_process, **shared) for _ in range(2))
    login = {"login_id": member.login_id, "password": member.password}

    def log_in(url, client="198.51.100.7"):
        return requests.post(f"{url}/v1/sessions", json=login, headers={"X-Forwarded-For": client}, timeout=30)

    for url in (first, second, first):
        expect(log_in(url), 201)
    for url in (second, first):  # the 4th and 5th, on either process
        response = log_in(url)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1
    expect(log_in(second, client="198.51.100.8"), 201)  # another client behind the same proxy
    # A client cannot reset its count by forging the header: only our proxy's last hop is believed.
    assert_error(log_in(first, client="6.6.6.6, 198.51.100.7"), 429, "rate_limited")


def test_bookings_and_orders_are_limited_per_customer(partner_center):
    pc = partner_center(gateway_config={"RATE_LIMIT_BOOKING": "2/600", "RATE_LIMIT_ORDER": "1/600"})
    greedy, other = pc.customer_session(), pc.customer_session()
    # Without catalog the bodies fail downstream (a 4xx or 503): what counts here is that the attempt was let through.
    for _ in range(2):
        assert (
            greedy.client.post(
                "/v1/shop/reservations", json={}, headers={"Idempotency-Key": uuid.uuid4().hex}
            ).status_code
            != 429
        )
    assert_error(
        greedy.client.post("/v1/shop/reservations", json={}, headers={"Idempotency-Key": "k"}), 429, "rate_limited"
    )
    assert other.client.post("/v1/shop/reservations", json={}, headers={"Idempotency-Key": "k"}).status_code != 429
    assert greedy.client.post("/v1/shop/orders", json={}, headers={"Idempotency-Key": "o1"}).status_code != 429
    assert_error(greedy.client.post("/v1/shop/orders", json={}, headers={"Idempotency-Key": "o2"}), 429, "rate_limited")
