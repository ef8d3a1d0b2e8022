-- Capacity per slot and the holds taken from it, as the catalog keeps them, without their rules.
CREATE TABLE slots (
    slot     text PRIMARY KEY,
    capacity integer NOT NULL,
    taken    integer NOT NULL DEFAULT 0 CHECK (taken <= capacity)
);
CREATE TABLE holds (
    hold_id  text PRIMARY KEY,
    slot     text NOT NULL,
    quantity integer NOT NULL
);
