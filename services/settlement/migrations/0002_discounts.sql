-- Coupons (issue #11): a sale's coupon discount, recorded on its ledger
-- transaction. The partner funds it: the sale is booked at what the customer
-- paid (after the discount) and commission is taken on that; the discount is
-- kept beside it so the partner sees what its coupons cost.
ALTER TABLE ledger_transactions ADD COLUMN discount_amount bigint NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
ALTER TABLE ledger_transactions ADD COLUMN coupon_id text;
