"""Catalog rules, without I/O: product content and its review, cancellation
policies, display state, and what capacity a hold takes.

Choices made where ../shared/domain.md is silent (also in the service docstring):

* Review fields (R-CAT-5) are everything a consumer reads as the product
  itself: name, description, images, schedule type, quantity mode, prices
  (with their maxima), goods options and their prices, goods type, place,
  payment and cancellation policy. Quantity mode and payment are reviewed with
  prices and policy because the rules tie them together (R-CAT-2, R-CAT-6).
  Sale window and pause, inventory, stock and blocks apply at once.
* A product has at most one open revision: a ``draft`` (editable, not yet
  submitted) or ``pending`` (submitted). Editing a pending revision withdraws
  it from review (it is a draft again and must be resubmitted). After a
  rejection, the next edit starts a new draft from the rejected content, so
  the partner fixes what was refused rather than starting over.
* A price maximum (R-CAT-2) counts across every booking of the product
  "whatever schedule was picked": one row per price, whatever the slot, date
  or period (issue 17 item 4; migration 0004 merged the per-unit rows).
* Display state (R-CAT-4): ``upcoming`` before the sale window, ``closed``
  after it or when everything offered is sold out, ``unavailable`` when the
  product is paused, not approved yet, or offers nothing (no future slot,
  every date blocked), ``bookable`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from chassis.errors import DomainError, ValidationFailed
from chassis.partner_time import PARTNER_TIME_ZONE

from . import errors

REVIEW_FIELDS = (
    "name",
    "description",
    "images",
    "schedule_type",
    "quantity_mode",
    "prices",
    "options",
    "goods_type",
    "place_id",
    "payment",
    "cancel_policy",
)
SETTINGS_FIELDS = ("sale_starts_at", "sale_ends_at", "paused")
DISPLAY_STATES = ("bookable", "unavailable", "closed", "upcoming")

# R-CAT-1 x R-CAT-2: which quantity management each schedule type allows.
QUANTITY_MODES = {
    "datetime": ("slot", "date", "period", "none"),
    "date": ("date", "period", "none"),
    "anytime": ("period", "none"),
}
DEFAULT_DEADLINE_HOURS = 24
R_CAT_2_MAX = "a maximum quantity needs quantity managed per slot, date or period (R-CAT-2)"
R_CAT_6_PAID_ONLY = "only products paid at booking may have fees, non-refundable sales or auto-cancel (R-CAT-6)"


MakeId = Callable[[str], str]


def new_client_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def local_now(now: dt.datetime) -> tuple[dt.date, dt.time]:
    local = now.astimezone(PARTNER_TIME_ZONE)
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)


def hhmm(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


# --- product content (R-CAT-1..3, R-CAT-5, R-CAT-6) ---------------------------


def normalize_content(
    kind: str, raw: dict[str, Any], known_ids: frozenset[str] = frozenset(), make_id: MakeId = new_client_id
) -> dict[str, Any]:
    """The full, checked content of a revision; raises a 422 naming every bad field.

    ``raw`` holds the review fields (absent or None = not given). Price and
    option ids given by the client must be ids this product already used
    (``known_ids``), so a price keeps its identity across versions; new
    entries get fresh ids.
    """
    problems: dict[str, str] = {}
    content = {
        "name": raw.get("name"),
        "description": raw.get("description") or "",
        "images": list(raw.get("images") or []),
        "place_id": raw.get("place_id"),
    }
    if not content["name"]:
        problems["name"] = "a product needs a name"
    if kind == "booking":
        content.update(_booking_content(raw, known_ids, make_id, problems))
    else:
        content.update(_goods_content(raw, known_ids, make_id, problems))
    if problems:
        raise errors.invalid_fields(problems, "the product is invalid")
    return content


def _forbid(raw: dict[str, Any], names: tuple[str, ...], why: str, problems: dict[str, Any]) -> None:
    for name in names:
        if raw.get(name) not in (None, [], {}):
            problems[name] = why


def _booking_content(
    raw: dict[str, Any], known_ids: frozenset[str], make_id: MakeId, problems: dict[str, str]
) -> dict[str, Any]:
    _forbid(raw, ("options", "goods_type"), "only goods have options and a goods type", problems)
    schedule = raw.get("schedule_type")
    mode = raw.get("quantity_mode") or "none"
    if schedule is None:
        problems["schedule_type"] = "choose datetime, date or anytime (R-CAT-1)"
    elif mode not in QUANTITY_MODES[schedule]:
        problems["quantity_mode"] = (
            f"a {schedule} product manages quantity {' / '.join(QUANTITY_MODES[schedule])} (R-CAT-2)"
        )
    prices = _entries(raw.get("prices") or [], "prices", "price_id", "pr", known_ids, make_id, problems)
    if not prices:
        problems.setdefault("prices", "a booking product needs at least one price (R-CAT-3)")
    for index, price in enumerate(prices):
        price.setdefault("max_quantity", None)
        if price["max_quantity"] is not None and mode == "none":
            problems[f"prices.{index}.max_quantity"] = R_CAT_2_MAX
    payment = raw.get("payment") or "none"
    return {
        "schedule_type": schedule,
        "quantity_mode": mode,
        "prices": prices,
        "payment": payment,
        "cancel_policy": normalize_policy(payment, raw.get("cancel_policy"), problems),
    }


def _goods_content(
    raw: dict[str, Any], known_ids: frozenset[str], make_id: MakeId, problems: dict[str, str]
) -> dict[str, Any]:
    _forbid(
        raw,
        ("schedule_type", "quantity_mode", "prices", "cancel_policy"),
        "goods have options with prices, no schedule, quantity mode or cancel policy",
        problems,
    )
    options = _entries(raw.get("options") or [], "options", "option_id", "op", known_ids, make_id, problems)
    if not options:
        problems.setdefault("options", "goods need at least one option with a price (R-CAT-3)")
    for option in options:
        option.setdefault("attributes", {})
    return {
        "goods_type": raw.get("goods_type") or "shop",
        "options": options,
        "payment": raw.get("payment") or "prepaid",
    }


def _entries(
    items: list[dict[str, Any]],
    field_name: str,
    id_key: str,
    prefix: str,
    known_ids: frozenset[str],
    make_id: MakeId,
    problems: dict[str, str],
) -> list[dict[str, Any]]:
    """Prices or options: ids kept or assigned, labels and ids unique."""
    seen_ids, seen_labels, result = set(), set(), []
    for index, item in enumerate(items):
        item = dict(item)
        given = item.get(id_key)
        if given is not None and given not in known_ids:
            problems[f"{field_name}.{index}.{id_key}"] = f"unknown {id_key}: leave it out for a new entry"
        if given in seen_ids:
            problems[f"{field_name}.{index}.{id_key}"] = f"duplicate {id_key}"
        if item["label"] in seen_labels:
            problems[f"{field_name}.{index}.label"] = "duplicate label"
        item[id_key] = given or make_id(prefix)
        seen_ids.add(item[id_key])
        seen_labels.add(item["label"])
        result.append(item)
    return result


def normalize_policy(payment: str, raw: dict[str, Any] | None, problems: dict[str, Any]) -> dict[str, Any]:
    """R-CAT-6: without payment the policy is always "full refund until the
    deadline, no cancellation after", completed automatically after use; fees,
    non-refundable sales and auto-cancel of unused bookings need payment."""
    raw = raw or {}
    deadline = raw.get("deadline_hours_before", DEFAULT_DEADLINE_HOURS)
    tiers = sorted((dict(t) for t in raw.get("fee_tiers") or []), key=lambda t: -t["hours_before"])
    non_refundable = bool(raw.get("non_refundable"))
    auto_cancel = bool(raw.get("auto_cancel_unused"))
    if payment == "none":
        for name, value in (
            ("fee_tiers", tiers),
            ("non_refundable", non_refundable),
            ("auto_cancel_unused", auto_cancel),
        ):
            if value:
                problems[f"cancel_policy.{name}"] = R_CAT_6_PAID_ONLY
        return {
            "kind": "free_until_deadline",
            "deadline_hours_before": deadline,
            "fee_tiers": [],
            "non_refundable": False,
            "auto_cancel_unused": False,
            "complete_after_use": True,
        }
    hours = [t["hours_before"] for t in tiers]
    if len(set(hours)) != len(hours):
        problems["cancel_policy.fee_tiers"] = "each tier needs its own hours_before"
    if any(h <= deadline for h in hours):
        problems["cancel_policy.fee_tiers"] = "tiers must start before the deadline (more hours_before)"
    if non_refundable and tiers:
        problems["cancel_policy.non_refundable"] = "a non-refundable product has no fee tiers"
    kind = "non_refundable" if non_refundable else ("fee_tiers" if tiers else "free_until_deadline")
    return {
        "kind": kind,
        "deadline_hours_before": deadline,
        "fee_tiers": tiers,
        "non_refundable": non_refundable,
        "auto_cancel_unused": auto_cancel,
        "complete_after_use": False,
    }


def known_ids_of(contents: list[dict[str, Any]]) -> frozenset[str]:
    """Every price and option id the product has used in any revision."""
    ids: set[str] = set()
    for content in contents:
        ids.update(p["price_id"] for p in content.get("prices") or [])
        ids.update(o["option_id"] for o in content.get("options") or [])
    return frozenset(ids)


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The review fields that differ (all of them for a product never approved)."""
    if before is None:
        return [f for f in REVIEW_FIELDS if after.get(f) not in (None, "", [], {})]
    return [f for f in REVIEW_FIELDS if before.get(f) != after.get(f)]


