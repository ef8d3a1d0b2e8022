"""A small TCP proxy between the services and the broker, able to blackhole.

A blackhole stops moving bytes both ways but keeps every socket open, as a
network partition does: nothing is refused or reset, data simply stops
arriving (new connections are accepted and then hang). Held longer than the
AMQP heartbeat, the broker gives up on its side of each connection; when
traffic flows again, a connection whose other side has gone is closed, so
the service notices and reconnects.

Runs under eventlet (green sockets), like the rest of the proof harness.
"""

from __future__ import annotations

import socket

import eventlet
import eventlet.event

CHUNK = 65536


class Gate:
    """Open: bytes flow. Closed: every pump waits (the blackhole)."""

    def __init__(self):
        self._open = eventlet.event.Event()
        self._open.send()

    @property
    def is_open(self) -> bool:
        return self._open.ready()

    def close(self) -> None:
        if self._open.ready():
            self._open = eventlet.event.Event()

    def open(self) -> None:
        if not self._open.ready():
            self._open.send()

    def wait(self) -> None:
        self._open.wait()


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; ``blackhole()`` / ``restore()``."""

    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1", port: int = 0):
        self.upstream = upstream
        self.listener = eventlet.listen((host, port))
        self.address = self.listener.getsockname()
        self.gate = Gate()
        self.connections: set[tuple[socket.socket, socket.socket]] = set()
        self.accepted = 0
        self._server = None

    @property
    def port(self) -> int:
        return self.address[1]

    def start(self) -> TcpProxy:
        self._server = eventlet.spawn(self._serve)
        return self

    def blackhole(self) -> None:
        self.gate.close()

    def restore(self) -> None:
        self.gate.open()

    def stop(self) -> None:
        if self._server is not None:
            self._server.kill()
        self.listener.close()
        for pair in list(self.connections):
            self._shutdown(pair)

    def _serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            self.accepted += 1
            eventlet.spawn(self._connect, client)

    def _connect(self, client: socket.socket) -> None:
        self.gate.wait()  # a blackholed connection attempt hangs, it is not refused
        try:
            server = eventlet.connect(self.upstream)
        except OSError:
            client.close()
            return
        pair = (client, server)
        self.connections.add(pair)
        eventlet.spawn(self._pump, client, server, pair)
        eventlet.spawn(self._pump, server, client, pair)

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        """Copy ``source`` to ``target``. Each socket is read by exactly one pump and is
        closed only by it: closing a socket another green thread waits on lets its
        file descriptor be reused under that waiter (eventlet then refuses the new reader)."""
        try:
            while True:
                self.gate.wait()
                data = source.recv(CHUNK)
                if not data:
                    break
                self.gate.wait()  # read before the blackhole began: held, not delivered, until it ends
                target.sendall(data)
        except (OSError, EOFError):
            pass
        finally:
            self.connections.discard(pair)
            self._shutdown(pair)  # wakes the other pump with an end of stream
            source.close()

    @staticmethod
    def _shutdown(pair) -> None:
        for sock in pair:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
