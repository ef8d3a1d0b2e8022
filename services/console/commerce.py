"""The console's commerce screens (issue 23): the cafe's and the shop's order
board (seeds 003, 004), and the money screens. Views over the gateway's
public API with the member's own token, like ``screens``.

The order board follows seed 004: 주문현황 with the 매장/포장 tab apart from
the 배송 tab (R-ORD-1), each with its states (신규, 준비중, 완료, ...);
준비시작 from the list and from the detail with the minutes it takes (the
expected ready time, R-ORD-2), the one-hour auto-complete shown with the time
left, delivery with courier and invoice number and its correction (R-ORD-3),
cancellation where R-ORD-5 lets the partner cancel. The gateway decides; when
it refuses, its own words (which name the state and who may do what next)
are shown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import NamedTuple

from werkzeug.wrappers import Response

from .gateway import ApiError
from .screens import GET, MANAGERS, POST, P, partner_path, see_other
from .web import SEOUL, Ctx, seoul_time

IN_STORE, SHIPPED = "in_store", "shipped"
BOARD_CHANNELS = {IN_STORE: "dine_in,takeout", SHIPPED: "delivery,parcel"}
BOARD_STATES = {  # the tabs of each channel group, seed 004's order
    IN_STORE: ("received", "preparing", "completed", "cancelled"),
    SHIPPED: ("received", "preparing_shipment", "shipped", "completed", "cancelled"),
}
# What the partner may do at each state (R-ORD-2, R-ORD-3, R-ORD-5); the gateway enforces it.
PARTNER_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    IN_STORE: {"received": ("start-preparing", "cancel"), "preparing": ("complete", "cancel")},
    SHIPPED: {
        "received": ("prepare-shipment", "cancel"),
        "preparing_shipment": ("ship", "cancel"),
        "shipped": ("deliver",),
    },
}
PREPARATION_MINUTES = (5, 10, 15, 20, 30, 40, 60)
ORDER_ACTIONS = ("start-preparing", "complete", "prepare-shipment", "ship", "deliver", "cancel")


def order_error(ctx: Ctx, error: ApiError) -> str:
    """The gateway's own words for an order refusal: they name the order's
    state and who may do what next (issue 18), which the console's generic
    words cannot."""
    if error.status in (409, 422) and error.message:
        return ctx.words.error_text(ApiError(error.status, "order_refusal", error.message, error.details))
    return ctx.words.error_text(error)


def group_of(channel: str) -> str:
    return IN_STORE if channel in ("dine_in", "takeout") else SHIPPED


def auto_complete_note(ctx: Ctx, order: dict) -> str:
    """R-ORD-2: an in-store order not completed by hand completes one hour after receipt."""
    due = seoul_time(order.get("auto_complete_at"))
    if not due or order["status"] not in ("received", "preparing"):
        return ""
    left = int((due - dt.datetime.now(dt.UTC)).total_seconds() // 60)
    if left < 0:
        return ctx.words("auto_complete_due").format(time=due.strftime("%H:%M"))
    return ctx.words("auto_complete_left").format(time=due.strftime("%H:%M"), minutes=left)


def board_query(ctx: Ctx) -> dict:
    args = ctx.request.args
    tab = args.get("tab")
    group = tab if tab is not None and tab in BOARD_STATES else IN_STORE
    status = args.get("status") if args.get("status") in BOARD_STATES[group] else "received"
    return {"tab": group, "status": status}


def orders(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    query = board_query(ctx)
    listing = ctx.api.get(
        f"{partner_path(pid)}/orders", channel=BOARD_CHANNELS[query["tab"]], status=query["status"], limit=50
    )
    fresh = (
        listing
        if query["status"] == "received"
        else ctx.api.get(
            f"{partner_path(pid)}/orders", channel=BOARD_CHANNELS[query["tab"]], status="received", limit=100
        )
    )
    template = "_order_list.html" if ctx.request.headers.get("HX-Request") else "orders.html"
    return ctx.render(
        template,
        partner=partner,
        query=query,
        items=listing["items"],
        states=BOARD_STATES,
        new_count=len(fresh["items"]),
        actions=PARTNER_ACTIONS,
        minutes=PREPARATION_MINUTES,
        group_of=group_of,
        auto_note=lambda o: auto_complete_note(ctx, o),
    )


def order(ctx: Ctx, pid: str, order_id: str) -> Response:
    partner = ctx.partner(pid)
    found = ctx.api.get(f"{partner_path(pid)}/orders/{order_id}")
    group = group_of(found["channel"])
    couriers = ctx.api.get(f"{partner_path(pid)}/couriers")["items"] if group == SHIPPED else []
    return ctx.render(
        "order.html",
        partner=partner,
        o=found,
        group=group,
        steps=REQUEST_STEPS,
        line_names={
            line["line_id"]: line["product_name"]
            + (f" ({line['option_label']})" if line["option_label"] and line["option_label"] != "regular" else "")
            for line in found["lines"]
        },
        actions=PARTNER_ACTIONS[group].get(found["status"], ()),
        minutes=PREPARATION_MINUTES,
        couriers=couriers,
        auto_note=auto_complete_note(ctx, found),
    )


def action_body(ctx: Ctx, action: str) -> dict:
    form = ctx.form
    if action == "start-preparing":
        return {"minutes": int(form["minutes"])} if form.get("minutes", "").isdigit() else {}
    if action == "ship":
        return {"courier": form.get("courier", ""), "invoice_number": form.get("invoice_number", "").strip()}
    if action == "cancel":
        return {"reason": form.get("reason", "").strip()} if form.get("reason", "").strip() else {}
    if action == "shipment":  # the correction (R-ORD-3): only the fields given
        given = {key: form.get(key, "").strip() for key in ("courier", "invoice_number")}
        return {key: value for key, value in given.items() if value}
    return {}


def order_action(ctx: Ctx, pid: str, order_id: str, action: str) -> Response:
    """One step of the order from the list or the detail; back where it came from."""
    if action not in ORDER_ACTIONS and action != "shipment":
        return ctx.render("error.html", status=404, message=ctx.words("nothing"))
    return partner_call(
        ctx,
        "PATCH" if action == "shipment" else "POST",
        f"{partner_path(pid)}/orders/{order_id}/{action}",
        action_body(ctx, action),
        f"/p/{pid}/orders/{order_id}",
        order,
        pid=pid,
        order_id=order_id,
    )


# --- refunds and exchanges by line, inquiries, reviews (seed 003; R-ORD-8, R-ORD-9) ---------------

REQUEST_STEPS = {  # the partner's next steps per request kind and status (issue 18 item 7)
    "refund": {"requested": ("approve", "reject")},
    "exchange": {
        "requested": ("approve", "reject"),
        "approved": ("receive",),
        "returned": ("ship",),
        "reshipped": ("deliver",),
    },
}


def back_to(ctx: Ctx, fallback: str) -> str:
    back = ctx.form.get("back", "")
    target = back if back.startswith("/p/") else fallback
    return target + ("&" if "?" in target else "?") + "done=1"


def partner_call(ctx: Ctx, method: str, path: str, body: dict, fallback: str, screen, **values) -> Response:
    """One gateway call from a form; refusals in the gateway's words on ``screen``."""
    try:
        ctx.api.call(method, path, body=body)
    except ApiError as error:
        if error.status == 401:
            raise
        ctx.error = order_error(ctx, error)
        response = screen(ctx, **values)
        response.status_code = error.status if error.status < 500 else 503
        return response
    return see_other(back_to(ctx, fallback))


