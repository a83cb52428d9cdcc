-- People (issue 16): operators, first-run setup, invitations, account
-- events, sessions a user can see, and the last-admin rule.

-- An operator administers the instance: sees every account and creates
-- accounts. Not a member of every account (PRODUCT.md §6 still holds).
ALTER TABLE users ADD COLUMN is_operator BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN last_sign_in_time TIMESTAMPTZ;

-- What the profile page lists; "last used" is written at most once a minute.
ALTER TABLE sessions ADD COLUMN last_used_time TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- The one-time first-run token (its SHA-256), while no user exists.
CREATE TABLE setup_tokens (
    slot        INTEGER PRIMARY KEY CONSTRAINT setup_tokens_one CHECK (slot = 1),
    token_hash  TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL
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
    create_time   TIMESTAMPTZ NOT NULL,
    expire_time   TIMESTAMPTZ NOT NULL,
    accept_time   TIMESTAMPTZ,
    accepted_by   TEXT REFERENCES users (user_id),
    revoke_time   TIMESTAMPTZ,
    CONSTRAINT invitations_closed_once CHECK (accept_time IS NULL OR revoke_time IS NULL)
);
CREATE UNIQUE INDEX invitations_open_key ON invitations (account_id, email)
    WHERE accept_time IS NULL AND revoke_time IS NULL;

-- The account's own log (created, renamed, members changed): not a billing
-- group's, so not in `events`. Insert-only like it.
CREATE TABLE account_events (
    log_entry_id BIGSERIAL PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    actor        TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    event_desc   TEXT NOT NULL,
    details      TEXT,            -- JSON {"before": …, "after": …} where it applies
    create_time  TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_events_account_idx ON account_events (account_id, log_entry_id DESC);
CREATE TRIGGER account_events_insert_only BEFORE UPDATE OR DELETE ON account_events
    FOR EACH ROW EXECUTE FUNCTION events_insert_only();

-- An account keeps at least one admin. Changes to one account's admins
-- take its row lock first, so two admins demoting each other at once run
-- one after the other and the second sees the first's change.
CREATE FUNCTION memberships_keep_an_admin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role = 'admin' AND (TG_OP = 'DELETE' OR NEW.role <> 'admin') THEN
        PERFORM 1 FROM accounts WHERE account_id = OLD.account_id FOR UPDATE;
        IF NOT EXISTS (SELECT 1 FROM memberships
                        WHERE account_id = OLD.account_id AND role = 'admin' AND user_id <> OLD.user_id) THEN
            RAISE EXCEPTION 'an account keeps at least one admin'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_last_admin';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER memberships_keep_an_admin BEFORE UPDATE OF role OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_keep_an_admin();
