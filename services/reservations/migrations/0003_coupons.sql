-- Coupons (issue #11): the coupon a booking redeemed with its catalog hold and
-- the discount it was given (the whole booking's); ``total`` is what the
-- customer pays, the discount taken off the lines still booked.
ALTER TABLE reservations ADD COLUMN coupon jsonb;                               -- {coupon_id, name, code}
ALTER TABLE reservations ADD COLUMN discount_amount integer NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
