"""SQL of the notifications service. Every query that reads partner data
filters by partner (or by the customer or member it belongs to)."""

from __future__ import annotations

import json

from psycopg.types.json import Jsonb

from chassis.contracts import webhook_data

from .domain import PlannedMessage

MESSAGE_COLUMNS = """m.id, m.message_id::text AS message_id, m.partner_id, m.source_type, m.content,
                     m.actions, m.created_at, m.read_at"""


# --- the consumer side ----------------------------------------------------------


def already_processed(uow, handler: str, event_id) -> bool:
    return uow.fetch_one("SELECT 1 FROM inbox WHERE handler = %s AND event_id = %s", (handler, event_id)) is not None


def insert_messages(uow, source_id, source_type: str, planned: list[PlannedMessage], messenger: bool) -> int:
    """Store the inbox messages (one per recipient: the unique key drops a
    repeat) and queue each new one for the messenger channel, in one round trip."""
    if not planned:
        return 0
    rows = [
        {
            "partner_id": p.partner_id,
            "recipient_kind": p.recipient.kind,
            "recipient_id": p.recipient.id,
            "template": p.template,
            "params": p.params,
            "content": p.content,
            "actions": p.actions,
            "subject_customer_id": p.subject_customer_id,
        }
        for p in planned
    ]
    row = uow.fetch_one(
        """WITH rows AS (
               SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
                   partner_id text, recipient_kind text, recipient_id text, template text, params jsonb,
                   content jsonb, actions jsonb, subject_customer_id text)
           ), inserted AS (
               INSERT INTO messages (partner_id, recipient_kind, recipient_id, source_id, source_type, template,
                                     params, content, actions, subject_customer_id)
               SELECT partner_id, recipient_kind, recipient_id, %(source_id)s, %(source_type)s, template, params,
                      content, actions, subject_customer_id FROM rows
               ON CONFLICT (source_id, recipient_kind, recipient_id) DO NOTHING
               RETURNING id, partner_id, recipient_kind, recipient_id, content, actions
           ), queued AS (
               INSERT INTO deliveries (channel, partner_id, message_id, source_id, source_type, payload)
               SELECT 'messenger', partner_id, id, %(source_id)s, %(source_type)s,
                      jsonb_build_object('recipient_kind', recipient_kind, 'recipient_id', recipient_id,
                                         'content', content, 'actions', actions)
               FROM inserted WHERE %(messenger)s
               RETURNING 1
           )
           SELECT (SELECT count(*) FROM inserted) AS messages, (SELECT count(*) FROM queued) AS queued""",
        {
            "rows": json.dumps(rows, ensure_ascii=False),
            "source_id": source_id,
            "source_type": source_type,
            "messenger": messenger,
        },
    )
    return row["messages"]


def enqueue_webhook_deliveries(uow, envelope, payload: dict) -> int:
    """One delivery per active webhook of the partner that wants this event."""
    body = {
        "event_id": str(envelope.event_id),
        "type": envelope.type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "partner_id": payload["partner_id"],
        "data": webhook_data(envelope.type, payload),  # reservation bodies keep their pre-issue-19 fields
    }
    family = envelope.type.split(".", 1)[0] + ".*"
    cursor = uow.execute(
        """INSERT INTO deliveries (channel, partner_id, webhook_id, source_id, source_type, payload)
           SELECT 'webhook', w.partner_id, w.id, %s, %s, %s FROM webhooks w
           WHERE w.partner_id = %s AND w.status = 'active'
             AND (%s = ANY (w.events) OR %s = ANY (w.events) OR '*' = ANY (w.events))
           ON CONFLICT DO NOTHING""",
        (envelope.event_id, envelope.type, Jsonb(body), payload["partner_id"], envelope.type, family),
    )
    return cursor.rowcount


# --- inboxes --------------------------------------------------------------------------


