-- R-RSV-12: every time staff see a customer's whole contact on an order (a phone
-- revealed to call them, or a shipping recipient shown whole for the waybill),
-- who and when.
CREATE TABLE contact_access (
    id          bigserial PRIMARY KEY,
    partner_id  uuid NOT NULL,
    order_id    uuid NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('phone_revealed', 'shipping_shown')),
    actor_kind  text NOT NULL,
    actor_id    text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_access_order ON contact_access (order_id, id);
