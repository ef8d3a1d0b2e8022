"""Who works for a partner, as the accounts service says, cached briefly.

Staff messages go to each member of the partner's staff whose role the
template names (R-NTF-1). The list comes from ``accounts`` over RPC
(``STAFF_RPC``, default ``accounts.list_staff(partner_id)`` answering
``[{"member_id", "role"}, ...]`` or ``{"items": [...]}``). Any failure of that
call (accounts down, the method not there yet, a timeout) propagates, so the
event handler fails and the event is retried with backoff, never dropped.
The answer is cached per partner for ``STAFF_CACHE_S`` seconds (default 10):
a burst of bookings asks once; a role change reaches messages within that
time (reading an inbox is checked by the gateway against current roles).
"""
from __future__ import annotations

import time

from nameko.extensions import DependencyProvider

from . import domain


class StaffCache(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.ttl = float(config.get("STAFF_CACHE_S", 10))
        self.service, _, self.method = str(config.get("STAFF_RPC", "accounts.list_staff")).partition(".")
        self.entries: dict[str, tuple[float, list[domain.StaffMember]]] = {}

    def get_dependency(self, worker_ctx):
        return self

    def staff_of(self, services, partner_id: str) -> list[domain.StaffMember]:
        cached = self.entries.get(partner_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        answer = getattr(services.get(self.service), self.method)(partner_id)
        rows = answer.get("items", []) if isinstance(answer, dict) else answer
        staff = domain.staff_from_directory(rows)
        if self.ttl > 0:
            self.entries[partner_id] = (time.monotonic() + self.ttl, staff)
        return staff

    def forget(self):
        self.entries.clear()
