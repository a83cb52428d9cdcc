-- Webhooks (issue 30): an account's endpoints, their deliveries through the
-- outbox (kind `webhook`, written in the transaction of their cause), and
-- every attempt of every outbox message (mail too), for the pages that show
-- them. SQLite cannot change a CHECK, so the outbox is rebuilt with every
-- row and index (no table references it, so dropping it breaks nothing).

-- An endpoint: where to POST, which events, and the signing secret
-- (Standard Webhooks' `whsec_…`, shown once when it is made). A removed
-- endpoint stays (its deliveries keep their history) and receives nothing.
CREATE TABLE webhooks (
    webhook_id  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    url         TEXT NOT NULL CONSTRAINT webhooks_url_format
        CHECK (length(url) BETWEEN 8 AND 2000),
    description TEXT NOT NULL DEFAULT '' CONSTRAINT webhooks_description_format
        CHECK (length(description) <= 200),
    events      TEXT NOT NULL,               -- JSON list of event types
    secret      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    create_time TEXT NOT NULL,
    delete_time TEXT
);
CREATE INDEX webhooks_account_idx ON webhooks (account_id, create_time);

CREATE TABLE outbox_rebuilt (
    message_id         TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CONSTRAINT outbox_kind_check
        CHECK (kind IN ('invoice', 'invitation', 'budget_alert', 'webhook')),
    account_id         TEXT NOT NULL REFERENCES accounts (account_id),
    billing_group_id   TEXT REFERENCES billing_groups (billing_group_id),
    invoice_number     TEXT,
    recipients         TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body               TEXT,
    state              TEXT NOT NULL CONSTRAINT outbox_state_check
        CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_time  TEXT NOT NULL,
    claim_id           TEXT,
    claimed_until      TEXT,
    last_error         TEXT,
    last_response      TEXT,
    create_time        TEXT NOT NULL,
    sent_time          TEXT,
    credit_note_number TEXT,
    webhook_id         TEXT REFERENCES webhooks (webhook_id),
    CONSTRAINT outbox_webhook_endpoint CHECK ((kind = 'webhook') = (webhook_id IS NOT NULL))
);
INSERT INTO outbox_rebuilt (message_id, kind, account_id, billing_group_id, invoice_number,
    recipients, subject, body, state, attempts, next_attempt_time, claim_id, claimed_until,
    last_error, last_response, create_time, sent_time, credit_note_number)
SELECT message_id, kind, account_id, billing_group_id, invoice_number,
    recipients, subject, body, state, attempts, next_attempt_time, claim_id, claimed_until,
    last_error, last_response, create_time, sent_time, credit_note_number FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due_idx ON outbox (state, next_attempt_time);
CREATE INDEX outbox_group_idx ON outbox (billing_group_id, create_time);
CREATE INDEX outbox_account_idx ON outbox (account_id, kind, create_time);
CREATE INDEX outbox_webhook_idx ON outbox (webhook_id, create_time);

-- Each try of a message: when, whether it was taken, and what the other
-- side answered (or why it failed).
CREATE TABLE outbox_attempts (
    message_id   TEXT NOT NULL REFERENCES outbox (message_id),
    attempt      INTEGER NOT NULL,
    attempt_time TEXT NOT NULL,
    succeeded    BOOLEAN NOT NULL,
    detail       TEXT NOT NULL,
    CONSTRAINT outbox_attempts_pkey PRIMARY KEY (message_id, attempt)
);

-- When an unpaid invoice's `invoice.overdue` was decided (once per invoice,
-- whichever instance gets there first).
ALTER TABLE invoices ADD COLUMN overdue_notice_time TEXT;
