-- Sign-in throttling by scope (issue 15), shared by every instance. A scope
-- is an (email, address) pair, a trusted browser (device cookie), an
-- address, or an email; server::sign_in says what each count does. A
-- window starts again when the last failure is older than the scope's
-- window. Replaces the per-email and per-address tables, whose walls
-- refused even a right password.
CREATE TABLE sign_in_failures (
    scope             TEXT PRIMARY KEY,
    failures          BIGINT NOT NULL,
    window_start      TIMESTAMPTZ NOT NULL,
    last_failure_time TIMESTAMPTZ NOT NULL
);
DROP TABLE login_failures;
DROP TABLE client_login_failures;

-- Keys every instance shares (signed device cookies, expiring download
-- links), created by whichever instance needs one first.
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL
);
