"""The shared chassis of every partner-center service.

One place for what each service needs and must not copy: configuration,
the database provider and unit of work, migrations, the transactional outbox
and its relay, the idempotent event consumer with retry and dead-lettering,
the event envelope and contracts, typed errors, logging with correlation ids,
RPC with timeouts, and the test fixtures.

``chassis.Actor`` is who asks a service to act (chassis.actor).
"""

from .actor import Actor

__all__ = ["Actor"]
