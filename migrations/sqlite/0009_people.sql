-- People (issue 16): operators, first-run setup, invitations, account
-- events, sessions a user can see, and the last-admin rule.

-- An operator administers the instance: sees every account and creates
-- accounts. Not a member of every account (PRODUCT.md §6 still holds).
ALTER TABLE users ADD COLUMN is_operator INTEGER NOT NULL DEFAULT 0
    CONSTRAINT users_is_operator_bool CHECK (is_operator IN (0, 1));
ALTER TABLE users ADD COLUMN last_sign_in_time TEXT;

-- What the profile page lists; "last used" is written at most once a minute.
ALTER TABLE sessions ADD COLUMN last_used_time TEXT;
ALTER TABLE sessions ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- The one-time first-run token (its SHA-256), while no user exists.
CREATE TABLE setup_tokens (
    slot        INTEGER PRIMARY KEY CONSTRAINT setup_tokens_one CHECK (slot = 1),
    token_hash  TEXT NOT NULL,
    create_time TEXT NOT NULL
);

-- Invitations to an account, bound to an email. The token is shown (and
-- mailed) once; only its SHA-256 is kept. At most one open invitation per
-- account and email.
CREATE TABLE invitations (
    invitation_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (account_id),
    email         TEXT NOT NULL CONSTRAINT invitations_email_lower CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role          TEXT NOT NULL CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'billing', 'viewer')),
    token_hash    TEXT NOT NULL CONSTRAINT invitations_token_key UNIQUE,
    invited_by    TEXT NOT NULL REFERENCES users (user_id),
    create_time   TEXT NOT NULL,
    expire_time   TEXT NOT NULL,
    accept_time   TEXT,
    accepted_by   TEXT REFERENCES users (user_id),
    revoke_time   TEXT,
    CONSTRAINT invitations_closed_once CHECK (accept_time IS NULL OR revoke_time IS NULL)
);
CREATE UNIQUE INDEX invitations_open_key ON invitations (account_id, email)
    WHERE accept_time IS NULL AND revoke_time IS NULL;

-- The account's own log (created, renamed, members changed): not a billing
-- group's, so not in `events`. Insert-only like it.
CREATE TABLE account_events (
    log_entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    actor        TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    event_desc   TEXT NOT NULL,
    details      TEXT,
    create_time  TEXT NOT NULL
);
CREATE INDEX account_events_account_idx ON account_events (account_id, log_entry_id DESC);
CREATE TRIGGER account_events_insert_only_update BEFORE UPDATE ON account_events
BEGIN SELECT RAISE(ABORT, 'events_insert_only'); END;
CREATE TRIGGER account_events_insert_only_delete BEFORE DELETE ON account_events
BEGIN SELECT RAISE(ABORT, 'events_insert_only'); END;

-- An account keeps at least one admin. SQLite runs one write at a time,
-- so the check sees every other change to the account's members.
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
