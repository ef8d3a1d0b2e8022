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

import datetime as dt

from werkzeug.wrappers import Response

from .gateway import ApiError
from .screens import MANAGERS, partner_path, see_other
from .web import Ctx
from .words import WORDS

IN_STORE, SHIPPED = "in_store", "shipped"
BOARD_CHANNELS = {IN_STORE: "dine_in,takeout", SHIPPED: "delivery,parcel"}
BOARD_STATES = {   # the tabs of each channel group, seed 004's order
    IN_STORE: ("received", "preparing", "completed", "cancelled"),
    SHIPPED: ("received", "preparing_shipment", "shipped", "completed", "cancelled"),
}
# What the partner may do at each state (R-ORD-2, R-ORD-3, R-ORD-5); the gateway enforces it.
PARTNER_ACTIONS = {
    IN_STORE: {"received": ("start-preparing", "cancel"), "preparing": ("complete", "cancel")},
    SHIPPED: {"received": ("prepare-shipment", "cancel"), "preparing_shipment": ("ship", "cancel"),
              "shipped": ("deliver",)},
}
PREPARATION_MINUTES = (5, 10, 15, 20, 30, 40, 60)
ORDER_ACTIONS = ("start-preparing", "complete", "prepare-shipment", "ship", "deliver", "cancel")

WORDS.update({
    "orders": ("주문현황", "Orders"),
    "tab_in_store": ("매장/포장", "Dine-in / takeout"),
    "tab_shipped": ("배송", "Delivery"),
    "ord_received": ("신규", "New"),
    "ord_preparing": ("준비중", "Preparing"),
    "ord_completed": ("완료", "Completed"),
    "ord_cancelled": ("취소", "Cancelled"),
    "ord_preparing_shipment": ("배송 준비 중", "Preparing shipment"),
    "ord_shipped": ("배송 중", "Shipped"),
    "ch_dine_in": ("매장", "Dine-in"), "ch_takeout": ("포장", "Takeout"),
    "ch_delivery": ("배송", "Delivery"), "ch_parcel": ("택배", "Parcel"),
    "oact_start_preparing": ("준비시작", "Start preparing"),
    "oact_complete": ("처리완료", "Complete"),
    "oact_prepare_shipment": ("배송 준비", "Prepare shipment"),
    "oact_ship": ("발송 처리", "Ship"),
    "oact_deliver": ("배송 완료", "Delivered"),
    "oact_cancel": ("주문 취소", "Cancel order"),
    "oact_correct": ("송장 수정", "Correct invoice"),
    "order_number": ("주문번호", "Order number"),
    "orderer": ("주문자", "Customer"),
    "channel": ("주문유형", "Type"),
    "menu": ("메뉴", "Items"),
    "received_at": ("주문접수", "Received"),
    "minutes": ("소요 시간(분)", "Minutes to prepare"),
    "ready_at": ("준비완료 예정", "Ready at"),
    "auto_complete": ("자동 완료", "Completes by itself"),
    "auto_complete_left": ("{time} 자동 완료 · {minutes}분 남음", "Completes by itself at {time} · {minutes} min left"),
    "auto_complete_due": ("{time} 자동 완료 예정", "Completes by itself at {time}"),
    "courier": ("택배사", "Courier"),
    "invoice_number": ("송장번호", "Invoice number"),
    "tracking": ("배송조회", "Track"),
    "cancel_reason": ("취소 사유", "Reason for cancelling"),
    "new_orders": ("새 주문", "new orders"),
    "no_orders": ("주문 내역이 없습니다.", "No orders."),
    "note": ("요청사항", "Note"),
    "shipping_to": ("배송지", "Ship to"),
    "discount": ("할인", "Discount"),
    "coupon": ("쿠폰", "Coupon"),
    "paid": ("결제금액", "Paid"),
    "refunded": ("환불금액", "Refunded"),
    "quantity": ("수량", "Qty"),
    "amount": ("금액", "Amount"),
    "option": ("옵션", "Option"),
    "sound_on": ("새 주문 알림음", "Sound for new orders"),
})


def order_error(ctx: Ctx, error: ApiError) -> str:
    """The gateway's own words for an order refusal: they name the order's
    state and who may do what next (issue 18), which the console's generic
    words cannot."""
    if error.status in (409, 422) and error.message:
        return ctx.words.error_text(ApiError(error.status, "order_refusal", error.message, error.details))
    return ctx.words.error_text(error)


def group_of(channel: str) -> str:
    return IN_STORE if channel in ("dine_in", "takeout") else SHIPPED


