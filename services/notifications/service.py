"""The notifications service: entrypoints only; rules live in domain.py and
templates.py, SQL in store.py, the channels in channels.py and worker.py.

- Events (R-NTF-1): every event kind in ``chassis.contracts.NOTIFIED_EVENTS``
  has its own queue and handler ``on_<kind>``. A handler asks accounts for
  the partner's staff when a staff message is due, then, in one transaction
  with the inbox row of the chassis, stores one message per recipient (unique
  per event and recipient), queues the messenger pushes and the partner's
  webhook deliveries. A duplicate delivery has no effect.
- Inboxes: the partner staff's, the customer's and the member's own.
- Webhooks, channel messages (R-NTF-3) and conversations (R-RSV-11). Who a
  channel message reaches comes from insights (``insights.channel_audience``),
  which owns who a partner's customers are.
- Erasure: ``member.withdrawn`` and ``customer.erased`` pseudonymise what the
  stored messages, deliveries and conversations hold of the person.
"""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

from chassis import Actor, paging
from chassis.consumer import handles
from chassis.contracts import NOTIFIED_EVENTS, validate_payload
from chassis.jsonvalues import jsonable
from chassis.rpc_contracts import ChannelAudience, ChannelAudienceQuery
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import domain, errors, sealing, store, templates, views
from .channels import BlockedAddress, WebhookChannel, allows_private, checked_address
from .schemas import (
    ChannelMessageCreate,
    ConversationMessageCreate,
    InboxQuery,
    ListQuery,
    OpenConversation,
    SecretRotation,
    WebhookCreate,
)
from .staff import StaffCache
from .worker import DeliveryWorker


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


CONVERSATION_NAMESPACE = uuid.UUID("0f4d4d1e-6c1b-4d0f-9a57-2c1d8f0e3b7a")


def inbox_owner(actor) -> str:
    """The staff member whose inbox a partner's notifications are; a partner API key has none."""
    member_id = Actor.from_wire(actor).member_id
    if not member_id:
        raise errors.member_inbox_only()
    return member_id


def next_page(rows: list[dict], limit: int, key: str) -> tuple[list[dict], str | None]:
    """Rows fetched with ``limit + 1``, newest first: the page and the cursor below its last row."""
    found = paging.page(rows, limit, lambda row: (row[key],))
    return found["items"], found["next_cursor"]


