CREATE TABLE probe_records (
    probe_id text PRIMARY KEY,
    note     text NOT NULL
);
-- One row per effect of a delivered event: a duplicate effect shows as two rows.
CREATE TABLE probe_effects (
    id          bigserial PRIMARY KEY,
    probe_id    text NOT NULL,
    event_id    uuid NOT NULL,
    correlation_id text
);
-- While a probe_id is listed here, its handler fails (a bug that ops then fix).
CREATE TABLE probe_failures (
    probe_id text PRIMARY KEY
);
