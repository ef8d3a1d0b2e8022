"""Booking-side screens added for issue 22's unmet items (seeds 000-002):
the phone reveal on a reservation (R-RSV-12), 상품수정 with the live version
kept while the edit is in review (R-CAT-5), a product's booking settings, the
inventory calendar with its blocks (R-CAT-2), 회원탈퇴 with its conditions
(R-ACC-3..5) and the operators' partner queue (R-ACC-8, R-ACC-15).

Kept apart from ``screens.py`` (issue 23 adds its own screens beside these);
the console's URL map is ``screens.ROUTES`` plus ``ROUTES`` from here.
Every call goes to the gateway with the member's token; the gateway
enforces roles, the console only hides what a role may not use.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from .gateway import ApiError
from .screens import (
    BOTH,
    GET,
    MANAGERS,
    POST,
    P,
    act,
    block_body,
    or_show,
    partner_path,
    product_path,
    see_other,
    slot_body,
    withdraw_or_show,
)
from .web import Ctx

PARTNER_QUEUE_TABS = ("pending_verification", "rejected", "verified")
TTL_CHOICES = (1, 3, 6, 12, 24, 48, 72)


# --- the phone reveal (R-RSV-12) ------------------------------------------------------------


def reveal_phone(ctx: Ctx, pid: str, number: str) -> Response:
    """The whole phone, asked for by an admin or master: the gateway records the
    reveal in the reservation's history; the number is shown on this answer
    only (never stored by the console, never in a URL)."""
    from .screens import reservation

    ctx.require_role(pid, *MANAGERS)
    try:
        revealed = ctx.api.post(f"{partner_path(pid)}/reservations/{number}/reveal-phone")
    except ApiError as error:
        return or_show(ctx, reservation, error, pid=pid, number=number)
    ctx.revealed_phone = revealed.get("phone") or ""
    response = reservation(ctx, pid=pid, number=number)
    response.headers["Cache-Control"] = "no-store"  # the full number stays out of caches
    return response


# --- 상품수정 (R-CAT-5) ------------------------------------------------------------------------


def editable_content(found: dict) -> dict:
    """What the edit form starts from: the open revision if there is one, else the live version."""
    return found.get("pending") or found.get("live") or {}


def edit_body(form) -> dict:
    prices = []
    for price_id, label, amount in zip(
        form.getlist("price_id"), form.getlist("price_label"), form.getlist("price_amount"), strict=False
    ):
        if label.strip() and amount.strip().isdigit():
            # an existing person type keeps its id, so bookings and carts that name it stay valid
            prices.append(
                {"label": label.strip(), "amount": int(amount), **({"price_id": price_id} if price_id else {})}
            )
    body = {"name": form.get("name", ""), "description": form.get("description", ""), "prices": prices}
    if form.get("deadline_hours", "").strip().isdigit():
        body["cancel_policy"] = {"deadline_hours_before": int(form["deadline_hours"])}
    return body


def product_edit(ctx: Ctx, pid: str, product_id: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    if ctx.request.method == "POST":
        try:
            ctx.api.patch(product_path(pid, product_id), edit_body(ctx.form))
        except ApiError as error:
            return or_show(ctx, product_edit, error, pid=pid, product_id=product_id)
        return see_other(f"/p/{pid}/products/{product_id}?done=1")
    found = ctx.api.get(product_path(pid, product_id))
    content = editable_content(found)
    prices = list(content.get("prices") or [])
    prices += [{"price_id": "", "label": "", "amount": ""}] * max(0, 3 - len(prices))  # room for another person type
    return ctx.render(
        "product_edit.html",
        partner=partner,
        p=found,
        content=content,
        prices=prices,
        deadline=(content.get("cancel_policy") or {}).get("deadline_hours_before"),
    )


# --- 예약 설정: confirmation, request expiry, partial cancellation -----------------------------------


def booking_settings(ctx: Ctx, pid: str, product_id: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    path = f"{product_path(pid, product_id)}/booking-settings"
    if ctx.request.method == "POST":
        form = ctx.form
        ttl = form.get("request_ttl_hours", "").strip()
        body = {
            "confirmation": form.get("confirmation", ""),
            "request_ttl_hours": int(ttl) if ttl.isdigit() else ttl or None,
            "allow_partial_cancel": form.get("allow_partial_cancel") == "yes",
        }
        return act(
            ctx,
            "PUT",
            path,
            body,
            booking_settings,
            f"/p/{pid}/products/{product_id}/booking-settings?done=1",
            pid=pid,
            product_id=product_id,
        )
    found = ctx.api.get(product_path(pid, product_id))
    settings = ctx.api.get(path)
    return ctx.render("booking_settings.html", partner=partner, p=found, s=settings, ttl_choices=TTL_CHOICES)


# --- the inventory calendar with blocks (R-CAT-2) ---------------------------------------------------


def month_of(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01") if value else dt.date.today().replace(day=1)
    except ValueError:
        return dt.date.today().replace(day=1)


def month_grid(first: dt.date, inventory: dict) -> list[list[dict | None]]:
    """Weeks (Sunday first, as Korean calendars are) of days, each with its slots and blocks."""
    slots: dict[str, list[Any]] = {}
    blocks: dict[str, list[Any]] = {}
    for slot in inventory.get("slots") or []:
        slots.setdefault(slot["date"], []).append(slot)
    for block in inventory.get("blocks") or []:
        blocks.setdefault(block["date"], []).append(block)
    weeks = calendar.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
    return [
        [
            {
                "date": d.isoformat(),
                "day": d.day,
                "slots": slots.get(d.isoformat(), []),
                "blocks": blocks.get(d.isoformat(), []),
            }
            if d.month == first.month
            else None
            for d in week
        ]
        for week in weeks
    ]


def calendar_change(ctx: Ctx, pid: str, product_id: str) -> tuple[str, str, dict | None]:
    """The gateway call one of the calendar's forms asks for: (method, path, body)."""
    form, path = ctx.form, product_path(pid, product_id)
    todo = form.get("do")
    if todo == "unblock":
        return "DELETE", f"{path}/blocks/{form.get('block_id', '')}", None
    if todo == "block":
        return "POST", f"{path}/blocks", block_body(form)
    return "PUT", f"{path}/inventory", {"slots": [slot_body(form)]}


