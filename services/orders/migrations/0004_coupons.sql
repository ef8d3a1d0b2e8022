-- Coupons (issue #11): the coupon an order redeemed with its catalog hold and
-- its discount; ``total`` is what the customer paid (lines at their prices
-- less the discount), refunds are computed on it.
ALTER TABLE orders ADD COLUMN coupon jsonb;                                  -- {coupon_id, name, code}
ALTER TABLE orders ADD COLUMN discount_amount integer NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
