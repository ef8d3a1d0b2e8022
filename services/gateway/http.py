"""The gateway's HTTP entrypoint: the contract's conventions in one place.

Every route gets, before its handler runs: a correlation id (``X-Request-Id``
in, or a new one; always echoed out), the caller's authorisation (401/403
first, before anything about the body), a body limit (413), JSON only (415),
malformed JSON refused (400), a body that is a JSON object, and, where the
route declares them, its body and query models (422 naming the field or the
query parameter). What the handler returns is serialised through the route's
response model, so ``/v1/openapi.json`` (built from the same declarations,
``gateway.openapi``) cannot drift from what is sent. Domain errors become the
contract's error body with their status; anything unexpected is a 500 with no
stack trace.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass, field
from functools import cache, partial, wraps

from eventlet.event import Event
from nameko.containers import WorkerContext
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from pydantic import TypeAdapter, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from chassis import messages, scopes
from chassis.context import CORRELATION_KEY, new_correlation_id
from chassis.errors import (
    DomainError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from chassis.logging import get_logger
from chassis.validation import parse, parse_query

from .auth import ACCESS_LEVELS, authorize

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_URL_BYTES = 8 * 1024  # longer: 414 in the error shape
SERVER_LINE_LIMIT = 64 * 1024  # eventlet's own plain 414 only past this
BODY_METHODS = {"POST", "PUT", "PATCH"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class RouteSpec:
    """What a route promises (``route(...)``): the OpenAPI operation, the
    authorization matrix and the gateway's own checks all read this."""

    method: str
    url: str
    access: str
    summary: str
    handler_name: str
    body_model: object = None
    query_model: object = None
    response_model: object = None  # None with status 204: no body
    status: int = 200
    also_status: int | None = None  # a second success status (e.g. 200 for a run that already existed)
    errors: dict = field(default_factory=dict)  # status -> the error codes the route may answer with
    tags: tuple = ()
    description: str = ""
    idempotency: str | None = None  # "optional" or "required" (an Idempotency-Key header)
    rate_limited: bool = False  # may answer 429 (documented)
    rate_limit: str | None = None  # a gateway rate-limit rule counted before anything else (``gateway.ratelimit``)
    hidden: bool = False  # not an API operation (the docs page): left out of the document
    service_checks_body: bool = False  # body_model documented, validated by the service after its own role check
    stream: str | None = None  # a media type streamed instead of a JSON body (text/event-stream)
    outside_pool: bool = False  # answered in the request's own thread, never queued for a worker slot


def routes_of(service_cls) -> dict[tuple[str, str], RouteSpec]:
    """The route table of a gateway class, read off its entrypoints: the
    OpenAPI document and the authorization matrix are built from it."""
    table = {}
    for attr in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, attr), "nameko_entrypoints", ()):
            if isinstance(entrypoint, ApiRoute):
                table[(entrypoint.method, entrypoint.url)] = entrypoint.route_spec
    return table


