-- Issue 16 leftover (R-ACC-3, R-RSV-10): a ticket handed to a phone whose owner is
-- erased must lose that phone. customer.erased carries the phone only as its keyed
-- pseudonym (chassis.privacy.phone_key), so each transfer keeps the same key beside
-- its phone. Rows written before this have none: the erasure handler fills them in
-- (the key is a secret the database does not hold).
ALTER TABLE transfers ADD COLUMN to_phone_key text;
CREATE INDEX transfers_by_recipient_phone ON transfers (to_phone_key) WHERE to_phone_key IS NOT NULL;
