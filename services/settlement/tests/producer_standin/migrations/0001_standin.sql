-- What a producer knows of its own money: one row per sale, fee or refund.
CREATE TABLE standin_money (
    id             bigserial PRIMARY KEY,
    partner_id     text NOT NULL,
    figure         text NOT NULL CHECK (figure IN ('sales', 'fees', 'refunds')),
    amount         bigint NOT NULL,
    business_date  date NOT NULL
);
