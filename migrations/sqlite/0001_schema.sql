-- Schema for every entity of PRODUCT.md §1 (SQLite).
-- Money: TEXT holding an exact decimal string (SQLite has no exact numeric
-- type; REAL would round). Times: RFC 3339 UTC text, which sorts correctly.
-- Constraint names match migrations/postgres so both backends map errors
-- through one table (src/server/store/mod.rs).

CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    email         TEXT NOT NULL CONSTRAINT users_email_lower CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    real_name     TEXT NOT NULL CONSTRAINT users_real_name_length CHECK (length(real_name) <= 128),
    password_hash TEXT NOT NULL,
    create_time   TEXT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE accounts (
    account_id               TEXT PRIMARY KEY CONSTRAINT accounts_id_format CHECK (account_id NOT LIKE 'org%' AND length(account_id) BETWEEN 1 AND 64),
    account_name             TEXT NOT NULL CONSTRAINT accounts_name_length CHECK (length(account_name) BETWEEN 1 AND 128),
    -- Every account has a primary group of its own; the group is inserted in
    -- the same transaction as the account, hence the deferred check.
    primary_billing_group_id TEXT NOT NULL,
    create_time              TEXT NOT NULL,
    update_time              TEXT NOT NULL,
    CONSTRAINT accounts_primary_group_fkey FOREIGN KEY (primary_billing_group_id, account_id)
        REFERENCES billing_groups (billing_group_id, account_id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE memberships (
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    role        TEXT NOT NULL CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'billing', 'viewer')),
    create_time TEXT NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id);

CREATE TABLE billing_groups (
    billing_group_id   TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (account_id),
    billing_group_name TEXT NOT NULL CONSTRAINT billing_groups_name_length CHECK (length(billing_group_name) BETWEEN 1 AND 128),
    billing_currency   TEXT NOT NULL DEFAULT 'USD' CONSTRAINT billing_groups_currency_check
        CHECK (billing_currency IN ('AUD','CAD','CHF','DKK','EUR','GBP','JPY','NOK','NZD','SEK','SGD','USD')),
    billing_emails     TEXT NOT NULL DEFAULT '[]',   -- JSON list of addresses
    billing_extra_text TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_extra_text_length CHECK (length(billing_extra_text) <= 1000),
    company            TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_company_length CHECK (length(company) <= 128),
    address_lines      TEXT NOT NULL DEFAULT '[]',   -- JSON list of lines
    city               TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_city_length CHECK (length(city) <= 128),
    state              TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_state_length CHECK (length(state) <= 128),
    zip_code           TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_zip_length CHECK (length(zip_code) <= 32),
    country_code       TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_country_code_check CHECK (country_code = '' OR (length(country_code) = 2 AND country_code = upper(country_code))),
    vat_id             TEXT NOT NULL DEFAULT '' CONSTRAINT billing_groups_vat_id_length CHECK (length(vat_id) <= 64),
    payment_method     TEXT NOT NULL DEFAULT 'no_payment_expected' CONSTRAINT billing_groups_payment_method_check
        CHECK (payment_method IN ('card', 'email', 'no_payment_expected')),
    -- Only what may be kept of a card: never the full number.
    card_brand         TEXT,
    card_last4         TEXT CONSTRAINT billing_groups_card_last4_check CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    card_exp_month     INTEGER CONSTRAINT billing_groups_card_exp_month_check CHECK (card_exp_month IS NULL OR card_exp_month BETWEEN 1 AND 12),
    card_exp_year      INTEGER,
    card_name          TEXT,
    group_state        TEXT NOT NULL DEFAULT 'active' CONSTRAINT billing_groups_state_check CHECK (group_state IN ('active', 'deleted')),
    create_time        TEXT NOT NULL,
    update_time        TEXT NOT NULL,
    delete_time        TEXT,
    CONSTRAINT billing_groups_card_complete CHECK (payment_method <> 'card' OR (card_last4 IS NOT NULL AND card_exp_month IS NOT NULL AND card_exp_year IS NOT NULL)),
    CONSTRAINT billing_groups_id_account_key UNIQUE (billing_group_id, account_id)
);
CREATE INDEX billing_groups_account_idx ON billing_groups (account_id);

CREATE TABLE projects (
    project_name     TEXT PRIMARY KEY CONSTRAINT projects_name_format CHECK (length(project_name) BETWEEN 1 AND 63 AND project_name = lower(project_name)),
    account_id       TEXT NOT NULL REFERENCES accounts (account_id),
    billing_group_id TEXT NOT NULL,
    default_cloud    TEXT NOT NULL,
    create_time      TEXT NOT NULL,
    -- A project is always in a group of its own account.
    CONSTRAINT projects_group_same_account_fkey FOREIGN KEY (billing_group_id, account_id)
        REFERENCES billing_groups (billing_group_id, account_id) ON DELETE RESTRICT
);
CREATE INDEX projects_group_idx ON projects (billing_group_id);
CREATE INDEX projects_account_idx ON projects (account_id);

