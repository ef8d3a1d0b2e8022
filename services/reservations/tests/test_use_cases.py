"""The orchestration of use_cases.py in memory (issue 19): the booking intent,
the date change and the release queue with fakes of the unit of work, the
store and the catalog, no RabbitMQ or PostgreSQL. What needs real processes
(crashes, redelivery, concurrency, RPC, events) stays in the other files."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from chassis import Actor
from chassis.fakes import InMemoryTransactions
from chassis.errors import Conflict, DomainError, NotFound, ServiceUnavailable
from chassis.validation import parse
from reservations import domain
from reservations.schemas import ChangeDateIn, ReservationCreate
from reservations.use_cases import Reservations, Settings

PARTNER, CUSTOMER, PRODUCT = "p-1", "c-1", "prod-1"
START = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
USE_DATE, LATER_DATE = dt.date(2026, 12, 10), dt.date(2026, 12, 11)
GRACE = 60.0


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=seconds)


class FakeStore:
    """store.py's functions over dicts, with the same answers (copies, as rows are)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.intents: dict[tuple[str, str], dict] = {}
        self.reservations: dict[str, dict] = {}
        self.settings: dict[tuple[str, str], dict] = {}
        self.releases: dict[str, dict] = {}
        self.history: list[tuple] = []
        self.money: list[tuple] = []
        self.taken_numbers: list[str] = []  # numbers some earlier booking already has

    # booking intents
    def claim_intent(self, uow, customer_id, key, fingerprint, reservation_id, number, partner_id):
        if number in self.taken_numbers or any(i["number"] == number for i in self.intents.values()):
            raise domain.NumberTaken(number)
        if (customer_id, key) in self.intents:
            return None
        self.intents[(customer_id, key)] = {
            "customer_id": customer_id,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "reservation_id": str(reservation_id),
            "number": number,
            "partner_id": partner_id,
            "hold_sequence": 0,
            "state": "pending",
            "response_status": None,
            "response": None,
            "created_at": self.clock(),
            "updated_at": self.clock(),
        }
        return copy.deepcopy(self.intents[(customer_id, key)])

    def intent(self, uow, customer_id, key, lock=False):
        return copy.deepcopy(self.intents.get((customer_id, key)))

    def restart_intent(self, uow, customer_id, key):
        intent = self.intents.get((customer_id, key))
        if intent is None or intent["state"] != "abandoned":
            return None
        intent.update(state="pending", hold_sequence=intent["hold_sequence"] + 1, updated_at=self.clock())
        return copy.deepcopy(intent)

    def finish_intent(self, uow, customer_id, key, answer):
        self.intents[(customer_id, key)].update(copy.deepcopy(answer), updated_at=self.clock())
        return copy.deepcopy(answer["response"])

    def stale_intents(self, uow, older_than, limit):
        stale = sorted(
            (i for i in self.intents.values() if i["state"] == "pending" and i["updated_at"] < older_than),
            key=lambda i: i["updated_at"],
        )
        return copy.deepcopy(stale[:limit])

    def abandon_intent(self, uow, customer_id, key):
        self.intents[(customer_id, key)].update(state="abandoned", updated_at=self.clock())

    # reservations
    def record_booking(self, uow, customer_id, key, hold_sequence, r, response, history):
        intent = self.intents[(customer_id, key)]
        if intent["state"] != "pending" or intent["hold_sequence"] != hold_sequence:
            return None
        intent.update(state="done", response_status=201, response=copy.deepcopy(response))
        self.reservations[r["reservation_id"]] = {
            **copy.deepcopy(r),
            "hold_attempts": hold_sequence,
            "holder_name": None,
            "holder_phone": None,
        }
        self.history.append((r["reservation_id"], "booked", history))
        return copy.deepcopy(response)

    def product_settings(self, uow, partner_id, product_id):
        return copy.deepcopy(self.settings.get((partner_id, product_id)))

    def save_product_settings(self, uow, partner_id, product_id, settings, actor):
        self.settings[(partner_id, product_id)] = {**settings, "updated_at": self.clock()}
        return copy.deepcopy(self.settings[(partner_id, product_id)])

    def reservation(self, uow, number, *, partner_id=None, lock=False):
        found = [
            r for r in self.reservations.values() if r["number"] == number and partner_id in (None, r["partner_id"])
        ]
        return copy.deepcopy(found[0]) if found else None

    def reservation_by_id(self, uow, reservation_id, lock=False):
        return copy.deepcopy(self.reservations.get(reservation_id))

    def saved_by(self, uow, customer_id, reservation_id):
        return False

    def update_reservation(self, uow, reservation_id, changes):
        self.reservations[reservation_id].update(copy.deepcopy(changes), updated_at=self.clock())
        return copy.deepcopy(self.reservations[reservation_id])

    def next_hold_number(self, uow, reservation_id):
        r = self.reservations[reservation_id]
        r["hold_attempts"] = max(r["hold_attempts"], r["hold_sequence"]) + 1
        return r["hold_attempts"]

    def record_history(self, uow, reservation_id, action, actor_kind, actor_id, details=None):
        self.history.append((reservation_id, action, details or {}))

    def record_money(self, uow, partner_id, number, kind, amount):
        if amount > 0:
            self.money.append((number, kind, amount))

    def due_reservations(self, uow, as_of, limit):
        due = sorted(
            (r for r in self.reservations.values() if r["due_at"] is not None and r["due_at"] <= as_of),
            key=lambda r: r["due_at"],
        )
        return copy.deepcopy(due[:limit])

    # the release queue
    def queue_release(self, uow, release_id, hold_id, partner_id, lines, delay_seconds=0):
        self.releases.setdefault(
            release_id,
            {
                "release_id": release_id,
                "hold_id": hold_id,
                "partner_id": partner_id,
                "lines": copy.deepcopy(lines),
                "attempts": 0,
                "last_error": None,
                "next_attempt_at": self.clock() + dt.timedelta(seconds=delay_seconds),
            },
        )

    def claim_releases(self, uow, release_ids, lease_seconds):
        return self._claim(
            [self.releases[i] for i in release_ids if i in self.releases], len(release_ids), lease_seconds
        )

    def claim_due_releases(self, uow, limit, lease_seconds):
        return self._claim(sorted(self.releases.values(), key=lambda r: r["next_attempt_at"]), limit, lease_seconds)

    def _claim(self, rows, limit, lease_seconds):
        due = [r for r in rows if r["next_attempt_at"] <= self.clock()][:limit]
        for r in due:
            r["next_attempt_at"] = self.clock() + dt.timedelta(seconds=lease_seconds)
        return copy.deepcopy(due)

    def release_done(self, uow, release_id):
        self.releases.pop(release_id, None)

    def release_failed(self, uow, release_id, error, retry_seconds):
        self.releases[release_id].update(
            attempts=self.releases[release_id]["attempts"] + 1,
            last_error=error,
            next_attempt_at=self.clock() + dt.timedelta(seconds=retry_seconds),
        )


