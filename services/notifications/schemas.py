"""Request schemas of the notifications entrypoints (validated with chassis.validation.parse).
The HTTP bodies and queries are the contract's (libs/contract/notifications.py),
so the gateway documents the very classes validated here; the RPC-only one is below."""

from __future__ import annotations

from pydantic import Field

from chassis.validation import Strict
from contract.notifications import (
    Audience,
    ChannelMessageCreate,
    ConversationMessageCreate,
    InboxQuery,
    ListQuery,
    SecretRotation,
    WebhookCreate,
)


class OpenConversation(Strict):
    """What reservations may send when the customer accepts a chat invitation (R-RSV-11)."""

    partner_id: str = Field(min_length=1, max_length=100)
    customer_id: str = Field(min_length=1, max_length=100)
    reservation_number: str = Field(min_length=1, max_length=100)
    invitation_id: str = Field(min_length=1, max_length=100)
    conversation_id: str | None = Field(None, max_length=100)
    customer_name_masked: str | None = Field(None, max_length=100)  # shown in the partner's list (issue 17)
