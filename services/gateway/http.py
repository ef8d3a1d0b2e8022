"""The gateway's HTTP entrypoint: the contract's conventions in one place.

Every route gets, before its handler runs: a correlation id (``X-Request-Id``
in, or a new one; always echoed out), a body limit (413), JSON only (415),
malformed JSON refused (400). Domain errors become the contract's error body
with their status; anything unexpected is a 500 with no stack trace.
"""
from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from functools import partial, wraps

from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from chassis.context import CORRELATION_KEY, new_correlation_id
from chassis import messages
from chassis.errors import DomainError, MalformedRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from chassis.logging import get_logger
from chassis.validation import parse

from .auth import ACCESS_LEVELS, authorize

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class RouteSpec:
    method: str
    url: str
    access: str
    summary: str
    body_model: object
    handler_name: str


def routes_of(service_cls) -> dict[tuple[str, str], RouteSpec]:
    """The route table of a gateway class, read off its entrypoints: the
    OpenAPI document and the authorization matrix are built from it."""
    table = {}
    for attr in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, attr), "nameko_entrypoints", ()):
            if isinstance(entrypoint, ApiRoute):
                table[(entrypoint.method, entrypoint.url)] = RouteSpec(
                    entrypoint.method, entrypoint.url, entrypoint.access, entrypoint.summary,
                    entrypoint.body_model, attr)
    return table


def json_response(status: int, payload=None, headers: dict | None = None) -> Response:
    if status == 204 or payload is None:
        return Response(status=status, headers=headers)
    return Response(json.dumps(payload, default=str, ensure_ascii=False), status=status,
                    headers=headers, mimetype="application/json")


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
        raise UnsupportedMediaType(message="send the body as application/json",
                                   details={"content_type": request.mimetype or None})
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedRequest(message="body is not valid UTF-8 JSON") from None


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
            provider, values = adapter.match()
        except HTTPException as exc:
            code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
            response = error_response(DomainError(code, exc.description or code, status=exc.code), request)
            response.headers["X-Request-Id"] = client_request_id(request)
        else:
            request.path_values = values
            response = provider.handle_request(request)
        return response(environ, start_response)


class ApiServer(WebServer):
    def get_wsgi_app(self):
        return ApiWsgiApp(self)

    def process_request(self, sock, address):
        # eventlet's wsgi writes a response in several sends; with Nagle on, a
        # kept-alive client's delayed ACK held a large body back ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().process_request(sock, address)


class ApiRoute(HttpRequestHandler):
    """``@route("POST", "/v1/partners", access=..., summary=...)``.

    The handler is called as ``handler(self, request, **path_values)``;
    ``request.json_body`` holds the parsed body (None when empty). It returns
    ``(status, payload)`` or a payload for 200, or a werkzeug Response.
    """

    server = ApiServer()

    def __init__(self, method: str, url: str, access: str = "public", summary: str = "",
                 body_model=None, **kwargs):
        self.access = access
        self.summary = summary
        self.body_model = body_model
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        request.shallow = False
        correlation_id = client_request_id(request)
        try:
            if any("\x00" in str(value) for value in request.path_values.values()):
                raise NotFound("not_found", "no such object")  # no id contains NUL; storage would refuse it
            request.json_body = read_json_body(request) if self.method in BODY_METHODS else None
            context_data = {CORRELATION_KEY: correlation_id,
                            "client_address": request.remote_addr or ""}
            finished = Event()
            self.container.spawn_worker(
                self, (request,), request.path_values, context_data=context_data,
                handle_result=partial(self.handle_result, finished))
            response = self.response_from_result(finished.wait())
        except DomainError as exc:
            response = error_response(exc, request)
        except Exception:
            log.exception("unhandled_error", route=f"{self.method} {self.url}")
            response = internal_error_response(request)
        response.headers["X-Request-Id"] = correlation_id
        return response

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            return json_response(*result)
        return json_response(200, result)


def query_of(request) -> dict:
    """The query string as a dict, for the service that validates it (422 naming the fields)."""
    return request.args.to_dict()


def route(method: str, url: str, access: str = "public", summary: str = "", body_model=None, **kwargs):
    """Declare a gateway route. The access level (``gateway.auth``) is checked
    before the handler runs; ``request.principal`` is the authorised caller.
    ``body_model``: the body is validated against it first (unknown fields
    422); ``chassis.validation.NoBody`` for a route that takes none. A route
    without one passes its body on to the service that validates it."""
    if access not in ACCESS_LEVELS:
        raise ValueError(f"unknown access level {access!r}")

    def decorate(handler):
        @wraps(handler)
        def guarded(self, request, **path_values):
            request.principal = authorize(self.services, request, access, path_values.get("pid"),
                                          float(self.config.get("CUSTOMER_AUTH_CACHE_SECONDS", 0)))
            if body_model is not None:   # refused before anything is done (422 naming the fields)
                parse(body_model, request.json_body)
            return handler(self, request, **path_values)
        # Domain errors are answers (4xx), not failures: nameko logs them as expected.
        kwargs.setdefault("expected_exceptions", DomainError)
        return ApiRoute.decorator(method, url, access=access, summary=summary, body_model=body_model,
                                  **kwargs)(guarded)
    return decorate
