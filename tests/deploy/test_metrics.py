"""Prometheus metrics (chassis.metrics): every service's endpoint is scraped
and shows entrypoint latency, errors by code, outbox backlog and age,
dead-letter counts and pool usage."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from nameko.exceptions import RemoteError
from prometheus_client.parser import text_string_to_metric_families

from chassis.config import SERVICES_DIR
from chassis.contracts import SUBSCRIPTIONS
from chassis.envelope import Envelope
from chassis.metrics import DEFAULT_PORTS
from chassis.testing import eventually, free_port
from chassis.tests.broker import publish_envelope

PROBE = str(Path(__file__).resolve().parents[2] / "libs" / "chassis" / "tests" / "chassis_probe")
COMMON = {"pc_entrypoint_duration_seconds", "pc_entrypoint_errors", "pc_workers_active", "pc_workers_max"}
DATA = {
    "pc_outbox_backlog",
    "pc_outbox_oldest_age_seconds",
    "pc_outbox_failing",
    "pc_outbox_readable",
    "pc_db_pool_max",
    "pc_db_pool_size",
    "pc_db_pool_in_use",
    "pc_db_pool_waiting",
    "pc_db_pool_requests",
    "pc_db_pool_timeouts",
}
QUEUES = {"pc_dead_letter_messages", "pc_retry_messages", "pc_event_backlog_messages"}


def deployable_services() -> list[str]:
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/config.yaml"))


def scrape(port: int) -> dict[str, list]:
    """metric family name -> its samples, as Prometheus would read them."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples, name: str, **labels) -> float:
    matching = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert matching, f"no sample {name} {labels}"
    return sum(matching)


def test_every_service_has_its_own_default_metrics_port():
    services = deployable_services()
    assert set(services) <= set(DEFAULT_PORTS), "give a new service its metrics port in chassis.metrics"
    assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS)


def test_every_service_metrics_endpoint_is_scraped(run_service, gateway, rpc):
    """The real services and the gateway, each on its own port; /healthz runs the
    gateway's entrypoint and each service's health RPC one of theirs (/healthz itself
    asks them outside their workers, chassis.health), which then shows in its histogram."""
    services = [s for s in deployable_services() if s != "gateway"]
    ports = {}
    for service in services:
        ports[service] = free_port()
        run_service(service, METRICS_PORT=ports[service])
    ports["gateway"] = free_port()
    url = gateway(downstream=services, METRICS_PORT=ports["gateway"])
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    for service in services:
        assert getattr(rpc, service).health()["status"] == "ok"

    for service, port in ports.items():
        families = scrape(port)
        expected = set(COMMON)
        if service != "gateway":
            expected |= DATA
        if any(s.service == service for s in SUBSCRIPTIONS):
            expected |= QUEUES
        assert expected <= set(families), f"{service} lacks {sorted(expected - set(families))}"
        entrypoint = "healthz" if service == "gateway" else "health"
        assert (
            value(
                families["pc_entrypoint_duration_seconds"],
                "pc_entrypoint_duration_seconds_count",
                service=service,
                entrypoint=entrypoint,
            )
            >= 1
        )
        if service != "gateway":
            assert value(families["pc_outbox_readable"], "pc_outbox_readable") == 1
            assert value(families["pc_db_pool_max"], "pc_db_pool_max") >= 2