def json_response(status: int, payload=None, headers: dict | None = None) -> Response:
    if status == 204 or payload is None:
        return Response(status=status, headers=headers)
    return Response(
        json.dumps(payload, default=str, ensure_ascii=False),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def error_response(exc: DomainError, request=None) -> Response:
    """The contract's error body, its message rendered from the code and details
    in the caller's language (``chassis.messages``; the code never changes)."""
    language = messages.language_of(request.headers.get("Accept-Language") if request is not None else None)
    body = exc.to_body()
    body["error"]["message"] = messages.render(exc.code, exc.details, language, exc.message, exc.status)
    response = json_response(exc.status, body)
    response.headers["Content-Language"] = language
    return response


def internal_error_response(request=None) -> Response:
    return error_response(DomainError("internal_error", "something went wrong on our side", status=500), request)


def _not_json(constant: str) -> float:
    """Python reads NaN and Infinity; JSON (RFC 8259) has neither, and no field takes them."""
    raise ValueError(f"{constant} is not JSON")


def read_json_body(request):
    """The parsed body, or None when there is none; the contract's 400/413/415."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(message=f"body is larger than {MAX_BODY_BYTES} bytes")
    request.max_content_length = MAX_BODY_BYTES  # also caps chunked bodies
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(message=f"body is larger than {MAX_BODY_BYTES} bytes") from None
    if not raw:
        return None
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            message="send the body as application/json", details={"content_type": request.mimetype or None}
        )
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedRequest(message="body is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):  # ``null`` is not "no body": it would read as {} downstream
        raise ValidationFailed(message="request body is invalid", details={"fields": {"body": "must be a JSON object"}})
    return body


def client_request_id(request) -> str:
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID.match(given) else new_correlation_id()


class ApiWsgiApp(WsgiApp):
    """nameko's WSGI app, with unknown paths and methods answered in the
    contract's error shape instead of werkzeug's HTML pages."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            if (
                len(environ.get("RAW_URI") or environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
                > MAX_URL_BYTES
            ):
                raise DomainError("uri_too_long", f"the URL is longer than {MAX_URL_BYTES} bytes", status=414)
            provider, values = adapter.match()
        except DomainError as exc:
            response = error_response(exc, request)
            response.headers["X-Request-Id"] = client_request_id(request)
        except HTTPException as exc:
            code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
            response = error_response(DomainError(code, exc.description or code, status=exc.code), request)
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
            response.headers["X-Request-Id"] = client_request_id(request)
        else:
            request.path_values = values
            response = provider.handle_request(request)
        return response(environ, start_response)


QUERY_VALUE = re.compile(r"([?&][^=&\s\"]+=)[^&\s\"]*")


def redact_query(line: str) -> str:
    """An access-log line with every query value blanked: ``?q=김다온`` and
    ``?q=5678`` search for people by name and phone (R-RSV-8), and logs are
    kept and read by more people, for longer, than the data they point at."""
    return QUERY_VALUE.sub(r"\1-", line)


class RedactingLog:
    """eventlet's access log (``log.info`` per request) without query values."""

    def __init__(self, logger):
        self.logger = logger

    def info(self, message, *args, **kwargs):
        self.logger.info(redact_query(str(message)), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.logger, name)


class ApiServer(WebServer):
    def get_wsgi_app(self):
        return ApiWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        server = super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)
        # eventlet answers an over-long request line itself, as a bare HTTP/1.0 414;
        # up to this limit the app answers it in the contract's error shape.
        server.url_length_limit = SERVER_LINE_LIMIT
        server.log = RedactingLog(server.log)
        return server

    def process_request(self, sock, address):
        # eventlet's wsgi writes a response in several sends; with Nagle on, a
        # kept-alive client's delayed ACK held a large body back ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().process_request(sock, address)


