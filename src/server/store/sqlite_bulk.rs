//! The month close's bulk steps on SQLite — reading every run of the month,
//! and writing every invoice, line and event — done through SQLite's own
//! API on the connection sqlx holds (rusqlite over `lock_handle`, the same
//! `libsqlite3-sys`). sqlx hands each row across a channel from its worker
//! thread and boxes each bound value: about 15 µs a row, which made a
//! million-line close take 30 s. Same SQL (`sql::close_sql`), same
//! transaction, same encodings as sqlx (RFC 3339 times, normalized decimal
//! text), so either path reads what the other wrote.

use crate::model::ids::GroupId;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::{ToSql, ValueRef};
use rusqlite::OptionalExtension;
use rust_decimal::Decimal;

use super::close_sql::{self, LINE_COLUMNS};
use super::decimal::DbDecimal;
use super::error::{StoreError, StoreResult, Violation};
use super::events::INSERT_EVENT;
use super::records::{
    GroupMembershipRecord, InvoiceIssuing, InvoiceLineRecord, JsonText, NewInvoice,
    PricedRunRecord, Usage,
};

/// Lines per multi-row insert: fewer statement runs, and well under
/// SQLite's limit of 32,766 parameters.
const LINES_PER_STATEMENT: usize = 32;

/// Runs `work` on the connection's raw handle. The handle stays locked
/// away from sqlx's worker meanwhile; on a multi-threaded runtime the
/// blocking work first moves this thread's other tasks elsewhere.
async fn with_handle<T>(
    connection: &mut sqlx::SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut locked = connection.lock_handle().await?;
    let raw = locked.as_raw_handle();
    let run = || {
        // SAFETY: the handle is open and locked to us until `locked` drops,
        // after this closure returns; `from_handle` never closes it, and
        // every statement prepared here borrows `connection`, so all are
        // finalized before it goes.
        let connection = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }?;
        work(&connection)
    };
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        _ => run(),
    }
}