def seoul_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(SEOUL) if value else None


SEOUL = dt.timezone(dt.timedelta(hours=9))   # the partner's zone (api.md: Asia/Seoul by default, no DST)


def auto_complete_note(ctx: Ctx, order: dict) -> str:
    """R-ORD-2: an in-store order not completed by hand completes one hour after receipt."""
    due = seoul_time(order.get("auto_complete_at"))
    if not due or order["status"] not in ("received", "preparing"):
        return ""
    left = int((due - dt.datetime.now(dt.timezone.utc)).total_seconds() // 60)
    if left < 0:
        return ctx.words("auto_complete_due").format(time=due.strftime("%H:%M"))
    return ctx.words("auto_complete_left").format(time=due.strftime("%H:%M"), minutes=left)


def board_query(ctx: Ctx) -> dict:
    args = ctx.request.args
    group = args.get("tab") if args.get("tab") in BOARD_STATES else IN_STORE
    status = args.get("status") if args.get("status") in BOARD_STATES[group] else "received"
    return {"tab": group, "status": status}


def orders(ctx: Ctx, pid: str) -> Response:
    partner = ctx.partner(pid)
    query = board_query(ctx)
    listing = ctx.api.get(f"{partner_path(pid)}/orders", channel=BOARD_CHANNELS[query["tab"]],
                          status=query["status"], limit=50)
    fresh = listing if query["status"] == "received" else ctx.api.get(
        f"{partner_path(pid)}/orders", channel=BOARD_CHANNELS[query["tab"]], status="received", limit=100)
    template = "_order_list.html" if ctx.request.headers.get("HX-Request") else "orders.html"
    return ctx.render(template, partner=partner, query=query, items=listing["items"], states=BOARD_STATES,
                      new_count=len(fresh["items"]),
                      actions=PARTNER_ACTIONS, minutes=PREPARATION_MINUTES, group_of=group_of,
                      when=seoul_time, auto_note=lambda o: auto_complete_note(ctx, o))


def order(ctx: Ctx, pid: str, order_id: str) -> Response:
    partner = ctx.partner(pid)
    found = ctx.api.get(f"{partner_path(pid)}/orders/{order_id}")
    group = group_of(found["channel"])
    couriers = ctx.api.get(f"{partner_path(pid)}/couriers")["items"] if group == SHIPPED else []
    return ctx.render("order.html", partner=partner, o=found, group=group,
                      actions=PARTNER_ACTIONS[group].get(found["status"], ()), minutes=PREPARATION_MINUTES,
                      couriers=couriers, when=seoul_time, auto_note=auto_complete_note(ctx, found))


def action_body(ctx: Ctx, action: str) -> dict:
    form = ctx.form
    if action == "start-preparing":
        return {"minutes": int(form["minutes"])} if form.get("minutes", "").isdigit() else {}
    if action == "ship":
        return {"courier": form.get("courier", ""), "invoice_number": form.get("invoice_number", "").strip()}
    if action == "cancel":
        return {"reason": form.get("reason", "").strip()} if form.get("reason", "").strip() else {}
    return {}


def order_action(ctx: Ctx, pid: str, order_id: str, action: str) -> Response:
    """One step of the order from the list or the detail; back where it came from."""
    if action not in ORDER_ACTIONS and action != "shipment":
        return ctx.render("error.html", status=404, message=ctx.words("nothing"))
    back = ctx.form.get("back", "")
    done = back if back.startswith("/p/") else f"/p/{pid}/orders/{order_id}"
    try:
        if action == "shipment":
            body = {key: ctx.form.get(key, "").strip() for key in ("courier", "invoice_number")}
            ctx.api.patch(f"{partner_path(pid)}/orders/{order_id}/shipment", {k: v for k, v in body.items() if v})
        else:
            ctx.api.post(f"{partner_path(pid)}/orders/{order_id}/{action}", action_body(ctx, action))
    except ApiError as error:
        if error.status == 401:
            raise
        ctx.error = order_error(ctx, error)
        response = order(ctx, pid, order_id)
        response.status_code = error.status if error.status < 500 else 503
        return response
    return see_other(done + ("&" if "?" in done else "?") + "done=1")


GET, POST = ("GET",), ("POST",)
P = "/p/<pid>"
ROUTES = [
    (f"{P}/orders", GET, orders),
    (f"{P}/orders/<order_id>", GET, order),
    (f"{P}/orders/<order_id>/<action>", POST, order_action),
]
