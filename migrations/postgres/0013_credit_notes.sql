-- Credit notes and void-and-reissue (issue 27): an issued invoice is never
-- edited; it is corrected by a credit note (negative amounts, its own
-- number series, the original referenced) or voided by a full credit note
-- and reissued from the current billing details.

-- A reissued invoice is for the same month as the one it replaces, so the
-- one-invoice-per-group-month key holds for month-close invoices only.
ALTER TABLE invoices ADD COLUMN replaces TEXT;
ALTER TABLE invoices DROP CONSTRAINT invoices_group_period_key;
CREATE UNIQUE INDEX invoices_group_period_key ON invoices (billing_group_id, period_begin)
    WHERE replaces IS NULL;
CREATE UNIQUE INDEX invoices_replaces_key ON invoices (replaces) WHERE replaces IS NOT NULL;

CREATE TABLE credit_notes (
    credit_note_number TEXT NOT NULL CONSTRAINT credit_notes_pkey PRIMARY KEY,
    billing_group_id   TEXT NOT NULL REFERENCES billing_groups (billing_group_id),
    sequence_number    BIGINT NOT NULL,
    invoice_number     TEXT NOT NULL REFERENCES invoices (invoice_number),
    kind               TEXT NOT NULL CONSTRAINT credit_notes_kind_check
        CHECK (kind = 'credit' OR kind = 'void'),
    reason             TEXT NOT NULL CONSTRAINT credit_notes_reason_check
        CHECK (length(reason) BETWEEN 1 AND 500),
    reissued_as        TEXT,
    currency           TEXT NOT NULL,
    exchange_rate      NUMERIC(24, 6) NOT NULL,
    vat_rate           NUMERIC(24, 6) NOT NULL,
    vat_note           TEXT NOT NULL,
    total_usd          NUMERIC(24, 6) NOT NULL,
    total_vat_zero     NUMERIC(24, 6) NOT NULL,
    total_inc_vat      NUMERIC(24, 6) NOT NULL,
    issue_date         DATE NOT NULL,
    download_cookie    TEXT NOT NULL CONSTRAINT credit_notes_download_cookie_key UNIQUE,
    payment_method     TEXT NOT NULL,
    customer           TEXT NOT NULL,
    seller             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    create_time        TIMESTAMPTZ NOT NULL,
    CONSTRAINT credit_notes_group_sequence_key UNIQUE (billing_group_id, sequence_number),
    -- Never more credited than the invoice totals (checked by the rules
    -- under the invoice's row lock; this keeps the sign).
    CONSTRAINT credit_notes_negative_check CHECK (total_inc_vat < 0 AND total_vat_zero <= 0)
);
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_number);
CREATE INDEX credit_notes_group_idx ON credit_notes (billing_group_id, create_time);
-- An invoice is voided once.
CREATE UNIQUE INDEX credit_notes_one_void_key ON credit_notes (invoice_number) WHERE kind = 'void';

CREATE TABLE credit_note_lines (
    credit_note_number TEXT NOT NULL REFERENCES credit_notes (credit_note_number) ON DELETE CASCADE,
    line_no            BIGINT NOT NULL,
    credited_line_no   BIGINT,
    line_type          TEXT NOT NULL,
    description        TEXT NOT NULL,
    project_name       TEXT,
    service_name       TEXT,
    service_type       TEXT,
    service_plan       TEXT,
    cloud_name         TEXT,
    hours              BIGINT,
    timestamp_begin    TIMESTAMPTZ,
    timestamp_end      TIMESTAMPTZ,
    line_total_usd     NUMERIC(24, 6) NOT NULL,
    line_total_local   NUMERIC(24, 6) NOT NULL,
    local_currency     TEXT NOT NULL,
    credit_code        TEXT,
    CONSTRAINT credit_note_lines_pkey PRIMARY KEY (credit_note_number, line_no)
);

-- A credit note's mail (kind 'invoice': a billing document with its PDF).
ALTER TABLE outbox ADD COLUMN credit_note_number TEXT;