/// Memberships and priced runs overlapping [from, to), as `usage_between`.
pub(super) async fn usage_between(
    connection: &mut sqlx::SqliteConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Usage> {
    let (from, to) = (time_text(from), time_text(to));
    with_handle(connection, |db| {
        // `$2` comes first in the text, so bind by name.
        let period: [(&str, &dyn ToSql); 2] = [("$1", &from), ("$2", &to)];
        let mut statement = db.prepare(close_sql::MEMBERSHIPS_BETWEEN)?;
        let memberships = statement
            .query_map(&period[..], |row| {
                Ok(GroupMembershipRecord {
                    project_name: row.get(0)?,
                    billing_group_id: GroupId::from(row.get::<_, String>(1)?),
                    valid_from: time_at(row.get_ref(2)?, 2)?,
                    valid_to: optional_time_at(row.get_ref(3)?, 3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut statement = db.prepare(&close_sql::priced_runs_between())?;
        let runs = statement
            .query_map(&period[..], |row| {
                Ok(PricedRunRecord {
                    project_name: row.get(0)?,
                    service_name: row.get(1)?,
                    service_type: row.get(2)?,
                    plan: row.get(3)?,
                    cloud_name: row.get(4)?,
                    hourly_price_usd: decimal_at(row.get_ref(5)?, 5)?,
                    started_at: time_at(row.get_ref(6)?, 6)?,
                    ended_at: optional_time_at(row.get_ref(7)?, 7)?,
                    billed_from: time_at(row.get_ref(8)?, 8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((memberships, runs))
    })
    .await
}

/// Issues invoices that use no credits inside the caller's transaction, as
/// `issue_invoice` does one at a time: numbered per group, skipped when the
/// group's month is taken, written with their lines and event.
pub(super) async fn issue_invoices(
    connection: &mut sqlx::SqliteConnection,
    invoices: &[NewInvoice],
    at: DateTime<Utc>,
    issuing: &dyn InvoiceIssuing,
) -> StoreResult<Vec<String>> {
    let created = time_text(at);
    with_handle(connection, |db| {
        let mut next_sequence = db.prepare(close_sql::NEXT_SEQUENCE)?;
        let mut insert_invoice = db.prepare(close_sql::INSERT_INVOICE)?;
        let mut month_taken = db.prepare(close_sql::MONTH_TAKEN)?;
        let mut insert_event = db.prepare(INSERT_EVENT)?;
        let mut insert_message = db.prepare(super::outbox::INSERT_MESSAGE)?;
        let mut lines = LineWriter::new(db)?;
        let mut issued = Vec::with_capacity(invoices.len());
        for invoice in invoices {
            debug_assert!(
                invoice.credit_uses.is_empty(),
                "credits go through issue_invoice"
            );
            let customer = JsonText::encode(&invoice.customer);
            let seller = JsonText::encode(&invoice.seller);
            let group = invoice.billing_group_id.as_str();
            let sequence: i64 = next_sequence.query_row([group], |row| row.get(0))?;
            let number = issuing.invoice_number(&GroupId::from(group), sequence);
            let period_begin = time_text(invoice.period_begin);
            let no_original: Option<String> = None;
            let values: [&dyn ToSql; 21] = [
                &number,
                &group,
                &sequence,
                &period_begin,
                &time_text(invoice.period_end),
                &invoice.state.as_str(),
                &invoice.currency.code(),
                &decimal_text(DbDecimal(invoice.exchange_rate)),
                &decimal_text(DbDecimal(invoice.vat_rate)),
                &invoice.vat_note,
                &decimal_text(DbDecimal(invoice.total_usd)),
                &decimal_text(DbDecimal(invoice.total_vat_zero)),
                &decimal_text(DbDecimal(invoice.total_inc_vat)),
                &date_text(invoice.issue_date),
                &date_text(invoice.due_date),
                &invoice.download_cookie,
                &invoice.payment_method.as_str(),
                &customer,
                &seller,
                &created,
                &no_original,
            ];
            let inserted: Option<String> = insert_invoice
                .query_row(&values[..], |row| row.get(0))
                .optional()?;
            if inserted.is_none() {
                let taken: i64 =
                    month_taken.query_row([group, period_begin.as_str()], |row| row.get(0))?;
                if taken > 0 {
                    continue;
                }
                return Err(StoreError::Violation(Violation::Unique(
                    "invoices_pkey".into(),
                )));
            }
            lines.write(&number, &invoice.lines)?;
            let event = issuing.issued_event(invoice, &number);
            insert_event.execute(rusqlite::params![
                event.billing_group_id.as_str(),
                event.account_id.as_str(),
                event.actor,
                event.event_type.as_str(),
                event.event_desc,
                event.project_name,
                event.details.map(|d| d.to_string()),
                time_text(event.create_time),
            ])?;
            for message in issuing.invoice_messages(invoice, &number) {
                insert_message.execute(rusqlite::params![
                    message.message_id,
                    message.kind.as_str(),
                    message.account_id.as_str(),
                    message.billing_group_id.as_deref(),
                    message.invoice_number,
                    JsonText::encode(&message.recipients),
                    message.subject,
                    message.body,
                    created,
                    message.credit_note_number,
                    message.webhook_id,
                ])?;
            }
            issued.push(number);
        }
        Ok(issued)
    })
    .await
}

/// Writes one invoice's lines inside the caller's transaction (the
/// invoices that use credits, issued one by one).
pub(super) async fn insert_invoice_lines(
    connection: &mut sqlx::SqliteConnection,
    invoice_number: &str,
    lines: &[InvoiceLineRecord],
) -> StoreResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    with_handle(connection, |db| {
        LineWriter::new(db)?.write(invoice_number, lines)?;
        Ok(())
    })
    .await
}

/// Invoice lines, `LINES_PER_STATEMENT` rows per statement run and the
/// rest one by one. A close writes millions of texts: the period's times
/// are formatted once, and decimals reuse one buffer each.
struct LineWriter<'db> {
    many: rusqlite::Statement<'db>,
    one: rusqlite::Statement<'db>,
    begin: TimeText,
    end: TimeText,
    total_usd: String,
    total_local: String,
}

impl<'db> LineWriter<'db> {
    fn new(db: &'db rusqlite::Connection) -> rusqlite::Result<Self> {
        Ok(LineWriter {
            many: db.prepare(&close_sql::insert_lines(LINES_PER_STATEMENT, false))?,
            one: db.prepare(&close_sql::insert_lines(1, false))?,
            begin: TimeText::default(),
            end: TimeText::default(),
            total_usd: String::new(),
            total_local: String::new(),
        })
    }

    fn write(&mut self, invoice_number: &str, lines: &[InvoiceLineRecord]) -> rusqlite::Result<()> {
        let mut chunks = lines.chunks_exact(LINES_PER_STATEMENT);
        for chunk in &mut chunks {
            for (row, line) in chunk.iter().enumerate() {
                self.bind(true, row, invoice_number, line)?;
            }
            self.many.raw_execute()?;
        }
        for line in chunks.remainder() {
            self.bind(false, 0, invoice_number, line)?;
            self.one.raw_execute()?;
        }
        Ok(())
    }

    /// Binds `line` as row `row` of the many-row or the one-row statement,
    /// in the column order of `close_sql::insert_lines`.
    fn bind(
        &mut self,
        many: bool,
        row: usize,
        invoice_number: &str,
        line: &InvoiceLineRecord,
    ) -> rusqlite::Result<()> {
        decimal_into(&mut self.total_usd, line.line_total_usd);
        decimal_into(&mut self.total_local, line.line_total_local);
        let values: [&dyn ToSql; LINE_COLUMNS] = [
            &invoice_number,
            &line.line_no,
            &line.line_type.as_str(),
            &line.description,
            &line.project_name,
            &line.service_name,
            &line.service_type,
            &line.service_plan,
            &line.cloud_name,
            &line.hours,
            &self.begin.of(line.timestamp_begin),
            &self.end.of(line.timestamp_end),
            &self.total_usd.as_str(),
            &self.total_local.as_str(),
            &line.local_currency.code(),
            &line.credit_code,
        ];
        let statement = if many { &mut self.many } else { &mut self.one };
        for (column, value) in values.into_iter().enumerate() {
            statement.raw_bind_parameter(row * LINE_COLUMNS + column + 1, value)?;
        }
        Ok(())
    }
}

/// The text of the last time formatted, kept while the time repeats.
#[derive(Default)]
struct TimeText {
    time: Option<DateTime<Utc>>,
    text: String,
}

impl TimeText {
    fn of(&mut self, time: Option<DateTime<Utc>>) -> Option<&str> {
        let time = time?;
        if self.time != Some(time) {
            self.time = Some(time);
            self.text = time_text(time);
        }
        Some(&self.text)
    }
}

/// A time as sqlx writes it to SQLite, so both kinds of rows compare alike.
fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A date as sqlx writes it.
fn date_text(date: NaiveDate) -> String {
    date.format("%F").to_string()
}

/// A decimal as `DbDecimal` writes it.
fn decimal_text(value: DbDecimal) -> String {
    value.0.normalize().to_string()
}

/// The same into a buffer that is reused.
fn decimal_into(buffer: &mut String, value: DbDecimal) {
    use std::fmt::Write;
    buffer.clear();
    // Writing to a String cannot fail.
    let _ = write!(buffer, "{}", value.0.normalize());
}

fn time_at(value: ValueRef<'_>, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text = value.as_str()?;
    parse_time(text).ok_or_else(|| malformed(column, format!("not a time: {text:?}")))
}

fn optional_time_at(value: ValueRef<'_>, column: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match value {
        ValueRef::Null => Ok(None),
        value => time_at(value, column).map(Some),
    }
}

fn decimal_at(value: ValueRef<'_>, column: usize) -> rusqlite::Result<DbDecimal> {
    let text = value.as_str()?;
    Decimal::from_str(text)
        .map(|d| DbDecimal(d.normalize()))
        .map_err(|e| malformed(column, format!("not a decimal: {text:?} ({e})")))
}

/// RFC 3339 (what sqlx writes) or SQLite's own `YYYY-MM-DD HH:MM:SS[.f]`
/// in UTC (what `datetime()` writes).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

fn malformed(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

/// Constraint failures are named as on the sqlx path; the rest keep
/// SQLite's message.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(failure, Some(message)) = &error {
            if let Some(name) =
                super::constraints::sqlite_constraint_name(message, failure.extended_code)
            {
                return StoreError::Violation(Violation::from_constraint_name(&name));
            }
        }
        match error {
            rusqlite::Error::FromSqlConversionFailure(_, _, message) => {
                StoreError::Corrupt(message.to_string())
            }
            error => StoreError::Sqlite(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_read_back_as_sqlx_writes_them() {
        let time = Utc.with_ymd_and_hms(2026, 10, 31, 23, 0, 0).unwrap();
        assert_eq!(time_text(time), "2026-10-31T23:00:00+00:00");
        assert_eq!(parse_time(&time_text(time)), Some(time));
        assert_eq!(parse_time("2026-10-31 23:00:00"), Some(time));
        assert_eq!(parse_time("yesterday"), None);
    }
}
