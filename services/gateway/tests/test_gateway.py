"""The gateway skeleton: health of every service, OpenAPI, and the contract's
conventions for bodies, errors and correlation ids."""

import requests
from kombu import Connection, Exchange, Queue

from chassis.rpc import HEALTH_METHOD, health_queue, health_route

PROBE_GATEWAY = "gateway.tests.gateway_probe:ProbeGateway"
DOMAIN_SERVICES = ["accounts", "catalog", "reservations", "orders", "notifications", "settlement"]


def test_healthz_names_every_service_when_all_answer(run_service, gateway):
    for service in DOMAIN_SERVICES:
        run_service(service)
    url = gateway(downstream=DOMAIN_SERVICES)
    response = requests.get(f"{url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["services"] == {name: "ok" for name in ["gateway", *DOMAIN_SERVICES]}


def declare_hung_service(amqp_uri):
    """ "hung": its RPC and health queues exist but nothing consumes them, so a call would wait forever."""
    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        Queue("rpc-hung", exchange=exchange, routing_key="hung.*", durable=True)(connection.default_channel).declare()
        Queue(
            health_queue("hung"), exchange=exchange, routing_key=f"{health_route('hung')}.{HEALTH_METHOD}", durable=True
        )(connection.default_channel).declare()


def test_healthz_is_503_naming_a_service_that_is_missing_or_hung(run_service, gateway, amqp_uri):
    run_service("accounts")
    declare_hung_service(amqp_uri)
    url = gateway(downstream=["accounts", "hung", "ghost"], HEALTH_TIMEOUT=2)
    response = requests.get(f"{url}/healthz", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["ghost", "hung"]
    assert body["services"]["accounts"] == "ok"


def test_openapi_document_lists_the_routes(gateway):
    url = gateway()
    document = requests.get(f"{url}/v1/openapi.json", timeout=10).json()
    assert document["openapi"] == "3.1.0"
    assert {"/healthz", "/v1/openapi.json"} <= set(document["paths"])
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert "Traceback" not in response.text
    return body["error"]


def test_body_conventions_of_the_contract(gateway):
    url = gateway(SERVICE_CLASS=PROBE_GATEWAY) + "/v1/test-echo/7"
    ok = requests.post(url, json={"name": "다온 살롱"}, timeout=10)
    assert ok.status_code == 201 and ok.json()["body"] == {"name": "다온 살롱"} and ok.json()["item_id"] == "7"

    assert_error(
        requests.post(url, data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}, timeout=10),
        413,
        "payload_too_large",
    )
    assert_error(
        requests.post(url, data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10),
        415,
        "unsupported_media_type",
    )
    assert_error(
        requests.post(url, data=b'{"name": ', headers={"Content-Type": "application/json"}, timeout=10),
        400,
        "malformed_request",
    )
    assert_error(
        requests.post(url, data=b"\xff\xfe{}", headers={"Content-Type": "application/json"}, timeout=10),
        400,
        "malformed_request",
    )
    for not_json in (b'{"name": NaN}', b'{"name": Infinity}', b'{"name": -Infinity}'):
        assert_error(
            requests.post(url, data=not_json, headers={"Content-Type": "application/json"}, timeout=10),
            400,
            "malformed_request",
        )
    assert_error(
        requests.post(url, data=b"[" * 100000, headers={"Content-Type": "application/json"}, timeout=10),
        400,
        "malformed_request",
    )
    error = assert_error(requests.post(url, json={"invalid": True}, timeout=10), 422, "validation_failed")
    assert error["details"] == {"fields": {"invalid": "not allowed"}}
    crash = assert_error(requests.post(url, json={"crash": True}, timeout=10), 500, "internal_error")
    assert "secret" not in crash["message"]


def test_unknown_routes_and_methods_answer_in_the_error_shape(gateway):
    url = gateway()
    assert_error(requests.get(f"{url}/v1/nothing-here", timeout=10), 404, "route_not_found")
    assert_error(requests.post(f"{url}/healthz", json={}, timeout=10), 405, "method_not_allowed")


def test_a_path_id_holding_a_nul_is_404_before_any_handler_runs(gateway):
    url = gateway(SERVICE_CLASS=PROBE_GATEWAY)
    assert_error(requests.post(f"{url}/v1/test-echo/a%00b", json={}, timeout=10), 404, "not_found")


def test_request_id_is_echoed_or_generated_and_reaches_the_handler(gateway):
    url = gateway(SERVICE_CLASS=PROBE_GATEWAY) + "/v1/test-echo/1"
    given = requests.post(url, json={}, headers={"X-Request-Id": "client-abc-1"}, timeout=10)
    assert given.headers["X-Request-Id"] == "client-abc-1"
    assert given.json()["correlation_id"] == "client-abc-1"
    generated = requests.post(url, json={}, timeout=10)
    assert len(generated.headers["X-Request-Id"]) == 32
    assert generated.json()["correlation_id"] == generated.headers["X-Request-Id"]
    hostile = requests.post(url, json={}, headers={"X-Request-Id": "bad id\twith spaces"}, timeout=10)
    assert hostile.headers["X-Request-Id"] != "bad id\twith spaces"


def test_a_downstream_call_past_its_deadline_is_a_clean_503(gateway, amqp_uri):
    declare_hung_service(amqp_uri)
    url = gateway(SERVICE_CLASS=PROBE_GATEWAY, RPC_TIMEOUT=0.5)
    error = assert_error(requests.get(f"{url}/v1/test-hung", timeout=10), 503, "service_unavailable")
    assert error["details"] == {"service": "hung"}


def test_healthz_is_answered_while_every_worker_is_held(run_service, gateway, amqp_uri):
    """#24: /healthz runs in the request's own thread, not queued for a worker slot, so a gateway whose
    workers all wait on a slow call still says it is healthy (it waited behind 200 bookings for more
    than 5 s in make proof beside a loaded make run)."""
    import eventlet

    run_service("accounts")
    declare_hung_service(amqp_uri)
    url = gateway(downstream=["accounts"], SERVICE_CLASS=PROBE_GATEWAY, RPC_TIMEOUT=6, max_workers=1)
    held = eventlet.spawn(requests.get, f"{url}/v1/test-hung", timeout=20)
    eventlet.sleep(0.5)  # the one worker now waits on "hung" for RPC_TIMEOUT
    health = requests.get(f"{url}/healthz", timeout=10)
    assert not held.dead, "the hung call still holds the only worker while /healthz answers"
    assert health.status_code == 200 and health.json()["services"] == {"gateway": "ok", "accounts": "ok"}
    echo = eventlet.spawn(requests.post, f"{url}/v1/test-echo/1", json={}, timeout=20)
    eventlet.sleep(1)
    assert not echo.dead, "a pooled route waits for the worker (the test is meaningful: max_workers is 1)"
    assert held.wait().status_code == 503
    assert echo.wait().status_code == 201


def test_fuzzer_defects_of_the_conventions_are_gone(gateway):
    """Issue 15, defects 4 and 6: 405 names the allowed methods, an over-long URL
    is a 414 in the error shape, authentication comes before the content type,
    and a JSON null body is not taken as {}."""
    url = gateway()
    refused = requests.post(f"{url}/healthz", json={}, timeout=10)
    assert_error(refused, 405, "method_not_allowed")
    assert "GET" in refused.headers["Allow"].split(", ")
    assert_error(requests.get(f"{url}/v1/notices?q={'x' * 9000}", timeout=10), 414, "uri_too_long")
    assert_error(
        requests.post(f"{url}/v1/partners", data="x", headers={"Content-Type": "text/plain"}, timeout=10),
        401,
        "unauthenticated",
    )
    null_body = assert_error(
        requests.post(f"{url}/v1/sessions", data="null", headers={"Content-Type": "application/json"}, timeout=10),
        422,
        "validation_failed",
    )
    assert null_body["details"]["fields"] == {"body": "must be a JSON object"}
