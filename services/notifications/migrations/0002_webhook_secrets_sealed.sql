-- Webhook secrets are sealed at rest (notifications.sealing) and can be rotated
-- with an overlap: until previous_secret_until, deliveries are signed with both.
-- Rows made before this keep their clear secret only until the delivery worker
-- seals it (its first pass), then it is NULL.
ALTER TABLE webhooks
    ALTER COLUMN secret DROP NOT NULL,
    ADD COLUMN secret_sealed          bytea,
    ADD COLUMN previous_secret_sealed bytea,
    ADD COLUMN previous_secret_until  timestamptz,
    ADD COLUMN secret_rotated_at      timestamptz;
