-- Customers are users of the messenger platform, keyed by its identity
-- provider's (issuer, subject) (R-ACC-12). A phone number is no identity: it
-- is the one that provider verified, kept current, and may move between users.
ALTER TABLE customers ADD COLUMN issuer text, ADD COLUMN subject text;
ALTER TABLE customers DROP CONSTRAINT customers_phone_key;
CREATE UNIQUE INDEX customers_identity ON customers (issuer, subject) WHERE subject IS NOT NULL;
CREATE INDEX customers_phone ON customers (phone);
