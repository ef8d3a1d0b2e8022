-- Staff see and end their own sessions, and a password change or an operator's
-- reset ends them (R-ACC-16): sessions get an id to be named by.
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_id ON sessions (id);
ALTER TABLE members ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
                    ADD COLUMN password_changed_at timestamptz;
