-- Credits (issue 5): which credit a consumption line used, and failed claim
-- attempts (the per-user rate limit, shared by every instance).
ALTER TABLE invoice_lines ADD COLUMN credit_code TEXT;
CREATE INDEX invoice_lines_credit_idx ON invoice_lines (credit_code) WHERE credit_code IS NOT NULL;

CREATE TABLE credit_claim_failures (
    user_id   TEXT NOT NULL REFERENCES users (user_id),
    failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX credit_claim_failures_user_idx ON credit_claim_failures (user_id, failed_at);
