"""The notifications use cases in memory (the shape of issue 19): fakes of the
unit of work with an inbox, the repository, the staff directory, accounts and
insights; no RabbitMQ or PostgreSQL. A redelivered event (accounts not asked,
nothing stored twice), a chat accepted by event and asked for by RPC opening
one conversation, the channel message's audience asked with no lock held and
its refusals leaving nothing behind, a webhook refused before its secret is
made. The same paths across processes are in test_messages, test_exactly_once,
test_channels_and_conversations and test_webhooks."""

from __future__ import annotations

import datetime as dt
import pytest

from chassis.errors import DomainError, ValidationFailed
from chassis.fakes import InMemoryTransactions
from chassis.validation import parse
from notifications import domain
from notifications.schemas import ChannelMessageCreate, WebhookCreate
from notifications.tests.support import event, new_id, reservation
from notifications.use_cases import Notifications, Settings, conversation_id_of

HANDLER = "notifications._notify"
NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


class FakeStore:
    """store.py's functions over lists (only those these use cases reach)."""

    def __init__(self):
        self.messages, self.conversations, self.webhooks, self.channel_sends = [], {}, [], []

    def insert_messages(self, tx, source_id, source_type, planned, messenger):
        self.messages += [(source_id, m.recipient) for m in planned]
        return len(planned)

    def enqueue_webhook_deliveries(self, tx, envelope, payload):
        pass

    def open_conversation(self, tx, conversation_id, partner_id, customer_id, number, invitation_id, name):
        row = {
            "id": conversation_id,
            "partner_id": partner_id,
            "customer_id": customer_id,
            "reservation_number": number,
            "partner_unread": 0,
            "customer_unread": 0,
            "last_message_at": None,
            "created_at": NOW,
        }
        return self.conversations.setdefault(conversation_id, row)

    def lock_partner_channel(self, tx, partner_id):
        pass

    def channel_messages_since(self, tx, partner_id, window):
        sent = [s for s in self.channel_sends if s["partner_id"] == partner_id]
        return {"sent": len(sent), "frees_in": dt.timedelta(hours=3) if sent else None}

    def create_channel_message(self, tx, partner_id, sender, kind, audience, title, body, count):
        row = {
            "id": new_id("cm"),
            "partner_id": partner_id,
            "kind": kind,
            "audience": audience,
            "title": title,
            "body": body,
            "recipient_count": count,
            "created_at": NOW,
        }
        self.channel_sends.append(row)
        return row

    def create_webhook(self, tx, partner_id, url, events, description, sealed):
        self.webhooks.append(url)
        return {"id": new_id("wh"), "url": url}


class Directory:
    """Staff, operators and audiences, each failing if asked while a transaction is open."""

    def __init__(self, db, customers=()):
        self.db, self.customers, self.asked, self.forgotten = db, list(customers), [], 0

    def _asked(self, what):
        assert self.db.open == 0, f"{what} asked inside a transaction"
        self.asked.append(what)

    def cached(self, partner_id):
        return None

    def staff_of(self, partner_id):
        self._asked("staff")
        return [domain.StaffMember(f"{partner_id}-admin", "admin")]

    def forget(self):
        self.forgotten += 1

    def operator_ids(self):
        self._asked("operators")
        return []

    def channel_audience(self, partner_id, data):
        self._asked("audience")
        return list(self.customers)


def world(customers=(), refusal=None, rate_limit=20):
    store = FakeStore()
    db = InMemoryTransactions(store)
    store.already_processed = lambda tx, handler, event_id: event_id in db.consumed
    directory = Directory(db, customers)
    sealed, woken = [], []
    notifications = Notifications(
        db,
        store,
        directory,
        directory,
        directory,
        seal=lambda secret: sealed.append(secret) or b"sealed",
        destination_refusal=lambda url: refusal,
        settings=Settings(channel_rate_limit=rate_limit),
        wake_deliveries=lambda: woken.append(1),
    )
    return notifications, store, directory, sealed, woken


# --- events (R-NTF-1) -----------------------------------------------------------------------------


