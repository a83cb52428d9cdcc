-- Failed sign-ins per client address (issue 7), shared by every instance:
-- many emails guessed from one address slow that address down. The
-- address is the peer's, or X-Forwarded-For's only through a trusted proxy.
-- A window starts again when the last failure is older than 15 minutes.
CREATE TABLE client_login_failures (
    client_ip         TEXT PRIMARY KEY,
    failures          BIGINT NOT NULL,
    window_start      TIMESTAMPTZ NOT NULL,
    last_failure_time TIMESTAMPTZ NOT NULL
);
