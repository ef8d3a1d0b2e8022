"""accounts' ``partner_info`` as the selling services read it: one rule for
how long an answer is remembered, in one bounded cache.

Accounts owns a partner's status and category (R-ACC-8). The catalog asks on
every hold whether the partner sells (verified), and orders which channels its
category takes (R-ORD-1); asking accounts on every request would put an RPC on
every booking and order. Only a ``verified`` answer is remembered: a partner
not yet verified is asked again next time, so its verification takes effect at
once. A verified partner stops selling only by closing (R-ACC-14), which the
catalog learns from ``partner.closed`` and checks inside every hold's
transaction, so remembering the answer never lets a closed partner sell.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from .rpc_contracts import PartnerInfo

# 30 s: the longest a partner's edit to its name or category (what orders reads)
# may take to show, while a busy partner still costs accounts one call per 30 s.
PARTNER_INFO_TTL_SECONDS = 30.0
# Bounded: a service never keeps more partners than this (the oldest go first).
MAX_PARTNERS = 10_000
SELLING = "verified"


class Accounts(Protocol):
    def partner_info(self, partner_id: str) -> dict[str, Any]: ...


class PartnerInfoCache:
    """Verified partners' ``partner_info`` answers, each for ``ttl_seconds``, at most
    ``max_partners`` of them. One instance per service process (its workers share it)."""

    def __init__(
        self,
        ttl_seconds: float = PARTNER_INFO_TTL_SECONDS,
        max_partners: int = MAX_PARTNERS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl_seconds = ttl_seconds
        self.max_partners = max_partners
        self.clock = clock
        self._answers: OrderedDict[str, tuple[float, PartnerInfo]] = OrderedDict()

    def partner_info(self, accounts: Accounts, partner_id: str) -> PartnerInfo:
        """accounts' answer, remembered when the partner is verified (errors pass through)."""
        remembered = self._answers.get(partner_id)
        if remembered is not None and remembered[0] > self.clock():
            return remembered[1]
        info = PartnerInfo.read(accounts.partner_info(partner_id))
        if info.status == SELLING:
            self._remember(partner_id, info)
        else:
            self.forget(partner_id)
        return info

    def forget(self, partner_id: str) -> None:
        self._answers.pop(partner_id, None)

    def _remember(self, partner_id: str, info: PartnerInfo) -> None:
        self._answers.pop(partner_id, None)
        self._answers[partner_id] = (self.clock() + self.ttl_seconds, info)
        while len(self._answers) > self.max_partners:
            self._answers.popitem(last=False)
