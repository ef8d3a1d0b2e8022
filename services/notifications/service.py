"""The notifications service: entrypoints only. They parse the input and call
the application layer (use_cases.py); the rules live in domain.py and
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

from chassis import Actor
from chassis.consumer import handles
from chassis.contracts import NOTIFIED_EVENTS
from chassis.rpc_contracts import ChannelAudience, ChannelAudienceQuery
from chassis.service import DataService, rpc
from chassis.validation import parse, parse_query

from . import domain, errors, sealing, store
from .channels import allows_private, destination_refusal
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
from .use_cases import Notifications, Settings
from .worker import DeliveryWorker


def inbox_owner(actor) -> str:
    """The staff member whose inbox a partner's notifications are; a partner API key has none."""
    member_id = Actor.from_wire(actor).member_id
    if not member_id:
        raise errors.member_inbox_only()
    return member_id


class StaffDirectory:
    """The use cases' ``StaffPort``: the process's staff cache over accounts' RPC."""

    def __init__(self, cache: StaffCache, services):
        self.cache, self.services = cache, services

    def cached(self, partner_id):
        return self.cache.cached(partner_id)

    def staff_of(self, partner_id):
        return self.cache.staff_of(self.services, partner_id)

    def forget(self):
        self.cache.forget()


class InsightsAudience:
    """The use cases' ``AudiencePort``: insights owns who a partner's customers are (issue 19)."""

    def __init__(self, proxy):
        self.proxy = proxy

    def channel_audience(self, partner_id, data: ChannelMessageCreate) -> list[str]:
        query = ChannelAudienceQuery.of(
            {"audience": data.audience, "use_date": data.use_date, "customer_ids": data.customer_ids}
        )
        return ChannelAudience.read(self.proxy.channel_audience(partner_id, query)).customer_ids