class ApiRoute(HttpRequestHandler):
    """``@route("POST", "/v1/partners", access=..., summary=...)``.

    The handler is called as ``handler(self, request, **path_values)``;
    ``request.json_body`` holds the parsed body (None when empty) and
    ``request.query`` the query (a dict; validated by the route's query model
    when it has one). It returns ``(status, payload)`` or a payload for 200, or
    a werkzeug Response.
    """

    server = ApiServer()

    def __init__(self, method: str, url: str, spec: RouteSpec | None = None, **kwargs):
        self.spec = spec
        super().__init__(method, url, **kwargs)

    @property
    def route_spec(self) -> RouteSpec:
        assert self.spec is not None, "an ApiRoute is made by @route, which always gives its spec"
        return self.spec

    @property
    def access(self) -> str:
        return self.route_spec.access

    def handle_request(self, request):
        request.shallow = False
        correlation_id = client_request_id(request)
        try:
            if any("\x00" in str(value) for value in request.path_values.values()):
                raise NotFound("not_found", "no such object")  # no id contains NUL; storage would refuse it
            request.json_body, request.body_error = None, None
            if self.method in BODY_METHODS:
                try:
                    request.json_body = read_json_body(request)
                except DomainError as exc:
                    request.body_error = exc  # raised after authorisation: 401 comes before 415
            context_data = {CORRELATION_KEY: correlation_id, "client_address": request.remote_addr or ""}
            finished = Event()
            if self.route_spec.outside_pool:
                self.run_outside_pool(request, context_data, partial(self.handle_result, finished))
            else:
                self.container.spawn_worker(
                    self,
                    (request,),
                    request.path_values,
                    context_data=context_data,
                    handle_result=partial(self.handle_result, finished),
                )
            response = self.response_from_result(finished.wait())
        except DomainError as exc:
            response = error_response(exc, request)
        except Exception:
            log.exception("unhandled_error", route=f"{self.method} {self.url}")
            response = internal_error_response(request)
        response.headers["X-Request-Id"] = correlation_id
        return response

    def run_outside_pool(self, request, context_data: dict, handle_result) -> None:
        """The worker's life (dependencies injected, the handler, its result handled) in this request's
        own thread, as ``spawn_worker`` does in a pooled one. For ``/healthz``: under a burst, requests
        wait for one of the ``max_workers`` slots in arrival order, and the probe waited behind 200
        bookings for more than 5 s (``make proof`` beside a loaded ``make run``, #24), so a busy
        gateway read as a dead one. Nameko has no public call for this; ``_run_worker`` is the body
        of ``spawn_worker``'s thread."""
        if self.container._being_killed:
            raise ServiceUnavailable("stopping", "the gateway is stopping")
        worker_ctx = WorkerContext(
            self.container,
            self.container.service_cls(),
            self,
            args=(request,),
            kwargs=request.path_values,
            data=context_data,
        )
        self.container._run_worker(worker_ctx, handle_result)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            return json_response(*result)
        return json_response(200, result)


def query_of(request) -> dict:
    """The query string as a dict, for the service that validates it (422 naming the parameters)."""
    return request.args.to_dict()


@cache
def adapter_of(model) -> TypeAdapter:
    return TypeAdapter(model)


# Responses that did not match their model, newest last: (route, errors). The
# tests fail on any (conftest.py), so a model that drifts is caught where it drifts.
CONTRACT_BREACHES: list[tuple[str, str]] = []


def serialise(spec: RouteSpec, result):
    """The handler's result as a response, its body through the route's
    response model (fields the model does not name are refused, not dropped).
    A body that does not match is our bug, not the caller's, and what it
    answers has already happened (a booking made): it is sent as it is and
    logged as ``response_breaks_contract``, never turned into a 500."""
    if isinstance(result, Response):
        return result
    status, payload = result if isinstance(result, tuple) else (200, result)
    if RESPONSE_SAMPLES_DIR and payload is not None and status < 300:
        record_sample(spec, status, payload)
    if payload is None or spec.response_model is None or status >= 300:
        return status, payload
    try:
        adapter = adapter_of(spec.response_model)
        return status, adapter.dump_python(
            adapter.validate_python(payload), mode="json", by_alias=True, exclude_unset=True
        )  # an optional field left out stays out
    except ValidationError as exc:
        route_name = f"{spec.method} {spec.url}"
        log.error("response_breaks_contract", route=route_name, errors=str(exc)[:2000])
        del CONTRACT_BREACHES[:-100]
        CONTRACT_BREACHES.append((route_name, str(exc)[:2000]))
        return status, payload


# Where a test run may keep examples of what each operation answered (a JSON line per
# answer, ``<dir>/<operationId>.jsonl``): the material response models are written from.
RESPONSE_SAMPLES_DIR = os.environ.get("PC_RECORD_RESPONSES", "")
SAMPLES_PER_OPERATION = 30


def key_paths(value, prefix: str = "") -> list[str]:
    """Every key path of a JSON value with the kind at its end (``items[].status:str``)."""
    if isinstance(value, dict):
        return [path for key, item in value.items() for path in key_paths(item, f"{prefix}.{key}")] or [prefix + ":{}"]
    if isinstance(value, list):
        return [path for item in value for path in key_paths(item, prefix + "[]")] or [prefix + ":[]"]
    return [f"{prefix}:{type(value).__name__}"]