def list_messages(
    uow,
    recipient_kind: str,
    recipient_id: str,
    partner_id: str | None,
    before: int | None,
    limit: int,
    unread_only: bool,
) -> list[dict]:
    return uow.fetch_all(
        f"""SELECT {MESSAGE_COLUMNS} FROM messages m
            WHERE m.recipient_kind = %s AND m.recipient_id = %s
              AND (%s::text IS NULL OR m.partner_id = %s)
              AND (%s::bigint IS NULL OR m.id < %s)
              AND (NOT %s OR m.read_at IS NULL)
            ORDER BY m.id DESC LIMIT %s""",
        (recipient_kind, recipient_id, partner_id, partner_id, before, before, unread_only, limit + 1),
    )


def mark_read(uow, recipient_kind: str, recipient_id: str, partner_id: str | None, message_id: str) -> dict | None:
    return uow.fetch_one(
        f"""UPDATE messages m SET read_at = coalesce(m.read_at, now())
            WHERE m.message_id = %s AND m.recipient_kind = %s AND m.recipient_id = %s
              AND (%s::text IS NULL OR m.partner_id = %s)
            RETURNING {MESSAGE_COLUMNS}""",
        (message_id, recipient_kind, recipient_id, partner_id, partner_id),
    )


# --- webhooks ----------------------------------------------------------------------------

WEBHOOK_COLUMNS = """id::text AS id, partner_id, url, events, description, status, consecutive_failures,
                     failing_since, disabled_at, disabled_reason, created_at"""


def create_webhook(uow, partner_id: str, url: str, events: list[str], description: str, secret_sealed: bytes) -> dict:
    return uow.fetch_one(
        f"""INSERT INTO webhooks (partner_id, url, events, description, secret_sealed) VALUES (%s, %s, %s, %s, %s)
            RETURNING {WEBHOOK_COLUMNS}""",
        (partner_id, url, events, description, secret_sealed),
    )


def rotate_webhook_secret(
    uow, partner_id: str, webhook_id: str, secret_sealed: bytes, overlap_seconds: int
) -> dict | None:
    """The new secret signs from now on; the current one also signs for ``overlap_seconds``."""
    return uow.fetch_one(
        f"""UPDATE webhooks SET previous_secret_sealed = secret_sealed, secret_sealed = %s,
                   previous_secret_until = now() + make_interval(secs => %s), secret_rotated_at = now()
            WHERE id = %s AND partner_id = %s
            RETURNING {WEBHOOK_COLUMNS}, previous_secret_until""",
        (secret_sealed, overlap_seconds, webhook_id, partner_id),
    )


def legacy_clear_secrets(conn) -> list[tuple]:
    return conn.execute("SELECT id, secret FROM webhooks WHERE secret IS NOT NULL FOR UPDATE").fetchall()


def seal_secret(conn, webhook_id, secret_sealed: bytes) -> None:
    conn.execute("UPDATE webhooks SET secret_sealed = %s, secret = NULL WHERE id = %s", (secret_sealed, webhook_id))


def list_webhooks(uow, partner_id: str) -> list[dict]:
    return uow.fetch_all(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE partner_id = %s ORDER BY created_at, id", (partner_id,)
    )


def get_webhook(uow, partner_id: str, webhook_id: str) -> dict | None:
    return uow.fetch_one(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE partner_id = %s AND id = %s", (partner_id, webhook_id)
    )


def enable_webhook(uow, partner_id: str, webhook_id: str) -> dict | None:
    return uow.fetch_one(
        f"""UPDATE webhooks SET status = 'active', consecutive_failures = 0, failing_since = NULL,
                   disabled_at = NULL, disabled_reason = NULL
            WHERE partner_id = %s AND id = %s RETURNING {WEBHOOK_COLUMNS}""",
        (partner_id, webhook_id),
    )


def delete_webhook(uow, partner_id: str, webhook_id: str) -> bool:
    return uow.execute("DELETE FROM webhooks WHERE partner_id = %s AND id = %s", (partner_id, webhook_id)).rowcount == 1