class NotificationsService(DataService):
    name = "notifications"

    deliveries = DeliveryWorker()  # calling it wakes the worker
    staff = StaffCache()

    @property
    def notifications(self) -> Notifications:
        """This worker's use cases, with its transactions, caches and RPC proxies."""
        config = self.config
        allow_private = allows_private(config)
        settings = Settings(
            messenger_on=str(config.get("MESSENGER_ADAPTER", "")).lower() not in ("none", "off", "false"),
            channel_rate_limit=int(config.get("CHANNEL_RATE_LIMIT", 20)),
            channel_rate_window_s=float(config.get("CHANNEL_RATE_WINDOW_S", 86400)),
        )
        return Notifications(
            self.db,
            store,
            StaffDirectory(self.staff, self.services),
            self.services.accounts,
            InsightsAudience(self.services.insights),
            seal=lambda secret: sealing.seal(sealing.key_from_config(config), secret),  # the key asked only here
            destination_refusal=lambda url: destination_refusal(url, allow_private),
            settings=settings,
            wake_deliveries=self.deliveries,
        )

    # --- consuming events ----------------------------------------------------------

    @handles(*(kind for kind in NOTIFIED_EVENTS if kind not in domain.ERASURE_EVENTS))  # erasure: below
    def _notify(self, event) -> None:
        self.notifications.notify(event, self.db.handler_name)

    @handles("customer.erased")
    def on_customer_erased(self, event):
        self.notifications.customer_erased(event)

    @handles("member.withdrawn")
    def on_member_withdrawn(self, event):
        self.notifications.member_withdrawn(event)

    # --- inboxes ---------------------------------------------------------------------

    @rpc
    def list_partner_notifications(self, partner_id: str, actor, query: dict | None = None) -> dict:
        """The calling staff member's messages from this partner, newest first."""
        owner = inbox_owner(actor)
        return self.notifications.inbox("member", owner, partner_id, parse_query(InboxQuery, query))

    @rpc
    def list_member_notifications(self, member_id: str, query: dict | None = None) -> dict:
        """A member's messages from every partner (invitations come before the member is staff)."""
        return self.notifications.inbox("member", member_id, None, parse_query(InboxQuery, query))

    @rpc
    def list_customer_messages(self, customer_id: str, query: dict | None = None) -> dict:
        return self.notifications.inbox("customer", customer_id, None, parse_query(InboxQuery, query))

    @rpc
    def mark_partner_notification_read(
        self, partner_id: str, actor, message_id: str, query: dict | None = None
    ) -> dict:
        owner = inbox_owner(actor)
        return self.notifications.mark_read("member", owner, partner_id, message_id, parse_query(InboxQuery, query))

    @rpc
    def mark_customer_message_read(self, customer_id: str, message_id: str, query: dict | None = None) -> dict:
        q = parse_query(InboxQuery, query)
        return self.notifications.mark_read("customer", customer_id, None, message_id, q)

    # --- webhooks ------------------------------------------------------------------------

    @rpc
    def create_webhook(self, partner_id: str, body: dict | None) -> dict:
        return self.notifications.create_webhook(partner_id, parse(WebhookCreate, body))

    @rpc
    def rotate_webhook_secret(self, partner_id: str, webhook_id: str, body: dict | None) -> dict:
        return self.notifications.rotate_webhook_secret(partner_id, webhook_id, parse(SecretRotation, body))

    @rpc
    def list_webhooks(self, partner_id: str, query: dict | None = None) -> dict:
        parse_query(ListQuery, query)  # checked, though a partner's handful comes in one page
        return self.notifications.list_webhooks(partner_id)

    @rpc
    def get_webhook(self, partner_id: str, webhook_id: str) -> dict:
        return self.notifications.get_webhook(partner_id, webhook_id)

    @rpc
    def enable_webhook(self, partner_id: str, webhook_id: str) -> dict:
        return self.notifications.enable_webhook(partner_id, webhook_id)

    @rpc
    def delete_webhook(self, partner_id: str, webhook_id: str) -> None:
        self.notifications.delete_webhook(partner_id, webhook_id)

    @rpc
    def webhook_deliveries(self, partner_id: str, webhook_id: str, query: dict | None = None) -> dict:
        return self.notifications.webhook_deliveries(partner_id, webhook_id, parse_query(ListQuery, query))

    # --- channel messages (R-NTF-3) ------------------------------------------------------

    @rpc
    def send_channel_message(self, partner_id: str, actor, body: dict | None) -> dict:
        data = parse(ChannelMessageCreate, body)
        return self.notifications.send_channel_message(partner_id, Actor.from_wire(actor).member_id, data)

    @rpc
    def list_channel_messages(self, partner_id: str, query: dict | None = None) -> dict:
        return self.notifications.list_channel_messages(partner_id, parse_query(ListQuery, query))

    # --- conversations (R-RSV-11) -----------------------------------------------------------

    @rpc
    def open_conversation(self, body: dict | None) -> dict:
        return self.notifications.open_conversation(parse(OpenConversation, body).model_dump())

    @rpc
    def list_conversations(self, partner_id: str, query: dict | None = None) -> dict:
        return self.notifications.conversations("partner", partner_id, parse_query(ListQuery, query))

    @rpc
    def list_customer_conversations(self, customer_id: str, query: dict | None = None) -> dict:
        return self.notifications.conversations("customer", customer_id, parse_query(ListQuery, query))

    @rpc
    def partner_conversation_messages(self, partner_id: str, conversation_id: str, query: dict | None = None) -> dict:
        q = parse_query(ListQuery, query)
        return self.notifications.conversation_messages("partner", partner_id, conversation_id, q)

    @rpc
    def customer_conversation_messages(self, customer_id: str, conversation_id: str, query: dict | None = None) -> dict:
        q = parse_query(ListQuery, query)
        return self.notifications.conversation_messages("customer", customer_id, conversation_id, q)

    @rpc
    def post_partner_conversation_message(
        self, partner_id: str, actor, conversation_id: str, body: dict | None
    ) -> dict:
        data = parse(ConversationMessageCreate, body)
        writer = Actor.from_wire(actor).member_id
        return self.notifications.post_partner_message(partner_id, writer, conversation_id, data)

    @rpc
    def post_customer_conversation_message(self, customer_id: str, conversation_id: str, body: dict | None) -> dict:
        data = parse(ConversationMessageCreate, body)
        return self.notifications.post_customer_message(customer_id, conversation_id, data)
