"""The console's screens (seeds 000-002), each a thin view over gateway calls.

A view reads what it shows from the gateway with the member's token; a form
posts to the gateway and redirects (303) back to the screen it came from, or
shows that screen again with the error in words that say what to do next.
Roles are the gateway's to enforce; the console only hides what a role may
not use and refuses the edit screens up front (R-ACC-11: a member sees no
product editing or settlement).
"""

from __future__ import annotations

import datetime as dt

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from .gateway import ApiError
from .web import COOKIE_FLAGS, LANG_COOKIE, SESSION_COOKIE, Ctx

MANAGERS = ("admin", "master")
STAFF = ("admin", "master", "member")
RESERVATION_TABS = ("requested", "confirmed", "completed", "no_show", "rejected", "cancelled")
RESERVATION_ACTIONS = {  # action -> (states it applies to, needs a reason)
    "confirm": (("requested",), False),
    "reject": (("requested",), True),
    "complete": (("confirmed",), False),
    "no-show": (("confirmed",), False),
    "cancel": (("requested", "confirmed"), True),
}


def see_other(location: str) -> Response:
    return redirect(location, code=303)


def or_show(ctx: Ctx, view, error: ApiError, **values) -> Response:
    """The screen again, with the error on top (the member's input is still in the form)."""
    if error.status == 401:
        raise error
    ctx.error = ctx.words.error_text(error)
    ctx.request.method = "GET"  # show the screen: a view that both shows and posts must not post again
    response = view(ctx, **values)
    response.status_code = error.status if error.status < 500 else 503
    return response


def act(ctx: Ctx, method: str, path: str, body: dict | None, screen, done: str, **values) -> Response:
    """A form's one gateway call: on success back to ``done`` (303), else
    ``screen`` again with the error on top."""
    try:
        ctx.api.call(method, path, body=body if body is not None else {})
    except ApiError as error:
        return or_show(ctx, screen, error, **values)
    return see_other(done)


def form_fields(ctx: Ctx, *names: str) -> dict:
    """A form's text fields as a body, each as typed ("" when absent)."""
    return {name: ctx.form.get(name, "") for name in names}


def signed_in(session: dict, target: str) -> Response:
    """To ``target`` with the new session's cookie."""
    response = see_other(target)
    response.set_cookie(SESSION_COOKIE, session["token"], **COOKIE_FLAGS)
    return response


def partner_path(pid: str) -> str:
    return f"/v1/partners/{pid}"


def product_path(pid: str, product_id: str) -> str:
    return f"{partner_path(pid)}/products/{product_id}"


# --- signing in and out (seed 000) ---------------------------------------------------------