def list_webhook_deliveries(uow, partner_id: str, webhook_id: str, before: int | None, limit: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT d.seq, d.id::text AS id, d.source_id::text AS event_id, d.source_type AS event_type, d.status,
                  d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at,
                  coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
                                'status_code', a.status_code, 'error', a.error) ORDER BY a.attempt)
                            FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS attempt_log
           FROM deliveries d
           WHERE d.partner_id = %s AND d.webhook_id = %s AND (%s::bigint IS NULL OR d.seq < %s)
           ORDER BY d.seq DESC LIMIT %s""",
        (partner_id, webhook_id, before, before, limit + 1),
    )


# --- the delivery worker --------------------------------------------------------------------


def claim_due_deliveries(conn, channel: str, limit: int, lease_seconds: float) -> list[dict]:
    """Take up to ``limit`` due deliveries for this worker. The attempt is
    counted now and the row leased: if the process dies while sending, the
    lease runs out and another worker (or this one, restarted) tries again."""
    return conn.execute(
        """WITH due AS (
               SELECT id FROM deliveries WHERE status = 'pending' AND channel = %s AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
           UPDATE deliveries d SET attempts = d.attempts + 1,
                                   next_attempt_at = now() + make_interval(secs => %s)
           FROM due WHERE d.id = due.id
           RETURNING d.id::text AS id, d.channel, d.partner_id, d.webhook_id::text AS webhook_id,
                     d.source_id::text AS source_id, d.source_type, d.payload, d.attempts,
                     (SELECT w.url FROM webhooks w WHERE w.id = d.webhook_id) AS url,
                     (SELECT w.secret_sealed FROM webhooks w WHERE w.id = d.webhook_id) AS secret_sealed,
                     (SELECT CASE WHEN w.previous_secret_until > now() THEN w.previous_secret_sealed END
                        FROM webhooks w WHERE w.id = d.webhook_id) AS previous_secret_sealed,
                     (SELECT w.status FROM webhooks w WHERE w.id = d.webhook_id) AS webhook_status""",
        (channel, limit, lease_seconds),
    ).fetchall()


def mark_many_delivered(conn, deliveries: list[dict]) -> None:
    """Messenger pushes sent in one batch: recorded in one statement (the delivery
    row is their log; only failed attempts get an attempt row)."""
    if deliveries:
        conn.execute(
            """UPDATE deliveries d SET status = 'delivered', delivered_at = now(), last_error = NULL
               FROM unnest(%s::uuid[], %s::int[]) AS sent (id, attempts)
               WHERE d.id = sent.id AND d.attempts = sent.attempts AND d.status = 'pending'""",
            ([d["id"] for d in deliveries], [d["attempts"] for d in deliveries]),
        )


def record_attempt(
    conn, delivery: dict, started_at, duration_ms: int, status_code: int | None, error: str | None
) -> None:
    conn.execute(
        """INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error)
                    VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (delivery["id"], delivery["attempts"], started_at, duration_ms, status_code, error),
    )


def mark_delivered(conn, delivery: dict, status_code: int | None) -> bool:
    return (
        conn.execute(
            """UPDATE deliveries SET status = 'delivered', delivered_at = now(), last_status_code = %s, last_error = NULL
           WHERE id = %s AND attempts = %s AND status = 'pending'""",
            (status_code, delivery["id"], delivery["attempts"]),
        ).rowcount
        == 1
    )


def mark_failed_attempt(conn, delivery: dict, status_code: int | None, error: str, retry_in: float | None) -> bool:
    """Schedule the next attempt in ``retry_in`` seconds, or give up (None)."""
    return (
        conn.execute(
            """UPDATE deliveries SET last_status_code = %s, last_error = %s,
                  status = CASE WHEN %s::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                  next_attempt_at = CASE WHEN %s::float8 IS NULL THEN next_attempt_at
                                         ELSE now() + make_interval(secs => %s::float8) END
           WHERE id = %s AND attempts = %s AND status = 'pending'""",
            (status_code, error[:1000], retry_in, retry_in, retry_in, delivery["id"], delivery["attempts"]),
        ).rowcount
        == 1
    )


