"""chassis.consumer.handles: the one way a service registers event handlers
(issue 19). Each event type gets its entrypoint on_<kind>, the handler name
contracts.SUBSCRIPTIONS gives its queue, and each calls the decorated method."""

from __future__ import annotations

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from chassis.consumer import EventHandler, handles
from chassis.envelope import Envelope


def registered(method) -> list[str]:
    return [
        entrypoint.event_type
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ())
        if isinstance(entrypoint, EventHandler)
    ]


class Ledger:
    def __init__(self):
        self.seen = []

    @handles("order.completed", "order.delivered")
    def _record(self, event):
        self.seen.append(("record", event.type))

    @handles("customer.erased")
    def on_customer_erased(self, event):
        self.seen.append(("erase", event.type))


def event(event_type: str) -> Envelope:
    return Envelope(type=event_type, source="test", payload={})


def test_each_event_type_has_its_entrypoint_named_as_its_subscription():
    assert registered(Ledger.on_order_completed) == ["order.completed"]
    assert registered(Ledger.on_order_delivered) == ["order.delivered"]
    assert registered(Ledger.on_customer_erased) == ["customer.erased"]
    assert registered(Ledger._record) == []  # the method itself stays a plain method


def test_each_entrypoint_calls_the_method():
    ledger = Ledger()
    ledger.on_order_delivered(event("order.delivered"))
    ledger.on_order_completed(event("order.completed"))
    ledger.on_customer_erased(event("customer.erased"))
    assert ledger.seen == [("record", "order.delivered"), ("record", "order.completed"), ("erase", "customer.erased")]


def test_an_event_type_handled_twice_is_refused_when_the_class_is_made():
    with pytest.raises((TypeError, RuntimeError)) as caught:  # Python 3.11 wraps it in a RuntimeError

        class Twice:
            @handles("order.completed")
            def _one(self, event):
                pass

            @handles("order.completed")
            def _other(self, event):
                pass

    assert "handles order.completed twice" in str(caught.value.__cause__ or caught.value)