def request_step(ctx: Ctx, pid: str, kind: str, request_id: str, step: str) -> Response:
    if kind not in REQUEST_STEPS or step not in ("approve", "reject", "receive", "ship", "deliver"):
        return ctx.render("error.html", status=404, message=ctx.words("nothing"))
    form = ctx.form
    body = {}
    if step == "reject":
        body = {"reason": form.get("reason", "").strip()}
    elif step == "ship":
        body = {"courier": form.get("courier", ""), "invoice_number": form.get("invoice_number", "").strip()}
    order_id = form.get("order_id", "")
    return partner_call(
        ctx,
        "POST",
        f"{partner_path(pid)}/{kind}-requests/{request_id}/{step}",
        body,
        f"/p/{pid}/orders/{order_id}" if order_id else f"/p/{pid}/claims",
        claims,
        pid=pid,
    )


def claims(ctx: Ctx, pid: str) -> Response:
    """환불/교환: open requests first (R-ORD-8); each links to its order, where its lines are."""
    partner = ctx.partner(pid)
    status = ctx.request.args.get("status") or "requested"
    found = []
    for kind in ("refund", "exchange"):
        found += ctx.api.get(
            f"{partner_path(pid)}/{kind}-requests", status=status if status != "all" else None, limit=100
        )["items"]
    found.sort(key=lambda r: r["created_at"], reverse=True)
    return ctx.render(
        "claims.html",
        partner=partner,
        items=found,
        req_status=status,
        steps=REQUEST_STEPS,
    )