def abandon(conn, delivery_id: str, reason: str) -> None:
    conn.execute(
        "UPDATE deliveries SET status = 'abandoned', last_error = %s WHERE id = %s AND status = 'pending'",
        (reason, delivery_id),
    )


def webhook_succeeded(conn, webhook_id: str) -> None:
    conn.execute(
        """UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL
                    WHERE id = %s AND consecutive_failures > 0""",
        (webhook_id,),
    )


def webhook_failed(conn, webhook_id: str, started_at) -> dict | None:
    """Count one more failure in a row; returns the streak and how long it has lasted."""
    return conn.execute(
        """UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,
                  failing_since = coalesce(failing_since, %s)
           WHERE id = %s
           RETURNING id::text AS id, partner_id, url, status, consecutive_failures,
                     extract(epoch FROM now() - failing_since)::float8 AS failing_for""",
        (started_at, webhook_id),
    ).fetchone()


def disable_webhook(conn, webhook_id: str, reason: str) -> bool:
    """Switch it off (once: only the first caller sees True) and abandon what it still had pending."""
    changed = (
        conn.execute(
            """UPDATE webhooks SET status = 'disabled', disabled_at = now(), disabled_reason = %s
           WHERE id = %s AND status = 'active'""",
            (reason, webhook_id),
        ).rowcount
        == 1
    )
    if changed:
        conn.execute(
            """UPDATE deliveries SET status = 'abandoned', last_error = 'webhook disabled'
                        WHERE webhook_id = %s AND status = 'pending'""",
            (webhook_id,),
        )
    return changed


# --- channel messages (R-NTF-3) --------------------------------------------------------------


def lock_partner_channel(uow, partner_id: str) -> None:
    """Serialise a partner's channel sends, so the rate limit holds under concurrent requests."""
    uow.execute("SELECT pg_advisory_xact_lock(hashtextextended('channel-messages:' || %s, 0))", (partner_id,))


def channel_messages_since(uow, partner_id: str, window_seconds: float) -> dict:
    return uow.fetch_one(
        """SELECT count(*) AS sent, min(created_at) + make_interval(secs => %s) - now() AS frees_in
           FROM channel_messages WHERE partner_id = %s AND created_at > now() - make_interval(secs => %s)""",
        (window_seconds, partner_id, window_seconds),
    )


def create_channel_message(
    uow, partner_id: str, sent_by: str | None, kind: str, audience: dict, title: str, body: str, recipient_count: int
) -> dict:
    return uow.fetch_one(
        """INSERT INTO channel_messages (partner_id, sent_by, kind, audience, title, body, recipient_count)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           RETURNING id::text AS id, partner_id, kind, audience, title, body, recipient_count, created_at""",
        (partner_id, sent_by, kind, Jsonb(audience), title, body, recipient_count),
    )


def list_channel_messages(uow, partner_id: str, before: int | None, limit: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT seq, id::text AS id, partner_id, kind, audience, title, body, recipient_count, created_at
           FROM channel_messages WHERE partner_id = %s AND (%s::bigint IS NULL OR seq < %s)
           ORDER BY seq DESC LIMIT %s""",
        (partner_id, before, before, limit + 1),
    )


# --- conversations (R-RSV-11) -------------------------------------------------------------------

CONVERSATION_COLUMNS = """c.seq, c.id, c.partner_id, c.customer_id, c.reservation_number,
                          c.invitation_id, c.partner_unread, c.customer_unread, c.last_message_at, c.created_at,
                          c.customer_name"""


def open_conversation(
    uow,
    conversation_id: str,
    partner_id: str,
    customer_id: str,
    reservation_number: str,
    invitation_id: str,
    customer_name: str | None = None,
) -> dict:
    """Idempotent by invitation: the event and a direct call converge on one conversation."""
    uow.execute(
        """INSERT INTO conversations (id, partner_id, customer_id, reservation_number, invitation_id, customer_name)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (conversation_id, partner_id, customer_id, reservation_number, invitation_id, customer_name),
    )
    return uow.fetch_one(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.partner_id = %s AND c.invitation_id = %s",
        (partner_id, invitation_id),
    )


