"""The gateway with one extra route that echoes its parsed body, so the
contract's body handling (400/413/415/422) is tested on the real entrypoint."""

from chassis.errors import ValidationFailed
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

    @route("GET", "/v1/test-hung", summary="test only: calls a service that never answers")
    def hung(self, request):
        return 200, self.services.hung.health()
