-- Usage in (issue 17): a run has its plan and hourly price (a plan or price
-- change ends one run and starts the next), and hours are counted on the
-- grid that `billed_from` starts: a run that continues another keeps its
-- grid, so the hour in progress at the change is billed once. SQLite cannot
-- alter a constraint, so the table is rebuilt with the new columns and the
-- new reasons a run ends; nothing references it.
CREATE TABLE service_runs_rebuilt (
    service_id       TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
    started_at       TEXT NOT NULL,
    ended_at         TEXT,
    end_reason       TEXT CONSTRAINT service_runs_end_reason_check
        CHECK (end_reason IS NULL OR end_reason = 'powered_off' OR end_reason = 'terminated'
               OR end_reason = 'plan_changed' OR end_reason = 'repriced'),
    plan             TEXT NOT NULL,
    hourly_price_usd TEXT NOT NULL,
    billed_from      TEXT NOT NULL,
    CONSTRAINT service_runs_pkey PRIMARY KEY (service_id, started_at),
    CONSTRAINT service_runs_order CHECK (ended_at IS NULL OR ended_at > started_at),
    CONSTRAINT service_runs_end_complete CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CONSTRAINT service_runs_grid CHECK (billed_from >= started_at)
);
INSERT INTO service_runs_rebuilt (service_id, started_at, ended_at, end_reason, plan,
    hourly_price_usd, billed_from)
SELECT r.service_id, r.started_at, r.ended_at, r.end_reason, s.plan, s.hourly_price_usd, r.started_at
FROM service_runs r JOIN services s ON s.service_id = r.service_id;
DROP TABLE service_runs;
ALTER TABLE service_runs_rebuilt RENAME TO service_runs;
CREATE UNIQUE INDEX service_runs_one_open ON service_runs (service_id) WHERE ended_at IS NULL;

-- The price list: an hourly USD price per service type, plan and cloud
-- ('' = every cloud), in force from `valid_from`; the plan's size for
-- `avn service plans`. `imported_at` is when the row arrived: a price takes
-- effect at the later of the two.
CREATE TABLE prices (
    service_type     TEXT NOT NULL CONSTRAINT prices_service_type_format CHECK (length(service_type) BETWEEN 1 AND 64),
    plan             TEXT NOT NULL CONSTRAINT prices_plan_format CHECK (length(plan) BETWEEN 1 AND 64),
    cloud_name       TEXT NOT NULL CONSTRAINT prices_cloud_format CHECK (length(cloud_name) <= 64),
    valid_from       TEXT NOT NULL,
    hourly_price_usd TEXT NOT NULL,
    node_count       INTEGER NOT NULL CONSTRAINT prices_node_count CHECK (node_count >= 1),
    cpu_count        INTEGER NOT NULL CONSTRAINT prices_cpu_count CHECK (cpu_count >= 1),
    memory_mb        INTEGER NOT NULL CONSTRAINT prices_memory CHECK (memory_mb >= 0),
    disk_mb          INTEGER NOT NULL CONSTRAINT prices_disk CHECK (disk_mb >= 0),
    imported_at      TEXT NOT NULL,
    CONSTRAINT prices_pkey PRIMARY KEY (service_type, plan, cloud_name, valid_from)
);

-- A terminated service stays (its hours stay billed) with its end noted;
-- it is no longer listed or changed.
ALTER TABLE services ADD COLUMN terminated_at TEXT;
