-- Reviews of completed reservations (R-RSV-6, R-CAT-6; issue #11): one per
-- reservation, by the customer who booked it, replied once by the partner.
CREATE TABLE reviews (
    review_id           uuid PRIMARY KEY,
    reservation_id      uuid NOT NULL UNIQUE REFERENCES reservations,   -- one review per reservation
    number              text NOT NULL,
    partner_id          text NOT NULL,
    product_id          text NOT NULL,
    customer_id         text NOT NULL,                -- the pseudonym once erased
    rating              integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body                text NOT NULL,
    reply               text,
    replied_by          text,                         -- the staff member; the pseudonym once withdrawn
    -- Idempotency-Key of the POST (api.md): a retry with the same key and body gets the first response.
    -- Both NULL once the customer is erased.
    request_key         text,
    request_fingerprint text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    replied_at          timestamptz,
    UNIQUE (customer_id, request_key)
);
CREATE INDEX reviews_by_partner ON reviews (partner_id, created_at DESC, review_id DESC);
CREATE INDEX reviews_by_customer ON reviews (customer_id);
CREATE INDEX reviews_by_replier ON reviews (replied_by) WHERE replied_by IS NOT NULL;
