-- Accounts: members and operators, sessions, partners and their staff, places,
-- notices, partner API keys, customers (R-ACC-1..11).

-- A member (kind 'member') or a platform operator (kind 'operator', created by
-- `make operator`, never by sign-up). Withdrawal (R-ACC-3) blanks every personal
-- column; the row keeps only its id and a pseudonym.
CREATE TABLE members (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('member', 'operator')),
    login_id      text,
    password_hash text,
    name          text,
    phone         text,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    pseudonym     text,
    terms_agreed_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    withdrawn_at  timestamptz,
    CHECK (status = 'withdrawn' OR (login_id IS NOT NULL AND password_hash IS NOT NULL))
);
-- Login ids are unique case-insensitively.
CREATE UNIQUE INDEX members_login_id_ci ON members (lower(login_id)) WHERE login_id IS NOT NULL;

-- Opaque bearer tokens; only their SHA-256 is stored (a 256-bit random token
-- needs no slow hash). One table for member, operator and customer sessions.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('member', 'operator', 'customer')),
    member_id   uuid REFERENCES members (id) ON DELETE CASCADE,
    customer_id uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL AND member_id IS NULL))
);
CREATE INDEX sessions_member ON sessions (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE partners (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    category        text NOT NULL,
    business_number text NOT NULL,
    via_agency      boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'pending_verification'
                    CHECK (status IN ('pending_verification', 'verified', 'rejected')),
    status_reason   text,
    time_zone       text NOT NULL DEFAULT 'Asia/Seoul',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    verified_at     timestamptz
);

CREATE TABLE memberships (
    partner_id uuid NOT NULL REFERENCES partners (id),
    member_id  uuid NOT NULL REFERENCES members (id),
    role       text NOT NULL CHECK (role IN ('admin', 'master', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, member_id)
);
-- authenticate() looks a role up by (member, partner) on every request.
CREATE UNIQUE INDEX memberships_member ON memberships (member_id, partner_id) INCLUDE (role);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL REFERENCES partners (id),
    member_id   uuid NOT NULL REFERENCES members (id),
    role        text NOT NULL CHECK (role IN ('admin', 'master', 'member')),
    invited_by  uuid REFERENCES members (id),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz
);
-- At most one pending invitation per member and partner.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (partner_id, member_id) WHERE status = 'pending';
CREATE INDEX invitations_member ON invitations (member_id, created_at);

CREATE TABLE places (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL REFERENCES partners (id),
    name        text NOT NULL,
    address     text NOT NULL,
    phone       text,
    info        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX places_partner ON places (partner_id, created_at, id);

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL REFERENCES partners (id),
    name        text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,
    key_prefix  text NOT NULL,
    created_by  uuid REFERENCES members (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_partner ON api_keys (partner_id, created_at, id);

CREATE TABLE notices (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    body        text NOT NULL,
    created_by  uuid REFERENCES members (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notices_recent ON notices (created_at DESC, id DESC);

-- Consumers of the messenger app, identified by their phone (the app's login
-- is simulated by name and phone).
CREATE TABLE customers (
    id          uuid PRIMARY KEY,
    phone       text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
