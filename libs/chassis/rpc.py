"""RPC between services with a deadline: a call that does not answer in time
raises ``ServiceUnavailable`` (503 at the gateway) instead of hanging.

nameko's ``RpcProxy`` waits forever, and a request to a service with no
consumer would sit in its queue; the deadline covers both.
"""
from __future__ import annotations

import amqp
import eventlet
import kombu.exceptions
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from .errors import ServiceUnavailable

BROKER_ERRORS = (OSError, amqp.exceptions.AMQPError, kombu.exceptions.KombuError)

DEFAULT_TIMEOUT = 5.0


class TimedServiceProxy:
    def __init__(self, proxy: ServiceProxy, service: str, timeout: float):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            return self.call_with_timeout(method, self._timeout, *args, **kwargs)
        return call

    def call_with_timeout(self, method: str, timeout: float, *args, **kwargs):
        where = f"{self._service}.{method}"
        # The deadline covers sending too: a send on a stalled broker
        # connection (a network blackhole) must not hang past it.
        with eventlet.Timeout(timeout, False):
            try:
                reply = getattr(self._proxy, method).call_async(*args, **kwargs)
            except UnknownService as exc:
                raise ServiceUnavailable(message=f"{self._service} is not running",
                                         details={"service": self._service}) from exc
            except BROKER_ERRORS as exc:  # the bus itself is away: a clean 503, never a 500
                raise ServiceUnavailable(message="the message bus is unavailable",
                                         details={"service": self._service}) from exc
            return reply.result()
        raise ServiceUnavailable(message=f"{where} did not answer within {timeout}s",
                                 details={"service": self._service})


class Services:
    """``self.services.accounts.health()``: any service, with the deadline."""

    def __init__(self, worker_ctx, reply_listener, timeout: float):
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener
        self._timeout = timeout

    def __getattr__(self, service: str) -> TimedServiceProxy:
        return self.get(service)

    def get(self, service: str) -> TimedServiceProxy:
        proxy = ServiceProxy(self._worker_ctx, service, self._reply_listener)
        return TimedServiceProxy(proxy, service, self._timeout)


class ServiceRpc(DependencyProvider):
    reply_listener = ReplyListener()

    def setup(self):
        self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return Services(worker_ctx, self.reply_listener, self.timeout)
