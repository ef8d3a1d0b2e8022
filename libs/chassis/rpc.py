"""RPC between services with a deadline: a call that does not answer in time
raises ``ServiceUnavailable`` (503 at the gateway) instead of hanging.

nameko's ``RpcProxy`` waits forever, and a request to a service with no
consumer would sit in its queue; the deadline covers both.

RPC messages are transient (not written to disk by the broker), and replies
are published without publisher confirms and consumed without acks: an RPC
lives only as long as its caller waits, so a request or reply lost with the
broker (or with the caller's connection) ends as the caller's deadline (503),
exactly as a lost confirm or ack would. Requests keep confirms,
because nameko needs them to tell a service that is not running at once
(``mandatory`` + confirm -> ``UnknownService``). Events keep both: they go
through the outbox relay, persistent and confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import eventlet
from kombu.message import Message
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import (
    RPC_QUEUE_TEMPLATE,
    MethodProxy,
    ReplyListener,
    Responder,
    Rpc,
    RpcConsumer,
    ServiceProxy,
    get_rpc_exchange,
)

from .errors import ServiceUnavailable
from .topology import BROKER_ERRORS

DEFAULT_TIMEOUT = 5.0
# The health check's own route (``chassis.health``): ``<service>-health.health`` on the
# queue ``rpc-<service>-health``, which ``<service>.*`` (the service's RPC queue) does not match.
HEALTH_METHOD = "health"


def health_route(service: str) -> str:
    return f"{service}-health"


def health_queue(service: str) -> str:
    queue: str = RPC_QUEUE_TEMPLATE.format(health_route(service))
    return queue


class RequestPublisher(Publisher):
    delivery_mode = NON_PERSISTENT


class ReplyPublisher(Publisher):
    delivery_mode = NON_PERSISTENT
    use_confirms = False


class TransientMethodProxy(MethodProxy):
    publisher_cls = RequestPublisher


class TransientServiceProxy(ServiceProxy):
    def __getattr__(self, name: str) -> TransientMethodProxy:
        return TransientMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener, **self.options)


class TransientResponder(Responder):
    publisher_cls = ReplyPublisher


class TransientReplyRpcConsumer(RpcConsumer):
    """nameko's RpcConsumer, answering through ``TransientResponder``."""

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        return answer(self.container.config, self.queue_consumer, message, result, exc_info)


def answer(
    config: dict[str, Any], queue_consumer: QueueConsumer, message: Message, result: Any, exc_info: Any
) -> tuple[Any, Any]:
    """Reply to an RPC request (through ``TransientResponder``), then ack it."""
    responder = TransientResponder(
        config[AMQP_URI_CONFIG_KEY],
        get_rpc_exchange(config),
        config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
        message,
        ssl=config.get(AMQP_SSL_CONFIG_KEY),
        login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
    )
    result, exc_info = responder.send_response(result, exc_info)
    queue_consumer.ack_message(message)
    return result, exc_info


class NoAckQueueConsumer(QueueConsumer):
    """Consumes RPC replies with no acks (the broker forgets a reply once it is
    sent): an ack per reply was a send to the broker per RPC, for nothing a
    reply needs. Each reply is handed over in the consuming greenthread, as
    ``ReplyListener.handle_message`` only wakes the waiting caller."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Iterable[Any]:
        consumers: dict[Any, Any] = self._consumers
        for provider in self._providers:
            consumers[provider] = consumer_cls(
                queues=[provider.queue],
                callbacks=[partial(self.handle_message, provider)],
                accept=self.accept,
                no_ack=True,
            )
        return consumers.values()

    def handle_message(self, provider: Any, body: Any, message: Message) -> None:
        provider.handle_message(body, message)

    def ack_message(self, message: Message) -> None:
        pass  # consumed with no_ack: there is nothing to ack


class NoAckReplyListener(ReplyListener):
    queue_consumer = NoAckQueueConsumer()


class ChassisRpc(Rpc):
    """The ``@rpc`` entrypoint of every service (``chassis.service.rpc``)."""

    rpc_consumer = TransientReplyRpcConsumer()


class TimedServiceProxy:
    def __init__(self, proxy: ServiceProxy, service: str, timeout: float):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.call_with_timeout(method, self._timeout, *args, **kwargs)

        return call

    def call_with_timeout(self, method: str, timeout: float, *args: Any, **kwargs: Any) -> Any:
        where = f"{self._service}.{method}"
        # The deadline covers sending too. The request is sent from a greenthread
        # of its own: when a deadline passes mid-send, kombu closes that broker
        # connection politely and waits for the broker's answer with no deadline,
        # which on a network blackhole lasts as long as the blackhole. The caller
        # gets its 503 at the deadline; the abandoned send ends on its own later.
        sending = eventlet.spawn(send_request, getattr(self._proxy, method), args, kwargs)
        with eventlet.Timeout(timeout, False):
            reply, error = sending.wait()
            if isinstance(error, UnknownService):
                raise ServiceUnavailable(
                    message=f"{self._service} is not running", details={"service": self._service}
                ) from error
            if isinstance(error, BROKER_ERRORS):  # the bus itself is away: a clean 503, never a 500
                raise ServiceUnavailable(
                    message="the message bus is unavailable", details={"service": self._service}
                ) from error
            if error is not None:
                raise error
            return reply.result()
        raise ServiceUnavailable(
            message=f"{where} did not answer within {timeout}s", details={"service": self._service}
        )


def send_request(
    method_proxy: MethodProxy, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Exception | None]:
    """(reply, None), or (None, the error) for the caller to raise if it still waits
    (a greenthread's own exception would only be printed by the hub)."""
    try:
        return method_proxy.call_async(*args, **kwargs), None
    except Exception as exc:
        return None, exc


class Services:
    """``self.services.accounts.health()``: any service, with the deadline."""

    def __init__(self, worker_ctx: Any, reply_listener: Any, timeout: float):
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener
        self._timeout = timeout

    def __getattr__(self, service: str) -> DeferredProxy:
        return DeferredProxy(self, service)

    def get(self, service: str) -> TimedServiceProxy:
        proxy = TransientServiceProxy(self._worker_ctx, service, self._reply_listener)
        return TimedServiceProxy(proxy, service, self._timeout)

    def check_health(self, service: str, timeout: float) -> dict[str, str]:
        """``service``'s health check (``chassis.health``): its own queue, so a
        service busy with slow calls still answers within ``timeout``."""
        proxy = TransientServiceProxy(self._worker_ctx, health_route(service), self._reply_listener)
        reply: dict[str, str] = TimedServiceProxy(proxy, service, timeout).call_with_timeout(HEALTH_METHOD, timeout)
        return reply


class DeferredProxy:
    """``self.services.orders``: the service's proxy, made at the first call through it.
    Making one costs about 50 µs of CPU, and the use cases a worker builds on every call
    are handed ports they seldom call (accounts' ``authenticate``, on every partner request,
    was handed orders and never calls it)."""

    def __init__(self, services: Services, service: str) -> None:
        self._services = services
        self._service = service
        self._proxy: TimedServiceProxy | None = None

    def __getattr__(self, name: str) -> Any:
        if self._proxy is None:
            self._proxy = self._services.get(self._service)
        return getattr(self._proxy, name)


class ServiceRpc(DependencyProvider):
    reply_listener = NoAckReplyListener()

    def setup(self) -> None:
        self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx: Any) -> Services:
        return Services(worker_ctx, self.reply_listener, self.timeout)
