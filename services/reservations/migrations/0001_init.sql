-- Reservations (R-RSV-1..11): bookings with their lines, price and policy as
-- sold, the idempotency of creation, timers, sharing, transfers, chat requests.

-- A partner's booking settings per product (confirmation, request expiry, partial cancellation).
CREATE TABLE product_settings (
    partner_id           text NOT NULL,
    product_id           text NOT NULL,
    confirmation         text NOT NULL DEFAULT 'manual' CHECK (confirmation IN ('auto', 'manual')),
    request_ttl_hours    integer CHECK (request_ttl_hours > 0),
    allow_partial_cancel boolean NOT NULL DEFAULT true,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text,
    PRIMARY KEY (partner_id, product_id)
);

-- One row per customer's Idempotency-Key: written (pending) before the catalog
-- hold, so an attempt that dies between hold and reservation is found and its
-- hold released (``pending`` for longer than the grace period -> ``abandoned``).
CREATE TABLE booking_intents (
    customer_id     text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint     text NOT NULL,
    reservation_id  uuid NOT NULL UNIQUE,
    number          text NOT NULL UNIQUE,
    partner_id      text NOT NULL,
    hold_sequence   integer NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'abandoned')),
    response_status integer,
    response        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, idempotency_key)
);
CREATE INDEX booking_intents_pending ON booking_intents (updated_at) WHERE state = 'pending';

CREATE TABLE reservations (
    reservation_id       uuid PRIMARY KEY,
    number               text NOT NULL UNIQUE,
    partner_id           text NOT NULL,
    product_id           text NOT NULL,
    product_name         text NOT NULL,
    product_version      integer NOT NULL,
    schedule_type        text NOT NULL,
    payment              text NOT NULL,
    cancel_policy        jsonb NOT NULL,          -- the policy of the version sold (R-CAT-6)
    confirmation         text NOT NULL,
    allow_partial_cancel boolean NOT NULL,
    request_ttl_hours    integer NOT NULL,
    customer_id          text NOT NULL,           -- who booked (and pays)
    holder_customer_id   text NOT NULL,           -- who holds the ticket (R-RSV-10)
    booker_name          text,                    -- NULL once pseudonymised
    booker_phone         text,                    -- digits
    booker_phone_last4   text,                    -- R-RSV-8
    status               text NOT NULL CHECK (status IN ('requested', 'confirmed', 'rejected', 'cancelled',
                                                         'completed', 'no_show')),
    use_date             date,
    use_time             time,
    lines                jsonb NOT NULL,          -- [{line, price_id, label, unit_price, quantity, cancelled}]
    total                integer NOT NULL,        -- of the quantities not cancelled
    refund_amount        integer NOT NULL DEFAULT 0,
    fee_amount           integer NOT NULL DEFAULT 0,
    hold_sequence        integer NOT NULL DEFAULT 0,  -- the current hold: rsv:<reservation_id>:<hold_sequence>
    hold_attempts        integer NOT NULL DEFAULT 0,  -- highest hold number ever tried (a date change takes the next)
    reason               text,
    due_at               timestamptz,             -- when a timer must look at it next
    conversation_id      text,                    -- R-RSV-11, once the customer accepted
    pseudonymised        boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_by_partner ON reservations (partner_id, created_at DESC, reservation_id DESC);
CREATE INDEX reservations_by_partner_status ON reservations (partner_id, status, created_at DESC);
CREATE INDEX reservations_by_phone ON reservations (partner_id, booker_phone_last4);                 -- R-RSV-8
CREATE INDEX reservations_by_name ON reservations (partner_id, lower(booker_name) text_pattern_ops);  -- R-RSV-8
CREATE INDEX reservations_by_slot ON reservations (partner_id, product_id, use_date, use_time);       -- R-RSV-9
CREATE INDEX reservations_by_use_date ON reservations (partner_id, use_date);
CREATE INDEX reservations_by_customer ON reservations (customer_id, created_at DESC);
CREATE INDEX reservations_by_holder ON reservations (holder_customer_id, created_at DESC);
CREATE INDEX reservations_due ON reservations (due_at) WHERE due_at IS NOT NULL;

-- Every step of a reservation, who did it and why.
CREATE TABLE reservation_history (
    id             bigserial PRIMARY KEY,
    reservation_id uuid NOT NULL REFERENCES reservations,
    at             timestamptz NOT NULL DEFAULT now(),
    action         text NOT NULL,
    actor_kind     text NOT NULL,                 -- customer, member, api_key, system
    actor_id       text,
    details        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX reservation_history_by_reservation ON reservation_history (reservation_id, id);
CREATE INDEX reservation_history_by_actor ON reservation_history (actor_id) WHERE actor_id IS NOT NULL;

-- Money as settlement books it (sales on completion, fees on cancellation and
-- no-show), for reconciliation with the ledger.
CREATE TABLE money_movements (
    id          bigserial PRIMARY KEY,
    partner_id  text NOT NULL,
    number      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('sale', 'fee', 'refund')),
    amount      integer NOT NULL CHECK (amount > 0),
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX money_movements_by_partner ON money_movements (partner_id, occurred_at);

-- Capacity to give back to the catalog, written with the change that frees it;
-- sent right after commit, retried by the timer until the catalog confirms.
CREATE TABLE pending_releases (
    release_id      text PRIMARY KEY,
    hold_id         text NOT NULL,
    partner_id      text NOT NULL,
    lines           jsonb,                        -- NULL: everything still held
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_releases_due ON pending_releases (next_attempt_at);

-- R-RSV-10: shares, saves by friends, ticket transfers.
CREATE TABLE shares (
    token_hash     bytea PRIMARY KEY,
    reservation_id uuid NOT NULL REFERENCES reservations,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shares_by_creator ON shares (created_by);

CREATE TABLE saved_reservations (
    customer_id    text NOT NULL,
    reservation_id uuid NOT NULL REFERENCES reservations,
    saved_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, reservation_id)
);

CREATE TABLE transfers (
    transfer_id      uuid PRIMARY KEY,
    token_hash       bytea NOT NULL UNIQUE,
    reservation_id   uuid NOT NULL REFERENCES reservations,
    from_customer_id text NOT NULL,
    to_phone         text,                        -- digits; NULL once pseudonymised
    state            text NOT NULL CHECK (state IN ('pending', 'accepted', 'withdrawn')),
    to_customer_id   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    accepted_at      timestamptz
);
CREATE UNIQUE INDEX one_pending_transfer ON transfers (reservation_id) WHERE state = 'pending';
CREATE INDEX transfers_by_customer ON transfers (from_customer_id);
CREATE INDEX transfers_by_recipient ON transfers (to_customer_id);

-- R-RSV-11: a partner's chat request; the conversation exists only once accepted.
CREATE TABLE chat_invitations (
    invitation_id   uuid PRIMARY KEY,
    reservation_id  uuid NOT NULL REFERENCES reservations,
    partner_id      text NOT NULL,
    customer_id     text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
    requested_by    text,
    conversation_id text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE UNIQUE INDEX one_open_chat_invitation ON chat_invitations (reservation_id) WHERE state = 'pending';
CREATE INDEX chat_invitations_by_customer ON chat_invitations (customer_id, state, created_at DESC);
CREATE INDEX chat_invitations_by_requester ON chat_invitations (requested_by);
