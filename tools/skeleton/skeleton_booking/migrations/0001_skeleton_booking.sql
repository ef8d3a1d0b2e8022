-- The Idempotency-Key row and the booking, as reservations keeps them, without their rules.
CREATE TABLE intents (
    customer_id     text NOT NULL,
    idempotency_key text NOT NULL,
    intent_id       bigserial UNIQUE,
    state           text NOT NULL DEFAULT 'pending',
    response        jsonb,
    PRIMARY KEY (customer_id, idempotency_key)
);
CREATE TABLE bookings (
    intent_id  bigint PRIMARY KEY,
    slot       text NOT NULL,
    quantity   integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