def record_sample(spec: RouteSpec, status: int, payload) -> None:
    """Keeps an answer whose shape (key paths and kinds) has not been kept yet."""
    path = os.path.join(RESPONSE_SAMPLES_DIR, f"{spec.handler_name}.jsonl")
    shape = sorted(set(key_paths(payload)))
    try:
        with open(path, "a+", encoding="utf-8") as samples:
            samples.seek(0)
            kept = [json.loads(line)["shape"] for line in samples if line.strip()]
            if shape not in kept and len(kept) < SAMPLES_PER_OPERATION:
                samples.write(
                    json.dumps({"status": status, "shape": shape, "payload": payload}, default=str, ensure_ascii=False)
                    + "\n"
                )
    except (OSError, ValueError):
        pass  # examples are a convenience; never fail an answer for them


def route(
    method: str,
    url: str,
    access: str = "public",
    summary: str = "",
    *,
    body_model=None,
    query_model=None,
    response_model=None,
    status: int = 200,
    also_status: int | None = None,
    errors: dict | None = None,
    tags=(),
    description: str = "",
    idempotency: str | None = None,
    rate_limited: bool = False,
    rate_limit: str | None = None,
    hidden: bool = False,
    service_checks_body: bool = False,
    stream: str | None = None,
    outside_pool: bool = False,
    **kwargs,
):
    """Declare a gateway route and what it promises (``RouteSpec``). The
    access level (``gateway.auth``) is checked before the handler runs;
    ``request.principal`` is the authorised caller. ``errors`` maps a status
    to the error codes the route may answer with beyond the conventions'
    ones (``gateway.openapi`` adds 401/403/404/422/... from the declaration).
    ``service_checks_body``: the body model is the one the service validates
    with, after a finer role check of its own (admin-only acts of a route open
    to masters): the gateway documents it but does not validate it first, so
    a caller without the role hears 403 whatever they sent."""
    if access not in ACCESS_LEVELS:
        raise ValueError(f"unknown access level {access!r}")
    if idempotency not in (None, "optional", "required"):
        raise ValueError(f"idempotency is optional or required, not {idempotency!r}")

    scope = scopes.scope_of(method, url)

    def decorate(handler):
        spec = RouteSpec(
            method,
            url,
            access,
            summary,
            handler.__name__,
            body_model,
            query_model,
            response_model,
            status,
            also_status,
            dict(errors or {}),
            tuple(tags) or (area_of(handler),),
            description,
            idempotency,
            rate_limited or rate_limit is not None,
            rate_limit,
            hidden,
            service_checks_body,
            stream,
            outside_pool,
        )

        @wraps(handler)
        def guarded(self, request, **path_values):
            request.principal = authorize(
                self.services,
                request,
                access,
                path_values.get("pid"),
                float(self.config.get("CUSTOMER_AUTH_CACHE_SECONDS", 0)),
                scope,
            )
            if rate_limit is not None and (refused := self.rate_limited(rate_limit, request)) is not None:
                return refused  # every attempt counts, a malformed one too
            if request.body_error is not None:
                raise request.body_error
            if body_model is not None and not service_checks_body:
                parse(body_model, request.json_body)
            request.query = query_of(request)
            if query_model is not None:
                parse_query(query_model, request.query)
            return serialise(spec, handler(self, request, **path_values))

        # Domain errors are answers (4xx), not failures: nameko logs them as expected.
        kwargs.setdefault("expected_exceptions", DomainError)
        return ApiRoute.decorator(method, url, spec=spec, **kwargs)(guarded)

    return decorate


def area_of(handler) -> str:
    """The tag of a route: its routes class (``ReservationsRoutes`` -> ``reservations``)."""
    owner = handler.__qualname__.rpartition(".")[0]
    return owner.removesuffix("Routes").lower() if owner.endswith("Routes") else "platform"
