-- Settlement (R-STL-1..5): an append-only, double-entry ledger per partner,
-- commission rates, settlement statements, payouts and tax invoices.
-- No personal data anywhere in here (R-STL-5): customers are pseudonyms.

-- What settlement knows of a partner: its category (from partner.* events,
-- for commission) and its payout schedule (set by operators).
CREATE TABLE partner_profiles (
    partner_id          text PRIMARY KEY,
    category            text,
    category_as_of      timestamptz,
    payout_schedule     text NOT NULL DEFAULT 'weekly' CHECK (payout_schedule IN ('weekly', 'monthly')),
    payout_delay_days   integer NOT NULL DEFAULT 3 CHECK (payout_delay_days BETWEEN 0 AND 60)
);

-- Effective-dated commission rates (R-STL-2): a category's rate, or a partner's
-- override. Rows are only ever added; the rate applied to a sale is copied onto
-- its ledger transaction, so a later change never rewrites the past.
CREATE TABLE commission_rates (
    id              bigserial PRIMARY KEY,
    scope           text NOT NULL CHECK (scope IN ('category', 'partner')),
    subject         text NOT NULL,
    rate_bps        integer NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    effective_from  date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commission_rates_lookup ON commission_rates (scope, subject, effective_from DESC, id DESC);

INSERT INTO commission_rates (scope, subject, rate_bps, effective_from) VALUES
    ('category', 'default',    1000, '2000-01-01'),
    ('category', 'salon',       800, '2000-01-01'),
    ('category', 'studio',      800, '2000-01-01'),
    ('category', 'exhibition',  600, '2000-01-01'),
    ('category', 'cafe',        500, '2000-01-01'),
    ('category', 'fashion',    1200, '2000-01-01'),
    ('category', 'lodging',    1000, '2000-01-01');

-- One ledger transaction per (source object, entry kind): txn_key is unique, so
-- a duplicate or replayed event can never add a second sale, fee or refund.
CREATE TABLE ledger_transactions (
    id               bigserial PRIMARY KEY,
    partner_id       text NOT NULL,
    txn_key          text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('sale', 'fee', 'refund', 'commission', 'commission_reversal')),
    source           text NOT NULL CHECK (source IN ('reservations', 'orders')),
    source_ref       text NOT NULL,
    source_event_id  uuid NOT NULL,
    business_date    date NOT NULL,
    occurred_at      timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    commission_bps   integer,
    customer_ref     text,
    UNIQUE (partner_id, txn_key)
);
CREATE INDEX ledger_transactions_by_date ON ledger_transactions (partner_id, business_date, id);
CREATE INDEX ledger_transactions_by_source ON ledger_transactions (partner_id, source, source_ref);

CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    transaction_id  bigint NOT NULL REFERENCES ledger_transactions (id),
    partner_id      text NOT NULL,
    account         text NOT NULL CHECK (account IN ('customer_funds', 'partner_payable', 'commission_revenue')),
    debit           bigint NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit          bigint NOT NULL DEFAULT 0 CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0))
);
CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);

-- Product split of sales, fees and refunds, for the sales summary (R-STL-4).
CREATE TABLE sales_facts (
    id              bigserial PRIMARY KEY,
    transaction_id  bigint NOT NULL REFERENCES ledger_transactions (id),
    partner_id      text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL,
    product_id      text NOT NULL,
    product_name    text NOT NULL,
    amount          bigint NOT NULL
);
CREATE INDEX sales_facts_by_date ON sales_facts (partner_id, business_date);

-- Every ledger transaction balances: checked at commit, once all its entries are in.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    txn bigint;
    debits bigint;
    credits bigint;
    entries integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entries' THEN  -- branches: each NEW field is only read on its own table
        txn := NEW.transaction_id;
    ELSE
        txn := NEW.id;
    END IF;
    SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*)
      INTO debits, credits, entries FROM ledger_entries WHERE transaction_id = txn;
    IF entries < 2 OR debits <> credits THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (% entries, debits %, credits %)',
            txn, entries, debits, credits USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- Append-only (R-STL-1): no UPDATE, no DELETE, no TRUNCATE. The one exception
-- is the retention purge (R-STL-5), which sets settlement.retention_purge and
-- removes only what is older than five years (store.purge_expired).
CREATE FUNCTION settlement_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('settlement.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'settlement records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', HINT = 'record a reversing entry instead';
END $$ LANGUAGE plpgsql;

-- Settlement runs close a period for every partner; one statement per partner
-- and period, its lines are the ledger transactions it settled.
CREATE TABLE settlement_runs (
    id          bigserial PRIMARY KEY,
    period_end  date NOT NULL UNIQUE,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE statements (
    id            bigserial PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES settlement_runs (id),
    partner_id    text NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    sales         bigint NOT NULL,
    fees          bigint NOT NULL,
    refunds       bigint NOT NULL,
    commission    bigint NOT NULL,
    net           bigint NOT NULL,
    carried_in    bigint NOT NULL CHECK (carried_in <= 0),
    payout_amount bigint NOT NULL CHECK (payout_amount >= 0),
    carried_out   bigint NOT NULL CHECK (carried_out <= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner_id, period_end),
    CHECK (payout_amount + carried_out = carried_in + net)
);
CREATE INDEX statements_by_partner ON statements (partner_id, period_end DESC);

CREATE TABLE statement_lines (
    transaction_id  bigint PRIMARY KEY REFERENCES ledger_transactions (id),
    statement_id    bigint NOT NULL REFERENCES statements (id)
);
CREATE INDEX statement_lines_by_statement ON statement_lines (statement_id);

CREATE TABLE payouts (
    id            uuid PRIMARY KEY,
    statement_id  bigint NOT NULL UNIQUE REFERENCES statements (id),
    partner_id    text NOT NULL,
    amount        bigint NOT NULL CHECK (amount > 0),
    pay_date      date NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_by_partner ON payouts (partner_id, pay_date DESC);

CREATE TABLE tax_invoices (
    id              uuid PRIMARY KEY,
    statement_id    bigint NOT NULL UNIQUE REFERENCES statements (id),
    partner_id      text NOT NULL,
    seq             integer NOT NULL CHECK (seq > 0),
    invoice_number  text NOT NULL,
    supply_amount   bigint NOT NULL,
    vat_amount      bigint NOT NULL,
    total_amount    bigint NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner_id, seq)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ledger_transactions', 'ledger_entries', 'sales_facts', 'commission_rates',
                             'settlement_runs', 'statements', 'statement_lines', 'payouts', 'tax_invoices'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION settlement_append_only()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION settlement_append_only()', t || '_no_truncate', t);
    END LOOP;
END $$;
