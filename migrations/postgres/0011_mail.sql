-- Mail (issue 18): an outbox written with the change that causes each
-- message, budgets and their alerts, invoice and contact emails, and the
-- invoice state `issued` (pay by invoice: issued at close, `mailed` once
-- delivered).
ALTER TABLE invoices DROP CONSTRAINT invoices_state_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_state_check
    CHECK (state IN ('estimate', 'issued', 'mailed', 'due', 'paid', 'waived', 'uncollectible'));

-- Who hears about billing problems and budget alerts; `billing_emails`
-- (Aiven's name, kept) receive the invoices.
ALTER TABLE billing_groups ADD COLUMN billing_contact_emails TEXT NOT NULL DEFAULT '[]';

-- Messages to send, written in the transaction of the change that causes
-- them. A sender claims due ones (state `sending` until `claimed_until`,
-- FOR UPDATE SKIP LOCKED), and marks each sent, or due again later, or
-- failed after its last try. An invitation's body (it holds the link's
-- token) is erased once sent.
CREATE TABLE outbox (
    message_id        TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CONSTRAINT outbox_kind_check
        CHECK (kind IN ('invoice', 'invitation', 'budget_alert')),
    account_id        TEXT NOT NULL REFERENCES accounts (account_id),
    billing_group_id  TEXT REFERENCES billing_groups (billing_group_id),
    invoice_number    TEXT,
    recipients        TEXT NOT NULL,
    subject           TEXT NOT NULL,
    body              TEXT,
    state             TEXT NOT NULL CONSTRAINT outbox_state_check
        CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_time TIMESTAMPTZ NOT NULL,
    claim_id          TEXT,
    claimed_until     TIMESTAMPTZ,
    last_error        TEXT,
    last_response     TEXT,
    create_time       TIMESTAMPTZ NOT NULL,
    sent_time         TIMESTAMPTZ
);
CREATE INDEX outbox_due_idx ON outbox (state, next_attempt_time);
CREATE INDEX outbox_group_idx ON outbox (billing_group_id, create_time);
CREATE INDEX outbox_account_idx ON outbox (account_id, kind, create_time);

-- A monthly budget per group, in the group's currency, with thresholds in
-- percent (ascending).
CREATE TABLE budgets (
    billing_group_id TEXT PRIMARY KEY REFERENCES billing_groups (billing_group_id),
    amount           NUMERIC(24, 6) NOT NULL,
    thresholds       TEXT NOT NULL,
    update_time      TIMESTAMPTZ NOT NULL
);

-- Each threshold alerts once per month and kind (actual or forecast): the
-- insert is the claim, whichever instance evaluates.
CREATE TABLE budget_alerts (
    billing_group_id TEXT NOT NULL REFERENCES billing_groups (billing_group_id),
    period_begin     TIMESTAMPTZ NOT NULL,
    kind             TEXT NOT NULL CONSTRAINT budget_alerts_kind_check CHECK (kind IN ('actual', 'forecast')),
    threshold        BIGINT NOT NULL,
    create_time      TIMESTAMPTZ NOT NULL,
    CONSTRAINT budget_alerts_pkey PRIMARY KEY (billing_group_id, period_begin, kind, threshold)
);

-- Periodic jobs that one instance at a time runs (budget alerts).
CREATE TABLE job_leases (
    job_name   TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
