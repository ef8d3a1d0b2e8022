"""``python -m console`` (``make run-console``): the console on PC_CONSOLE_HOST:PC_CONSOLE_PORT
(127.0.0.1:8080), talking to the gateway at PC_GATEWAY_URL (http://PC_GATEWAY_HOST:PC_GATEWAY_PORT).

An eventlet WSGI server, as the gateway's: each open 예약관리 page holds one
event stream, which costs a green thread here, not an OS thread.
PC_CONSOLE_SECRET keys the CSRF tokens; every replica needs the same one
(a random one per process when unset, fine for one process).
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from eventlet import wsgi  # noqa: E402

from console.web import Console  # noqa: E402


def gateway_url() -> str:
    host, port = os.environ.get("PC_GATEWAY_HOST", "127.0.0.1"), os.environ.get("PC_GATEWAY_PORT", "8000")
    return os.environ.get("PC_GATEWAY_URL") or f"http://{host}:{port}"


def main() -> int:
    host, port = os.environ.get("PC_CONSOLE_HOST", "127.0.0.1"), int(os.environ.get("PC_CONSOLE_PORT", "8080"))
    secret = os.environ.get("PC_CONSOLE_SECRET", "").encode() or None
    app = Console(gateway_url(), secret)
    sock = eventlet.listen((host, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"console on http://{host}:{port} (gateway {app.gateway_url})", flush=True)
    wsgi.server(sock, app, log_output=False, keepalive=True, socket_timeout=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
