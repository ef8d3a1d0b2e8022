-- Channel-message audiences (R-NTF-3, issue 19: one read model per question): notifications
-- asks insights who a partner's customers are instead of keeping its own copy. A ticket
-- handed to a friend (R-RSV-10) is theirs: ``holder_id`` is who holds it when that is not
-- the booker (NULL: the booker), a snapshot column like the status (the newest event wins).
-- Bookings handed over before this migration show their holder from their next event on.
ALTER TABLE bookings ADD COLUMN holder_id text;
CREATE INDEX bookings_by_holder ON bookings (holder_id) WHERE holder_id IS NOT NULL;   -- erasure
CREATE INDEX bookings_by_use_date ON bookings (partner_id, use_date);                   -- booked_on
