-- Issue 17: closing a partner (R-ACC-14), re-applying after a rejection and the
-- operators' queue (R-ACC-15, issue 18 item 13), the messenger channel and a
-- map link per place (item 14).
ALTER TABLE partners DROP CONSTRAINT partners_status_check;
ALTER TABLE partners ADD CONSTRAINT partners_status_check
    CHECK (status IN ('pending_verification', 'verified', 'rejected', 'closed'));
ALTER TABLE partners ADD COLUMN channel_id text;            -- the partner's messenger channel (optional)
ALTER TABLE partners ADD COLUMN closed_at timestamptz;
ALTER TABLE partners ADD COLUMN open_bookings text CHECK (open_bookings IN ('cancel', 'serve'));
ALTER TABLE partners ADD COLUMN submitted_at timestamptz;   -- when it last went to review
UPDATE partners SET submitted_at = created_at;
ALTER TABLE partners ALTER COLUMN submitted_at SET DEFAULT now();
ALTER TABLE partners ALTER COLUMN submitted_at SET NOT NULL;

-- Every decision of an operator on a partner's application, with the
-- application as it was then: a re-submission is compared with the last
-- rejection, so operators see what changed (R-ACC-15).
CREATE TABLE partner_reviews (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL REFERENCES partners (id),
    decision    text NOT NULL CHECK (decision IN ('verified', 'rejected')),
    reason      text,
    snapshot    jsonb NOT NULL,
    decided_by  uuid,
    decided_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partner_reviews_by_partner ON partner_reviews (partner_id, decided_at DESC);
-- The operators' queue: oldest submission first.
CREATE INDEX partners_pending ON partners (submitted_at, id) WHERE status = 'pending_verification';

ALTER TABLE places ADD COLUMN map_url text;                 -- a map link (optional)

-- Notices (issue 17 item 13, seed 000: 공지사항, 운영팁, 중요 안내사항): a category and
-- an "important" flag; important ones come first on the dashboard.
ALTER TABLE notices ADD COLUMN category text NOT NULL DEFAULT 'notice'
    CHECK (category IN ('notice', 'tip', 'policy', 'event'));
ALTER TABLE notices ADD COLUMN important boolean NOT NULL DEFAULT false;
CREATE INDEX notices_important ON notices (created_at DESC, id DESC) WHERE important;
