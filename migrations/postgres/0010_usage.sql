-- Usage in (issue 17): a run has its plan and hourly price (a plan or price
-- change ends one run and starts the next), and hours are counted on the
-- grid that `billed_from` starts: a run that continues another keeps its
-- grid, so the hour in progress at the change is billed once.
ALTER TABLE service_runs ADD COLUMN plan TEXT;
ALTER TABLE service_runs ADD COLUMN hourly_price_usd NUMERIC(24, 6);
ALTER TABLE service_runs ADD COLUMN billed_from TIMESTAMPTZ;
UPDATE service_runs r SET plan = s.plan, hourly_price_usd = s.hourly_price_usd, billed_from = r.started_at
FROM services s WHERE s.service_id = r.service_id;
ALTER TABLE service_runs ALTER COLUMN plan SET NOT NULL;
ALTER TABLE service_runs ALTER COLUMN hourly_price_usd SET NOT NULL;
ALTER TABLE service_runs ALTER COLUMN billed_from SET NOT NULL;
ALTER TABLE service_runs ADD CONSTRAINT service_runs_grid CHECK (billed_from >= started_at);
ALTER TABLE service_runs DROP CONSTRAINT service_runs_end_reason_check;
ALTER TABLE service_runs ADD CONSTRAINT service_runs_end_reason_check
    CHECK (end_reason IS NULL OR end_reason IN ('powered_off', 'terminated', 'plan_changed', 'repriced'));

-- The price list: an hourly USD price per service type, plan and cloud
-- ('' = every cloud), in force from `valid_from`; the plan's size for
-- `avn service plans`. `imported_at` is when the row arrived: a price takes
-- effect at the later of the two.
CREATE TABLE prices (
    service_type     TEXT NOT NULL CONSTRAINT prices_service_type_format CHECK (length(service_type) BETWEEN 1 AND 64),
    plan             TEXT NOT NULL CONSTRAINT prices_plan_format CHECK (length(plan) BETWEEN 1 AND 64),
    cloud_name       TEXT NOT NULL CONSTRAINT prices_cloud_format CHECK (length(cloud_name) <= 64),
    valid_from       TIMESTAMPTZ NOT NULL,
    hourly_price_usd NUMERIC(24, 6) NOT NULL,
    node_count       BIGINT NOT NULL CONSTRAINT prices_node_count CHECK (node_count >= 1),
    cpu_count        BIGINT NOT NULL CONSTRAINT prices_cpu_count CHECK (cpu_count >= 1),
    memory_mb        BIGINT NOT NULL CONSTRAINT prices_memory CHECK (memory_mb >= 0),
    disk_mb          BIGINT NOT NULL CONSTRAINT prices_disk CHECK (disk_mb >= 0),
    imported_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT prices_pkey PRIMARY KEY (service_type, plan, cloud_name, valid_from)
);

-- A terminated service stays (its hours stay billed) with its end noted;
-- it is no longer listed or changed.
ALTER TABLE services ADD COLUMN terminated_at TIMESTAMPTZ;
