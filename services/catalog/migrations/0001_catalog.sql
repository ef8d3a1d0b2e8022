-- The catalog: products with their reviewed revisions (R-CAT-5), inventory as
-- capacity buckets (R-CAT-2, R-CAT-3), blocks, and holds taken by the
-- reservations and orders services (R-RSV-3).

CREATE TABLE products (
    product_id       uuid PRIMARY KEY,
    partner_id       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('booking', 'goods')),
    live_revision_id uuid,                 -- what consumers see; NULL until first approval
    live_version     integer,
    open_revision_id uuid,                 -- the one draft or pending revision, if any
    next_revision    integer NOT NULL DEFAULT 1,
    -- Settings: apply at once, no review.
    sale_starts_at   timestamptz,
    sale_ends_at     timestamptz,
    paused           boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_by_partner ON products (partner_id, created_at DESC, product_id DESC);

CREATE TABLE revisions (
    revision_id   uuid PRIMARY KEY,
    product_id    uuid NOT NULL REFERENCES products,
    partner_id    text NOT NULL,
    number        integer NOT NULL,        -- also the version number once approved
    status        text NOT NULL CHECK (status IN ('draft', 'pending', 'approved', 'rejected')),
    content       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    submitted_at  timestamptz,
    decided_at    timestamptz,
    decided_by    text,
    reason        text,
    UNIQUE (product_id, number)
);
-- R-CAT-5: at most one open (draft or pending) revision per product.
CREATE UNIQUE INDEX one_open_revision ON revisions (product_id) WHERE status IN ('draft', 'pending');
CREATE INDEX revisions_for_review ON revisions (status, submitted_at, revision_id);

-- Every step of a product, kept (R-CAT-5).
CREATE TABLE product_history (
    id          bigserial PRIMARY KEY,
    product_id  uuid NOT NULL REFERENCES products,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text,
    action      text NOT NULL,
    revision_id uuid,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX product_history_by_product ON product_history (product_id, id);

-- Capacity and stock. One row per thing that can run out:
--   slot:<date>T<HH:MM>  an offered time slot      date:<date>   an offered date
--   period               the sale period's total   option:<id>   a goods option's stock
--   price:<id>:<unit>    a price maximum within its quantity unit (R-CAT-2)
-- capacity NULL: offered without a limit (or stock not tracked). ``taken`` is
-- what holds took. Rows are locked in (product_id, bucket_key) order.
CREATE TABLE capacity_buckets (
    product_id  uuid NOT NULL REFERENCES products,
    bucket_key  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('slot', 'date', 'period', 'option', 'price')),
    day         date,
    at_time     time,
    capacity    integer CHECK (capacity >= 0),
    taken       integer NOT NULL DEFAULT 0 CHECK (taken >= 0),
    PRIMARY KEY (product_id, bucket_key)
);
CREATE INDEX capacity_buckets_by_day ON capacity_buckets (product_id, day) WHERE day IS NOT NULL;

CREATE TABLE blocks (
    block_id    uuid PRIMARY KEY,
    product_id  uuid NOT NULL REFERENCES products,
    day         date NOT NULL,
    at_time     time,                      -- NULL: the whole day
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX one_block_per_slot ON blocks (product_id, day, coalesce(at_time, '24:00'::time));

CREATE TABLE holds (
    hold_id     text PRIMARY KEY,          -- chosen by the caller: a retry reuses it
    partner_id  text NOT NULL,
    status      text NOT NULL CHECK (status IN ('held', 'released')),
    fingerprint text NOT NULL,             -- the request, to tell a retry from a reuse
    result      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
);

CREATE TABLE hold_lines (
    hold_id     text NOT NULL REFERENCES holds,
    line        integer NOT NULL,
    product_id  uuid NOT NULL,
    quantity    integer NOT NULL,
    released    integer NOT NULL DEFAULT 0,
    bucket_keys text[] NOT NULL,           -- the rows this line took from
    PRIMARY KEY (hold_id, line),
    CHECK (released BETWEEN 0 AND quantity)
);

-- Partial releases already applied, so a retried one is a no-op.
CREATE TABLE hold_releases (
    hold_id     text NOT NULL REFERENCES holds,
    release_id  text NOT NULL,
    lines       jsonb NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hold_id, release_id)
);
