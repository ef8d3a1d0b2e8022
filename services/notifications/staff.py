"""Who works for a partner, as the accounts service says, cached briefly.

Staff messages go to each member of the partner's staff whose role the
template names (R-NTF-1). The list comes from ``accounts.list_staff(actor,
partner_id, query)``, the staff listing accounts offers today; it re-checks
its caller, so notifications calls it as the partner's own system would (an
API-key actor of that partner) and pages through ``{"items", "next_cursor"}``.
Any failure of that call (accounts down, the method missing, a timeout)
propagates, so the event handler fails and the event is retried with
backoff, never dropped. The answer is cached per partner for
``STAFF_CACHE_S`` seconds (default 10): a burst of bookings asks once; a role
change reaches messages within that time (reading an inbox is checked by the
gateway against current roles).
"""

from __future__ import annotations

import time

from nameko.extensions import DependencyProvider

from chassis import Actor

from . import domain

MAX_PAGES = 50  # 5,000 staff: far beyond any partner; a loop guard, not a limit anyone meets


class StaffCache(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.ttl = float(config.get("STAFF_CACHE_S", 10))
        self.service, _, self.method = str(config.get("STAFF_RPC", "accounts.list_staff")).partition(".")
        self.entries: dict[str, tuple[float, list[domain.StaffMember]]] = {}

    def get_dependency(self, worker_ctx):
        return self

    def cached(self, partner_id: str) -> list[domain.StaffMember] | None:
        entry = self.entries.get(partner_id)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def staff_of(self, services, partner_id: str) -> list[domain.StaffMember]:
        cached = self.cached(partner_id)
        if cached is not None:
            return cached
        staff = domain.staff_from_directory(self._fetch(services, partner_id))
        if self.ttl > 0:
            self.entries[partner_id] = (time.monotonic() + self.ttl, staff)
        return staff

    def _fetch(self, services, partner_id: str) -> list[dict]:
        call = getattr(services.get(self.service), self.method)
        actor = Actor("api_key", partner_id=partner_id).to_wire()  # the partner's own system may list its staff
        rows, cursor = [], None
        for _ in range(MAX_PAGES):
            page = call(actor, partner_id, {"limit": 100, **({"cursor": cursor} if cursor else {})})
            rows.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return rows

    def forget(self):
        self.entries.clear()
