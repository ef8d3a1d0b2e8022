"""Request and response models of issue 16's routes (R-ACC-16, R-RSV-12,
webhook secret rotation), in the contract's pattern (issue 15): bodies are
validated with them and responses serialised through them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionOut(Out):
    session_id: str
    created_at: str
    expires_at: str
    current: bool


class SessionList(Out):
    items: list[SessionOut]
    next_cursor: str | None


class PasswordResetOut(Out):
    member_id: str
    temporary_password: str
    sessions_ended: int


class ReservationPhoneOut(Out):
    number: str
    phone: str | None


class OrderPhoneOut(Out):
    order_id: str
    phone: str | None


class RotatedSecretOut(Out):
    id: str
    url: str
    events: list[str]
    description: str
    status: str
    consecutive_failures: int
    disabled_at: str | None
    disabled_reason: str | None
    created_at: str
    secret: str
    previous_secret_valid_until: str | None
