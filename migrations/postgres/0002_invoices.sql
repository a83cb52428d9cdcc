-- Invoices (issue 4): what an invoice freezes at issue, and which months
-- have been closed.

-- The customer's billing details and payment method as they were on the
-- issue date (JSON), so a later change does not rewrite an issued invoice.
ALTER TABLE invoices ADD COLUMN customer TEXT NOT NULL DEFAULT '{}';
ALTER TABLE invoices ADD COLUMN payment_method TEXT NOT NULL DEFAULT 'email';
ALTER TABLE invoices ADD COLUMN total_usd NUMERIC(24, 6) NOT NULL DEFAULT 0;

-- One row per month whose close ran to the end.
CREATE TABLE month_closes (
    period_begin    TIMESTAMPTZ PRIMARY KEY,
    closed_at       TIMESTAMPTZ NOT NULL,
    invoices_issued BIGINT NOT NULL
);
