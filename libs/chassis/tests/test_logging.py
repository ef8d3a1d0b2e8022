"""Logs: JSON lines on stdout carrying service, entrypoint and the correlation
id, which follows an RPC call into the event it published."""

import json

from nameko.standalone.rpc import ClusterRpcProxy

from chassis.testing import eventually, wait_until_serving


def test_log_lines_are_json_with_service_entrypoint_and_the_callers_correlation_id(
    service_process, probe_path, amqp_uri
):
    probe = service_process(probe_path).start()
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data={"correlation_id": "trace-77"}, timeout=30) as rpc:
        wait_until_serving(rpc, "chassis_probe")
        rpc.chassis_probe.record("log-1")

    def lines_of(event):
        return [line for line in map(_json_or_none, probe.log_lines()) if line and line.get("event") == event]

    recorded = eventually(lambda: lines_of("probe_recorded"), message="record logged")
    handled = eventually(lambda: lines_of("probe_effect"), message="event handling logged")
    assert {k: recorded[0][k] for k in ("service", "entrypoint", "correlation_id")} == {
        "service": "chassis_probe",
        "entrypoint": "chassis_probe.record",
        "correlation_id": "trace-77",
    }
    assert {k: handled[0][k] for k in ("service", "entrypoint", "correlation_id")} == {
        "service": "chassis_probe",
        "entrypoint": "chassis_probe.on_probed",
        "correlation_id": "trace-77",
    }
    assert all(_json_or_none(line) is not None for line in probe.log_lines() if line.strip())


def _json_or_none(line):
    try:
        return json.loads(line)
    except ValueError:
        return None
