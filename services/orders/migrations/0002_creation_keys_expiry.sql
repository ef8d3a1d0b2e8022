-- Idempotency keys of created orders are kept for replay for a day (IDEMPOTENCY_KEY_HOURS), then
-- deleted by the timer; this index finds the expired ones.
CREATE INDEX creation_keys_created ON creation_keys (created_at) WHERE order_id IS NOT NULL;
