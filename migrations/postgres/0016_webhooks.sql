-- Webhooks (issue 30): an account's endpoints, their deliveries through the
-- outbox (kind `webhook`, written in the transaction of their cause), and
-- every attempt of every outbox message (mail too), for the pages that show
-- them.

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
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    delete_time TIMESTAMPTZ
);
CREATE INDEX webhooks_account_idx ON webhooks (account_id, create_time);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('invoice', 'invitation', 'budget_alert', 'webhook'));
ALTER TABLE outbox ADD COLUMN webhook_id TEXT REFERENCES webhooks (webhook_id);
ALTER TABLE outbox ADD CONSTRAINT outbox_webhook_endpoint
    CHECK ((kind = 'webhook') = (webhook_id IS NOT NULL));
CREATE INDEX outbox_webhook_idx ON outbox (webhook_id, create_time);

-- Each try of a message: when, whether it was taken, and what the other
-- side answered (or why it failed).
CREATE TABLE outbox_attempts (
    message_id   TEXT NOT NULL REFERENCES outbox (message_id),
    attempt      BIGINT NOT NULL,
    attempt_time TIMESTAMPTZ NOT NULL,
    succeeded    BOOLEAN NOT NULL,
    detail       TEXT NOT NULL,
    CONSTRAINT outbox_attempts_pkey PRIMARY KEY (message_id, attempt)
);

-- When an unpaid invoice's `invoice.overdue` was decided (once per invoice,
-- whichever instance gets there first).
ALTER TABLE invoices ADD COLUMN overdue_notice_time TIMESTAMPTZ;
