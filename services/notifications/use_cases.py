"""The notifications application layer (the shape of issue 19): what each event
and request does, in which transaction, and what it asks of another service.

It works through collaborators handed in by the nameko class (service.py) and
replaced by in-memory fakes in tests/test_use_cases.py:

* ``Transactions`` (``chassis.db``): ``consuming(event)`` is the inbox row of
  the chassis in the same transaction as the messages, so a redelivered event
  has no effect;
* the repository (``store.py``: explicit SQL, no rules);
* ports: ``StaffPort`` (the partner's staff, cached, from accounts),
  ``AccountsPort`` (the operators), ``AudiencePort`` (insights owns who a
  partner's customers are), ``wake_deliveries`` (the delivery worker),
  ``seal`` (a webhook secret sealed with the service key) and
  ``destination_refusal`` (why a webhook URL may not be called, DNS included).

No other service is asked while a transaction is open. The rules (who is
told what, the rate limit, erasure's rewriting) are domain.py's and
templates.py's; the replies views.py's.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chassis import paging
from chassis.contracts import validate_payload
from chassis.jsonvalues import jsonable
from chassis.ports import Transactions, UnitOfWork

from . import domain, errors, schemas, templates, views

Row = dict[str, Any]
View = dict[str, Any]
CONVERSATION_NAMESPACE = uuid.UUID("0f4d4d1e-6c1b-4d0f-9a57-2c1d8f0e3b7a")


class StaffPort(Protocol):
    def cached(self, partner_id: str) -> list[domain.StaffMember] | None: ...

    def staff_of(self, partner_id: str) -> list[domain.StaffMember]:
        """From the cache, else from accounts (remembered for a few seconds)."""
        ...

    def forget(self) -> None: ...


class AccountsPort(Protocol):
    def operator_ids(self) -> list[str]: ...


class AudiencePort(Protocol):
    def channel_audience(self, partner_id: str, data: schemas.ChannelMessageCreate) -> list[str]:
        """The customer ids of the partner that ``data.audience`` names."""
        ...


@dataclass(frozen=True)
class Settings:
    """The service config the use cases read (config.yaml)."""

    messenger_on: bool = True  # MESSENGER_ADAPTER not none/off: inbox messages are pushed too
    channel_rate_limit: int = 20  # CHANNEL_RATE_LIMIT sends per partner ...
    channel_rate_window_s: float = 86400.0  # ... per CHANNEL_RATE_WINDOW_S


def _nothing() -> None:
    pass


@dataclass(eq=False)
class Notifications:
    """One worker's use cases; ``store`` is the repository module (or a fake of it)."""

    db: Transactions
    store: Any
    staff: StaffPort
    accounts: AccountsPort
    audience: AudiencePort
    seal: Callable[[str], bytes]
    destination_refusal: Callable[[str], str | None]
    settings: Settings = Settings()
    wake_deliveries: Callable[[], None] = _nothing

    # --- consuming events (R-NTF-1) --------------------------------------------------------------

    def notify(self, event: Any, handler_name: str) -> None:
        """One message per recipient, the messenger pushes and the partner's webhook
        deliveries, with the inbox row in one transaction. Staff and operators are
        asked before it opens."""
        payload = validate_payload(event.type, event.payload)  # a malformed event is parked, not half-handled
        if event.type == "reservation.chat_accepted":
            payload["conversation_id"] = conversation_id_of(payload)
        staff = self._staff_for(event, payload, handler_name) if domain.needs_staff(event.type, payload) else []
        operators = self.accounts.operator_ids() if domain.needs_operators(event.type, payload) else []
        planned = domain.plan_messages(event.type, payload, staff, operators)
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # processed meanwhile by another delivery of the same event
            self.store.insert_messages(uow, event.event_id, event.type, planned, self.settings.messenger_on)
            if event.type in domain.WEBHOOK_EVENTS:
                self.store.enqueue_webhook_deliveries(uow, event, payload)
            if event.type == "reservation.chat_accepted":
                self._open_conversation(uow, payload)
        self.wake_deliveries()

    def _staff_for(self, event: Any, payload: Row, handler_name: str) -> list[domain.StaffMember]:
        """The partner's staff: from the cache, else from accounts, unless this
        is a redelivery of an event already handled (then accounts is not asked)."""
        cached = self.staff.cached(payload["partner_id"])
        if cached is not None:
            return cached
        with self.db.transaction() as uow:
            if self.store.already_processed(uow, handler_name, event.event_id):
                return []  # the consuming transaction sees it too and does nothing
        return self.staff.staff_of(payload["partner_id"])

    def member_withdrawn(self, event: Any) -> None:
        self.staff.forget()  # a withdrawn member must not be served from the cache
        self._pseudonymise(event, "member")

    def customer_erased(self, event: Any) -> None:
        self._pseudonymise(event, "customer")

    def _pseudonymise(self, event: Any, kind: str) -> None:
        """What the stored messages, deliveries and conversations hold of the person
        is rewritten under their pseudonym (R-ACC-3, erasure requests)."""
        payload = validate_payload(event.type, event.payload)
        person_id = payload["customer_id" if kind == "customer" else "member_id"]
        pseudonym = payload["pseudonym"]
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            for message in self.store.messages_to_pseudonymise(uow, kind, person_id):
                params, content, actions = domain.erased_rendering(
                    message["template"], message["params"], person_id, pseudonym
                )
                recipient = pseudonym if message["recipient_id"] == person_id else message["recipient_id"]
                subject = pseudonym if message["subject_customer_id"] == person_id else message["subject_customer_id"]
                self.store.rewrite_message(uow, message["id"], recipient, subject, params, content, actions)
            self.store.pseudonymise_deliveries(uow, kind, person_id, pseudonym)
            self.store.pseudonymise_conversations(uow, kind, person_id, pseudonym)

    # --- inboxes -----------------------------------------------------------------------------------

    def inbox(self, kind: str, recipient_id: str, partner_id: str | None, q: schemas.InboxQuery) -> View:
        with self.db.transaction() as uow:
            rows = self.store.list_messages(uow, kind, recipient_id, partner_id, q.before, q.limit, q.unread)
        items, next_cursor = next_page(rows, q.limit, "id")
        return {"items": [views.message_out(row, q.lang) for row in items], "next_cursor": next_cursor}

    def mark_read(
        self, kind: str, recipient_id: str, partner_id: str | None, message_id: str, q: schemas.InboxQuery
    ) -> View:
        if not is_uuid(message_id):
            raise errors.message_not_found()
        with self.db.transaction() as uow:
            row = self.store.mark_read(uow, kind, recipient_id, partner_id, message_id)
        if row is None:
            raise errors.message_not_found()
        return views.message_out(row, q.lang)

    # --- webhooks ------------------------------------------------------------------------------------

    def create_webhook(self, partner_id: str, data: schemas.WebhookCreate) -> View:
        """The secret is returned here once, and kept sealed (notifications.sealing).
        The URL's host must be on the internet (issue 16): ``destination_refusal``
        says why not (each delivery checks again, on the address it connects to)."""
        refusal = self.destination_refusal(data.url)
        if refusal:
            raise errors.webhook_url_not_public(data.url, refusal)
        secret = new_webhook_secret()
        with self.db.transaction() as uow:
            row = self.store.create_webhook(uow, partner_id, data.url, data.events, data.description, self.seal(secret))
        return {**views.webhook_out(row), "secret": secret}

    def rotate_webhook_secret(self, partner_id: str, webhook_id: str, data: schemas.SecretRotation) -> View:
        """A new secret, shown once; the previous one keeps signing deliveries
        (a second signature) for ``overlap_hours`` (default 24), so the
        partner's receiver can switch without missing one."""
        secret = new_webhook_secret()
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            row = found_webhook(
                self.store.rotate_webhook_secret(
                    uow, partner_id, webhook_id, self.seal(secret), int(data.overlap_hours * 3600)
                )
            )
        return {
            **views.webhook_out(row),
            "secret": secret,
            "previous_secret_valid_until": jsonable(row["previous_secret_until"]),
        }

    def list_webhooks(self, partner_id: str) -> View:
        """A partner has a handful: one page."""
        with self.db.transaction() as uow:
            rows = self.store.list_webhooks(uow, partner_id)
        return {"items": [views.webhook_out(r) for r in rows], "next_cursor": None}

    def get_webhook(self, partner_id: str, webhook_id: str) -> View:
        with self.db.transaction() as uow:
            return views.webhook_out(self._own_webhook(uow, partner_id, webhook_id))

    def enable_webhook(self, partner_id: str, webhook_id: str) -> View:
        """Switch a disabled webhook back on, with a fresh failure streak."""
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            return views.webhook_out(found_webhook(self.store.enable_webhook(uow, partner_id, webhook_id)))

    def delete_webhook(self, partner_id: str, webhook_id: str) -> None:
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            self.store.delete_webhook(uow, partner_id, webhook_id)

    def webhook_deliveries(self, partner_id: str, webhook_id: str, q: schemas.ListQuery) -> View:
        """The delivery log: newest first, each delivery with every attempt."""
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            rows = self.store.list_webhook_deliveries(uow, partner_id, webhook_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.delivery_out(r) for r in items], "next_cursor": next_cursor}

    def _own_webhook(self, uow: UnitOfWork, partner_id: str, webhook_id: str) -> Row:
        return found_webhook(self.store.get_webhook(uow, partner_id, webhook_id) if is_uuid(webhook_id) else None)

    # --- channel messages (R-NTF-3) ------------------------------------------------------------------

    def send_channel_message(self, partner_id: str, sender: str | None, data: schemas.ChannelMessageCreate) -> View:
        """One inbox message (and messenger push) per customer of the audience.
        At most ``channel_rate_limit`` sends per ``channel_rate_window_s`` per
        partner (429 ``rate_limited`` with ``retry_after_seconds``); a refused
        send does not count. Sends of one partner are serialised, so the limit
        holds under concurrent requests. ``sender``: None for the partner's own
        system (an API key)."""
        limit, window = self.settings.channel_rate_limit, self.settings.channel_rate_window_s
        customers = self.audience.channel_audience(partner_id, data)  # asked before the partner's lock is taken
        with self.db.transaction() as uow:
            self.store.lock_partner_channel(uow, partner_id)
            recent = self.store.channel_messages_since(uow, partner_id, window)
            if domain.rate_limit_exceeded(recent["sent"], limit):
                frees_in = recent["frees_in"].total_seconds() if recent["frees_in"] is not None else window
                raise errors.channel_rate_limited(limit, window, frees_in)
            _check_audience(data, customers)
            content = templates.render_channel_message(data.kind, data.title, data.body, data.coupon_code)
            audience = {
                "audience": data.audience,
                "use_date": data.use_date and data.use_date.isoformat(),
                "customer_ids": data.customer_ids,
            }
            row = self.store.create_channel_message(
                uow, partner_id, sender, data.kind, audience, content["ko"]["title"], data.body, len(customers)
            )
            planned = [
                domain.PlannedMessage(
                    partner_id,
                    domain.Recipient("customer", customer_id),
                    f"channel.{data.kind}",
                    {"channel_message_id": row["id"]},
                    content,
                    [],
                    None,
                )
                for customer_id in customers
            ]
            self.store.insert_messages(uow, row["id"], f"channel.{data.kind}", planned, self.settings.messenger_on)
        self.wake_deliveries()
        return views.channel_message_out(row)

    def list_channel_messages(self, partner_id: str, q: schemas.ListQuery) -> View:
        with self.db.transaction() as uow:
            rows = self.store.list_channel_messages(uow, partner_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.channel_message_out(r) for r in items], "next_cursor": next_cursor}

    # --- conversations (R-RSV-11) --------------------------------------------------------------------

    def open_conversation(self, payload: Row) -> View:
        """For reservations, if it wants the conversation at acceptance time;
        the ``reservation.chat_accepted`` event opens the same one (idempotent by invitation)."""
        payload = {**payload, "conversation_id": conversation_id_of(payload)}
        with self.db.transaction() as uow:
            return views.conversation_out(self._open_conversation(uow, payload), "partner")

    def _open_conversation(self, uow: UnitOfWork, payload: Row) -> Row:
        row: Row = self.store.open_conversation(
            uow,
            payload["conversation_id"],
            payload["partner_id"],
            payload["customer_id"],
            payload["reservation_number"],
            payload.get("invitation_id") or payload["conversation_id"],
            payload.get("customer_name_masked"),
        )
        return row

    def conversations(self, side: str, owner_id: str, q: schemas.ListQuery) -> View:
        with self.db.transaction() as uow:
            rows = self.store.list_conversations(uow, side, owner_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.conversation_out(r, side) for r in items], "next_cursor": next_cursor}

    def conversation_messages(self, side: str, owner_id: str, conversation_id: str, q: schemas.ListQuery) -> View:
        """Newest first; reading them clears the reader's unread count."""
        with self.db.transaction() as uow:
            self._own_conversation(uow, side, owner_id, conversation_id)
            rows = self.store.conversation_messages(uow, conversation_id, q.before, q.limit)
            self.store.mark_conversation_read(uow, side, conversation_id)
        items, next_cursor = next_page(rows, q.limit, "id")
        return {"items": [views.chat_message_out(r, side) for r in items], "next_cursor": next_cursor}

    def post_partner_message(
        self, partner_id: str, writer_id: str | None, conversation_id: str, data: schemas.ConversationMessageCreate
    ) -> View:
        """Staff write to the customer; the customer also gets a messenger push.
        A partner's own system (API key, no member) writes as "partner"."""
        with self.db.transaction() as uow:
            conversation = self._own_conversation(uow, "partner", partner_id, conversation_id, lock=True)
            row = self.store.add_conversation_message(uow, conversation_id, "member", writer_id or "partner", data.body)
            if self.settings.messenger_on:
                self.store.queue_messenger_push(
                    uow,
                    partner_id,
                    conversation_id,
                    "customer",
                    conversation["customer_id"],
                    chat_push_content(data.body),
                    chat_push_actions(conversation_id),
                )
        self.wake_deliveries()
        return views.chat_message_out(row, "partner")

    def post_customer_message(
        self, customer_id: str, conversation_id: str, data: schemas.ConversationMessageCreate
    ) -> View:
        """The customer writes to the partner; staff see it with an unread count in the conversation list."""
        with self.db.transaction() as uow:
            self._own_conversation(uow, "customer", customer_id, conversation_id, lock=True)
            row = self.store.add_conversation_message(uow, conversation_id, "customer", customer_id, data.body)
        return views.chat_message_out(row, "customer")

    def _own_conversation(
        self, uow: UnitOfWork, side: str, owner_id: str, conversation_id: str, lock: bool = False
    ) -> Row:
        row: Row | None = (
            self.store.get_conversation(uow, side, owner_id, conversation_id, lock)
            if conversation_id and len(conversation_id) <= 100
            else None
        )
        if row is None:
            raise errors.conversation_not_found()
        return row


