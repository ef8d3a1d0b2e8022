"""Request bodies and query strings of the accounts routes (api.md, Accounts).
Strict: unknown fields, wrong types and NUL characters are a 422 naming the
field. They live in the HTTP contract (``libs/contract/accounts.py``, issue 15),
so the gateway documents and validates the very classes this service checks."""

from __future__ import annotations

from contract.accounts import (
    ApiKeyCreate,
    ClosePartner,
    Invite,
    ListQuery,
    Login,
    NoticeCategory,
    NoticeCreate,
    NoticeQuery,
    PartnerCreate,
    PartnerQueueQuery,
    PartnerUpdate,
    PasswordChange,
    PlaceCreate,
    PlaceUpdate,
    ProfileUpdate,
    Rejection,
    Role,
    RoleChange,
    SignUp,
    Verification,
    VerifiedIdentity,
    Withdraw,
)
