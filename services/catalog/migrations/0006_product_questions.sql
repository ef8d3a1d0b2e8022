-- Product questions before buying (issue 18 item 12, seed 003 "고객 문의 응답"):
-- a customer asks about a product without an order; the partner answers once;
-- shown publicly unless the customer marked it private (then only the asker
-- and the partner read it).
CREATE TABLE product_questions (
    question_id  uuid PRIMARY KEY,
    product_id   uuid NOT NULL REFERENCES products (product_id),
    partner_id   text NOT NULL,
    customer_id  text NOT NULL,
    body         text NOT NULL,
    private      boolean NOT NULL DEFAULT false,
    answer       text,
    answered_by  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz
);
CREATE INDEX product_questions_product ON product_questions (product_id, created_at DESC, question_id DESC);
CREATE INDEX product_questions_partner ON product_questions (partner_id, created_at DESC, question_id DESC);