def list_conversations(uow, side: str, owner_id: str, before: int | None, limit: int) -> list[dict]:
    """Newest conversation first, each with its last message."""
    column = "partner_id" if side == "partner" else "customer_id"
    return uow.fetch_all(
        f"""SELECT {CONVERSATION_COLUMNS},
                   (SELECT jsonb_build_object('author_kind', m.author_kind, 'body', m.body,
                                              'redacted', m.redacted, 'created_at', m.created_at)
                    FROM conversation_messages m WHERE m.conversation_id = c.id
                    ORDER BY m.id DESC LIMIT 1) AS last_message
            FROM conversations c WHERE c.{column} = %s AND (%s::bigint IS NULL OR c.seq < %s)
            ORDER BY c.seq DESC LIMIT %s""",
        (owner_id, before, before, limit + 1),
    )


def get_conversation(uow, side: str, owner_id: str, conversation_id: str, lock: bool = False) -> dict | None:
    column = "partner_id" if side == "partner" else "customer_id"
    return uow.fetch_one(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = %s AND c.{column} = %s"
        + (" FOR UPDATE" if lock else ""),
        (conversation_id, owner_id),
    )


def conversation_messages(uow, conversation_id: str, before: int | None, limit: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT id, author_kind, author_id, body, redacted, created_at FROM conversation_messages
           WHERE conversation_id = %s AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s""",
        (conversation_id, before, before, limit + 1),
    )


def add_conversation_message(uow, conversation_id: str, author_kind: str, author_id: str, body: str) -> dict:
    other_unread = "customer_unread" if author_kind == "member" else "partner_unread"
    uow.execute(
        f"""UPDATE conversations SET {other_unread} = {other_unread} + 1, last_message_at = now()
                    WHERE id = %s""",
        (conversation_id,),
    )
    return uow.fetch_one(
        """INSERT INTO conversation_messages (conversation_id, author_kind, author_id, body) VALUES (%s, %s, %s, %s)
           RETURNING id, author_kind, author_id, body, redacted, created_at""",
        (conversation_id, author_kind, author_id, body),
    )


def mark_conversation_read(uow, side: str, conversation_id: str) -> None:
    column = "partner_unread" if side == "partner" else "customer_unread"
    uow.execute(f"UPDATE conversations SET {column} = 0 WHERE id = %s AND {column} > 0", (conversation_id,))


def queue_messenger_push(
    uow, partner_id: str, source_id: str, recipient_kind: str, recipient_id: str, content: dict, actions: list
) -> None:
    """A messenger push that is not an inbox message (a new chat message)."""
    uow.execute(
        """INSERT INTO deliveries (channel, partner_id, source_id, source_type, payload)
           VALUES ('messenger', %s, %s, 'conversation.message', %s)""",
        (
            partner_id,
            source_id,
            Jsonb(
                {"recipient_kind": recipient_kind, "recipient_id": recipient_id, "content": content, "actions": actions}
            ),
        ),
    )


# --- erasure -------------------------------------------------------------------------------------


def messages_to_pseudonymise(uow, kind: str, person_id: str) -> list[dict]:
    """Messages addressed to the person, or (customers) about them."""
    if kind == "customer":
        return uow.fetch_all(
            """SELECT id, recipient_kind, recipient_id, template, params, subject_customer_id FROM messages
               WHERE (recipient_kind = 'customer' AND recipient_id = %s) OR subject_customer_id = %s""",
            (person_id, person_id),
        )
    return uow.fetch_all(
        """SELECT id, recipient_kind, recipient_id, template, params, subject_customer_id FROM messages
           WHERE recipient_kind = 'member' AND recipient_id = %s""",
        (person_id,),
    )


def rewrite_message(
    uow,
    message_id: int,
    recipient_id: str,
    subject_customer_id: str | None,
    params: dict,
    content: dict | None,
    actions: list | None,
) -> None:
    uow.execute(
        """UPDATE messages SET recipient_id = %s, subject_customer_id = %s, params = %s,
                  content = coalesce(%s, content), actions = coalesce(%s, actions)
           WHERE id = %s""",
        (
            recipient_id,
            subject_customer_id,
            Jsonb(params),
            Jsonb(content) if content is not None else None,
            Jsonb(actions) if actions is not None else None,
            message_id,
        ),
    )
    if content is not None:  # its messenger push carries the same text
        uow.execute(
            """UPDATE deliveries SET payload = jsonb_set(jsonb_set(payload, '{content}', %s),
                                                                 '{recipient_id}', to_jsonb(%s::text))
                       WHERE message_id = %s""",
            (Jsonb(content), recipient_id, message_id),
        )


def pseudonymise_deliveries(uow, kind: str, person_id: str, pseudonym: str) -> None:
    """Pending pushes to the person are dropped (nobody to message any more);
    webhook bodies keep the event but lose the person (identifiers and name)."""
    uow.execute(
        """UPDATE deliveries SET status = CASE WHEN status = 'pending' THEN 'abandoned' ELSE status END,
                  last_error = CASE WHEN status = 'pending' THEN 'recipient erased' ELSE last_error END,
                  payload = jsonb_set(payload, '{recipient_id}', to_jsonb(%s::text))
           WHERE channel = 'messenger' AND payload->>'recipient_kind' = %s AND payload->>'recipient_id' = %s""",
        (pseudonym, kind, person_id),
    )
    if kind == "customer":
        uow.execute(
            """UPDATE deliveries SET payload = jsonb_set(jsonb_set(jsonb_set(payload,
                      '{data,customer_id}', CASE WHEN payload->'data'->>'customer_id' = %(id)s
                                                 THEN to_jsonb(%(p)s::text)
                                                 ELSE coalesce(payload->'data'->'customer_id', 'null') END),
                      '{data,to_customer_id}', CASE WHEN payload->'data'->>'to_customer_id' = %(id)s
                                                    THEN to_jsonb(%(p)s::text)
                                                    ELSE coalesce(payload->'data'->'to_customer_id', 'null') END),
                      '{data,booker_name_masked}', 'null')
               WHERE channel = 'webhook'
                 AND (payload->'data'->>'customer_id' = %(id)s OR payload->'data'->>'to_customer_id' = %(id)s)""",
            {"id": person_id, "p": pseudonym},
        )


def pseudonymise_conversations(uow, kind: str, person_id: str, pseudonym: str) -> None:
    """Chat text is free text that cannot be pseudonymised: an erased customer's
    own messages are redacted; staff messages stay (the partner's record) under
    the pseudonymous author."""
    if kind == "customer":
        uow.execute(
            "UPDATE conversations SET customer_id = %s, customer_name = NULL WHERE customer_id = %s",
            (pseudonym, person_id),
        )
        uow.execute(
            """UPDATE conversation_messages SET author_id = %s, body = '', redacted = true
                       WHERE author_kind = 'customer' AND author_id = %s""",
            (pseudonym, person_id),
        )
    else:
        uow.execute(
            """UPDATE conversation_messages SET author_id = %s
                       WHERE author_kind = 'member' AND author_id = %s""",
            (pseudonym, person_id),
        )
