-- Notifications: inbox messages, delivery channels, webhooks, channel messages, conversations.

-- One row per recipient per source event (R-NTF-1). The unique key is the
-- second guard behind the chassis inbox: a duplicate can never add a row.
CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    message_id          uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    partner_id          text NOT NULL,
    recipient_kind      text NOT NULL CHECK (recipient_kind IN ('member', 'customer')),
    recipient_id        text NOT NULL,
    source_id           uuid NOT NULL,          -- the event id, or the channel message id
    source_type         text NOT NULL,          -- event type, or channel.coupon / channel.notice
    template            text NOT NULL,
    params              jsonb NOT NULL,         -- what the text was rendered from (re-rendered on erasure)
    content             jsonb NOT NULL,         -- {"ko": {"title", "body"}, "en": {...}}
    actions             jsonb NOT NULL,         -- [{"kind", "method", "href", "label": {"ko", "en"}}]
    subject_customer_id text,                   -- the customer a partner message is about
    created_at          timestamptz NOT NULL DEFAULT now(),
    read_at             timestamptz,
    UNIQUE (source_id, recipient_kind, recipient_id)
);
CREATE INDEX messages_inbox ON messages (recipient_kind, recipient_id, partner_id, id DESC);
CREATE INDEX messages_subject ON messages (subject_customer_id) WHERE subject_customer_id IS NOT NULL;

CREATE TABLE webhooks (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id           text NOT NULL,
    url                  text NOT NULL,
    events               text[] NOT NULL,
    description          text NOT NULL DEFAULT '',
    -- The signing key has to be usable to sign, so it is kept; it is shown once, at creation.
    secret               text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    consecutive_failures integer NOT NULL DEFAULT 0,
    failing_since        timestamptz,
    disabled_at          timestamptz,
    disabled_reason      text,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_partner ON webhooks (partner_id, created_at);

-- Work for the asynchronous channels (webhooks, the messenger adapter), done by
-- the delivery worker outside any consumer's transaction.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq              bigserial UNIQUE,
    channel          text NOT NULL CHECK (channel IN ('webhook', 'messenger')),
    partner_id       text NOT NULL,
    webhook_id       uuid REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id       bigint REFERENCES messages (id) ON DELETE CASCADE,
    source_id        uuid NOT NULL,
    source_type      text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'abandoned')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL)),
    CHECK (channel = 'messenger' OR message_id IS NULL)   -- a chat push has no inbox message
);
CREATE UNIQUE INDEX deliveries_one_per_webhook_event ON deliveries (webhook_id, source_id) WHERE webhook_id IS NOT NULL;
CREATE UNIQUE INDEX deliveries_one_per_message ON deliveries (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, seq DESC) WHERE webhook_id IS NOT NULL;

-- The delivery log: every attempt, with what the endpoint answered.
CREATE TABLE delivery_attempts (
    delivery_id  uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer NOT NULL,
    status_code  integer,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

-- Who a partner may address with channel messages (R-NTF-3): customers who
-- booked or ordered with it, learnt from the events.
CREATE TABLE partner_customers (
    partner_id   text NOT NULL,
    customer_id  text NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE known_reservations (
    partner_id         text NOT NULL,
    reservation_number text NOT NULL,
    customer_id        text NOT NULL,
    use_date           date,
    status             text NOT NULL,
    PRIMARY KEY (partner_id, reservation_number)
);
CREATE INDEX known_reservations_by_date ON known_reservations (partner_id, use_date);

CREATE TABLE channel_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigserial UNIQUE,
    partner_id      text NOT NULL,
    sent_by         text,
    kind            text NOT NULL CHECK (kind IN ('coupon', 'notice')),
    audience        jsonb NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    recipient_count integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_messages_rate ON channel_messages (partner_id, created_at DESC);
CREATE INDEX channel_messages_list ON channel_messages (partner_id, seq DESC);

-- R-RSV-11: a conversation exists only once the customer accepted the chat invitation.
CREATE TABLE conversations (
    id                 text PRIMARY KEY,        -- reservations' id when it sends one, else derived from the invitation
    seq                bigserial UNIQUE,
    partner_id         text NOT NULL,
    customer_id        text NOT NULL,
    reservation_number text NOT NULL,
    invitation_id      text NOT NULL,
    partner_unread     integer NOT NULL DEFAULT 0,
    customer_unread    integer NOT NULL DEFAULT 0,
    last_message_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner_id, invitation_id)
);
CREATE INDEX conversations_partner ON conversations (partner_id, seq DESC);
CREATE INDEX conversations_customer ON conversations (customer_id, seq DESC);

CREATE TABLE conversation_messages (
    id              bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_kind     text NOT NULL CHECK (author_kind IN ('member', 'customer')),
    author_id       text NOT NULL,
    body            text NOT NULL,
    redacted        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_messages_list ON conversation_messages (conversation_id, id DESC);
CREATE INDEX conversation_messages_author ON conversation_messages (author_kind, author_id);