class FakeCatalog:
    """Capacity per date; holds are idempotent by hold id, as the catalog's are. It is
    never asked while a transaction is open: no row stays locked during an RPC."""

    def __init__(self, db: InMemoryTransactions, capacity: dict[str, int], unit_price: int = 30000) -> None:
        self.db = db
        self.capacity = capacity
        self.unit_price = unit_price
        self.holds: dict[str, dict] = {}
        self.released: list[str] = []
        self.down = False  # answers nothing (503)
        self.refuse_releases = False  # refuses for good (4xx)
        self.owner_lookups = 0

    def product_owner(self, product_id):
        self.owner_lookups += 1
        return PARTNER, "booking"

    def hold(self, hold_id, partner_id, lines, coupon=None):
        assert not self.db.open, "hold asked inside a transaction"
        if self.down:
            raise ServiceUnavailable(message="catalog unavailable")
        if hold_id in self.holds:
            return copy.deepcopy(self.holds[hold_id])
        day, wanted = lines[0]["date"], sum(line["quantity"] for line in lines)
        if self.capacity.get(day, 0) < wanted:
            raise Conflict("capacity_exhausted", "no capacity left", {"date": day})
        self.capacity[day] -= wanted
        self.holds[hold_id] = {
            "hold_id": hold_id,
            "status": "held",
            "day": day,
            "quantity": wanted,
            "discount_amount": 0,
            "lines": [
                {
                    "line": i,
                    "product_id": line["product_id"],
                    "price_id": line["price_id"],
                    "label": "adult",
                    "unit_price": self.unit_price,
                    "quantity": line["quantity"],
                }
                for i, line in enumerate(lines)
            ],
            "products": {
                PRODUCT: {
                    "name": "Hair cut",
                    "version": 1,
                    "schedule_type": "datetime",
                    "payment": "none",
                    "cancel_policy": {"deadline_hours_before": 24},
                }
            },
        }
        return copy.deepcopy(self.holds[hold_id])

    def release(self, hold_id, partner_id, lines=None, release_id=None):
        assert not self.db.open, "release asked inside a transaction"
        if self.down:
            raise ServiceUnavailable(message="catalog unavailable")
        if self.refuse_releases:
            raise Conflict("release_refused", "no")
        hold = self.holds.get(hold_id)
        if hold is not None and hold["status"] == "held":
            hold["status"] = "released"
            self.capacity[hold["day"]] += hold["quantity"]
        self.released.append(hold_id)
        return {"hold_id": hold_id, "status": "released"}

    def get_product(self, partner_id, product_id):
        if partner_id != PARTNER:
            raise NotFound("product_not_found", "no such product", {"product_id": product_id})
        return {"product_id": product_id, "partner_id": PARTNER, "kind": "booking"}

    def slot_board(self, partner_id, product_id, date_from, date_to):
        raise NotImplementedError("the board is tested through the gateway (test_lifecycle)")

    def taken(self, day: str, capacity: int) -> int:
        return capacity - self.capacity[day]