class AnsweredList(NamedTuple):
    """Inquiries or reviews (R-ORD-9): cards in tabs by whether the partner has answered, each
    card taking the one answer."""

    param: str  # the list's query parameter
    default: str  # its value when none is given
    everything: str  # its value on the tab that shows all
    tabs: tuple[tuple[str, str], ...]  # (value, word)
    step: str  # the answer's last path step


ANSWERED_LISTS = {
    "inquiries": AnsweredList(
        "answered", "false", "all", (("false", "unanswered"), ("true", "answered"), ("all", "tab_all")), "answer"
    ),
    "reviews": AnsweredList(
        "replied", "", "", (("", "tab_all"), ("false", "unanswered"), ("true", "answered")), "reply"
    ),
}


def answered_list(ctx: Ctx, pid: str, kind: str) -> Response:
    partner = ctx.partner(pid)
    listed = ANSWERED_LISTS[kind]
    shown = ctx.request.args.get(listed.param) or listed.default
    asked = shown if shown != listed.everything else None
    listing = ctx.api.get(f"{partner_path(pid)}/{kind}", **{listed.param: asked}, limit=100)
    return ctx.render(
        "answered_list.html",
        partner=partner,
        kind=kind,
        param=listed.param,
        shown=shown,
        tabs=listed.tabs,
        items=listing["items"],
    )


def answer(ctx: Ctx, pid: str, kind: str, item_id: str) -> Response:
    return partner_call(
        ctx,
        "POST",
        f"{partner_path(pid)}/{kind}/{item_id}/{ANSWERED_LISTS[kind].step}",
        {"body": ctx.form.get("body", "").strip()},
        f"/p/{pid}/{kind}",
        answered_list,
        pid=pid,
        kind=kind,
    )


def inquiries(ctx: Ctx, pid: str) -> Response:
    return answered_list(ctx, pid, "inquiries")


def inquiry_answer(ctx: Ctx, pid: str, inquiry_id: str) -> Response:
    return answer(ctx, pid, "inquiries", inquiry_id)


def reviews(ctx: Ctx, pid: str) -> Response:
    return answered_list(ctx, pid, "reviews")


def review_reply(ctx: Ctx, pid: str, review_id: str) -> Response:
    return answer(ctx, pid, "reviews", review_id)


def goods(ctx: Ctx, pid: str) -> Response:
    """상품 재고 (seed 003), read-only: goods with their options and stock, sold-out shown."""
    partner = ctx.require_role(pid, *MANAGERS)
    items = [p for p in ctx.api.get(f"{partner_path(pid)}/products", kind="goods", limit=100)["items"]]
    stock = {}
    for product in items:
        inventory = ctx.api.get(f"{partner_path(pid)}/products/{product['product_id']}/inventory")
        stock.update({s["option_id"]: s["stock"] for s in inventory.get("stock", [])})
    return ctx.render("goods.html", partner=partner, items=items, stock=stock)


# --- 정산: payouts, tax invoices, the ledger, the sales summary (R-STL-1..4; managers only, R-ACC-11) -------


