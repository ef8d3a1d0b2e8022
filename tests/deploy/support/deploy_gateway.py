"""The gateway with two test-only routes to the chassis probe: a stream of
these is what the rolling-restart test sends through the real HTTP entrypoint."""

from gateway.http import route
from gateway.service import GatewayService


class DeployProbeGateway(GatewayService):
    @route("POST", "/v1/test-deploy/records/<probe_id>", summary="test only: a change and its event")
    def record(self, request, probe_id):
        return 201, self.services.chassis_probe.record(probe_id, "rolling")

    @route("POST", "/v1/test-deploy/slow", summary="test only: in-flight work when SIGTERM arrives")
    def slow(self, request):
        return 200, {"slept": self.services.chassis_probe.sleep_query(0.4)}
