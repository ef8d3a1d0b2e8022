-- R-ACC-14 (issue 17 item 11): a closed partner stops selling. Accounts owns the
-- status; partner.closed writes it here, where every hold reads it.
CREATE TABLE closed_partners (
    partner_id text PRIMARY KEY,
    closed_at  timestamptz NOT NULL DEFAULT now()
);