class FakeAccounts:
    def partner_info(self, partner_id):
        return {"partner_id": partner_id, "status": "verified", "via_agency": False}

    def customer_contact(self, customer_id):
        return {"phone": None, "name": None}


class FakeNotifications:
    def open_conversation(self, conversation):
        pass


class Crash(BaseException):
    """The process dies right after the catalog held (the fault crash tests inject)."""


class World:
    def __init__(self, capacity: int = 5, unit_price: int = 30000) -> None:
        self.clock = Clock()
        self.store = FakeStore(self.clock)
        self.db = InMemoryTransactions(self.store, not_rolled_back=("clock",))
        self.catalog = FakeCatalog(self.db, {USE_DATE.isoformat(): capacity, LATER_DATE.isoformat(): 1}, unit_price)
        self.crash_after_hold = False
        self.use_cases = Reservations(
            self.db,
            self.store,
            self.catalog,
            FakeAccounts(),
            Settings(default_ttl_hours=24, intent_grace_seconds=GRACE),
            self.clock,
            after_hold=self._after_hold,
            notifications=FakeNotifications(),
        )

    def _after_hold(self) -> None:
        if self.crash_after_hold:
            raise Crash()

    def book(self, key: str = "k-1", quantity: int = 1) -> dict:
        return self.use_cases.book(CUSTOMER, key, request(quantity))

    def events(self) -> list[str]:
        return [event_type for event_type, _ in self.db.outbox]


def request(quantity: int = 1) -> ReservationCreate:
    return parse(
        ReservationCreate,
        {
            "product_id": PRODUCT,
            "date": USE_DATE.isoformat(),
            "time": "10:00",
            "lines": [{"price_id": "adult", "quantity": quantity}],
            "booker": {"name": "김다온", "phone": "010-1234-5678"},
        },
    )


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


# --- the booking intent -----------------------------------------------------------------------------


def test_a_new_booking_holds_once_records_the_reservation_its_event_and_the_keys_response():
    world = World()
    created = world.book(quantity=2)
    (intent,) = world.store.intents.values()
    (reservation,) = world.store.reservations.values()
    assert (created["number"], created["status"], created["total"]) == (intent["number"], "requested", 60000)
    assert list(world.catalog.holds) == [domain.hold_id(intent["reservation_id"], 0)]
    assert (intent["state"], intent["response"]) == ("done", created)
    assert (reservation["status"], reservation["confirmation"], reservation["request_ttl_hours"]) == (
        "requested",
        "manual",
        24,
    )  # the booking-setting defaults
    assert world.events() == ["reservation.requested"]


def test_an_auto_confirmed_product_is_confirmed_at_once_by_the_system():
    world = World()
    world.store.settings[(PARTNER, PRODUCT)] = {
        "confirmation": "auto",
        "request_ttl_hours": None,
        "allow_partial_cancel": False,
        "updated_at": START,
    }
    assert world.book()["status"] == "confirmed"
    assert [(t, p["actor"]) for t, p in world.db.outbox] == [("reservation.confirmed", "system")]


def test_the_same_key_and_body_replay_the_first_success_without_holding_again():
    world = World()
    first = world.book()
    assert world.book() == first
    assert len(world.catalog.holds) == 1 and len(world.store.reservations) == 1
    assert world.events() == ["reservation.requested"]