def inventory_calendar(ctx: Ctx, pid: str, product_id: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    first = month_of(ctx.request.args.get("month"))
    if ctx.request.method == "POST":
        method, path, body = calendar_change(ctx, pid, product_id)
        back = f"/p/{pid}/products/{product_id}/calendar?month={first:%Y-%m}&done=1"
        try:
            ctx.api.call(method, path, body=body)
        except ApiError as error:
            return or_show(ctx, inventory_calendar, error, pid=pid, product_id=product_id)
        return see_other(back)
    found = ctx.api.get(product_path(pid, product_id))
    inventory = ctx.api.get(f"{product_path(pid, product_id)}/inventory")
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return ctx.render(
        "calendar.html",
        partner=partner,
        p=found,
        month=first,
        weeks=month_grid(first, inventory),
        previous=f"{previous:%Y-%m}",
        following=f"{following:%Y-%m}",
        blocks=inventory.get("blocks") or [],
    )


# --- 회원탈퇴 (R-ACC-3..5) --------------------------------------------------------------------------


def withdraw(ctx: Ctx) -> Response:
    """The seed's 회원탈퇴 screen: its conditions, a consent box; a refusal
    (last_admin) names the partners that still need another admin."""
    if not ctx.token:
        return see_other("/login?next=/withdraw")
    if ctx.request.method == "POST":
        return withdraw_or_show(ctx, withdraw)
    return ctx.render("withdraw.html", me=ctx.me(), partners=ctx.partners())


# --- operators: the partner verification queue (R-ACC-8, R-ACC-15) --------------------------------------


def ops_partner_queue(ctx: Ctx) -> Response:
    if not ctx.is_operator():
        raise ApiError(403, "forbidden")
    status = ctx.request.args.get("status", PARTNER_QUEUE_TABS[0])
    status = status if status in PARTNER_QUEUE_TABS else PARTNER_QUEUE_TABS[0]
    queue = ctx.api.get("/v1/ops/partners", status=status, limit=50)
    return ctx.render("ops_partners.html", operator=True, shown=status, tabs=PARTNER_QUEUE_TABS, items=queue["items"])


def ops_partner_decision(ctx: Ctx, pid: str, decision: str) -> Response:
    rejected = decision == "reject"
    return act(
        ctx,
        "POST",
        f"/v1/ops/partners/{pid}/{'reject' if rejected else 'verify'}",
        {"reason": ctx.form.get("reason", "")} if rejected else {},
        ops_partner_queue,
        "/ops/partners?done=1",
    )


ROUTES = [
    (f"{P}/reservations/<number>/reveal-phone", POST, reveal_phone),
    (f"{P}/products/<product_id>/edit", BOTH, product_edit),
    (f"{P}/products/<product_id>/booking-settings", BOTH, booking_settings),
    (f"{P}/products/<product_id>/calendar", BOTH, inventory_calendar),
    ("/withdraw", BOTH, withdraw),
    ("/ops/partners", GET, ops_partner_queue),
    ("/ops/partners/<pid>/<decision>", POST, ops_partner_decision),
]
