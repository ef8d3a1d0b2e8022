"""The gateway with test-only routes: one echoes its parsed body, so the
contract's body handling (400/413/415/422) is tested on the real entrypoint;
the others make one RPC each (the chassis probe, a hung service, and the
booking skeleton that `make bench` measures, tools/skeleton)."""

from chassis.errors import ValidationFailed
from contract.reservations import ReservationCreate
from gateway.http import route
from gateway.service import GatewayService


class ProbeGateway(GatewayService):
    @route("POST", "/v1/test-echo/<item_id>", summary="test only")
    def echo(self, request, item_id):
        if request.json_body == {"invalid": True}:
            raise ValidationFailed(message="invalid", details={"fields": {"invalid": "not allowed"}})
        if request.json_body == {"crash": True}:
            raise RuntimeError("secret internals")
        return 201, {"item_id": item_id, "body": request.json_body, "correlation_id": self.context}

    @route("GET", "/v1/test-probe-echo", summary="test only: one RPC to the chassis probe service")
    def probe_echo(self, request):
        return 200, {"echo": self.services.chassis_probe.echo(1)}

    @route(
        "POST",
        "/v1/test-skeleton-booking",
        access="customer",
        body_model=ReservationCreate,
        status=201,
        idempotency="required",
        rate_limit="booking",
        summary="test only: a booking's shape without its rules (tools/skeleton, issue 20)",
    )
    def skeleton_booking(self, request):
        # ?design=holding-here: the booking service keeps the capacity itself (one hop, one transaction)
        skeleton = self.services.skeleton_booking
        book = skeleton.book_holding_here if request.args.get("design") == "holding-here" else skeleton.book
        return 201, book(request.principal.customer_id, request.json_body, request.headers.get("Idempotency-Key"))

    @route("GET", "/v1/test-hung", summary="test only: calls a service that never answers")
    def hung(self, request):
        return 200, self.services.hung.health()