-- Which group each project was in, from when to when (NULL: still there).
CREATE TABLE project_group_history (
    project_name     TEXT NOT NULL REFERENCES projects (project_name) ON DELETE CASCADE,
    billing_group_id TEXT NOT NULL REFERENCES billing_groups (billing_group_id),
    valid_from       TEXT NOT NULL,
    valid_to         TEXT,
    CONSTRAINT project_group_history_pkey PRIMARY KEY (project_name, valid_from),
    CONSTRAINT project_group_history_order CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX project_group_history_one_open ON project_group_history (project_name) WHERE valid_to IS NULL;
CREATE INDEX project_group_history_group_idx ON project_group_history (billing_group_id, valid_from);

CREATE TABLE services (
    service_id       TEXT PRIMARY KEY,
    project_name     TEXT NOT NULL REFERENCES projects (project_name) ON DELETE CASCADE,
    service_name     TEXT NOT NULL CONSTRAINT services_name_length CHECK (length(service_name) BETWEEN 1 AND 64),
    service_type     TEXT NOT NULL,
    plan             TEXT NOT NULL,
    cloud_name       TEXT NOT NULL,
    hourly_price_usd TEXT NOT NULL,
    create_time      TEXT NOT NULL,
    CONSTRAINT services_project_name_key UNIQUE (project_name, service_name)
);

-- A service is charged while it runs: one row per powered-on interval.
CREATE TABLE service_runs (
    service_id TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    end_reason TEXT CONSTRAINT service_runs_end_reason_check CHECK (end_reason IS NULL OR end_reason IN ('powered_off', 'terminated')),
    CONSTRAINT service_runs_pkey PRIMARY KEY (service_id, started_at),
    CONSTRAINT service_runs_order CHECK (ended_at IS NULL OR ended_at > started_at),
    CONSTRAINT service_runs_end_complete CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX service_runs_one_open ON service_runs (service_id) WHERE ended_at IS NULL;

-- Local-currency units per 1 USD, in force from valid_from (a date) on.
CREATE TABLE exchange_rates (
    currency   TEXT NOT NULL CONSTRAINT exchange_rates_currency_check
        CHECK (currency IN ('AUD','CAD','CHF','DKK','EUR','GBP','JPY','NOK','NZD','SEK','SGD','USD')),
    valid_from TEXT NOT NULL,
    usd_rate   TEXT NOT NULL,
    CONSTRAINT exchange_rates_pkey PRIMARY KEY (currency, valid_from)
);

CREATE TABLE invoices (
    invoice_number   TEXT PRIMARY KEY,
    billing_group_id TEXT NOT NULL REFERENCES billing_groups (billing_group_id),
    sequence_number  INTEGER NOT NULL,
    period_begin     TEXT NOT NULL,
    period_end       TEXT NOT NULL,
    state            TEXT NOT NULL CONSTRAINT invoices_state_check
        CHECK (state IN ('estimate', 'mailed', 'due', 'paid', 'waived', 'uncollectible')),
    currency         TEXT NOT NULL,
    exchange_rate    TEXT NOT NULL,
    vat_rate         TEXT NOT NULL,
    vat_note         TEXT NOT NULL DEFAULT '',
    total_vat_zero   TEXT NOT NULL,
    total_inc_vat    TEXT NOT NULL,
    issue_date       TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    download_cookie  TEXT NOT NULL,
    create_time      TEXT NOT NULL,
    CONSTRAINT invoices_group_period_key UNIQUE (billing_group_id, period_begin),
    CONSTRAINT invoices_group_sequence_key UNIQUE (billing_group_id, sequence_number),
    CONSTRAINT invoices_download_cookie_key UNIQUE (download_cookie)
);

CREATE TABLE invoice_lines (
    invoice_number   TEXT NOT NULL REFERENCES invoices (invoice_number) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    line_type        TEXT NOT NULL CONSTRAINT invoice_lines_type_check
        CHECK (line_type IN ('service_charge', 'credit_consumption', 'extra_charge', 'rounding', 'vat')),
    description      TEXT NOT NULL,
    project_name     TEXT,
    service_name     TEXT,
    service_type     TEXT,
    service_plan     TEXT,
    cloud_name       TEXT,
    hours            INTEGER,
    timestamp_begin  TEXT,
    timestamp_end    TEXT,
    line_total_usd   TEXT NOT NULL,
    line_total_local TEXT NOT NULL,
    local_currency   TEXT NOT NULL,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_number, line_no)
);

CREATE TABLE credits (
    code                     TEXT PRIMARY KEY,
    credit_type              TEXT NOT NULL CONSTRAINT credits_type_check
        CHECK (credit_type IN ('trial', 'promotion', 'purchase', 'discount', 'outage', 'other')),
    value_usd                TEXT NOT NULL,
    remaining_value_usd      TEXT NOT NULL,
    start_time               TEXT NOT NULL,
    expire_time              TEXT,
    issue_time               TEXT NOT NULL,
    billing_group_id         TEXT REFERENCES billing_groups (billing_group_id),
    earmarked_project_name   TEXT REFERENCES projects (project_name),
    claim_time               TEXT,
    claimed_by               TEXT REFERENCES users (user_id),
    CONSTRAINT credits_claim_complete CHECK ((billing_group_id IS NULL) = (claim_time IS NULL)),
    CONSTRAINT credits_earmark_needs_claim CHECK (earmarked_project_name IS NULL OR billing_group_id IS NOT NULL)
);
CREATE INDEX credits_group_idx ON credits (billing_group_id);

CREATE TABLE events (
    log_entry_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    billing_group_id TEXT NOT NULL REFERENCES billing_groups (billing_group_id),
    account_id       TEXT NOT NULL REFERENCES accounts (account_id),
    actor            TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    event_desc       TEXT NOT NULL,
    project_name     TEXT,
    details          TEXT,            -- JSON {"before": …, "after": …} where it applies
    create_time      TEXT NOT NULL
);
CREATE INDEX events_group_idx ON events (billing_group_id, log_entry_id DESC);

-- Events are never edited or deleted.
CREATE TRIGGER events_insert_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events_insert_only'); END;
CREATE TRIGGER events_insert_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events_insert_only'); END;

-- A group with projects, or the account's primary group, cannot be deleted.
CREATE TRIGGER billing_groups_delete_guard BEFORE UPDATE OF group_state ON billing_groups
WHEN NEW.group_state = 'deleted' AND OLD.group_state = 'active'
BEGIN
    SELECT RAISE(ABORT, 'billing_group_has_projects')
     WHERE EXISTS (SELECT 1 FROM projects WHERE billing_group_id = NEW.billing_group_id);
    SELECT RAISE(ABORT, 'billing_group_is_primary')
     WHERE EXISTS (SELECT 1 FROM accounts WHERE primary_billing_group_id = NEW.billing_group_id);
END;
CREATE TRIGGER billing_groups_no_undelete BEFORE UPDATE OF group_state ON billing_groups
WHEN OLD.group_state = 'deleted' AND NEW.group_state <> 'deleted'
BEGIN SELECT RAISE(ABORT, 'billing_group_deleted'); END;

-- No project may enter a deleted group, and a deleted group cannot become primary.
CREATE TRIGGER projects_group_active_insert BEFORE INSERT ON projects
WHEN (SELECT group_state FROM billing_groups WHERE billing_group_id = NEW.billing_group_id) = 'deleted'
BEGIN SELECT RAISE(ABORT, 'billing_group_deleted'); END;
CREATE TRIGGER projects_group_active_update BEFORE UPDATE OF billing_group_id ON projects
WHEN (SELECT group_state FROM billing_groups WHERE billing_group_id = NEW.billing_group_id) = 'deleted'
BEGIN SELECT RAISE(ABORT, 'billing_group_deleted'); END;
-- SQLite reports a failed foreign key without its name; these triggers name
-- the one that matters to the rules (PostgreSQL names it by itself).
CREATE TRIGGER projects_group_same_account_insert BEFORE INSERT ON projects
WHEN NOT EXISTS (SELECT 1 FROM billing_groups WHERE billing_group_id = NEW.billing_group_id AND account_id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'projects_group_same_account_fkey'); END;
CREATE TRIGGER projects_group_same_account_update BEFORE UPDATE OF billing_group_id, account_id ON projects
WHEN NOT EXISTS (SELECT 1 FROM billing_groups WHERE billing_group_id = NEW.billing_group_id AND account_id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'projects_group_same_account_fkey'); END;
CREATE TRIGGER accounts_primary_same_account BEFORE UPDATE OF primary_billing_group_id ON accounts
WHEN NOT EXISTS (SELECT 1 FROM billing_groups WHERE billing_group_id = NEW.primary_billing_group_id AND account_id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'accounts_primary_group_fkey'); END;
CREATE TRIGGER accounts_primary_active BEFORE UPDATE OF primary_billing_group_id ON accounts
WHEN (SELECT group_state FROM billing_groups WHERE billing_group_id = NEW.primary_billing_group_id) = 'deleted'
BEGIN SELECT RAISE(ABORT, 'billing_group_deleted'); END;

CREATE TABLE sessions (
    session_hash   TEXT PRIMARY KEY,   -- SHA-256 of the cookie value; the value itself is never stored
    user_id        TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    create_time    TEXT NOT NULL,
    expire_time    TEXT NOT NULL
);
CREATE INDEX sessions_expire_idx ON sessions (expire_time);

CREATE TABLE api_tokens (
    token_hash     TEXT PRIMARY KEY,   -- SHA-256 of the token; shown once, never stored
    token_prefix   TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    description    TEXT NOT NULL CONSTRAINT api_tokens_description_length CHECK (length(description) <= 1000),
    create_time    TEXT NOT NULL,
    last_used_time TEXT,
    revoke_time    TEXT
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed sign-ins per email, shared by every instance, to slow down guessing.
CREATE TABLE login_failures (
    email             TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    last_failure_time TEXT NOT NULL
);