def patched_review_fields(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` content with the review fields present in ``patch`` replaced."""
    merged = {k: v for k, v in base.items() if k in REVIEW_FIELDS}
    merged.update({k: v for k, v in patch.items() if k in REVIEW_FIELDS})
    return merged


def check_patch_nulls(patch: dict[str, Any]) -> None:
    """In a PATCH, null clears an optional field; the required ones cannot be cleared."""
    required = (
        "name",
        "schedule_type",
        "prices",
        "options",
        "payment",
        "description",
        "images",
        "quantity_mode",
        "goods_type",
        "paused",
    )
    problems = {name: "may not be null" for name in required if name in patch and patch[name] is None}
    if problems:
        raise errors.invalid_fields(problems)


def check_sale_window(starts: dt.datetime | None, ends: dt.datetime | None) -> None:
    if starts and ends and ends <= starts:
        raise errors.invalid_fields({"sale_ends_at": "must be after sale_starts_at"})


# --- the product and its review (R-CAT-5): an aggregate ------------------------------


def new_settings(given: dict[str, Any]) -> dict[str, Any]:
    """A new product's settings: no sale window unless given, selling (not paused)."""
    return {
        "sale_starts_at": given.get("sale_starts_at"),
        "sale_ends_at": given.get("sale_ends_at"),
        "paused": bool(given.get("paused")),
    }


@dataclass(frozen=True)
class ReviewEdit:
    """What an edit of review fields does: ``action`` is ``edited`` (the open
    draft changes), ``review_withdrawn`` (a pending revision goes back to
    draft) or ``revision_started`` (a new draft); ``revision_id`` is the open
    revision's, None for a new one."""

    action: str
    revision_id: str | None
    content: dict[str, Any]
    fields: list[str]


@dataclass(frozen=True)
class SettingsEdit:
    """Settings after a PATCH and which of them changed (they apply at once)."""

    settings: dict[str, Any]
    fields: list[str]


@dataclass(frozen=True)
class Submission:
    """The open draft going to review, and the review fields it changes."""

    revision_id: str
    name: str
    fields: list[str]


@dataclass
class Product:
    """A product as its review sees it (R-CAT-5): the live version (approved
    content, None until the first approval), at most one open revision
    (``draft`` or ``pending``), the content of the last rejection since the
    live version, and the settings that apply at once."""

    product_id: str
    partner_id: str
    kind: str
    live_content: dict[str, Any] | None
    live_version: int | None
    open_revision_id: str | None
    open_status: str | None
    open_content: dict[str, Any] | None
    rejected_content: dict[str, Any] | None
    settings: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Product:
        columns = {f.name: row[f.name] for f in fields(cls) if f.name != "settings"}
        return cls(**columns, settings={name: row[name] for name in SETTINGS_FIELDS})

    @property
    def is_live(self) -> bool:
        """Approved once: consumers see it (drafts publish nothing)."""
        return self.live_content is not None

    @property
    def current_content(self) -> dict[str, Any]:
        """What inventory and blocks are checked against: the live version's, or for
        a product never approved, its latest revision's."""
        content = self.live_content or self.open_content or self.rejected_content
        assert content is not None  # a product is created with its first revision
        return content

    def edit_review_fields(self, patch: dict[str, Any], known_ids: frozenset[str]) -> ReviewEdit | None:
        """The open revision takes the edit (a pending one goes back to draft); with
        none open, a new draft starts from the rejected content (the partner fixes
        what was refused) or from the live one. None when nothing would differ."""
        base = self.open_content or self.rejected_content or self.live_content
        assert base is not None
        content = normalize_content(self.kind, patched_review_fields(base, patch), known_ids)
        fields = changed_fields(base, content)
        if self.open_revision_id is not None:
            if not fields:
                return None  # nothing differs: a pending revision stays in review
            action = "review_withdrawn" if self.open_status == "pending" else "edited"
            return ReviewEdit(action, self.open_revision_id, content, fields)
        if self.live_content is not None and not changed_fields(self.live_content, content):
            return None  # nothing differs from what is live: no revision to review
        return ReviewEdit("revision_started", None, content, fields)

    def edit_settings(self, patch: dict[str, Any]) -> SettingsEdit | None:
        """Sale window and pause apply at once; None when nothing changes."""
        settings = {**self.settings, **patch}
        check_sale_window(settings["sale_starts_at"], settings["sale_ends_at"])
        fields = sorted(name for name in patch if patch[name] != self.settings[name])
        return SettingsEdit(settings, fields) if fields else None

    def submit(self) -> Submission:
        """The draft goes to review: 409 with none open or one already pending."""
        if self.open_revision_id is None or self.open_content is None:
            raise errors.nothing_to_submit(self.product_id)
        if self.open_status == "pending":
            raise errors.already_in_review(self.product_id, self.open_revision_id)
        check_place_before_review(self.kind, self.open_content)
        return Submission(
            self.open_revision_id, self.open_content["name"], changed_fields(self.live_content, self.open_content)
        )


def check_place_before_review(kind: str, content: dict[str, Any]) -> None:
    """A booking product names the place where it is used before review (R-CAT-4)."""
    if kind == "booking" and not content.get("place_id"):
        raise ValidationFailed(
            "place_required",
            "a booking product needs the place where it is used before review",
            {"fields": {"place_id": "required before review for booking products (R-CAT-4)"}},
        )


def check_pending(revision: dict[str, Any]) -> None:
    """Only a pending revision is approved or rejected."""
    if revision["status"] != "pending":
        raise errors.review_not_pending(revision["revision_id"], revision["status"])


# --- cancellation (R-CAT-6; R-RSV-4 builds on it) ------------------------------


def quote_cancellation(
    policy: dict[str, Any], amount: int, use_at: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """What cancelling now costs, under the policy the booking was sold with.

    Past the deadline (``deadline_hours_before`` the use) nothing can be
    cancelled. A fee tier ``{hours_before: 72, fee_percent: 10}`` means
    "cancelling less than 72 h before use costs 10 %"; of the tiers that apply,
    the one closest to the use wins. ``anytime`` products (no use time) follow
    the tiers as if the use were far away. Fees round down to whole KRW.
    """
    hours_left = None if use_at is None else (use_at - now).total_seconds() / 3600
    if hours_left is not None and hours_left < policy["deadline_hours_before"]:
        return {"allowed": False, "reason": "deadline_passed", "fee": 0, "refund": 0}
    if policy["non_refundable"]:
        return {"allowed": False, "reason": "non_refundable", "fee": 0, "refund": 0}
    percent = 0
    applying = [t for t in policy["fee_tiers"] if hours_left is not None and hours_left < t["hours_before"]]
    if applying:
        percent = min(applying, key=lambda t: t["hours_before"])["fee_percent"]
    fee = amount * percent // 100
    return {"allowed": True, "reason": None, "fee": fee, "refund": amount - fee, "fee_percent": percent}


# --- display state (R-CAT-4) -----------------------------------------------------


@dataclass
class Availability:
    """Future, unblocked inventory of one product, counted per bucket kind:
    ``offered`` rows, and ``open`` rows (a capacity set and not all taken).
    ``options``: option id -> remaining stock (untracked options are absent)."""

    offered: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)
    options: dict[str, int] = field(default_factory=dict)


def has_offer_and_room(content: dict[str, Any], availability: Availability) -> tuple[bool, bool]:
    """Does the product offer anything in the future, and is any of it left?"""
    if content.get("schedule_type") is None:  # goods
        remaining = [availability.options.get(o["option_id"]) for o in content["options"]]
        return True, any(r is None or r > 0 for r in remaining)
    schedule, mode = content["schedule_type"], content["quantity_mode"]
    offered_kind = {"datetime": "slot", "date": "date"}.get(schedule)
    schedule_open = offered_kind is None or availability.offered.get(offered_kind, 0) > 0
    if mode == "none":
        return schedule_open, schedule_open
    unit = {"slot": "slot", "date": "date", "period": "period"}[mode]
    has_offer = availability.offered.get(unit, 0) > 0 and (
        offered_kind is None or availability.offered.get(offered_kind, 0) > 0
    )
    return has_offer, has_offer and availability.open.get(unit, 0) > 0


def display_state(
    *,
    approved: bool,
    settings: dict[str, Any],
    now: dt.datetime,
    content: dict[str, Any] | None,
    availability: Availability,
) -> str:
    if not approved or content is None or settings.get("paused"):
        return "unavailable"
    if settings.get("sale_starts_at") and now < settings["sale_starts_at"]:
        return "upcoming"
    if settings.get("sale_ends_at") and now >= settings["sale_ends_at"]:
        return "closed"
    has_offer, has_room = has_offer_and_room(content, availability)
    if has_room:
        return "bookable"
    return "closed" if has_offer else "unavailable"  # sold out is closed; nothing offered is unavailable


# --- inventory (non-review, R-CAT-2, R-CAT-3) ------------------------------------


def slot_key(day: dt.date, at: dt.time | None) -> str:
    return f"slot:{day.isoformat()}T{hhmm(at)}" if at is not None else f"date:{day.isoformat()}"


def inventory_rows(
    content: dict[str, Any], slots: list[dict[str, Any]], period_capacity_given: bool, period_capacity: int | None
) -> list[dict[str, Any]]:
    """Bucket rows to upsert for an inventory PUT, checked against the product's
    schedule and quantity mode (the live version's, or the open revision's
    for a product never approved)."""
    problems: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    schedule, mode = content.get("schedule_type"), content.get("quantity_mode")
    if schedule is None:
        if slots or period_capacity_given:
            problems["slots"] = "goods have stock per option, not slots"
        _raise(problems)
        return rows
    for index, slot in enumerate(slots):
        at, capacity = slot.get("time"), slot.get("capacity")
        where = f"slots.{index}"
        if schedule == "anytime":
            problems[where] = "an anytime product has no dates: set[Any] period_capacity"
            continue
        if schedule == "date" and at is not None:
            problems[f"{where}.time"] = "a date product has no times"
            continue
        day_row_of_timed = schedule == "datetime" and at is None
        if day_row_of_timed and mode != "date":
            problems[f"{where}.time"] = "a datetime product needs a time (or quantity per date)"
            continue
        needs_capacity = (mode == "slot" and at is not None) or (mode == "date" and at is None)
        if needs_capacity and capacity is None:
            problems[f"{where}.capacity"] = f"quantity is managed per {mode}: give a capacity (R-CAT-2)"
        if not needs_capacity and capacity is not None:
            problems[f"{where}.capacity"] = f"quantity is managed per {mode}: no capacity here"
        rows.append(
            {
                "bucket_key": slot_key(slot["date"], at),
                "kind": "slot" if at is not None else "date",
                "day": slot["date"],
                "at_time": at,
                "capacity": capacity,
            }
        )
    if period_capacity_given:
        if mode != "period":
            problems["period_capacity"] = "quantity is not managed per period for this product"
        else:
            rows.append(
                {"bucket_key": "period", "kind": "period", "day": None, "at_time": None, "capacity": period_capacity}
            )
    _raise(problems)
    return rows


def _raise(problems: dict[str, Any]) -> None:
    if problems:
        raise errors.invalid_fields(problems, "the inventory does not fit the product")


# --- holds (R-RSV-3, R-CAT-2, R-CAT-3) -------------------------------------------


@dataclass
class BucketNeed:
    """One row a hold line takes capacity from.

    ``enforce``: the row's capacity must hold (a quantity unit, a price
    maximum, a stock); otherwise the row only counts (an offered time slot
    when quantity is managed per date or period). ``required``: a missing row
    means "not offered"; a missing stock row means "not tracked". A price
    maximum row is created on first use with ``upsert_capacity``.
    """

    product_id: str
    key: str
    kind: str
    quantity: int
    enforce: bool
    required: bool
    upsert_capacity: int | None = None
    lines: list[int] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> tuple[str, str]:
        return (self.product_id, self.key)


def hold_line_needs(
    index: int, line: dict[str, Any], product: dict[str, Any], blocks: set[Any], today: dt.date, now_time: dt.time
) -> tuple[list[BucketNeed], dict[str, Any]]:
    """The buckets one line takes, and the line as priced by the live version.

    Raises a 422 for a line that does not fit the product and a 409 for one
    the product cannot take now (past, blocked)."""
    content = product["live"]
    if product["kind"] == "goods":
        return _goods_line(index, line, product, content)
    return _booking_line(index, line, product, content, blocks, today, now_time)


def _line_problem(index: int, name: str, message: str) -> DomainError:
    return errors.invalid_fields({f"lines.{index}.{name}": message}, "a hold line does not fit the product")


def _goods_line(
    index: int, line: dict[str, Any], product: dict[str, Any], content: dict[str, Any]
) -> tuple[list[BucketNeed], dict[str, Any]]:
    for name in ("price_id", "date", "time"):
        if line.get(name) is not None:
            raise _line_problem(index, name, "goods lines name an option_id only")
    option = _line_option(index, line, content["options"])
    line["option_id"] = option["option_id"]  # the hold's row names it, for a partial release
    need = BucketNeed(
        product["product_id"],
        f"option:{option['option_id']}",
        "option",
        line["quantity"],
        enforce=True,
        required=False,
        lines=[index],
        detail={"product_id": product["product_id"], "option_id": option["option_id"]},
    )
    priced = {"option_id": option["option_id"], "label": option["label"], "unit_price": option["amount"]}
    return [need], priced


def _line_option(index: int, line: dict[str, Any], options: list[dict[str, Any]]) -> dict[str, Any]:
    """The option a goods line names; a line naming none takes the product's only
    option (a cafe's Americano), and is refused when there is a choice to make."""
    if line.get("option_id") is None:
        if len(options) != 1:
            raise _line_problem(index, "option_id", "choose one of the product's options")
        return options[0]
    option = next((o for o in options if o["option_id"] == line["option_id"]), None)
    if option is None:
        raise _line_problem(index, "option_id", "not an option of this product")
    return option


KIND_WORDS = {"goods": "not a menu item or shop product", "booking": "not a bookable product"}


def check_kind(product: dict[str, Any], kind: str | None, index: int) -> None:
    """A hold for orders takes goods only, one for reservations booking products only."""
    if kind is not None and product["kind"] != kind:
        raise _line_problem(index, "product_id", KIND_WORDS[kind])


def _booking_line(
    index: int,
    line: dict[str, Any],
    product: dict[str, Any],
    content: dict[str, Any],
    blocks: set[Any],
    today: dt.date,
    now_time: dt.time,
) -> tuple[list[BucketNeed], dict[str, Any]]:
    if line.get("option_id") is not None:
        raise _line_problem(index, "option_id", "booking lines name a price_id")
    price = next((p for p in content["prices"] if p["price_id"] == line.get("price_id")), None)
    if price is None:
        raise _line_problem(index, "price_id", "not a price of this product")
    schedule, mode = content["schedule_type"], content["quantity_mode"]
    day, at = line.get("date"), line.get("time")
    if schedule == "anytime" and (day is not None or at is not None):
        raise _line_problem(index, "date", "an anytime product takes no date or time")
    if schedule in ("datetime", "date") and day is None:
        raise _line_problem(index, "date", f"a {schedule} product needs a date")
    if schedule == "datetime" and at is None:
        raise _line_problem(index, "time", "a datetime product needs a time")
    if schedule == "date" and at is not None:
        raise _line_problem(index, "time", "a date product takes no time")
    pid = product["product_id"]
    where = {
        "product_id": pid,
        "price_id": price["price_id"],
        "date": day.isoformat() if day else None,
        "time": hhmm(at),
    }
    if day is not None:
        if is_past(day, at, today, now_time):
            raise errors.not_holdable("slot_past", "this date or time has passed", index, where)
        if is_blocked(blocks, day, at):
            raise errors.not_holdable("slot_blocked", "the partner closed this date or time", index, where)

    needs = []
    offered_key = slot_key(day, at) if day is not None else None
    unit_key = {
        "slot": offered_key,
        "date": f"date:{day.isoformat()}" if day else None,
        "period": "period",
        "none": None,
    }[mode]
    if offered_key is not None:
        needs.append(
            BucketNeed(
                pid,
                offered_key,
                "slot" if at else "date",
                line["quantity"],
                enforce=offered_key == unit_key,
                required=True,
                lines=[index],
                detail=where,
            )
        )
    if unit_key is not None and unit_key != offered_key:
        needs.append(
            BucketNeed(pid, unit_key, mode, line["quantity"], enforce=True, required=True, lines=[index], detail=where)
        )
    if price["max_quantity"] is not None and unit_key is not None:
        needs.append(
            BucketNeed(
                pid,
                price_key(price["price_id"]),
                "price",
                line["quantity"],
                enforce=True,
                required=True,
                upsert_capacity=price["max_quantity"],
                lines=[index],
                detail={**where, "max_quantity": price["max_quantity"]},
            )
        )
    priced = {
        "price_id": price["price_id"],
        "label": price["label"],
        "unit_price": price["amount"],
        "date": where["date"],
        "time": where["time"],
    }
    return needs, priced


def is_past(day: dt.date, at: dt.time | None, today: dt.date, now_time: dt.time) -> bool:
    """A date before today, or a time of today that has begun."""
    return day < today or (at is not None and day == today and at <= now_time)


def closed_set(block_rows: list[dict[str, Any]]) -> set[Any]:
    """{date (a whole day closed) or (date, time)} of block rows (``day``, ``at_time``)."""
    return {b["day"] if b["at_time"] is None else (b["day"], b["at_time"]) for b in block_rows}


def is_blocked(closed: set[Any], day: dt.date, at: dt.time | None) -> bool:
    return day in closed or (day, at) in closed


def check_blockable(content: dict[str, Any], with_times: bool) -> None:
    """Only products with dates block dates; only datetime ones block times."""
    schedule = content.get("schedule_type")
    if schedule not in ("datetime", "date"):
        raise errors.invalid_fields({"dates": "only products with dates can block dates"})
    if with_times and schedule != "datetime":
        raise errors.invalid_fields({"times": "a date product blocks whole dates"})


def price_key(price_id: str) -> str:
    """The one row of a price's maximum (R-CAT-2), shared by every date and time."""
    return f"price:{price_id}"


def merge_needs(needs: list[BucketNeed]) -> list[BucketNeed]:
    """One need per row, quantities summed, in the fixed lock order
    (product id, bucket key) that every hold and release follows, so two
    transactions never wait on each other in a cycle (no deadlock)."""
    merged: dict[tuple[str, str], BucketNeed] = {}
    for need in needs:
        if need.order in merged:
            into = merged[need.order]
            into.quantity += need.quantity
            into.lines += need.lines
        else:
            merged[need.order] = BucketNeed(**{**need.__dict__, "lines": list(need.lines)})
    return [merged[k] for k in sorted(merged)]


def refuse_need(need: BucketNeed, remaining: int | None, exists: bool) -> Exception:
    """The error for a need the row could not give."""
    line = need.lines[0]
    if not exists and need.required and need.kind != "price":
        return errors.not_holdable(
            "slot_not_offered", "this date, time or period is not offered", line, {**need.detail, "bucket": need.kind}
        )
    detail = {**need.detail, "bucket": need.kind, "remaining": max(remaining or 0, 0), "requested": need.quantity}
    if need.kind == "option":
        return errors.out_of_stock(line, detail)
    return errors.capacity_exhausted(line, detail)


def sold_out_by(need: BucketNeed, taken: int | None, capacity: int | None) -> bool:
    """Did this take sell out a goods option or a period (``product.sold_out``, R-CAT-3)?"""
    return need.kind in ("option", "period") and capacity is not None and taken is not None and taken >= capacity


def check_holdable(product: dict[str, Any], now: dt.datetime, index: int) -> None:
    """The sale window and pause switch apply to holds as to the display (R-CAT-4)."""
    settings, where = product["settings"], {"product_id": product["product_id"]}
    if settings.get("paused"):
        raise errors.not_holdable("product_unavailable", "the partner paused sales of this product", index, where)
    if settings.get("sale_starts_at") and now < settings["sale_starts_at"]:
        raise errors.not_holdable("sale_not_started", "the sale has not started", index, where)
    if settings.get("sale_ends_at") and now >= settings["sale_ends_at"]:
        raise errors.not_holdable("sale_ended", "the sale has ended", index, where)


def coupon_reference(coupon: dict[str, Any] | None) -> dict[str, Any] | None:
    """The coupon a hold names, by code (in capitals, as codes are kept) or by id: one of the two."""
    if coupon is None:
        return None
    if (coupon["code"] is None) == (coupon["coupon_id"] is None):
        raise errors.invalid_fields({"coupon.code": "name the coupon by code or by coupon_id (one of them)"})
    if coupon["code"] is not None:
        return {**coupon, "code": coupon["code"].upper()}
    return coupon


def hold_result(
    hold_id: str,
    partner_id: str,
    now: dt.datetime,
    lines: list[dict[str, Any]],
    priced: list[dict[str, Any]],
    products: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The hold as granted: each line priced by the live version, and what the
    caller keeps of each product sold (its version, payment and cancellation
    policy, R-CAT-6). Without a coupon the subtotal is the total."""
    result_lines = []
    for index, (line, price) in enumerate(zip(lines, priced, strict=True)):
        product = products[line["product_id"]]
        result_lines.append(
            {
                "line": index,
                "product_id": line["product_id"],
                "kind": product["kind"],
                "version": product["version"],
                "name": product["live"]["name"],
                "quantity": line["quantity"],
                "amount": price["unit_price"] * line["quantity"],
                "released": 0,
                **price,
            }
        )
    summary = {
        pid: {
            "version": p["version"],
            "name": p["live"]["name"],
            "kind": p["kind"],
            "payment": p["live"].get("payment"),
            "schedule_type": p["live"].get("schedule_type"),
            "quantity_mode": p["live"].get("quantity_mode"),
            "cancel_policy": p["live"].get("cancel_policy"),
        }
        for pid, p in products.items()
    }
    total = sum(line["amount"] for line in result_lines)
    return {
        "hold_id": hold_id,
        "partner_id": partner_id,
        "status": "held",
        "created_at": now.isoformat(),
        "lines": result_lines,
        "total": total,
        "products": summary,
        "subtotal": total,
        "discount_amount": 0,
        "coupon": None,
    }


def hold_request_fingerprint(partner_id: str, lines: list[dict[str, Any]], coupon: dict[str, Any] | None = None) -> str:
    """What makes two hold calls "the same request" for idempotency (the
    coupon, when one is named, is part of the request)."""
    request = {"partner_id": partner_id, "lines": lines, **({"coupon": coupon} if coupon else {})}
    return json.dumps(request, sort_keys=True, default=str)


def release_plan(held: list[dict[str, Any]], wanted: list[dict[str, Any]] | None, hold_id: str) -> dict[int, int]:
    """line -> quantity to give back. ``held`` rows have line, quantity, released."""
    still = {row["line"]: row["quantity"] - row["released"] for row in held}
    if wanted is None:
        return {line: q for line, q in still.items() if q > 0}
    plan: dict[int, int] = {}
    for item in wanted:
        line = item["line"]
        plan[line] = plan.get(line, 0) + item["quantity"]
        if line not in still or plan[line] > still[line]:
            raise errors.release_exceeds_hold(hold_id, line, still.get(line, 0))
    return plan


# --- a hold on capacity (R-RSV-3): an aggregate -------------------------------------------

HELD, RELEASED = "held", "released"


@dataclass
class HoldLine:
    """What one line of a hold took: the rows (bucket keys) and how much came back."""

    line: int
    product_id: str
    quantity: int
    released: int = 0
    bucket_keys: list[str] = field(default_factory=list)

    @property
    def still_held(self) -> int:
        return self.quantity - self.released

    def as_row(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "product_id": self.product_id,
            "quantity": self.quantity,
            "released": self.released,
            "bucket_keys": list(self.bucket_keys),
        }


@dataclass
class Hold:
    """Capacity held for one booking or order, line by line, until released.

    Its id is single use: a retry with the same request (``fingerprint``)
    gets the same hold, another request is refused; an id released before any
    hold arrived is a tombstone (empty fingerprint) and holds nothing."""

    hold_id: str
    partner_id: str
    status: str
    fingerprint: str
    lines: list[HoldLine]
    redemption_key: str | None = None

    @classmethod
    def granted(
        cls,
        hold_id: str,
        partner_id: str,
        fingerprint: str,
        lines: list[dict[str, Any]],
        needs: list[BucketNeed],
        redemption_key: str | None,
    ) -> Hold:
        """A new hold: each line takes the rows of the needs that name it, nothing released."""
        return cls(
            hold_id,
            partner_id,
            HELD,
            fingerprint,
            [
                HoldLine(
                    index, line["product_id"], line["quantity"], 0, [need.key for need in needs if index in need.lines]
                )
                for index, line in enumerate(lines)
            ],
            redemption_key,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Hold:
        return cls(
            row["hold_id"],
            row["partner_id"],
            row["status"],
            row["fingerprint"],
            [HoldLine(**line) for line in row["lines"] or []],
            row["redemption_key"],
        )

    def lines_row(self) -> list[dict[str, Any]]:
        return [line.as_row() for line in self.lines]

    @property
    def is_tombstone(self) -> bool:
        return self.fingerprint == ""

    def visible_to(self, partner_id: str) -> bool:
        """Another partner's hold, or an id only ever released, is no hold to see."""
        return self.partner_id == partner_id and not self.is_tombstone

    def check_replay(self, fingerprint: str) -> None:
        """A retry of this id: the same request gets this hold (a tombstone replays
        as released); another request is 409 ``hold_id_reused``."""
        if not self.is_tombstone and self.fingerprint != fingerprint:
            raise errors.hold_id_reused(self.hold_id)

    def forget_untracked(self, untracked: set[str]) -> None:
        """Stock that is not tracked took nothing: there is nothing to give back later."""
        for line in self.lines:
            line.bucket_keys = [key for key in line.bucket_keys if key not in untracked]

    def release(self, wanted: list[dict[str, Any]] | None) -> dict[int, int]:
        """Give back everything still held (``wanted`` None) or ``[{line, quantity}]``
        (409 ``release_exceeds_hold`` beyond what is held); released once nothing
        is left. Returns line -> quantity given back now."""
        plan = release_plan([line.as_row() for line in self.lines], wanted, self.hold_id)
        for line in self.lines:
            line.released += plan.get(line.line, 0)
        if all(line.still_held <= 0 for line in self.lines):
            self.status = RELEASED
        return plan

    def rows_to_give_back(self, plan: dict[int, int]) -> list[tuple[str, str, int]]:
        """(product_id, bucket_key, quantity) in the order holds take rows (no deadlock)."""
        amounts: dict[tuple[str, str], int] = {}
        for line in self.lines:
            if plan.get(line.line):
                for key in line.bucket_keys:
                    amounts[(line.product_id, key)] = amounts.get((line.product_id, key), 0) + plan[line.line]
        return [(product_id, key, amounts[(product_id, key)]) for product_id, key in sorted(amounts)]


# --- coupons (issue #11) ---------------------------------------------------------------

COUPON_FIELDS = (
    "name",
    "discount_type",
    "amount",
    "percent",
    "max_discount",
    "min_spend",
    "starts_at",
    "ends_at",
    "product_ids",
    "total_limit",
    "per_customer_limit",
    "distribution",
    "code",
    "paused",
)
COUPON_UPDATABLE = set(COUPON_FIELDS) - {"distribution"}
COUPON_REQUIRED = ("name", "discount_type", "min_spend", "product_ids", "code")  # a PATCH cannot clear these
COUPON_STATES = ("active", "paused", "scheduled", "expired", "exhausted")


def coupon_settings(current: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """The coupon's checked fields after a creation (``current`` None) or a
    PATCH of ``given``; a 422 naming every field that does not fit.

    A fixed coupon takes ``amount`` KRW off; a percent one ``percent`` % of the
    applicable lines, at most ``max_discount`` KRW when set. Switching the
    type clears the other type's fields. Code coupons need a code, issued ones
    have none (they are addressed by id). Edits apply to later redemptions
    only: a redemption keeps the discount it was given."""
    problems: dict[str, str] = {}
    if current is not None:
        for name in COUPON_REQUIRED:
            if name in given and given[name] is None:
                problems[name] = "may not be null"
    merged = {**(current or {}), **{k: v for k, v in given.items() if k in COUPON_FIELDS}}
    if merged["discount_type"] == "fixed":
        for name in ("percent", "max_discount"):
            if given.get(name) is not None:
                problems[name] = "a fixed coupon takes an amount off; percent and max_discount are for percent ones"
            merged[name] = None
        if merged.get("amount") is None:
            problems["amount"] = "a fixed coupon needs an amount (KRW)"
    else:
        if given.get("amount") is not None:
            problems["amount"] = "a percent coupon takes percent (and max_discount), not an amount"
        merged["amount"] = None
        if merged.get("percent") is None:
            problems["percent"] = "a percent coupon needs a percent (1..100)"
    if merged["distribution"] == "code" and not merged.get("code"):
        problems["code"] = "a code coupon needs a code customers type"
    if merged["distribution"] == "issued" and given.get("code") is not None:
        problems["code"] = "issued coupons have no code: they are given to customers (POST .../issue)"
    if merged["code"]:
        merged["code"] = merged["code"].upper()
    if merged.get("starts_at") and merged.get("ends_at") and merged["ends_at"] <= merged["starts_at"]:
        problems["ends_at"] = "must be after starts_at"
    merged["product_ids"] = list(dict.fromkeys(merged.get("product_ids") or []))
    if problems:
        raise errors.invalid_fields(problems, "the coupon is invalid")
    return merged


def coupon_state(coupon: dict[str, Any], now: dt.datetime) -> str:
    if coupon["paused"]:
        return "paused"
    if coupon["starts_at"] and now < coupon["starts_at"]:
        return "scheduled"
    if coupon["ends_at"] and now >= coupon["ends_at"]:
        return "expired"
    if coupon["total_limit"] is not None and coupon["redeemed"] >= coupon["total_limit"]:
        return "exhausted"
    return "active"


def coupon_applies(coupon: dict[str, Any], line: dict[str, Any]) -> bool:
    """A coupon naming no products applies to all of the partner's."""
    return not coupon["product_ids"] or line["product_id"] in coupon["product_ids"]


def remaining_redemptions(coupon: dict[str, Any]) -> int | None:
    """Redemptions left under the total limit (None: no limit)."""
    return None if coupon["total_limit"] is None else max(coupon["total_limit"] - coupon["redeemed"], 0)


def coupon_discount(coupon: dict[str, Any], lines: list[dict[str, Any]]) -> tuple[int, int]:
    """(amount of the lines the coupon applies to, discount on them). Lines are
    the hold's priced lines (``product_id``, ``amount`` at the live price):
    a coupon never changes a listed price, it takes its discount off them."""
    applicable = sum(line["amount"] for line in lines if coupon_applies(coupon, line))
    if coupon["discount_type"] == "fixed":
        return applicable, min(coupon["amount"], applicable)
    discount = applicable * coupon["percent"] // 100
    if coupon["max_discount"] is not None:
        discount = min(discount, coupon["max_discount"])
    return applicable, discount


def check_redeemable(
    coupon: dict[str, Any], now: dt.datetime, lines: list[dict[str, Any]], *, issued: bool, used: int
) -> int:
    """The discount of a new redemption, or the refusal (409), checked in this
    order: paused, not started, expired, not issued to this customer, no line
    it applies to, minimum spend (on the lines it applies to), total limit,
    per-customer limit. ``used``: the customer's active redemptions of it."""
    where = {"coupon_id": str(coupon["coupon_id"])}
    state = coupon_state(coupon, now)  # "exhausted" only when none of the states before it applies
    if state == "paused":
        raise errors.coupon_refused("coupon_paused", "the partner paused this coupon", where)
    if state == "scheduled":
        raise errors.coupon_refused(
            "coupon_not_started",
            "this coupon cannot be used yet",
            {**where, "starts_at": coupon["starts_at"].isoformat()},
        )
    if state == "expired":
        raise errors.coupon_refused(
            "coupon_expired", "this coupon has expired", {**where, "ends_at": coupon["ends_at"].isoformat()}
        )
    if coupon["distribution"] == "issued" and not issued:
        raise errors.coupon_refused("coupon_not_issued", "this coupon was not given to this customer", where)
    if not any(coupon_applies(coupon, line) for line in lines):
        raise errors.coupon_refused(
            "coupon_not_applicable",
            "this coupon does not apply to these products",
            {**where, "product_ids": list(coupon["product_ids"])},
        )
    applicable, discount = coupon_discount(coupon, lines)
    if applicable < coupon["min_spend"]:
        raise errors.coupon_refused(
            "coupon_min_spend",
            "the amount is below the coupon's minimum spend",
            {**where, "min_spend": coupon["min_spend"], "amount": applicable},
        )
    if state == "exhausted":
        raise errors.coupon_refused(
            "coupon_exhausted", "this coupon has been used up", {**where, "total_limit": coupon["total_limit"]}
        )
    if coupon["per_customer_limit"] is not None and used >= coupon["per_customer_limit"]:
        raise errors.coupon_refused(
            "coupon_limit_reached",
            "this customer has used this coupon as often as allowed",
            {**where, "per_customer_limit": coupon["per_customer_limit"], "used": used},
        )
    return discount


def discounted_hold(
    result: dict[str, Any], coupon: dict[str, Any], redemption_key: str, discount: int
) -> dict[str, Any]:
    """The hold's price snapshot with the coupon: ``subtotal`` at the live
    prices, ``discount_amount``, and ``total`` = what the customer pays."""
    subtotal = sum(line["amount"] for line in result["lines"])
    discount = min(discount, subtotal)
    return {
        **result,
        "subtotal": subtotal,
        "discount_amount": discount,
        "total": subtotal - discount,
        "coupon": {
            "coupon_id": str(coupon["coupon_id"]),
            "name": coupon["name"],
            "code": coupon["code"],
            "discount_type": coupon["discount_type"],
            "redemption_key": redemption_key,
            "discount_amount": discount,
        },
    }


# --- paging ------------------------------------------------------------------------