def csv_response(filename: str, header: list[str], rows: list[list]) -> Response:
    """A table as CSV, with a BOM so that spreadsheet programs read the Korean right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def period_query(ctx: Ctx) -> dict:
    today = dt.datetime.now(SEOUL).date()
    args = ctx.request.args
    return {"from": args.get("from") or today.replace(day=1).isoformat(), "to": args.get("to") or today.isoformat()}


def settlement(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    payouts = ctx.api.get(f"{partner_path(pid)}/payouts", limit=50)
    invoices = ctx.api.get(f"{partner_path(pid)}/tax-invoices", limit=50)["items"]
    return ctx.render("settlement.html", partner=partner, payouts=payouts, invoices=invoices)


def tax_invoice_csv(ctx: Ctx, pid: str, invoice_number: str) -> Response:
    """A tax invoice to keep (R-STL-3): its figures as the API gives them, one CSV per invoice."""
    ctx.require_role(pid, *MANAGERS)
    found = [
        i
        for i in ctx.api.get(f"{partner_path(pid)}/tax-invoices", limit=100)["items"]
        if i["invoice_number"] == invoice_number
    ]
    if not found:
        raise ApiError(404, "not_found", ctx.words("nothing"))
    invoice, w = found[0], ctx.words
    header = [w.invoice_no, w.period, w.supply_amount, w.vat_amount, w.total_amount, w.issued_at]
    row = [
        invoice["invoice_number"],
        f"{invoice['period_start']}~{invoice['period_end']}",
        invoice["supply_amount"],
        invoice["vat_amount"],
        invoice["total_amount"],
        invoice["issued_at"],
    ]
    return csv_response(f"{invoice_number}.csv", header, [row])


def ledger(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    query = period_query(ctx)
    items = ctx.api.get(f"{partner_path(pid)}/ledger", limit=200, **query)["items"]
    if ctx.request.args.get("format") == "csv":
        w = ctx.words
        return csv_response(
            f"ledger-{query['from']}-{query['to']}.csv",
            [w.date, w.kind, w.reference, w.amount, w.effect, w.discounts],
            [
                [
                    t["business_date"],
                    w("lk_" + t["kind"]),
                    t.get("source_ref") or "",
                    t["amount"],
                    t.get("partner_effect"),
                    t.get("discount_amount") or 0,
                ]
                for t in items
            ],
        )
    return ctx.render("ledger.html", partner=partner, query=query, items=items)


def sales(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    query = period_query(ctx)
    summary = ctx.api.get(f"{partner_path(pid)}/sales-summary", **query)
    if ctx.request.args.get("format") == "csv":
        w = ctx.words
        keys = ("sales", "sales_count", "discounts", "fees", "refunds", "commission", "revenue")
        return csv_response(
            f"sales-{summary['from']}-{summary['to']}.csv",
            [w.date] + [w(k) for k in keys],
            [[d["date"]] + [d[k] for k in keys] for d in summary["days"]],
        )
    return ctx.render(
        "sales.html",
        partner=partner,
        query=query,
        s=summary,
        day_rows=[(d["date"], d["sales"]) for d in summary["days"]],
    )


# --- 통계 and 고객 (insights; issue 23 item 4) ---------------------------------------------------


COLUMN_WORDS = {"product_name": "product", "net": "revenue", "time": "slot_time"}


def statistics(ctx: Ctx, pid: str) -> Response:
    """The period at a glance: counts and rates as tiles, states, days, products and slots as SVG bars."""
    partner = ctx.partner(pid)
    args = ctx.request.args
    query = {"from": args.get("from"), "to": args.get("to")} if args.get("from") and args.get("to") else {}
    stats = ctx.api.get(f"{partner_path(pid)}/statistics", **query)
    query = {"from": stats["from"], "to": stats["to"]}
    revenue = stats.get("revenue")
    tables = {
        "by_day": (["date", "sales", "refunds", "net"], revenue["by_day"] if revenue else []),
        "by_product": (["product_name", "sales", "refunds", "net"], revenue["by_product"] if revenue else []),
        "slots": (["date", "time", "bookings", "people"], stats["busiest_slots"]),
    }
    if args.get("format") == "csv" and args.get("table") in tables:
        columns, rows = tables[args["table"]]
        return csv_response(
            f"statistics-{args['table']}-{query['from']}-{query['to']}.csv",
            [ctx.words(COLUMN_WORDS.get(c, c)) for c in columns],
            [[row.get(c) if row.get(c) is not None else "" for c in columns] for row in rows],
        )
    w = ctx.words
    charts = {
        "bookings-by-state": [(w.state_name(k), v) for k, v in stats["bookings"]["by_state"].items()],
        "orders-by-state": [(w("ord_" + k), v) for k, v in stats["orders"]["by_state"].items()],
        "slots": [(f"{s['date']} {s.get('time') or ''}".strip(), s["bookings"]) for s in stats["busiest_slots"]],
    }
    if revenue:
        charts["revenue-by-day"] = [(d["date"], d["net"]) for d in revenue["by_day"]]
        charts["revenue-by-product"] = [
            (p.get("product_name") or p["product_id"], p["net"]) for p in revenue["by_product"]
        ]
    return ctx.render("statistics.html", partner=partner, query=query, stats=stats, charts=charts)


CUSTOMER_SEGMENTS = {
    "all": {},
    "recent": {"visited_within_days": 30},
    "quarter": {"visited_within_days": 90},
    "regular": {},
}
REGULAR_VISITS = 3


def customers(ctx: Ctx, pid: str) -> Response:
    """고객: search by name or the last four digits (R-RSV-8) and segments; phones stay masked."""
    partner = ctx.partner(pid)
    args = ctx.request.args
    asked = args.get("segment")
    segment = asked if asked is not None and asked in CUSTOMER_SEGMENTS else "all"
    q = args.get("q", "").strip()
    items = ctx.api.get(f"{partner_path(pid)}/customers", q=q or None, limit=100, **CUSTOMER_SEGMENTS[segment])["items"]
    if segment == "regular":  # the API has no visit-count filter: the console keeps the regulars of what it read
        items = [c for c in items if c["visit_count"] >= REGULAR_VISITS]
    if args.get("format") == "csv":
        w = ctx.words
        return csv_response(
            "customers.csv",
            [w.name, w.phone, w.visits, w.last_visit, w.total_spent, w.coupon_uses],
            [
                [
                    c["name"] or "",
                    c["phone"] or "",
                    c["visit_count"],
                    (c["last_visit_at"] or "")[:10],
                    c["total_spent"],
                    c["coupon_uses"],
                ]
                for c in items
            ],
        )
    return ctx.render("customers.html", partner=partner, items=items, segment=segment, q=q, segments=CUSTOMER_SEGMENTS)


# --- 쿠폰 (issue #11; issue 23 item 5) -------------------------------------------------------------------


def coupon_body(ctx: Ctx) -> dict:
    """The create form as the API's body: empty fields left out, numbers as numbers, dates as the
    partner's day (start of the first, end of the last)."""
    form = ctx.form
    body = {
        "name": form.get("name", "").strip(),
        "discount_type": form.get("discount_type", ""),
        "distribution": form.get("distribution", ""),
    }
    value = form.get("value", "").strip()
    if value.isdigit():
        body["percent" if body["discount_type"] == "percent" else "amount"] = int(value)
    for key in ("max_discount", "min_spend", "total_limit", "per_customer_limit"):
        if form.get(key, "").strip().isdigit():
            body[key] = int(form[key])
    if body["distribution"] == "code" and form.get("code", "").strip():
        body["code"] = form["code"].strip()
    if form.get("starts_on"):
        body["starts_at"] = f"{form['starts_on']}T00:00:00+09:00"
    if form.get("ends_on"):
        body["ends_at"] = f"{form['ends_on']}T23:59:59+09:00"
    return body


