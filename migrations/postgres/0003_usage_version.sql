-- Bumped in the same transaction as every change to an account's usage
-- (project created or moved, service run started or ended), so a cached
-- month of usage is known to be current by reading one number.
ALTER TABLE accounts ADD COLUMN usage_version BIGINT NOT NULL DEFAULT 0;
