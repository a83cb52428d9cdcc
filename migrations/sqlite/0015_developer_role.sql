-- Issue 29: the developer role (runs services; no members, billing or
-- invoices). Existing members keep their roles. SQLite cannot change a
-- CHECK constraint, so both tables are rebuilt with every row, index and
-- trigger (no table references either, so dropping them breaks nothing).
CREATE TABLE memberships_rebuilt (
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    role        TEXT NOT NULL CONSTRAINT memberships_role_check
        CHECK (role IN ('admin', 'developer', 'billing', 'viewer')),
    create_time TEXT NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, account_id)
);
INSERT INTO memberships_rebuilt (user_id, account_id, role, create_time)
    SELECT user_id, account_id, role, create_time FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_rebuilt RENAME TO memberships;
CREATE INDEX memberships_account_idx ON memberships (account_id);
-- An account keeps at least one admin (as in 0009).
CREATE TRIGGER memberships_last_admin_update BEFORE UPDATE OF role ON memberships
WHEN OLD.role = 'admin' AND NEW.role <> 'admin'
 AND NOT EXISTS (SELECT 1 FROM memberships
                  WHERE account_id = OLD.account_id AND role = 'admin' AND user_id <> OLD.user_id)
BEGIN SELECT RAISE(ABORT, 'memberships_last_admin'); END;
CREATE TRIGGER memberships_last_admin_delete BEFORE DELETE ON memberships
WHEN OLD.role = 'admin'
 AND NOT EXISTS (SELECT 1 FROM memberships
                  WHERE account_id = OLD.account_id AND role = 'admin' AND user_id <> OLD.user_id)
BEGIN SELECT RAISE(ABORT, 'memberships_last_admin'); END;

CREATE TABLE invitations_rebuilt (
    invitation_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (account_id),
    email         TEXT NOT NULL CONSTRAINT invitations_email_lower CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role          TEXT NOT NULL CONSTRAINT invitations_role_check
        CHECK (role IN ('admin', 'developer', 'billing', 'viewer')),
    token_hash    TEXT NOT NULL CONSTRAINT invitations_token_key UNIQUE,
    invited_by    TEXT NOT NULL REFERENCES users (user_id),
    create_time   TEXT NOT NULL,
    expire_time   TEXT NOT NULL,
    accept_time   TEXT,
    accepted_by   TEXT REFERENCES users (user_id),
    revoke_time   TEXT,
    CONSTRAINT invitations_closed_once CHECK (accept_time IS NULL OR revoke_time IS NULL)
);
INSERT INTO invitations_rebuilt
    (invitation_id, account_id, email, role, token_hash, invited_by, create_time,
     expire_time, accept_time, accepted_by, revoke_time)
    SELECT invitation_id, account_id, email, role, token_hash, invited_by, create_time,
           expire_time, accept_time, accepted_by, revoke_time
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_rebuilt RENAME TO invitations;
CREATE UNIQUE INDEX invitations_open_key ON invitations (account_id, email)
    WHERE accept_time IS NULL AND revoke_time IS NULL;
