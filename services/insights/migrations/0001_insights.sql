-- insights (issue #11): customers, statistics and reviews, read models fed only by
-- events (reservation.*, order.*, customer.erased). Nothing here is the source of
-- truth: reservations and orders are. Every row belongs to a partner except the
-- contacts (a customer is the same person for every partner) and the reviews'
-- public side (by product).
--
-- Out-of-order delivery: the fact rows keep ``occurred_at`` of the newest event
-- applied; an older event never moves a row's state back (domain.py).

-- Who a customer is, asked once from accounts (``customer_contact``) the first
-- time an event names them: events carry no clear name or phone.
CREATE TABLE contacts (
    customer_id  text PRIMARY KEY,
    name         text,                          -- NULL when accounts did not know the customer
    phone        text,                          -- digits; NULL once erased
    erased       boolean NOT NULL DEFAULT false,
    pseudonym    text,                          -- customer.erased: the customer's facts live under it
    fetched_at   timestamptz NOT NULL DEFAULT now()
);

-- Product names (the newest event's), for revenue by product and reviews.
CREATE TABLE products (
    partner_id   text NOT NULL,
    product_id   text NOT NULL,
    name         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (partner_id, product_id)
);

-- One row per reservation, in its current state.
CREATE TABLE bookings (
    partner_id          text NOT NULL,
    reservation_number  text NOT NULL,
    product_id          text NOT NULL,
    customer_id         text NOT NULL,          -- the booker (or the pseudonym once erased)
    status              text NOT NULL,
    use_date            date,
    use_time            time,
    booked_at           timestamptz NOT NULL,   -- the earliest event seen of it
    quantity            integer NOT NULL,       -- people / units still booked
    total               bigint NOT NULL,        -- what the customer pays, after the discount
    discount_amount     bigint NOT NULL DEFAULT 0,
    coupon_id           text,
    fees                bigint NOT NULL DEFAULT 0,  -- cancellation and no-show fees, summed over their events
    visited_at          timestamptz,            -- when reservation.completed happened
    occurred_at         timestamptz NOT NULL,   -- of the newest event applied
    -- The day a booking counts on in statistics: its use date, else (anytime products) the day it was booked.
    stat_date           date GENERATED ALWAYS AS (coalesce(use_date, (booked_at AT TIME ZONE 'Asia/Seoul')::date)) STORED,
    PRIMARY KEY (partner_id, reservation_number)
);
CREATE INDEX bookings_by_customer ON bookings (customer_id, partner_id);

-- What statistics read instead of the bookings themselves (a year of a partner
-- with 100,000 bookings is a few thousand rows here): per day, product and
-- state, and per slot. Kept in step with ``bookings`` in the same transaction,
-- by the difference each event makes to its booking (store.apply_booking);
-- store.rebuild_booking_rollups recomputes them from the bookings.
CREATE TABLE booking_days (
    partner_id  text NOT NULL,
    stat_date   date NOT NULL,
    product_id  text NOT NULL,
    status      text NOT NULL,
    bookings    integer NOT NULL,
    people      integer NOT NULL,
    sales       bigint NOT NULL,        -- totals of the completed ones
    fees        bigint NOT NULL,
    PRIMARY KEY (partner_id, stat_date, product_id, status)
);

-- Bookings that hold or held a slot (requested, confirmed, completed, no-show), for the busiest slots.
CREATE TABLE booking_slots (
    partner_id  text NOT NULL,
    use_date    date NOT NULL,
    use_time    time,                   -- NULL for products booked by the day
    bookings    integer NOT NULL,
    people      integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (partner_id, use_date, use_time)
);

-- One row per order, in its current state.
CREATE TABLE orders (
    partner_id       text NOT NULL,
    order_id         text NOT NULL,
    customer_id      text NOT NULL,
    channel          text NOT NULL,
    status           text NOT NULL,
    received_at      timestamptz NOT NULL,      -- the earliest event seen of it
    total            bigint NOT NULL,           -- what was paid, after the discount
    refunded_total   bigint NOT NULL DEFAULT 0, -- everything refunded on it so far
    discount_amount  bigint NOT NULL DEFAULT 0,
    coupon_id        text,
    visited_at       timestamptz,               -- when order.completed / order.delivered happened
    occurred_at      timestamptz NOT NULL,
    stat_date        date GENERATED ALWAYS AS ((received_at AT TIME ZONE 'Asia/Seoul')::date) STORED,
    PRIMARY KEY (partner_id, order_id)
);
CREATE INDEX orders_by_day ON orders (partner_id, stat_date) INCLUDE (status, total, refunded_total);
CREATE INDEX orders_by_customer ON orders (customer_id, partner_id);

-- An order's sales and refunds split by product (domain.order_product_shares), replaced with its row.
CREATE TABLE order_products (
    partner_id  text NOT NULL,
    order_id    text NOT NULL,
    product_id  text NOT NULL,
    sales       bigint NOT NULL,
    refunds     bigint NOT NULL,
    PRIMARY KEY (partner_id, order_id, product_id)
);

-- The customer list of each partner; the figures are recomputed from the
-- customer's bookings and orders after every event about them.
CREATE TABLE customers (
    partner_id        text NOT NULL,
    customer_id       text NOT NULL,
    name              text,
    phone             text,                     -- digits, shown masked (chassis.privacy)
    phone_last4       text,
    erased            boolean NOT NULL DEFAULT false,
    first_seen_at     timestamptz NOT NULL,
    last_activity_at  timestamptz NOT NULL,
    visit_count       integer NOT NULL DEFAULT 0,
    last_visit_at     timestamptz,
    total_spent       bigint NOT NULL DEFAULT 0,
    coupon_uses       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, customer_id)
);
CREATE INDEX customers_by_activity ON customers (partner_id, last_activity_at DESC, customer_id DESC);
CREATE INDEX customers_by_phone ON customers (partner_id, phone_last4);                   -- q = last 4 digits
CREATE INDEX customers_by_name ON customers (partner_id, lower(name) text_pattern_ops);  -- q = a name
CREATE INDEX customers_by_visit ON customers (partner_id, last_visit_at);               -- visited_within_days
CREATE INDEX customers_by_id ON customers (customer_id);                                -- erasure

-- Every reservation and order review (R-RSV-6, R-ORD-9), with the partner's reply.
CREATE TABLE reviews (
    review_id     text PRIMARY KEY,
    partner_id    text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('reservation', 'order')),
    subject_id    text NOT NULL,                -- reservation number or order id
    line_id       text,                         -- the order line reviewed
    product_id    text NOT NULL,
    customer_id   text NOT NULL,
    author        text,                         -- the masked name, or the pseudonym once erased
    rating        integer CHECK (rating BETWEEN 1 AND 5),   -- NULL until the review itself is known
    body          text,
    reply         text,
    posted_at     timestamptz NOT NULL,
    replied_at    timestamptz,
    posted        boolean NOT NULL DEFAULT false  -- the review_posted event was applied
);
CREATE INDEX reviews_by_partner ON reviews (partner_id, posted_at DESC, review_id DESC);
CREATE INDEX reviews_by_product ON reviews (product_id, posted_at DESC, review_id DESC);
CREATE INDEX reviews_by_customer ON reviews (customer_id);