def test_probe_metrics_show_errors_backlog_age_dead_letters_and_pool(run_service, rpc, amqp_uri):
    port = free_port()
    # No relay: what is recorded stays in the outbox, so backlog and age are exact.
    run_service(PROBE, METRICS_PORT=port, OUTBOX_RELAY=False, EVENT_MAX_ATTEMPTS=1, DB_POOL_MAX=7)
    rpc.chassis_probe.record("m-1")
    rpc.chassis_probe.record("m-2")
    with pytest.raises(Exception, match="probe_conflict"):
        rpc.chassis_probe.record_then_fail("m-3")
    with pytest.raises(RemoteError):
        rpc.chassis_probe.sleep_query("soon")  # a bug (SQL error): counted as internal_error
    rpc.chassis_probe.set_failing("m-dead", True)
    publish_envelope(amqp_uri, Envelope(type="chassis.probed", source="test", payload={"probe_id": "m-dead"}))

    def dead_lettered():
        families = scrape(port)  # the worker's result is recorded just after the park
        handler_failed = any(s.labels["entrypoint"] == "on_probed" for s in families["pc_entrypoint_errors"])
        parked = value(families["pc_dead_letter_messages"], "pc_dead_letter_messages") == 1
        return families if parked and handler_failed else None

    families = eventually(dead_lettered, message="parked event counted")
    assert (
        value(families["pc_dead_letter_messages"], "pc_dead_letter_messages", subscription="chassis.probed:on_probed")
        == 1
    )
    errors = families["pc_entrypoint_errors"]
    assert value(errors, "pc_entrypoint_errors_total", entrypoint="record_then_fail", code="probe_conflict") == 1
    assert value(errors, "pc_entrypoint_errors_total", entrypoint="sleep_query", code="internal_error") == 1
    assert value(errors, "pc_entrypoint_errors_total", entrypoint="on_probed", code="internal_error") == 1
    latency = families["pc_entrypoint_duration_seconds"]
    assert value(latency, "pc_entrypoint_duration_seconds_count", entrypoint="record") == 2
    assert value(latency, "pc_entrypoint_duration_seconds_bucket", entrypoint="record", le="+Inf") == 2
    assert value(families["pc_outbox_backlog"], "pc_outbox_backlog") == 2  # the failed unit of work left none
    assert value(families["pc_outbox_oldest_age_seconds"], "pc_outbox_oldest_age_seconds") > 0
    assert value(families["pc_db_pool_requests"], "pc_db_pool_requests_total") >= 5
    assert value(families["pc_db_pool_max"], "pc_db_pool_max") == 7  # DB_POOL_MAX, not max_workers
    assert value(families["pc_workers_max"], "pc_workers_max") == 20
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).text == "ok"
    assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).text == "ready"


def test_readiness_fails_while_the_database_is_unreachable_and_liveness_does_not(run_service):
    """Kubernetes must not restart a pod whose database is away (liveness),
    but must not count it ready either (readiness holds a rollout back)."""
    port = free_port()
    run_service(PROBE, METRICS_PORT=port, DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere", OUTBOX_RELAY=False)
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.text.startswith("database unavailable")
    families = scrape(port)
    assert value(families["pc_outbox_readable"], "pc_outbox_readable") == 0  # PcDatabaseUnreachable fires


def test_a_taken_metrics_port_stops_the_service_from_starting(service_config):
    """A silent metrics outage would hide every alert: refuse to start instead."""
    import socket

    from nameko.containers import ServiceContainer

    from chassis.run import import_service_class

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = service_config(PROBE, METRICS_PORT=taken.getsockname()[1])
        container = ServiceContainer(import_service_class(config["SERVICE_CLASS"]), config)
        try:
            with pytest.raises(OSError):
                container.start()
        finally:
            container.kill()


def test_every_alert_uses_exported_metrics_and_has_a_runbook_entry():
    import re
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import pcops_deploy

    runbook = (Path(__file__).resolve().parents[2] / "deploy" / "README.md").read_text()
    exported = COMMON | DATA | QUEUES
    for name, expr, _for, severity, _summary in pcops_deploy.ALERTS:
        assert f"\n### {name}\n" in runbook, f"deploy/README.md explains no alert {name}"
        assert severity in ("warning", "critical")
        for metric in re.findall(r"\bpc_[a-z_]+", expr):
            assert re.sub(r"_(total|bucket|count|sum)$", "", metric) in exported, f"{name}: {metric}"