def test_a_redelivered_event_stores_nothing_again_and_does_not_ask_accounts():
    notifications, store, directory, _, woken = world()
    requested = event("reservation.requested", reservation("p-1", "c-1"))
    notifications.notify(requested, HANDLER)
    first = list(store.messages)
    assert directory.asked == ["staff"] and first  # the partner's staff are told of a new booking
    notifications.notify(requested, HANDLER)
    assert store.messages == first
    assert directory.asked == ["staff"]  # the inbox said it was handled: accounts not asked again
    assert len(woken) == 1


def test_a_chat_accepted_by_event_and_opened_by_rpc_is_one_conversation():
    notifications, store, *_ = world()
    invited = reservation("p-1", "c-1", invitation_id="inv-1", customer_name_masked="김*온")
    opened = notifications.open_conversation(
        {k: invited[k] for k in ("partner_id", "customer_id", "reservation_number", "invitation_id")}
    )
    notifications.notify(event("reservation.chat_accepted", invited), HANDLER)
    assert list(store.conversations) == [conversation_id_of(invited)]
    assert opened["id"] == conversation_id_of(invited)


def test_a_withdrawn_member_is_forgotten_by_the_staff_cache():
    notifications, _, directory, _, _ = world()
    withdrawn = event("member.withdrawn", {"member_id": "m-1", "pseudonym": "member:abc"})
    notifications.store.messages_to_pseudonymise = lambda tx, kind, person: []
    notifications.store.pseudonymise_deliveries = notifications.store.pseudonymise_conversations = (
        lambda tx, kind, person, pseudonym: None
    )
    notifications.member_withdrawn(withdrawn)
    assert directory.forgotten == 1


# --- channel messages (R-NTF-3) -------------------------------------------------------------------


def channel_message(**fields):
    return parse(ChannelMessageCreate, {"kind": "notice", "title": "휴무 안내", "body": "내일 쉽니다", **fields})


def test_a_channel_message_reaches_each_customer_once_and_asks_insights_before_the_lock():
    notifications, store, directory, _, woken = world(customers=["c-1", "c-2"])
    sent = notifications.send_channel_message("p-1", "m-1", channel_message(audience="all"))
    assert directory.asked == ["audience"]
    assert sorted(recipient.id for _source, recipient in store.messages) == ["c-1", "c-2"]
    assert sent["recipient_count"] == 2 and len(woken) == 1


def test_over_the_rate_limit_a_send_is_refused_and_leaves_nothing():
    notifications, store, _, _, woken = world(customers=["c-1"], rate_limit=1)
    notifications.send_channel_message("p-1", "m-1", channel_message(audience="all"))
    with pytest.raises(DomainError) as limited:
        notifications.send_channel_message("p-1", "m-1", channel_message(audience="all"))
    assert limited.value.code == "rate_limited"
    assert limited.value.details["retry_after_seconds"] == pytest.approx(3 * 3600, abs=1)
    assert len(store.channel_sends) == 1 and len(store.messages) == 1 and len(woken) == 1


def test_named_customers_who_are_not_the_partners_are_refused_by_field():
    notifications, store, *_ = world(customers=["c-1"])
    with pytest.raises(ValidationFailed) as refused:
        notifications.send_channel_message(
            "p-1", None, channel_message(audience="customers", customer_ids=["c-1", "c-9"])
        )
    assert "customer_ids" in refused.value.details["fields"]
    assert store.channel_sends == [] and store.messages == []


# --- webhooks -------------------------------------------------------------------------------------


def test_a_webhook_to_a_private_address_is_refused_before_a_secret_is_made():
    notifications, store, _, sealed, _ = world(refusal="10.0.0.5 is a private address")
    data = parse(WebhookCreate, {"url": "https://intranet.example/hook", "events": ["reservation.requested"]})
    with pytest.raises(DomainError) as refused:
        notifications.create_webhook("p-1", data)
    assert refused.value.code == "webhook_url_not_public"
    assert store.webhooks == [] and sealed == []
