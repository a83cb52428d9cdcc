-- SQLite checks `line_type IN (…)` by building a temporary B-tree on every
-- row written: at a month close (a million invoice lines) that was half the
-- time spent writing them. The same rule as a chain of equalities costs
-- nothing. SQLite cannot alter a constraint, so the table is rebuilt with
-- the same columns, order, names and keys. (PostgreSQL's IN costs nothing,
-- so it has no counterpart.)
CREATE TABLE invoice_lines_rebuilt (
    invoice_number   TEXT NOT NULL REFERENCES invoices (invoice_number) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    line_type        TEXT NOT NULL CONSTRAINT invoice_lines_type_check
        CHECK (line_type = 'service_charge' OR line_type = 'credit_consumption'
               OR line_type = 'extra_charge' OR line_type = 'rounding' OR line_type = 'vat'),
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
    credit_code      TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_number, line_no)
);

INSERT INTO invoice_lines_rebuilt (invoice_number, line_no, line_type, description, project_name,
    service_name, service_type, service_plan, cloud_name, hours, timestamp_begin, timestamp_end,
    line_total_usd, line_total_local, local_currency, credit_code)
SELECT invoice_number, line_no, line_type, description, project_name,
    service_name, service_type, service_plan, cloud_name, hours, timestamp_begin, timestamp_end,
    line_total_usd, line_total_local, local_currency, credit_code
FROM invoice_lines;

DROP TABLE invoice_lines;
ALTER TABLE invoice_lines_rebuilt RENAME TO invoice_lines;
CREATE INDEX invoice_lines_credit_idx ON invoice_lines (credit_code) WHERE credit_code IS NOT NULL;