# --- ids, pages and chat pushes ----------------------------------------------------------------------


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def conversation_id_of(payload: Row) -> str:
    """The event's conversation id, or one derived from the invitation: the
    event and ``open_conversation`` open the same conversation."""
    given: str | None = payload.get("conversation_id")
    return given or str(uuid.uuid5(CONVERSATION_NAMESPACE, f"{payload['partner_id']}:{payload['invitation_id']}"))


def next_page(rows: list[Row], limit: int, key: str) -> tuple[list[Row], str | None]:
    """Rows fetched with ``limit + 1``, newest first: the page and the cursor below its last row."""
    found = paging.page(rows, limit, lambda row: (row[key],))
    return found["items"], found["next_cursor"]


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def found_webhook(webhook: Row | None) -> Row:
    """The partner's webhook row, or 404 ``webhook_not_found`` (unknown, another partner's, or deleted meanwhile)."""
    if webhook is None:
        raise errors.webhook_not_found()
    return webhook


def _check_audience(data: schemas.ChannelMessageCreate, customers: list[str]) -> None:
    """Named customers must all be the partner's; an audience must reach someone."""
    named = set(data.customer_ids or ())
    if data.audience == "customers" and len(customers) < len(named):
        unknown = sorted(named - set(customers))
        raise errors.invalid_field("customer_ids", f"not customers of this partner: {unknown[:10]}")
    if not customers:
        raise errors.invalid_field("audience", "no customer matches this audience")


def chat_push_content(body: str) -> Row:
    preview = body if len(body) <= 100 else body[:99] + "…"
    return {"ko": {"title": "새 메시지", "body": preview}, "en": {"title": "New message", "body": preview}}


def chat_push_actions(conversation_id: str) -> list[Row]:
    return [
        {
            "kind": "open_chat",
            "method": "GET",
            "href": f"/v1/shop/conversations/{conversation_id}/messages",
            "label": {"ko": "채팅방 열기", "en": "Open chat"},
        }
    ]