def test_a_refusal_is_the_keys_response_too_even_once_capacity_is_free_again():
    world = World(capacity=0)
    first = refusal(world.book)
    assert (first.status, first.code) == (409, "capacity_exhausted")
    world.catalog.capacity[USE_DATE.isoformat()] = 5
    again = refusal(world.book)
    assert (again.status, again.code, again.details) == (409, "capacity_exhausted", first.details)
    assert world.catalog.holds == {} and world.store.reservations == {}
    assert next(iter(world.store.intents.values()))["state"] == "failed"


def test_the_same_key_with_another_body_is_refused():
    world = World()
    world.book(quantity=1)
    assert refusal(lambda: world.book(quantity=2)).code == "idempotency_key_reused"
    assert len(world.catalog.holds) == 1


def test_a_drawn_number_already_taken_is_drawn_again():
    world = World()
    numbers = iter(["AAAAAAAAAA", "BBBBBBBBBB"])
    world.store.taken_numbers = ["AAAAAAAAAA"]
    original, domain.new_number = domain.new_number, lambda: next(numbers)
    try:
        assert world.book()["number"] == "BBBBBBBBBB"
    finally:
        domain.new_number = original


def test_an_attempt_the_catalog_never_answered_is_abandoned_its_hold_released_and_a_retry_books_afresh():
    world = World()
    world.catalog.down = True
    assert refusal(world.book).status == 503
    (intent,) = world.store.intents.values()
    assert intent["state"] == "pending"  # no answer: nothing stored as the key's response
    world.catalog.down = False
    world.clock.advance(GRACE + 1)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["abandoned_attempts"] == 1
    assert world.catalog.released == [domain.hold_id(intent["reservation_id"], 0)]
    created = world.book()
    assert created["number"] == intent["number"]
    assert list(world.catalog.holds) == [domain.hold_id(intent["reservation_id"], 1)]  # the next hold id
    assert world.store.intents[(CUSTOMER, "k-1")]["state"] == "done"


def test_a_crash_after_the_hold_leaves_a_pending_key_that_its_retry_finishes_with_the_same_hold():
    world = World(capacity=5)
    world.crash_after_hold = True
    with pytest.raises(Crash):
        world.book()
    assert world.store.reservations == {} and world.catalog.taken(USE_DATE.isoformat(), 5) == 1
    world.crash_after_hold = False
    created = world.book()
    assert len(world.catalog.holds) == 1 and world.catalog.taken(USE_DATE.isoformat(), 5) == 1  # held once
    assert world.store.intents[(CUSTOMER, "k-1")]["response"] == created


def test_a_crash_never_retried_gives_the_capacity_back_after_the_grace():
    world = World(capacity=5)
    world.crash_after_hold = True
    with pytest.raises(Crash):
        world.book()
    world.clock.advance(GRACE / 2)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["abandoned_attempts"] == 0  # still in time
    world.clock.advance(GRACE)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["abandoned_attempts"] == 1
    assert world.catalog.taken(USE_DATE.isoformat(), 5) == 0


def test_booking_settings_start_from_the_defaults_change_only_what_is_named_and_apply_to_new_bookings():
    world = World()
    settings = world.use_cases.set_product_settings
    assert settings(PARTNER, PRODUCT, {"confirmation": "auto"}, Actor("member", "m-1"))[1] == domain.BookingSettings(
        "auto", None, True, START
    )
    _, changed = settings(PARTNER, PRODUCT, {"request_ttl_hours": 2}, Actor("member", "m-1"))
    assert (changed.confirmation, changed.ttl_hours(24), changed.allow_partial_cancel) == ("auto", 2, True)
    assert refusal(
        lambda: settings(PARTNER, PRODUCT, {"allow_partial_cancel": None}, Actor("member", "m-1"))
    ).details == {"fields": {"allow_partial_cancel": "may not be null"}}
    assert refusal(lambda: settings("p-2", PRODUCT, {"confirmation": "auto"}, Actor("member", "m-2"))).status == 404
    assert world.book()["status"] == "confirmed"
    assert next(iter(world.store.reservations.values()))["request_ttl_hours"] == 2  # copied onto the booking


# --- date change (R-RSV-5) --------------------------------------------------------------------------


def free_booking(world: World) -> dict:
    created = world.book()
    return next(r for r in world.store.reservations.values() if r["number"] == created["number"])