class NotificationsService(DataService):
    name = "notifications"

    deliveries = DeliveryWorker()  # calling it wakes the worker
    staff = StaffCache()

    # --- consuming events ----------------------------------------------------------

    @handles(*(kind for kind in NOTIFIED_EVENTS if kind not in domain.ERASURE_EVENTS))  # erasure: below
    def _notify(self, event) -> None:
        payload = validate_payload(event.type, event.payload)  # a malformed event is parked, not half-handled
        if event.type == "reservation.chat_accepted":
            payload["conversation_id"] = self._conversation_id(payload)
        staff = self._staff_for(event, payload) if domain.needs_staff(event.type, payload) else []
        operators = self.services.accounts.operator_ids() if domain.needs_operators(event.type, payload) else []
        planned = domain.plan_messages(event.type, payload, staff, operators)
        with self.db.consuming(event) as uow:
            if uow is None:
                return  # processed meanwhile by another delivery of the same event
            store.insert_messages(uow, event.event_id, event.type, planned, self._messenger_on)
            if event.type in domain.WEBHOOK_EVENTS:
                store.enqueue_webhook_deliveries(uow, event, payload)
            if event.type == "reservation.chat_accepted":
                self._open_conversation(uow, payload)
        self.deliveries()

    def _staff_for(self, event, payload: dict) -> list:
        """The partner's staff: from the cache, else from accounts, unless this
        is a redelivery of an event already handled (then accounts is not asked)."""
        cached = self.staff.cached(payload["partner_id"])
        if cached is not None:
            return cached
        with self.db.transaction() as uow:
            if store.already_processed(uow, self.db.handler_name, event.event_id):
                return []  # the consuming transaction below sees it too and does nothing
        return self.staff.staff_of(self.services, payload["partner_id"])

    @property
    def _messenger_on(self) -> bool:
        return str(self.config.get("MESSENGER_ADAPTER", "")).lower() not in ("none", "off", "false")

    @handles("customer.erased")
    def on_customer_erased(self, event):
        self._pseudonymise(event, "customer")

    @handles("member.withdrawn")
    def on_member_withdrawn(self, event):
        self.staff.forget()  # a withdrawn member must not be served from the cache
        self._pseudonymise(event, "member")

    def _pseudonymise(self, event, kind: str) -> None:
        payload = validate_payload(event.type, event.payload)
        person_id = payload["customer_id" if kind == "customer" else "member_id"]
        pseudonym = payload["pseudonym"]
        with self.db.consuming(event) as uow:
            if uow is None:
                return
            for message in store.messages_to_pseudonymise(uow, kind, person_id):
                params, content, actions = domain.erased_rendering(
                    message["template"], message["params"], person_id, pseudonym
                )
                recipient = pseudonym if message["recipient_id"] == person_id else message["recipient_id"]
                subject = pseudonym if message["subject_customer_id"] == person_id else message["subject_customer_id"]
                store.rewrite_message(uow, message["id"], recipient, subject, params, content, actions)
            store.pseudonymise_deliveries(uow, kind, person_id, pseudonym)
            store.pseudonymise_conversations(uow, kind, person_id, pseudonym)

    # --- inboxes ---------------------------------------------------------------------

    @rpc
    def list_partner_notifications(self, partner_id: str, actor, query: dict | None = None) -> dict:
        """The calling staff member's messages from this partner, newest first."""
        return self._inbox("member", inbox_owner(actor), partner_id, query)

    @rpc
    def list_member_notifications(self, member_id: str, query: dict | None = None) -> dict:
        """A member's messages from every partner (invitations come before the member is staff)."""
        return self._inbox("member", member_id, None, query)

    @rpc
    def list_customer_messages(self, customer_id: str, query: dict | None = None) -> dict:
        return self._inbox("customer", customer_id, None, query)

    @rpc
    def mark_partner_notification_read(
        self, partner_id: str, actor, message_id: str, query: dict | None = None
    ) -> dict:
        return self._mark_read("member", inbox_owner(actor), partner_id, message_id, query)

    @rpc
    def mark_customer_message_read(self, customer_id: str, message_id: str, query: dict | None = None) -> dict:
        return self._mark_read("customer", customer_id, None, message_id, query)

    def _inbox(self, kind: str, recipient_id: str, partner_id: str | None, query: dict | None) -> dict:
        q = parse_query(InboxQuery, query)
        with self.db.transaction() as uow:
            rows = store.list_messages(uow, kind, recipient_id, partner_id, q.before, q.limit, q.unread)
        items, next_cursor = next_page(rows, q.limit, "id")
        return {"items": [views.message_out(row, q.lang) for row in items], "next_cursor": next_cursor}

    def _mark_read(
        self, kind: str, recipient_id: str, partner_id: str | None, message_id: str, query: dict | None
    ) -> dict:
        q = parse_query(InboxQuery, query)
        if not _is_uuid(message_id):
            raise errors.message_not_found()
        with self.db.transaction() as uow:
            row = store.mark_read(uow, kind, recipient_id, partner_id, message_id)
        if row is None:
            raise errors.message_not_found()
        return views.message_out(row, q.lang)

    # --- webhooks ------------------------------------------------------------------------

    @rpc
    def create_webhook(self, partner_id: str, body: dict | None) -> dict:
        """The secret is returned here once, and kept sealed (notifications.sealing).
        The URL's host must be on the internet (issue 16): a literal address
        must be global, and a name must resolve only to global addresses now
        (each delivery checks again, on the address it connects to)."""
        data = parse(WebhookCreate, body)
        self._check_destination(data.url)
        secret = new_webhook_secret()
        with self.db.transaction() as uow:
            row = store.create_webhook(
                uow, partner_id, data.url, data.events, data.description, sealing.seal(self._secret_key, secret)
            )
        return {**views.webhook_out(row), "secret": secret}

    @rpc
    def rotate_webhook_secret(self, partner_id: str, webhook_id: str, body: dict | None) -> dict:
        """A new secret, shown once; the previous one keeps signing deliveries
        (a second signature) for ``overlap_hours`` (default 24), so the
        partner's receiver can switch without missing one."""
        data = parse(SecretRotation, body)
        secret = new_webhook_secret()
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            row = _found(
                store.rotate_webhook_secret(
                    uow, partner_id, webhook_id, sealing.seal(self._secret_key, secret), int(data.overlap_hours * 3600)
                )
            )
        return {
            **views.webhook_out(row),
            "secret": secret,
            "previous_secret_valid_until": jsonable(row["previous_secret_until"]),
        }

    @property
    def _secret_key(self) -> bytes:
        return sealing.key_from_config(self.config)

    def _check_destination(self, url: str) -> None:
        allow_private = allows_private(self.config)
        host = urlsplit(url).hostname
        refusal = None if allow_private else domain.host_refusal(host or "")
        if refusal is None and not allow_private:
            try:
                checked_address(url, allow_private, WebhookChannel.resolver)
            except BlockedAddress as exc:
                # a name that does not resolve yet is taken: each delivery resolves and checks again
                refusal = None if str(exc).startswith("cannot resolve") else str(exc)
        if refusal:
            raise errors.webhook_url_not_public(url, refusal)

    @rpc
    def list_webhooks(self, partner_id: str, query: dict | None = None) -> dict:
        parse_query(ListQuery, query)  # a partner has a handful: one page
        with self.db.transaction() as uow:
            rows = store.list_webhooks(uow, partner_id)
        return {"items": [views.webhook_out(r) for r in rows], "next_cursor": None}

    @rpc
    def get_webhook(self, partner_id: str, webhook_id: str) -> dict:
        with self.db.transaction() as uow:
            return views.webhook_out(self._own_webhook(uow, partner_id, webhook_id))

    @rpc
    def enable_webhook(self, partner_id: str, webhook_id: str) -> dict:
        """Switch a disabled webhook back on, with a fresh failure streak."""
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            return views.webhook_out(_found(store.enable_webhook(uow, partner_id, webhook_id)))

    @rpc
    def delete_webhook(self, partner_id: str, webhook_id: str) -> None:
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            store.delete_webhook(uow, partner_id, webhook_id)

    @rpc
    def webhook_deliveries(self, partner_id: str, webhook_id: str, query: dict | None = None) -> dict:
        """The delivery log: newest first, each delivery with every attempt."""
        q = parse_query(ListQuery, query)
        with self.db.transaction() as uow:
            self._own_webhook(uow, partner_id, webhook_id)
            rows = store.list_webhook_deliveries(uow, partner_id, webhook_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.delivery_out(r) for r in items], "next_cursor": next_cursor}

    @staticmethod
    def _own_webhook(uow, partner_id: str, webhook_id: str) -> dict:
        return _found(store.get_webhook(uow, partner_id, webhook_id) if _is_uuid(webhook_id) else None)

    # --- channel messages (R-NTF-3) ------------------------------------------------------

    @rpc
    def send_channel_message(self, partner_id: str, actor, body: dict | None) -> dict:
        """One inbox message (and messenger push) per customer of the audience.
        At most ``CHANNEL_RATE_LIMIT`` sends per ``CHANNEL_RATE_WINDOW_S`` per
        partner (429 ``rate_limited`` with ``retry_after_seconds``); a refused
        send does not count. Sends of one partner are serialised, so the limit
        holds under concurrent requests."""
        data = parse(ChannelMessageCreate, body)
        sender = Actor.from_wire(actor).member_id  # None: the partner's own system (an API key)
        limit = int(self.config.get("CHANNEL_RATE_LIMIT", 20))
        window = float(self.config.get("CHANNEL_RATE_WINDOW_S", 86400))
        customers = self._audience(partner_id, data)  # asked before the partner's lock is taken
        with self.db.transaction() as uow:
            store.lock_partner_channel(uow, partner_id)
            recent = store.channel_messages_since(uow, partner_id, window)
            if domain.rate_limit_exceeded(recent["sent"], limit):
                frees_in = recent["frees_in"].total_seconds() if recent["frees_in"] is not None else window
                raise errors.channel_rate_limited(limit, window, frees_in)
            if data.audience == "customers" and len(customers) < len(set(data.customer_ids or ())):
                unknown = sorted(set(data.customer_ids or ()) - set(customers))
                raise errors.invalid_field("customer_ids", f"not customers of this partner: {unknown[:10]}")
            if not customers:
                raise errors.invalid_field("audience", "no customer matches this audience")
            content = templates.render_channel_message(data.kind, data.title, data.body, data.coupon_code)
            audience = {
                "audience": data.audience,
                "use_date": data.use_date and data.use_date.isoformat(),
                "customer_ids": data.customer_ids,
            }
            row = store.create_channel_message(
                uow, partner_id, sender, data.kind, audience, content["ko"]["title"], data.body, len(customers)
            )
            planned = [
                domain.PlannedMessage(
                    partner_id,
                    domain.Recipient("customer", c),
                    f"channel.{data.kind}",
                    {"channel_message_id": row["id"]},
                    content,
                    [],
                    None,
                )
                for c in customers
            ]
            store.insert_messages(uow, row["id"], f"channel.{data.kind}", planned, self._messenger_on)
        self.deliveries()
        return views.channel_message_out(row)

    def _audience(self, partner_id: str, data: ChannelMessageCreate) -> list[str]:
        """The customers ``data.audience`` names: insights owns who a partner's customers are (issue 19)."""
        query = ChannelAudienceQuery.of(
            {"audience": data.audience, "use_date": data.use_date, "customer_ids": data.customer_ids}
        )
        return ChannelAudience.read(self.services.insights.channel_audience(partner_id, query)).customer_ids

    @rpc
    def list_channel_messages(self, partner_id: str, query: dict | None = None) -> dict:
        q = parse_query(ListQuery, query)
        with self.db.transaction() as uow:
            rows = store.list_channel_messages(uow, partner_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.channel_message_out(r) for r in items], "next_cursor": next_cursor}

    # --- conversations (R-RSV-11) -----------------------------------------------------------

    @rpc
    def open_conversation(self, body: dict | None) -> dict:
        """For reservations, if it wants the conversation at acceptance time;
        the ``reservation.chat_accepted`` event opens the same one (idempotent by invitation)."""
        data = parse(OpenConversation, body)
        payload = data.model_dump()
        payload["conversation_id"] = self._conversation_id(payload)
        with self.db.transaction() as uow:
            return views.conversation_out(self._open_conversation(uow, payload), "partner")

    @staticmethod
    def _conversation_id(payload: dict) -> str:
        return payload.get("conversation_id") or str(
            uuid.uuid5(CONVERSATION_NAMESPACE, f"{payload['partner_id']}:{payload['invitation_id']}")
        )

    @staticmethod
    def _open_conversation(uow, payload: dict) -> dict:
        return store.open_conversation(
            uow,
            payload["conversation_id"],
            payload["partner_id"],
            payload["customer_id"],
            payload["reservation_number"],
            payload.get("invitation_id") or payload["conversation_id"],
            payload.get("customer_name_masked"),
        )

    @rpc
    def list_conversations(self, partner_id: str, query: dict | None = None) -> dict:
        return self._conversations("partner", partner_id, query)

    @rpc
    def list_customer_conversations(self, customer_id: str, query: dict | None = None) -> dict:
        return self._conversations("customer", customer_id, query)

    def _conversations(self, side: str, owner_id: str, query: dict | None) -> dict:
        q = parse_query(ListQuery, query)
        with self.db.transaction() as uow:
            rows = store.list_conversations(uow, side, owner_id, q.before, q.limit)
        items, next_cursor = next_page(rows, q.limit, "seq")
        return {"items": [views.conversation_out(r, side) for r in items], "next_cursor": next_cursor}

    @rpc
    def partner_conversation_messages(self, partner_id: str, conversation_id: str, query: dict | None = None) -> dict:
        return self._conversation_messages("partner", partner_id, conversation_id, query)

    @rpc
    def customer_conversation_messages(self, customer_id: str, conversation_id: str, query: dict | None = None) -> dict:
        return self._conversation_messages("customer", customer_id, conversation_id, query)

    def _conversation_messages(self, side: str, owner_id: str, conversation_id: str, query: dict | None) -> dict:
        """Newest first; reading them clears the reader's unread count."""
        q = parse_query(ListQuery, query)
        with self.db.transaction() as uow:
            self._own_conversation(uow, side, owner_id, conversation_id)
            rows = store.conversation_messages(uow, conversation_id, q.before, q.limit)
            store.mark_conversation_read(uow, side, conversation_id)
        items, next_cursor = next_page(rows, q.limit, "id")
        return {"items": [views.chat_message_out(r, side) for r in items], "next_cursor": next_cursor}

    @rpc
    def post_partner_conversation_message(
        self, partner_id: str, actor, conversation_id: str, body: dict | None
    ) -> dict:
        """Staff write to the customer; the customer also gets a messenger push.
        A partner's own system (API key, no member) writes as "partner"."""
        data = parse(ConversationMessageCreate, body)
        with self.db.transaction() as uow:
            conversation = self._own_conversation(uow, "partner", partner_id, conversation_id, lock=True)
            row = store.add_conversation_message(
                uow, conversation_id, "member", Actor.from_wire(actor).member_id or "partner", data.body
            )
            if self._messenger_on:
                store.queue_messenger_push(
                    uow,
                    partner_id,
                    conversation_id,
                    "customer",
                    conversation["customer_id"],
                    _chat_push_content(data.body),
                    _chat_push_actions(conversation_id),
                )
        self.deliveries()
        return views.chat_message_out(row, "partner")

    @rpc
    def post_customer_conversation_message(self, customer_id: str, conversation_id: str, body: dict | None) -> dict:
        """The customer writes to the partner; staff see it with an unread count in the conversation list."""
        data = parse(ConversationMessageCreate, body)
        with self.db.transaction() as uow:
            self._own_conversation(uow, "customer", customer_id, conversation_id, lock=True)
            row = store.add_conversation_message(uow, conversation_id, "customer", customer_id, data.body)
        return views.chat_message_out(row, "customer")

    @staticmethod
    def _own_conversation(uow, side: str, owner_id: str, conversation_id: str, lock: bool = False) -> dict:
        row = (
            store.get_conversation(uow, side, owner_id, conversation_id, lock)
            if conversation_id and len(conversation_id) <= 100
            else None
        )
        if row is None:
            raise errors.conversation_not_found()
        return row


# --- ids and chat pushes -----------------------------------------------------------------------


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def _found(webhook: dict | None) -> dict:
    """The partner's webhook row, or 404 ``webhook_not_found`` (unknown, another partner's, or deleted meanwhile)."""
    if webhook is None:
        raise errors.webhook_not_found()
    return webhook


def _chat_push_content(body: str) -> dict:
    preview = body if len(body) <= 100 else body[:99] + "…"
    return {"ko": {"title": "새 메시지", "body": preview}, "en": {"title": "New message", "body": preview}}


def _chat_push_actions(conversation_id: str) -> list:
    return [
        {
            "kind": "open_chat",
            "method": "GET",
            "href": f"/v1/shop/conversations/{conversation_id}/messages",
            "label": {"ko": "채팅방 열기", "en": "Open chat"},
        }
    ]
