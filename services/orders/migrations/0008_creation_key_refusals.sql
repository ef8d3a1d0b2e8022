-- One Idempotency-Key semantics (issue 19, chassis.idempotency): the same key and body return the
-- first answer, a refusal included. A creation key is ``pending`` (its creation under way, or
-- interrupted: the timer sweeps it), ``done`` (the order's reply in ``response``) or ``failed``
-- (the refusal's error body in ``response``, with its status in ``response_status``).
ALTER TABLE creation_keys ADD COLUMN state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'done', 'failed'));
ALTER TABLE creation_keys ADD COLUMN response_status integer;
UPDATE creation_keys SET state = 'done', response_status = 201 WHERE order_id IS NOT NULL;
DROP INDEX creation_keys_pending;
DROP INDEX creation_keys_created;
CREATE INDEX creation_keys_pending ON creation_keys (created_at) WHERE state = 'pending';
CREATE INDEX creation_keys_answered ON creation_keys (created_at) WHERE state <> 'pending';
