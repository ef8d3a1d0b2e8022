"""The console's web plumbing: requests, sessions, CSRF, language, rendering.

Sessions: the gateway token the member got at login is the session. It lives
only in the ``pc_session`` cookie (Secure, HttpOnly, SameSite=Lax: scripts
cannot read it, other sites' forms do not carry it), so any number of console
processes serve the same member and the console stores nothing. Logging out
ends the token at the gateway too.

CSRF: every form carries ``csrf``, an HMAC (the console's secret) of the
``pc_csrf`` cookie (random, set on the first visit) and of the session; a POST
without the right one is refused (403, nothing is sent to the gateway). An
attacker's page can neither read the cookie nor compute the HMAC.

Secure cookies need HTTPS, or a browser's ``localhost``/``127.0.0.1``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect, send_from_directory
from werkzeug.wrappers import Request, Response

from .gateway import ApiError, Gateway
from .words import ORDER_CATEGORIES, WORDS, Words, choose_language

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "pc_session"
CSRF_COOKIE = "pc_csrf"
LANG_COOKIE = "pc_lang"
COOKIE_FLAGS: dict[str, Any] = {"secure": True, "httponly": True, "samesite": "Lax", "path": "/"}
SEOUL = dt.timezone(dt.timedelta(hours=9))  # the partner's zone (api.md: Asia/Seoul by default, no DST)


def seoul_time(value: str | None) -> dt.datetime | None:
    """An instant from the API (ISO 8601, UTC) as the partner reads it: every
    template has it as ``when``, so no screen shows a UTC timestamp."""
    return dt.datetime.fromisoformat(value).astimezone(SEOUL) if value else None


def seoul_date(value: str | None) -> str:
    """The partner's calendar date of an instant ('' for none): an instant's first
    ten characters are its UTC date, a day early before 09:00 in Seoul."""
    moment = seoul_time(value)
    return moment.date().isoformat() if moment else ""


def sells_goods(partner: dict[str, Any] | None) -> bool:
    """``partner is sells_goods`` in a template: a cafe or a shop, whose screens are
    orders rather than bookings (seeds 003, 004)."""
    return partner is not None and partner.get("category") in ORDER_CATEGORIES


def percent(value: float | None) -> str:
    """A rate from the API (a fraction, or null when there was nothing to count)."""
    return "-" if value is None else f"{value * 100:.1f}%"


class Ctx:
    """One request as a screen sees it."""

    def __init__(self, console: Console, request: Request):
        self.console = console
        self.request = request
        self.lang = choose_language(request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language"))
        self.words = Words(self.lang)
        self.token = request.cookies.get(SESSION_COOKIE) or None
        self.csrf_seed = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        self.api = Gateway(console.gateway_url, self.token, self.lang)
        self.error: str | None = None
        self.notice: str | None = None
        self.revealed_phone = ""  # the full number, once the phone reveal asked for it (R-RSV-12)
        self._partners: list | None = None
        self._me: dict | None = None

    # --- who is here --------------------------------------------------------------

    @property
    def form(self):
        return self.request.form

    def me(self) -> dict:
        if self._me is None:
            self._me = self.api.get("/v1/me")
        return self._me

    def is_operator(self) -> bool:
        """Operators have no member profile: the gateway's ``/v1/me`` is for members (403)."""
        try:
            return self.me().get("kind") == "operator"
        except ApiError as error:
            if error.status == 403:
                return True
            raise

    def partners(self) -> list[dict]:
        if self._partners is None:
            answer = self.api.get("/v1/me/partners")
            self._partners = answer["items"] if isinstance(answer, dict) else answer
        return self._partners

    def partner(self, pid: str) -> dict:
        """This member's partner (with their ``role``), or the contract's 404."""
        for partner in self.partners():
            if partner["partner_id"] == pid:
                return partner
        raise ApiError(404, "partner_not_found")

    def require_role(self, pid: str, *roles: str) -> dict:
        partner = self.partner(pid)
        if partner["role"] not in roles:
            raise ApiError(403, "forbidden")
        return partner

    # --- CSRF ---------------------------------------------------------------------------

    def csrf_token(self) -> str:
        message = f"{self.csrf_seed}|{self.token or ''}".encode()
        return hmac.new(self.console.secret, message, hashlib.sha256).hexdigest()

    def csrf_ok(self) -> bool:
        given = self.request.form.get("csrf", "")
        return bool(self.request.cookies.get(CSRF_COOKIE)) and hmac.compare_digest(given, self.csrf_token())

    # --- answers --------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, **values) -> Response:
        body = self.console.templates.get_template(template).render(ctx=self, w=self.words, t=self.words, **values)
        return Response(body, status=status, mimetype="text/html")

    def url(self, path: str, **query) -> str:
        query = {k: v for k, v in query.items() if v not in (None, "")}
        return path + ("?" + urlencode(query) if query else "")


HEALTH_PATH = "/healthz"  # no gateway call: a gateway outage must not restart every console pod


class Console:
    """The WSGI application. ``screens``, ``commerce`` and ``booking_screens`` register the routes."""

    def __init__(self, gateway_url: str, secret: bytes | None = None):
        from . import booking_screens, commerce, screens

        self.gateway_url = gateway_url
        self.secret = secret or secrets.token_bytes(32)
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
        )
        self.templates.globals["WORDS"] = WORDS
        self.templates.globals["when"] = seoul_time
        self.templates.globals["percent"] = percent
        self.templates.globals["day_of"] = seoul_date
        self.templates.tests["sells_goods"] = sells_goods
        self.url_map = Map(
            [
                Rule(path, endpoint=view, methods=methods)
                for path, methods, view in screens.ROUTES + commerce.ROUTES + booking_screens.ROUTES
            ],
            strict_slashes=False,
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        ctx = Ctx(self, request)
        response = self.dispatch(ctx)
        if not request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, ctx.csrf_seed, **COOKIE_FLAGS)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response(environ, start_response)

    def dispatch(self, ctx: Ctx) -> Response:
        if ctx.request.path == HEALTH_PATH:  # the probes' path (services/console/deploy.yaml): the process answers
            return Response("ok", mimetype="text/plain")
        if ctx.request.path.startswith("/static/"):
            try:
                return send_from_directory(
                    HERE / "static", ctx.request.path[len("/static/") :], ctx.request.environ, max_age=3600
                )
            except NotFound:
                return Response("not found", status=404)
        adapter = self.url_map.bind_to_environ(ctx.request.environ)
        try:
            view, values = adapter.match()
        except NotFound:
            return ctx.render("error.html", status=404, message=ctx.words("nothing"))
        except HTTPException as exc:
            return exc.get_response()
        if ctx.request.method == "POST" and not ctx.csrf_ok():
            return ctx.render("error.html", status=403, message=ctx.words.error_text(ApiError(403, "csrf_failed")))
        try:
            return view(ctx, **values)
        except ApiError as error:
            return error_page(ctx, error)


def error_page(ctx: Ctx, error: ApiError) -> Response:
    """A 401 sends the member to the login page; anything else is shown in words
    that say what to do next, with the gateway's status (a 5xx only when the
    platform itself could not answer)."""
    if error.status == 401:
        response = redirect(ctx.url("/login", next=ctx.request.full_path.rstrip("?")), code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return ctx.render(
        "error.html",
        status=error.status if error.status in (403, 404, 409, 422, 503) else 400,
        message=ctx.words.error_text(error),
    )
