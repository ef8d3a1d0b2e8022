-- No RPC under a row lock (issue 19): a stock release and an interrupted creation are claimed
-- in one short transaction (a lease), given back to the catalog after its commit, and finished
-- in another; a claim whose process died is taken again once its lease has run out.
ALTER TABLE stock_releases ADD COLUMN claimed_until timestamptz;
ALTER TABLE creation_keys ADD COLUMN swept_at timestamptz;
