"""The delivery worker: sends queued webhook and messenger deliveries outside
any consumer's transaction, so a slow or dead endpoint never holds up the bus.

It runs in a managed greenthread of the service's container (like the outbox
relay): claim due rows with ``FOR UPDATE SKIP LOCKED`` (several instances
never send one row at once), count the attempt and lease the row, commit,
send in a green pool, then record the outcome in a short transaction of its
own. A process killed mid-send leaves the row leased; when the lease runs out
it is sent again (webhook deliveries are at least once: receivers dedupe by
``X-PC-Delivery``). Failures are retried with exponential backoff and jitter
(``domain.RetryPolicy``); a webhook that keeps failing is disabled and its
partner told, through the service's own ``webhook.disabled`` event.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import eventlet
from eventlet.greenpool import GreenPool

from chassis.background import PollingLoop
from chassis.db import DatabasePool, UnitOfWork
from chassis.logging import get_logger

from . import domain, events, sealing, store
from .channels import Outcome, WebhookChannel, load_messenger

log = get_logger(__name__)


def _policy(config: dict, prefix: str, base: float, cap: float, attempts: int) -> domain.RetryPolicy:
    return domain.RetryPolicy(
        float(config.get(f"{prefix}_RETRY_BASE_S", base)),
        float(config.get(f"{prefix}_RETRY_CAP_S", cap)),
        int(config.get(f"{prefix}_MAX_ATTEMPTS", attempts)),
    )


class DeliveryWorker(PollingLoop):
    pool = DatabasePool()
    identifier = "delivery_worker"

    def setup(self):
        super().setup()
        config = self.container.config
        self.enabled = str(config.get("DELIVERY_WORKER", True)).lower() not in ("false", "0", "no")
        self.poll_interval = float(config.get("DELIVERY_POLL_INTERVAL", 0.5))
        self.concurrency = int(config.get("DELIVERY_CONCURRENCY", 20))
        self.messenger_batch = int(config.get("MESSENGER_BATCH", 200))
        self.policies = {
            "webhook": _policy(config, "WEBHOOK", 60, 8 * 3600, 16),
            "messenger": _policy(config, "MESSENGER", 30, 3600, 10),
        }
        self.failure_limit = int(config.get("WEBHOOK_FAILURE_LIMIT", 16))
        self.failing_period = float(config.get("WEBHOOK_FAILING_PERIOD_S", 24 * 3600))
        channels = [WebhookChannel(config), load_messenger(config)]
        self.channels = {c.name: c for c in channels if c is not None}
        webhook_timeout = float(config.get("WEBHOOK_TIMEOUT", 5))
        self.lease_seconds = float(config.get("DELIVERY_LEASE_S", webhook_timeout + 30))
        self.green_pool = GreenPool(self.concurrency)
        self.secret_key = sealing.key_from_config(config)
        self.legacy_sealed = False

    def stop(self):
        super().stop()
        with eventlet.Timeout(5, False):  # in-flight sends finish; the rest wait out their lease
            self.green_pool.waitall()

    # --- one pass (chassis.background.PollingLoop runs it) ----------------------------

    def poll_once(self) -> int:
        return self._claim_and_spawn()

    def _claim_and_spawn(self) -> int:
        """Messenger pushes go in batches (one slot, one transaction to record
        them); each webhook delivery takes a slot of its own, so a slow endpoint
        only ever holds its own slot."""
        free = self.green_pool.free()
        if free == 0:
            return 0  # a finishing send wakes the loop
        if not self.legacy_sealed:
            self._seal_legacy_secrets()
        with self.pool.connection() as conn, conn.transaction():
            pushes = store.claim_due_deliveries(conn, "messenger", self.messenger_batch, self.lease_seconds)
            hook_slots = free - (1 if pushes else 0)
            hooks = store.claim_due_deliveries(conn, "webhook", hook_slots, self.lease_seconds) if hook_slots else []
        if pushes:
            self.green_pool.spawn_n(self._deliver_pushes, pushes)
        for delivery in hooks:
            self.green_pool.spawn_n(self._deliver, delivery)
        return len(pushes) + len(hooks)

    def _seal_legacy_secrets(self) -> None:
        """Webhooks made before secrets were sealed: sealed once, their clear copy dropped."""
        with self.pool.connection() as conn, conn.transaction():
            for webhook_id, secret in store.legacy_clear_secrets(conn):
                store.seal_secret(conn, webhook_id, sealing.seal(self.secret_key, secret))
        self.legacy_sealed = True

    def _send(self, channel, delivery: dict) -> tuple[Outcome, datetime, int]:
        started_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            outcome = channel.send(delivery)
        except Exception as exc:  # an adapter's bug is a failed attempt, not a dead worker
            log.exception("delivery_channel_error", channel=delivery["channel"])
            outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        return outcome, started_at, int((time.monotonic() - started) * 1000)

    def _deliver_pushes(self, pushes: list[dict]):
        try:
            channel = self.channels.get("messenger")
            if channel is None:
                with self.pool.connection() as conn, conn.transaction():
                    for delivery in pushes:
                        store.abandon(conn, delivery["id"], "messenger channel is off")
                return
            sends = eventlet.GreenPool(self.concurrency)
            results = list(sends.imap(lambda d: (d, *self._send(channel, d)), pushes))
            policy = self.policies["messenger"]
            with self.pool.connection() as conn, conn.transaction():
                store.mark_many_delivered(conn, [d for d, outcome, _, _ in results if outcome.ok])
                for delivery, outcome, started_at, duration_ms in results:
                    if not outcome.ok:
                        store.record_attempt(
                            conn, delivery, started_at, duration_ms, outcome.status_code, outcome.error
                        )
                        retry_in = (
                            None if policy.exhausted(delivery["attempts"]) else policy.delay(delivery["attempts"])
                        )
                        store.mark_failed_attempt(
                            conn, delivery, outcome.status_code, outcome.error or "failed", retry_in
                        )
        except Exception as exc:  # recording failed (database away): the lease brings the rows back
            log.warning("delivery_record_failed", deliveries=len(pushes), error=repr(exc))
        finally:
            self.wake()

    def _deliver(self, delivery: dict):
        try:
            if delivery["webhook_status"] != "active":
                with self.pool.connection() as conn, conn.transaction():
                    store.abandon(conn, delivery["id"], "webhook is not active")
                return
            delivery["secrets"] = [
                sealing.unseal(self.secret_key, sealed)
                for sealed in (delivery["secret_sealed"], delivery["previous_secret_sealed"])
                if sealed
            ]
            outcome, started_at, duration_ms = self._send(self.channels["webhook"], delivery)
            self._record(delivery, outcome, started_at, duration_ms)
        except Exception as exc:  # recording failed (database away): the lease brings the row back
            log.warning("delivery_record_failed", delivery_id=delivery["id"], error=repr(exc))
        finally:
            self.wake()

    def _record(self, delivery: dict, outcome: Outcome, started_at, duration_ms: int):
        is_webhook = delivery["channel"] == "webhook"
        disabled = False
        with self.pool.connection() as conn, conn.transaction():
            store.record_attempt(conn, delivery, started_at, duration_ms, outcome.status_code, outcome.error)
            if outcome.ok:
                store.mark_delivered(conn, delivery, outcome.status_code)
                if is_webhook:
                    store.webhook_succeeded(conn, delivery["webhook_id"])
            else:
                policy = self.policies[delivery["channel"]]
                retry_in = None if policy.exhausted(delivery["attempts"]) else policy.delay(delivery["attempts"])
                store.mark_failed_attempt(conn, delivery, outcome.status_code, outcome.error or "failed", retry_in)
                log.info(
                    "delivery_failed",
                    channel=delivery["channel"],
                    delivery_id=delivery["id"],
                    attempt=delivery["attempts"],
                    error=outcome.error,
                    retry_in=retry_in,
                )
                if is_webhook:
                    disabled = self._count_webhook_failure(conn, delivery["webhook_id"], started_at)
        if disabled:
            self.pool.notify_outbox_written()  # committed: the relay can publish the notice now

    def _count_webhook_failure(self, conn, webhook_id: str, started_at) -> bool:
        """One more failure in the webhook's streak; True when this disabled it."""
        streak = store.webhook_failed(conn, webhook_id, started_at)
        if streak is None or streak["status"] != "active":
            return False
        if not domain.should_disable(
            streak["consecutive_failures"], streak["failing_for"] or 0.0, self.failure_limit, self.failing_period
        ):
            return False
        reason = f"{streak['consecutive_failures']} failed deliveries in a row"
        if not store.disable_webhook(conn, webhook_id, reason):
            return False
        # Told through the outbox, in this transaction: the notice is neither lost nor sent twice.
        uow = UnitOfWork(conn, None, self.container.service_name)
        uow.publish("webhook.disabled", events.webhook_disabled(streak, reason), partner_id=streak["partner_id"])
        log.warning("webhook_disabled", webhook_id=webhook_id, failures=streak["consecutive_failures"])
        return True
