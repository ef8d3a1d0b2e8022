-- R-RSV-10 (issue 17 item 1): the partner sees who holds a handed-over ticket.
-- The holder's name and phone as accounts knew them when they accepted it
-- (the phone their identity provider verified); erased with the holder.
ALTER TABLE reservations ADD COLUMN holder_name text;
ALTER TABLE reservations ADD COLUMN holder_phone text;