def coupons(ctx: Ctx, pid: str) -> Response:
    ctx.require_role(pid, *MANAGERS)
    if ctx.request.method == "POST":
        return partner_call(
            ctx, "POST", f"{partner_path(pid)}/coupons", coupon_body(ctx), f"/p/{pid}/coupons", coupons_page, pid=pid
        )
    return coupons_page(ctx, pid)


def coupons_page(ctx: Ctx, pid: str) -> Response:
    partner = ctx.require_role(pid, *MANAGERS)
    items = ctx.api.get(f"{partner_path(pid)}/coupons", limit=100)["items"]
    known = []
    if any(c["distribution"] == "issued" for c in items):
        try:  # whom an issued coupon can be given to: the partner's customers (insights)
            known = ctx.api.get(f"{partner_path(pid)}/customers", limit=100)["items"]
        except ApiError:
            known = []
    return ctx.render("coupons.html", partner=partner, items=items, known=known, form=ctx.form)


def coupon_step(ctx: Ctx, pid: str, coupon_id: str, step: str) -> Response:
    path = f"{partner_path(pid)}/coupons/{coupon_id}"
    if step in ("pause", "resume"):
        return partner_call(ctx, "POST", f"{path}/{step}", {}, f"/p/{pid}/coupons", coupons_page, pid=pid)
    if step == "limits":
        body = {
            key: int(ctx.form[key]) if ctx.form.get(key, "").strip().isdigit() else None
            for key in ("total_limit", "per_customer_limit")
        }
        return partner_call(ctx, "PATCH", path, body, f"/p/{pid}/coupons", coupons_page, pid=pid)
    if step == "issue":
        return partner_call(
            ctx,
            "POST",
            f"{path}/issue",
            {"customer_ids": ctx.form.getlist("customer_id")},
            f"/p/{pid}/coupons",
            coupons_page,
            pid=pid,
        )
    return ctx.render("error.html", status=404, message=ctx.words("nothing"))


ROUTES = [
    (f"{P}/orders", GET, orders),
    (f"{P}/orders/<order_id>", GET, order),
    (f"{P}/orders/<order_id>/<action>", POST, order_action),
    (f"{P}/claims", GET, claims),
    (f"{P}/requests/<kind>/<request_id>/<step>", POST, request_step),
    (f"{P}/inquiries", GET, inquiries),
    (f"{P}/inquiries/<inquiry_id>/answer", POST, inquiry_answer),
    (f"{P}/reviews", GET, reviews),
    (f"{P}/reviews/<review_id>/reply", POST, review_reply),
    (f"{P}/goods", GET, goods),
    (f"{P}/settlement", GET, settlement),
    (f"{P}/settlement/tax-invoices/<invoice_number>.csv", GET, tax_invoice_csv),
    (f"{P}/ledger", GET, ledger),
    (f"{P}/sales", GET, sales),
    (f"{P}/statistics", GET, statistics),
    (f"{P}/customers", GET, customers),
    (f"{P}/coupons", ("GET", "POST"), coupons),
    (f"{P}/coupons/<coupon_id>/<step>", POST, coupon_step),
]
