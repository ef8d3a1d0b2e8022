"""The proof harness's own pure parts (tools/proof): the blackhole TCP proxy
and the report table. `make proof` itself is not part of `make test`."""

import sys
from pathlib import Path

import eventlet

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from proof.report import Row, table  # noqa: E402
from proof.tcpproxy import TcpProxy  # noqa: E402


def echo_server():
    listener = eventlet.listen(("127.0.0.1", 0))

    def serve(conn):
        while data := conn.recv(1024):
            conn.sendall(data)
        conn.close()

    def accept():
        while True:
            conn, _ = listener.accept()
            eventlet.spawn(serve, conn)

    return listener, eventlet.spawn(accept)


def test_the_proxy_forwards_holds_bytes_while_blackholed_and_delivers_them_after():
    listener, server = echo_server()
    proxy = TcpProxy(listener.getsockname()).start()
    try:
        client = eventlet.connect(("127.0.0.1", proxy.port))
        client.sendall(b"ping")
        assert client.recv(16) == b"ping"

        proxy.blackhole()
        client.sendall(b"lost?")
        with eventlet.Timeout(0.5, False):
            client.recv(16)
            raise AssertionError("bytes crossed a blackhole")
        late = eventlet.connect(("127.0.0.1", proxy.port))  # accepted, then hangs: not refused
        late.sendall(b"late")

        proxy.restore()
        with eventlet.Timeout(5):
            assert client.recv(16) == b"lost?"
            assert late.recv(16) == b"late"
        assert proxy.accepted == 2
    finally:
        proxy.stop()
        server.kill()
        listener.close()


def test_a_connection_closed_upstream_is_closed_for_the_client():
    listener = eventlet.listen(("127.0.0.1", 0))
    proxy = TcpProxy(listener.getsockname()).start()
    try:
        client = eventlet.connect(("127.0.0.1", proxy.port))
        upstream, _ = listener.accept()
        upstream.close()  # the broker gave up on it (a missed heartbeat)
        with eventlet.Timeout(5):
            assert client.recv(16) == b""
        eventlet.sleep(0.1)
        assert not proxy.connections
    finally:
        proxy.stop()
        listener.close()


def test_report_rows_judge_their_targets_and_say_fail_for_a_missing_figure():
    rows = [
        Row("reconcile", "lost", 0, 120, "= 0"),
        Row("abuse", "5xx", 2, 300, "= 0", "a | b"),
        Row("faults", "recovery", None, target="<= 120"),
        Row("load", "p50", 12.345, 10, note="ms"),
        Row("abuse", "429s", 380, 400, ">= 360"),
    ]
    assert [r.verdict for r in rows] == ["ok", "FAIL", "FAIL", "", "ok"]
    lines = table(rows)
    assert lines[0].startswith("| area | figure | value | cases | target | verdict |")
    assert "| abuse | 5xx | 2 | 300 | = 0 | FAIL | a \\| b |" in lines
    assert "| faults | recovery | n/a |" in lines[4] and "| 12.3 |" in lines[5]
