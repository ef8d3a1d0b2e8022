"""Issue 18 item 4: no route drops the body it is sent. Every route of a body
method either validates it against its ``body_model`` at the gateway (unknown
fields 422, ``NoBody`` for actions that take none) or hands it to the service
that validates it; read off the route table and the handlers' code."""

import inspect
import re

from chassis.validation import NoBody
from gateway.http import BODY_METHODS, routes_of
from gateway.service import GatewayService


def reads_body(cls, handler_name: str, seen: set | None = None) -> bool:
    """The handler, or a ``self._helper`` it calls, passes ``request.json_body`` on."""
    seen = seen if seen is not None else set()
    seen.add(handler_name)
    source = inspect.getsource(getattr(cls, handler_name))
    if "json_body" in source:
        return True
    return any(
        reads_body(cls, helper, seen)
        for helper in re.findall(r"self\.(_\w+)\(", source)
        if helper not in seen and callable(getattr(cls, helper, None))
    )


def test_every_body_route_validates_its_body_or_says_it_takes_none():
    silent = [
        f"{spec.method} {spec.url}"
        for spec in routes_of(GatewayService).values()
        if set(spec.method.split(",")) & BODY_METHODS
        and spec.body_model is None
        and not reads_body(GatewayService, spec.handler_name)
    ]
    assert silent == []
    no_body = [spec for spec in routes_of(GatewayService).values() if spec.body_model is NoBody]
    assert {
        "/v1/partners/<pid>/orders/<order_id>/deliver",
        "/v1/partners/<pid>/refund-requests/<request_id>/approve",
    } <= {spec.url for spec in no_body}
