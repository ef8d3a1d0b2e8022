-- Exchanges as their own small flow (issue 18 item 7, R-ORD-8): approved (the
-- replacement option held, the return picked up with its courier invoice) ->
-- returned (the old unit received: back in stock) -> reshipped (the replacement
-- sent with its courier and invoice) -> exchanged (delivered).
ALTER TABLE order_requests DROP CONSTRAINT order_requests_status_check;
ALTER TABLE order_requests ADD CONSTRAINT order_requests_status_check
    CHECK (status IN ('requested', 'approved', 'rejected', 'returned', 'reshipped', 'exchanged'));
ALTER TABLE order_requests ADD COLUMN return_courier text;
ALTER TABLE order_requests ADD COLUMN return_invoice_number text;
ALTER TABLE order_requests ADD COLUMN return_tracking_url text;
ALTER TABLE order_requests ADD COLUMN returned_at timestamptz;
ALTER TABLE order_requests ADD COLUMN courier text;
ALTER TABLE order_requests ADD COLUMN invoice_number text;
ALTER TABLE order_requests ADD COLUMN tracking_url text;
ALTER TABLE order_requests ADD COLUMN shipped_at timestamptz;
ALTER TABLE order_requests ADD COLUMN delivered_at timestamptz;
