-- The other design the bench measures: capacity kept by the booking service itself.
CREATE TABLE slots (
    slot     text PRIMARY KEY,
    capacity integer NOT NULL,
    taken    integer NOT NULL DEFAULT 0 CHECK (taken <= capacity)
);
