-- One month close at a time across instances (issue 7): a close holds the
-- month's lease while it works and renews it per batch; a lease left by a
-- crashed instance lapses at expires_at.
CREATE TABLE month_close_leases (
    period_begin TIMESTAMPTZ PRIMARY KEY,
    holder       TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
