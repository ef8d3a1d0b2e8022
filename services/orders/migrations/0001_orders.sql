-- Orders of cafes (dine_in, takeout, delivery; seed 004) and shops (parcel; seed 003).
CREATE TABLE orders (
    order_id             uuid PRIMARY KEY,
    partner_id           text NOT NULL,
    customer_id          text NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('dine_in', 'takeout', 'delivery', 'parcel')),
    status               text NOT NULL CHECK (status IN ('received', 'preparing', 'preparing_shipment',
                                                         'shipped', 'completed', 'cancelled')),
    payment_status       text NOT NULL DEFAULT 'paid'
                         CHECK (payment_status IN ('paid', 'partially_refunded', 'refunded')),
    total                integer NOT NULL CHECK (total >= 0),
    refunded_amount      integer NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= total),
    hold_id              text NOT NULL UNIQUE,          -- one catalog hold per order
    shipping             jsonb,                          -- recipient_name, phone, address, ... (personal data)
    note                 text,
    courier              text,
    invoice_number       text,
    received_at          timestamptz NOT NULL,
    auto_complete_at     timestamptz,                   -- R-ORD-2: dine-in/takeout, received_at + 1 hour
    preparing_at         timestamptz,
    shipment_prepared_at timestamptz,
    shipped_at           timestamptz,
    delivered_at         timestamptz,
    completed_at         timestamptz,
    completed_by         text,                          -- partner or system (R-ORD-2)
    booked_at            timestamptz,                   -- when the completion was recorded (the sale's event)
    cancelled_at         timestamptz,
    cancelled_by         text,                          -- customer or partner
    cancel_reason        text,
    actor_id             text,                          -- the member (or api key) who acted last
    erased_at            timestamptz                    -- the customer's personal data was pseudonymised
);
-- R-ORD-1: a partner's orders newest first, optionally by channel and status.
CREATE INDEX orders_partner_newest ON orders (partner_id, received_at DESC, order_id DESC);
CREATE INDEX orders_partner_channel_newest ON orders (partner_id, channel, received_at DESC, order_id DESC);
CREATE INDEX orders_customer_newest ON orders (customer_id, received_at DESC, order_id DESC);
-- R-ORD-2: the timer scans only orders still open for auto-completion.
CREATE INDEX orders_auto_complete_due ON orders (auto_complete_at)
    WHERE status IN ('received', 'preparing') AND auto_complete_at IS NOT NULL;

CREATE TABLE order_lines (
    line_id           text PRIMARY KEY,
    order_id          uuid NOT NULL REFERENCES orders (order_id),
    position          integer NOT NULL,
    product_id        text NOT NULL,
    product_name      text NOT NULL,
    option_id         text,
    option_label      text,
    quantity          integer NOT NULL CHECK (quantity >= 0),
    unit_price        integer NOT NULL CHECK (unit_price >= 0),
    refunded_quantity integer NOT NULL DEFAULT 0 CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity),
    exchanged_out     integer NOT NULL DEFAULT 0,       -- units moved to another option's line (R-ORD-8)
    hold_id           text NOT NULL,                    -- the order's hold, or an exchange's
    hold_line         integer NOT NULL,                 -- the line's index in that hold
    replaces_line_id  text REFERENCES order_lines (line_id),
    UNIQUE (order_id, position)
);

-- Idempotency-Key of customer order creation, written with the order (api.md).
-- ``order_id`` is null while the order is being created (its hold is taken
-- first); a row left pending is swept by the timer, which releases its hold.
CREATE TABLE creation_keys (
    customer_id  text NOT NULL,
    key          text NOT NULL,
    partner_id   text NOT NULL,
    fingerprint  text NOT NULL,
    hold_id      text NOT NULL UNIQUE,
    order_id     uuid REFERENCES orders (order_id),
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX creation_keys_pending ON creation_keys (created_at) WHERE order_id IS NULL;

-- Refund and exchange requests (R-ORD-8).
CREATE TABLE order_requests (
    request_id      uuid PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES orders (order_id),
    partner_id      text NOT NULL,
    customer_id     text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('refund', 'exchange')),
    status          text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected')),
    reason          text NOT NULL,
    lines           jsonb NOT NULL,                     -- [{line_id, quantity, option_id?}]
    amount          integer NOT NULL DEFAULT 0,         -- refund: what the customer gets back
    exchange_hold_id text,                              -- exchange: the hold of the new options
    decision_reason text,
    decided_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE INDEX order_requests_partner ON order_requests (partner_id, kind, created_at DESC, request_id DESC);
CREATE INDEX order_requests_order ON order_requests (order_id);

-- Customer inquiries and partner answers (R-ORD-9).
CREATE TABLE inquiries (
    inquiry_id   uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (order_id),
    partner_id   text NOT NULL,
    customer_id  text NOT NULL,
    body         text NOT NULL,
    answer       text,
    answered_by  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz
);
CREATE INDEX inquiries_partner ON inquiries (partner_id, created_at DESC, inquiry_id DESC);
CREATE INDEX inquiries_order ON inquiries (order_id);

-- Reviews, one per order line, and partner replies (R-ORD-9).
CREATE TABLE reviews (
    review_id    uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (order_id),
    line_id      text NOT NULL UNIQUE REFERENCES order_lines (line_id),
    partner_id   text NOT NULL,
    customer_id  text NOT NULL,
    rating       integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body         text NOT NULL,
    reply        text,
    replied_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replied_at   timestamptz
);
CREATE INDEX reviews_partner ON reviews (partner_id, created_at DESC, review_id DESC);
CREATE INDEX reviews_order ON reviews (order_id);

-- Stock to give back to the catalog (cancellations, refunds of unshipped
-- lines, exchanges): written with the change, sent after commit, retried by
-- the timer until the catalog confirmed it (release is idempotent).
CREATE TABLE stock_releases (
    release_id   text PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (order_id),
    partner_id   text NOT NULL,
    hold_id      text NOT NULL,
    lines        jsonb,                                 -- [{line, quantity}], null = everything still held
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    released_at  timestamptz
);
CREATE INDEX stock_releases_pending ON stock_releases (created_at) WHERE released_at IS NULL;

-- Timer passes that did something: when, where, how many (ops and the bench).
CREATE TABLE timer_passes (
    id           bigserial PRIMARY KEY,
    instance     text NOT NULL,
    as_of        timestamptz NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    completed    integer NOT NULL
);
