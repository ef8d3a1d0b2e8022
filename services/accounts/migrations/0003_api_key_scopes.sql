-- API keys are the partner's (R-ACC-13): scopes, an optional expiry and the last
-- use; they outlive the member who made them. Keys made before scopes existed
-- acted as a master, so they keep every scope until an admin replaces them.
ALTER TABLE api_keys
    ADD COLUMN scopes       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;
UPDATE api_keys SET scopes = ARRAY[
    'reservations:write', 'orders:write', 'products:write', 'customers:write', 'settlement:write',
    'webhooks:write', 'coupons:write'];