def test_a_date_change_holds_the_new_slot_then_releases_the_old_one():
    world = World(unit_price=0)
    booked = free_booking(world)
    moved = world.use_cases.change_date(
        CUSTOMER, booked["number"], parse(ChangeDateIn, {"date": LATER_DATE.isoformat(), "time": "11:00"})
    )
    old_hold, new_hold = (domain.hold_id(booked["reservation_id"], n) for n in (0, 1))
    assert (moved["use_date"], moved["use_time"], moved["hold_sequence"]) == (LATER_DATE, dt.time(11, 0), 1)
    assert world.catalog.holds[new_hold]["status"] == "held" and world.catalog.released == [old_hold]
    assert world.store.releases == {}  # the old hold's release was sent and the new one's guard dropped
    assert world.events() == ["reservation.requested", "reservation.date_changed"]


def test_a_date_change_the_catalog_refuses_keeps_the_booking_and_its_seat():
    world = World(unit_price=0)
    world.catalog.capacity[LATER_DATE.isoformat()] = 0
    booked = free_booking(world)
    change = parse(ChangeDateIn, {"date": LATER_DATE.isoformat(), "time": "10:00"})
    assert refusal(lambda: world.use_cases.change_date(CUSTOMER, booked["number"], change)).code == "capacity_exhausted"
    after = world.store.reservations[booked["reservation_id"]]
    assert (after["use_date"], after["hold_sequence"]) == (USE_DATE, 0)
    assert world.catalog.released == [] and world.store.releases == {}  # no guard left to fire
    assert world.events() == ["reservation.requested"]


def test_a_date_change_whose_move_never_commits_is_released_by_its_guard_after_the_grace():
    world = World(unit_price=0)
    booked = free_booking(world)
    world.store.update_reservation = lambda *args: (_ for _ in ()).throw(Crash())  # dies while moving
    with pytest.raises(Crash):
        world.use_cases.change_date(
            CUSTOMER, booked["number"], parse(ChangeDateIn, {"date": LATER_DATE.isoformat(), "time": "10:00"})
        )
    del world.store.update_reservation
    new_hold = domain.hold_id(booked["reservation_id"], 1)
    assert list(world.store.releases) == [f"{new_hold}:guard"]
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["releases_sent"] == 0  # not before the grace
    world.clock.advance(GRACE)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["releases_sent"] == 1
    assert world.catalog.released == [new_hold] and world.catalog.taken(LATER_DATE.isoformat(), 1) == 0


# --- the release queue --------------------------------------------------------------------------------


def cancelled_by_partner(world: World, *, catalog_down: bool = False, catalog_refuses: bool = False) -> None:
    number = world.book()["number"]
    world.catalog.down, world.catalog.refuse_releases = catalog_down, catalog_refuses
    world.use_cases.partner_action(PARTNER, number, "cancel", "closed", Actor("member", "m-1"))


def test_a_release_the_catalog_does_not_take_waits_its_back_off_and_is_sent_by_the_timer():
    world = World()
    cancelled_by_partner(world, catalog_down=True)
    (queued,) = world.store.releases.values()
    assert (queued["attempts"], queued["next_attempt_at"]) == (1, START + dt.timedelta(seconds=2))
    world.catalog.down = False
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["releases_sent"] == 0  # backing off
    world.clock.advance(2)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["releases_sent"] == 1
    assert world.store.releases == {} and world.catalog.released == [queued["hold_id"]]


def test_the_back_off_doubles_up_to_five_minutes():
    assert [domain.release_retry_seconds(n) for n in (0, 1, 2, 7, 8, 20)] == [2, 4, 8, 256, 300, 300]


def test_a_release_refused_for_good_leaves_the_queue():
    world = World()
    cancelled_by_partner(world, catalog_refuses=True)
    assert world.store.releases == {}
    assert world.events() == ["reservation.requested", "reservation.cancelled"]


def test_an_attempt_abandoned_while_the_catalog_is_down_is_abandoned_and_its_release_waits_in_the_queue():
    world = World()
    world.crash_after_hold = True
    with pytest.raises(Crash):
        world.book()
    world.catalog.down = True
    world.clock.advance(GRACE + 1)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["abandoned_attempts"] == 1
    assert world.store.intents[(CUSTOMER, "k-1")]["state"] == "abandoned"  # a retry may book afresh at once
    (queued,) = world.store.releases.values()
    assert queued["release_id"].endswith(":abandoned") and queued["attempts"] == 1
    world.catalog.down = False
    world.clock.advance(2)
    assert world.use_cases.timer_pass(world.clock(), 200, GRACE)["releases_sent"] == 1
    assert world.catalog.taken(USE_DATE.isoformat(), 5) == 0 and world.store.releases == {}
