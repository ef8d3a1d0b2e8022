"""A network blackhole between the gateway and the broker (tools/proof's TCP
proxy: bytes stop, sockets stay open) turns a call into a clean 503 at its RPC
deadline, including a call whose request was being sent when the blackhole
began: kombu then closes that broker connection politely and waits for an
answer that cannot come, which must not hold the caller (chassis.rpc)."""

import sys
from pathlib import Path

import requests

from chassis.testing import eventually, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

from proof.tcpproxy import TcpProxy  # noqa: E402

PROBE_GATEWAY = "gateway.tests.gateway_probe:ProbeGateway"
PROBE_SERVICE = str(Path(__file__).resolve().parents[3] / "libs" / "chassis" / "tests" / "chassis_probe")


def test_a_call_sent_into_a_broker_blackhole_is_a_clean_503_at_its_deadline(run_service, amqp_uri):
    proxy = TcpProxy(("127.0.0.1", 5672)).start()
    gateway = None
    try:
        run_service(PROBE_SERVICE)
        via_proxy = amqp_uri.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
        assert via_proxy != amqp_uri
        port = free_port()
        gateway = run_service(
            "gateway",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            DOWNSTREAM_SERVICES=[],
            SERVICE_CLASS=PROBE_GATEWAY,
            AMQP_URI=via_proxy,
            RPC_TIMEOUT=1,
        )
        echo = f"http://127.0.0.1:{port}/v1/test-probe-echo"
        assert requests.get(echo, timeout=10).json() == {"echo": 1}  # a pooled broker connection, in use

        proxy.blackhole()
        answers = [requests.get(echo, timeout=10) for _ in range(2)]  # a hang is a ReadTimeout here
        assert [a.status_code for a in answers] == [503, 503]
        assert all(a.json()["error"]["details"] == {"service": "chassis_probe"} for a in answers)

        proxy.restore()
        eventually(
            lambda: requests.get(echo, timeout=10).status_code == 200,
            timeout=60,
            message="calls answered again once the broker is reachable",
        )
    finally:
        if gateway is not None:
            gateway.kill()  # before the proxy goes: a container left behind it reconnects forever
        proxy.stop()