def login(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        try:
            session = ctx.api.post("/v1/sessions", form_fields(ctx, "login_id", "password"))
        except ApiError as error:
            ctx.error = ctx.words.error_text(error)
            return ctx.render("login.html", status=error.status)
        target = ctx.request.args.get("next", "/")
        return signed_in(session, target if target.startswith("/") and not target.startswith("//") else "/")
    return ctx.render("login.html")


def to_login_signed_out() -> Response:
    """Back to the login screen, the session cookie gone."""
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def logout(ctx: Ctx) -> Response:
    try:
        ctx.api.delete("/v1/sessions/current")
    except ApiError:
        pass  # an expired session is as logged out as it gets
    return to_login_signed_out()


def withdraw_or_show(ctx: Ctx, screen) -> Response:
    """A 회원탈퇴 form's post (R-ACC-3..5): the member withdrawn and signed out,
    or ``screen`` again with the refusal (last_admin names the partners)."""
    try:
        ctx.api.post("/v1/me/withdraw", {"confirm": ctx.form.get("confirm") == "yes"})
    except ApiError as error:
        return or_show(ctx, screen, error)
    return to_login_signed_out()


def signup(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        body = {
            **form_fields(ctx, "login_id", "password", "name", "phone"),
            "agree_terms": ctx.form.get("agree_terms") == "yes",
        }
        try:
            ctx.api.post("/v1/members", body)
            session = ctx.api.post("/v1/sessions", form_fields(ctx, "login_id", "password"))
        except ApiError as error:
            ctx.error = ctx.words.error_text(error)
            return ctx.render("signup.html", status=error.status)
        return signed_in(session, "/")
    return ctx.render("signup.html")


def language(ctx: Ctx, lang: str) -> Response:
    back = ctx.request.referrer or "/"
    response = see_other(back if back.startswith(ctx.request.host_url) or back.startswith("/") else "/")
    response.set_cookie(LANG_COOKIE, lang if lang in ("ko", "en") else "ko", max_age=365 * 86400, **COOKIE_FLAGS)
    return response


# --- home, my information, partners (seed 000, R-ACC-7) --------------------------------------------


def home(ctx: Ctx) -> Response:
    if not ctx.token:
        return see_other("/login")
    if ctx.is_operator():
        return see_other("/ops")
    partners = ctx.partners()
    invitations = ctx.api.get("/v1/me/invitations", limit=100)["items"]
    only_admin = [p for p in partners if p["role"] == "admin"]
    if len(partners) == 1 and only_admin and not invitations and not ctx.request.args.get("list"):
        return see_other(f"/p/{partners[0]['partner_id']}")  # seed 000: an admin lands on the dashboard
    return ctx.render("home.html", partners=partners, invitations=invitations)


def invitation(ctx: Ctx, invitation_id: str, answer: str) -> Response:
    ctx.api.post(f"/v1/invitations/{invitation_id}/{'accept' if answer == 'accept' else 'decline'}")
    return see_other("/?list=1")


def me(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return withdraw_or_show(ctx, me)
    return ctx.render("me.html", me=ctx.me())


def partner_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        body = form_fields(ctx, "name", "category", "business_number")
        if ctx.form.get("via_agency") == "yes":
            body["via_agency"] = True
        try:
            created = ctx.api.post("/v1/partners", body)
        except ApiError as error:
            return or_show(ctx, partner_new, error)
        return see_other(f"/p/{created['partner_id']}")
    return ctx.render("partner_new.html")


def dashboard(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    details = ctx.api.get(partner_path(pid))
    summary = ctx.api.get(f"{partner_path(pid)}/dashboard")
    return ctx.render("dashboard.html", partner=partner, details=details, summary=summary)


def notices(ctx: Ctx) -> Response:
    items = ctx.api.get("/v1/notices", q=ctx.request.args.get("q"))
    return ctx.render("notices.html", notices=items["items"] if isinstance(items, dict) else items)


# --- 예약관리 (seed 002) -----------------------------------------------------------------------


def reservation_query(ctx: Ctx) -> dict:
    args = ctx.request.args
    status = args.get("status", "requested")
    return {"status": status if status in RESERVATION_TABS else None, "q": args.get("q", "").strip(), "limit": 50}


def reservations(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    query = reservation_query(ctx)
    listing = ctx.api.get(f"{partner_path(pid)}/reservations", **query)
    template = "_reservation_list.html" if ctx.request.headers.get("HX-Request") else "reservations.html"
    return ctx.render(template, partner=partner, query=query, items=listing["items"], tabs=RESERVATION_TABS)


def reservation(ctx: Ctx, pid: str, number: str) -> Response:
    partner = ctx.partner(pid)
    found = ctx.api.get(f"{partner_path(pid)}/reservations/{number}")
    actions = [name for name, (states, _) in RESERVATION_ACTIONS.items() if found["status"] in states]
    return ctx.render(
        "reservation.html",
        partner=partner,
        r=found,
        actions=actions,
        needs_reason={name for name, (_, reason) in RESERVATION_ACTIONS.items() if reason},
    )


def reservation_action(ctx: Ctx, pid: str, number: str, action: str) -> Response:
    if action not in RESERVATION_ACTIONS and action != "chat-requests":
        return ctx.render("error.html", status=404, message=ctx.words("nothing"))
    body = {"reason": ctx.form.get("reason", "")} if RESERVATION_ACTIONS.get(action, ((), False))[1] else {}
    return act(
        ctx,
        "POST",
        f"{partner_path(pid)}/reservations/{number}/{action}",
        body,
        reservation,
        f"/p/{pid}/reservations/{number}?done=1",
        pid=pid,
        number=number,
    )


def events(ctx: Ctx, pid: str) -> Response:
    """The gateway's live events, relayed to the browser as they come (the
    browser cannot send the token itself: it is in an HttpOnly cookie)."""
    ctx.request.environ["eventlet.minimum_write_chunk_size"] = 0  # relay each event at once
    upstream = ctx.api.stream(f"{partner_path(pid)}/events", ctx.request.headers.get("Last-Event-ID"))

    def relay():
        try:
            yield from upstream.iter_content(chunk_size=None)
        except Exception:  # the gateway ended or dropped the stream: the browser reconnects
            return
        finally:
            upstream.close()

    return Response(
        relay(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def board(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    products = ctx.api.get(f"{partner_path(pid)}/products", kind="booking", limit=100)["items"]
    today = dt.date.today()
    query = {
        "product_id": ctx.request.args.get("product_id") or (products[0]["product_id"] if products else ""),
        "from": ctx.request.args.get("from") or today.isoformat(),
        "to": ctx.request.args.get("to") or (today + dt.timedelta(days=13)).isoformat(),
    }
    slots = ctx.api.get(f"{partner_path(pid)}/reservation-board", **query) if query["product_id"] else None
    return ctx.render("board.html", partner=partner, products=products, query=query, board=slots)


# --- chats (seed 002: 채팅하기) -------------------------------------------------------------------


def chats(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    listing = ctx.api.get(f"{partner_path(pid)}/conversations", limit=50)
    return ctx.render("chats.html", partner=partner, conversations=listing["items"])


def chat(ctx: Ctx, pid: str, conversation_id: str) -> Response:
    partner = ctx.partner(pid)
    path = f"{partner_path(pid)}/conversations/{conversation_id}/messages"
    if ctx.request.method == "POST":
        try:
            ctx.api.post(path, {"body": ctx.form.get("body", "")})
        except ApiError as error:
            ctx.error = ctx.words.error_text(error)
        else:
            return see_other(f"/p/{pid}/chats/{conversation_id}")
    messages = ctx.api.get(path, limit=100)["items"][::-1]
    return ctx.render("chat.html", partner=partner, conversation_id=conversation_id, messages=messages)


def notifications(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    listing = ctx.api.get(f"{partner_path(pid)}/notifications", limit=50)
    return ctx.render("notifications.html", partner=partner, items=listing["items"])


# --- products (seed 001) -----------------------------------------------------------------------------


def products(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    listing = ctx.api.get(f"{partner_path(pid)}/products", limit=100)
    return ctx.render("products.html", partner=partner, items=listing["items"])


def places(ctx: Ctx, pid: str) -> Response:
    """장소 (seed 001): where booking products are used; a booking product names one before review."""
    partner = ctx.require_role(pid, *MANAGERS)
    if ctx.request.method == "POST":
        body = {key: ctx.form.get(key, "").strip() for key in ("name", "address", "phone")}
        return act(
            ctx,
            "POST",
            f"{partner_path(pid)}/places",
            {k: v for k, v in body.items() if v},
            places,
            f"/p/{pid}/places?done=1",
            pid=pid,
        )
    return ctx.render("places.html", partner=partner, items=partner_places(ctx, pid))


def staff(ctx: Ctx, pid: str) -> Response:
    """Staff, invitations and roles (seed 000): admins and masters invite by login id and
    change roles (the gateway enforces that masters manage only masters and members)."""
    partner = ctx.require_role(pid, *MANAGERS)
    if ctx.request.method == "POST":
        form = ctx.form
        if form.get("member_id"):
            return act(
                ctx,
                "PATCH",
                f"{partner_path(pid)}/members/{form['member_id']}",
                {"role": form.get("role", "")},
                staff,
                f"/p/{pid}/staff?done=1",
                pid=pid,
            )
        return act(
            ctx,
            "POST",
            f"{partner_path(pid)}/invitations",
            {"login_id": form.get("login_id", "").strip(), "role": form.get("role", "")},
            staff,
            f"/p/{pid}/staff?done=1",
            pid=pid,
        )
    answer = ctx.api.get(f"{partner_path(pid)}/members", limit=100)
    return ctx.render("staff.html", partner=partner, members=answer["items"] if isinstance(answer, dict) else answer)


def partner_places(ctx: Ctx, pid: str) -> list[dict]:
    answer = ctx.api.get(f"{partner_path(pid)}/places", limit=100)
    return answer["items"] if isinstance(answer, dict) else answer


def product_new(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    if ctx.request.method == "POST":
        form = ctx.form
        prices = [
            {"label": label, "amount": int(amount or 0)}
            for label, amount in zip(form.getlist("price_label"), form.getlist("price_amount"), strict=False)
            if label.strip() and amount.strip().isdigit()
        ]
        body = {
            "kind": "booking",
            "name": form.get("name", ""),
            "schedule_type": form.get("schedule_type", ""),
            "quantity_mode": "slot",
            "prices": prices,
            "payment": form.get("payment", "none"),
        }
        if form.get("place_id"):
            body["place_id"] = form["place_id"]
        if form.get("deadline_hours", "").isdigit():
            body["cancel_policy"] = {"deadline_hours_before": int(form["deadline_hours"])}
        try:
            created = ctx.api.post(f"{partner_path(pid)}/products", body)
        except ApiError as error:
            return or_show(ctx, product_new, error, pid=pid)
        return see_other(f"/p/{pid}/products/{created['product_id']}")
    return ctx.render("product_new.html", partner=partner, places=partner_places(ctx, pid))


def product(ctx: Ctx, pid: str, product_id: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    found = ctx.api.get(product_path(pid, product_id))
    inventory = ctx.api.get(f"{product_path(pid, product_id)}/inventory")
    return ctx.render("product.html", partner=partner, p=found, inventory=inventory)


def slot_body(form) -> dict:
    """An inventory form's slot (``_slot_fields.html``): the date, a time for a timed slot, the capacity."""
    capacity = form.get("capacity", "").strip()
    slot = {"date": form.get("date", ""), "capacity": int(capacity) if capacity.isdigit() else capacity or None}
    if form.get("time"):
        slot["time"] = form["time"]
    return slot


def block_body(form) -> dict:
    """A block form's body: the time blocked on its date, else the whole date."""
    body = {"reason": form.get("reason", "")}
    if form.get("time"):
        body["times"] = [{"date": form.get("date", ""), "time": form["time"]}]
    else:
        body["dates"] = [form.get("date", "")]
    return body


def product_act(ctx: Ctx, pid: str, product_id: str, method: str, tail: str, body: dict | None) -> Response:
    """A product screen's form: one gateway call under the product, then the product again."""
    return act(
        ctx,
        method,
        f"{product_path(pid, product_id)}/{tail}",
        body,
        product,
        f"/p/{pid}/products/{product_id}?done=1",
        pid=pid,
        product_id=product_id,
    )


def product_submit(ctx: Ctx, pid: str, product_id: str) -> Response:
    return product_act(ctx, pid, product_id, "POST", "submit", None)


def product_inventory(ctx: Ctx, pid: str, product_id: str) -> Response:
    return product_act(ctx, pid, product_id, "PUT", "inventory", {"slots": [slot_body(ctx.form)]})


def product_block(ctx: Ctx, pid: str, product_id: str) -> Response:
    return product_act(ctx, pid, product_id, "POST", "blocks", block_body(ctx.form))


# 정산 (settlement, the ledger, sales, payouts and tax invoices) lives in console/commerce.py.


# --- operators ---------------------------------------------------------------------------------------


def ops(ctx: Ctx) -> Response:
    if not ctx.is_operator():
        raise ApiError(403, "forbidden")
    reviews = ctx.api.get("/v1/ops/reviews", status="pending", limit=100)["items"]
    waiting = ctx.api.get("/v1/ops/partners", status="pending_verification", limit=50)["items"]
    return ctx.render("ops.html", reviews=reviews, operator=True, waiting=len(waiting))


def ops_review(ctx: Ctx, rid: str, decision: str) -> Response:
    return act(
        ctx,
        "POST",
        f"/v1/ops/reviews/{rid}/{'reject' if decision == 'reject' else 'approve'}",
        {"reason": ctx.form.get("reason", "")},
        ops,
        "/ops?done=1",
    )


def ops_notice(ctx: Ctx) -> Response:
    return act(
        ctx,
        "POST",
        "/v1/ops/notices",
        {"title": ctx.form.get("title", ""), "body": ctx.form.get("body", "")},
        ops,
        "/ops?done=1",
    )


# The URL map's methods and partner prefix, for this ROUTES and those of booking_screens and commerce.
GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")
P = "/p/<pid>"
ROUTES = [
    ("/", GET, home),
    ("/login", BOTH, login),
    ("/logout", POST, logout),
    ("/signup", BOTH, signup),
    ("/lang/<lang>", GET, language),
    ("/me", BOTH, me),
    ("/notices", GET, notices),
    ("/invitations/<invitation_id>/<answer>", POST, invitation),
    ("/partners/new", BOTH, partner_new),
    (P, GET, dashboard),
    (f"{P}/reservations", GET, reservations),
    (f"{P}/reservations/<number>", GET, reservation),
    (f"{P}/reservations/<number>/<action>", POST, reservation_action),
    (f"{P}/events", GET, events),
    (f"{P}/board", GET, board),
    (f"{P}/chats", GET, chats),
    (f"{P}/chats/<conversation_id>", BOTH, chat),
    (f"{P}/notifications", GET, notifications),
    (f"{P}/places", BOTH, places),
    (f"{P}/staff", BOTH, staff),
    (f"{P}/products", GET, products),
    (f"{P}/products/new", BOTH, product_new),
    (f"{P}/products/<product_id>", GET, product),
    (f"{P}/products/<product_id>/submit", POST, product_submit),
    (f"{P}/products/<product_id>/inventory", POST, product_inventory),
    (f"{P}/products/<product_id>/blocks", POST, product_block),
    ("/ops", GET, ops),
    ("/ops/reviews/<rid>/<decision>", POST, ops_review),
    ("/ops/notices", POST, ops_notice),
]
