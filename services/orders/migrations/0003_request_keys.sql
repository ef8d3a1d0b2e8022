-- Idempotency-Key of the customer's other POSTs (refund and exchange requests, inquiries, reviews;
-- api.md: accepted on every POST): the first response, written in the request's own transaction.
CREATE TABLE request_keys (
    customer_id  text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX request_keys_created ON request_keys (created_at);
