-- Coupons (issue #11): a partner's discounts, issued to customers or published
-- as a code, redeemed atomically with a hold (the booking's or order's) under
-- the coupon row's lock, and given back when the whole hold is released.

CREATE TABLE coupons (
    coupon_id          uuid PRIMARY KEY,
    partner_id         text NOT NULL,
    name               text NOT NULL,
    discount_type      text NOT NULL CHECK (discount_type IN ('fixed', 'percent')),
    amount             integer CHECK (amount > 0),              -- fixed: KRW off
    percent            integer CHECK (percent BETWEEN 1 AND 100), -- percent: of the applicable lines
    max_discount       integer CHECK (max_discount > 0),        -- percent: at most this many KRW
    min_spend          integer NOT NULL DEFAULT 0 CHECK (min_spend >= 0),
    starts_at          timestamptz,
    ends_at            timestamptz,
    product_ids        text[] NOT NULL DEFAULT '{}',            -- empty: every product of the partner
    total_limit        integer CHECK (total_limit > 0),         -- NULL: no limit
    per_customer_limit integer CHECK (per_customer_limit > 0),  -- NULL: no limit
    distribution       text NOT NULL CHECK (distribution IN ('code', 'issued')),
    code               text,                                    -- upper case; code coupons only
    paused             boolean NOT NULL DEFAULT false,
    redeemed           integer NOT NULL DEFAULT 0 CHECK (redeemed >= 0),   -- active redemptions
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((distribution = 'code') = (code IS NOT NULL)),
    CHECK (total_limit IS NULL OR redeemed <= total_limit)
);
CREATE UNIQUE INDEX coupon_codes ON coupons (partner_id, code) WHERE code IS NOT NULL;
CREATE INDEX coupons_by_partner ON coupons (partner_id, created_at DESC, coupon_id DESC);

-- Who an issued coupon was given to.
CREATE TABLE coupon_issues (
    coupon_id   uuid NOT NULL REFERENCES coupons,
    customer_id text NOT NULL,
    partner_id  text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   text,
    PRIMARY KEY (coupon_id, customer_id)
);
CREATE INDEX coupon_issues_by_customer ON coupon_issues (customer_id, issued_at DESC, coupon_id DESC);

-- One redemption per redemption key (the caller's booking or order): the
-- holds that carry the key share it, so a date change (a new hold, then the
-- old one released) keeps it; it is returned when no hold of the key is held.
CREATE TABLE coupon_redemptions (
    partner_id      text NOT NULL,
    redemption_key  text NOT NULL,
    coupon_id       uuid NOT NULL REFERENCES coupons,
    customer_id     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'returned')),
    discount_amount integer NOT NULL CHECK (discount_amount >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    returned_at     timestamptz,
    PRIMARY KEY (partner_id, redemption_key)
);
CREATE INDEX coupon_redemptions_by_customer ON coupon_redemptions (coupon_id, customer_id) WHERE status = 'active';

ALTER TABLE holds ADD COLUMN redemption_key text;
CREATE INDEX holds_by_redemption ON holds (partner_id, redemption_key) WHERE redemption_key IS NOT NULL;
