//! What a month close reads and writes, shared by the sqlx path of both
//! backends and SQLite's bulk path (`sqlite_bulk`), so they cannot drift
//! apart. `$N` placeholders; SQLite's own API binds them by name where
//! their first appearance is not in order.

/// The columns of `PricedRunRecord`, from `service_runs r` and `services s`.
pub(super) const PRICED_RUN_COLUMNS: &str = "s.project_name, s.service_name, s.service_type,
    r.plan, s.cloud_name, r.hourly_price_usd, r.started_at, r.ended_at, r.billed_from";

/// Every project's memberships overlapping [$1, $2).
pub(super) const MEMBERSHIPS_BETWEEN: &str =
    "SELECT project_name, billing_group_id, valid_from, valid_to
     FROM project_group_history
     WHERE valid_from < $2 AND (valid_to IS NULL OR valid_to > $1)";

/// Every priced run overlapping [$1, $2).
pub(super) fn priced_runs_between() -> String {
    format!(
        "SELECT {PRICED_RUN_COLUMNS}
         FROM service_runs r
         JOIN services s ON s.service_id = r.service_id
         WHERE r.started_at < $2 AND (r.ended_at IS NULL OR r.ended_at > $1)"
    )
}

pub(super) const NEXT_SEQUENCE: &str =
    "SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM invoices WHERE billing_group_id = $1";

/// Returns no row when the group's month (or the number) is taken. `$21`
/// is the voided invoice a reissued one `replaces` (NULL from a month
/// close: only those hold the one-invoice-per-month key).
pub(super) const INSERT_INVOICE: &str =
    "INSERT INTO invoices (invoice_number, billing_group_id, sequence_number, period_begin,
         period_end, state, currency, exchange_rate, vat_rate, vat_note, total_usd,
         total_vat_zero, total_inc_vat, issue_date, due_date, download_cookie,
         payment_method, customer, seller, create_time, replaces)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
             $20, $21)
     ON CONFLICT DO NOTHING
     RETURNING invoice_number";

pub(super) const MONTH_TAKEN: &str =
    "SELECT COUNT(*) FROM invoices WHERE billing_group_id = $1 AND period_begin = $2";

/// Columns of an invoice line, in the order they are bound.
pub(super) const LINE_COLUMNS: usize = 16;

/// An insert of `rows` invoice lines: `$N` placeholders, or anonymous `?`
/// (SQLite finds a named parameter by a linear scan, so hundreds of `$N`
/// cost O(n²) per statement when bound by name).
pub(super) fn insert_lines(rows: usize, numbered: bool) -> String {
    let mut sql = String::from(
        "INSERT INTO invoice_lines (invoice_number, line_no, line_type, description, project_name,
             service_name, service_type, service_plan, cloud_name, hours, timestamp_begin,
             timestamp_end, line_total_usd, line_total_local, local_currency, credit_code) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..LINE_COLUMNS {
            if column > 0 {
                sql.push(',');
            }
            if numbered {
                sql.push_str(&format!("${}", row * LINE_COLUMNS + column + 1));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}
