//! Invoices and the month close's bookkeeping. Invoices are written in
//! batches, each batch one transaction. Invoices without credits are
//! written in bulk (`sqlite_bulk` through SQLite's own API, `postgres_bulk`
//! a statement per table); everything else goes through [`issue_invoice`].

use crate::model::ids::{AccountId, GroupId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::close_sql;
use super::decimal::DbDecimal;
use super::error::{StoreError, StoreResult, Violation};
use super::events::insert_event;
use super::group_rows::GROUP_COLUMNS;
use super::pool::{db_run, db_write, for_update, PerBackend, SqlStore, Tx};
use super::records::*;
use super::traits::{InvoiceStateChange, InvoiceStateUpdate, Invoices};

pub(super) const INVOICE_COLUMNS: &str = "invoice_number, billing_group_id, sequence_number,
    period_begin, period_end, state, currency, exchange_rate, vat_rate, vat_note, total_usd,
    total_vat_zero, total_inc_vat, issue_date, due_date, download_cookie, payment_method, customer,
    seller, create_time, replaces, paid_date";

pub(super) const INVOICE_LINE_COLUMNS: &str =
    "line_no, line_type, description, project_name, service_name,
    service_type, service_plan, cloud_name, hours, timestamp_begin, timestamp_end,
    line_total_usd, line_total_local, local_currency, credit_code";

/// Numbers and writes one invoice with its lines, credit uses and events
/// inside the caller's transaction; `None` when its group's month already
/// has an invoice (a second close, or a second instance).
async fn issue_invoice(
    tx: Tx<'_>,
    invoice: &NewInvoice,
    at: DateTime<Utc>,
    issuing: &dyn InvoiceIssuing,
) -> StoreResult<Option<String>> {
    db_run!(tx, |connection| {
        let sequence: i64 = sqlx::query_scalar(close_sql::NEXT_SEQUENCE)
            .bind(&invoice.billing_group_id)
            .fetch_one(&mut *connection)
            .await?;
        let number = issuing.invoice_number(&invoice.billing_group_id, sequence);
        let inserted = insert_invoice_row(
            (&mut *connection).into(),
            &number,
            sequence,
            invoice,
            None,
            at,
        )
        .await?;
        if inserted.is_none() {
            let month_taken: i64 = sqlx::query_scalar(close_sql::MONTH_TAKEN)
                .bind(&invoice.billing_group_id)
                .bind(invoice.period_begin)
                .fetch_one(&mut *connection)
                .await?;
            if month_taken > 0 {
                return Ok(None);
            }
            return Err(StoreError::Violation(Violation::Unique(
                "invoices_pkey".into(),
            )));
        }
        insert_invoice_lines((&mut *connection).into(), &number, &invoice.lines).await?;
        for credit_use in &invoice.credit_uses {
            use_credit((&mut *connection).into(), invoice, credit_use).await?;
            let event = issuing.credit_consumed_event(invoice, &number, credit_use);
            insert_event((&mut *connection).into(), &event).await?;
        }
        let event = issuing.issued_event(invoice, &number);
        insert_event((&mut *connection).into(), &event).await?;
        for message in issuing.invoice_messages(invoice, &number) {
            super::outbox::insert_message((&mut *connection).into(), &message, at).await?;
        }
        Ok(Some(number))
    })
}

/// One invoice's row (`replaces`: the voided invoice it is issued in place
/// of); its number back, or None when its month or number is taken.
async fn insert_invoice_row(
    tx: Tx<'_>,
    number: &str,
    sequence: i64,
    invoice: &NewInvoice,
    replaces: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    db_run!(tx, |connection| {
        Ok(sqlx::query_scalar(close_sql::INSERT_INVOICE)
            .bind(number)
            .bind(&invoice.billing_group_id)
            .bind(sequence)
            .bind(invoice.period_begin)
            .bind(invoice.period_end)
            .bind(invoice.state.as_str())
            .bind(invoice.currency.code())
            .bind(DbDecimal(invoice.exchange_rate))
            .bind(DbDecimal(invoice.vat_rate))
            .bind(&invoice.vat_note)
            .bind(DbDecimal(invoice.total_usd))
            .bind(DbDecimal(invoice.total_vat_zero))
            .bind(DbDecimal(invoice.total_inc_vat))
            .bind(invoice.issue_date)
            .bind(invoice.due_date)
            .bind(&invoice.download_cookie)
            .bind(invoice.payment_method.as_str())
            .bind(JsonText::encode(&invoice.customer))
            .bind(JsonText::encode(&invoice.seller))
            .bind(at)
            .bind(replaces)
            .fetch_optional(connection)
            .await?)
    })
}

/// Writes an invoice issued in place of a voided one, with its lines,
/// inside the caller's transaction (its events and mail come with the
/// correction that voids the other).
pub(super) async fn insert_reissue(
    mut tx: Tx<'_>,
    reissue: &Reissue,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let inserted = insert_invoice_row(
        tx.reborrow(),
        &reissue.invoice_number,
        reissue.sequence_number,
        &reissue.invoice,
        Some(&reissue.replaces),
        at,
    )
    .await?;
    if inserted.is_none() {
        return Err(StoreError::Violation(Violation::Unique(
            "invoices_replaces_key".into(),
        )));
    }
    insert_invoice_lines(tx, &reissue.invoice_number, &reissue.invoice.lines).await
}

/// Takes an invoice's use of a credit off its remaining value, guarded by
/// the value the close read: another writer got there first when it is no
/// longer that (`CreditBalanceChanged`).
async fn use_credit(tx: Tx<'_>, invoice: &NewInvoice, credit_use: &CreditUse) -> StoreResult<()> {
    let remaining = credit_use.remaining_before - credit_use.amount_usd;
    let updated = db_run!(tx, |connection| {
        sqlx::query(
            "UPDATE credits SET remaining_value_usd = $3
             WHERE code = $1 AND billing_group_id = $2 AND remaining_value_usd = $4",
        )
        .bind(&credit_use.code)
        .bind(&invoice.billing_group_id)
        .bind(DbDecimal(remaining))
        .bind(DbDecimal(credit_use.remaining_before))
        .execute(connection)
        .await?
        .rows_affected()
    });
    if updated != 1 {
        return Err(StoreError::Violation(Violation::CreditBalanceChanged));
    }
    Ok(())
}

/// An invoice's lines: many rows per statement (a month close writes
/// hundreds of thousands), through SQLite's own API on that backend.
async fn insert_invoice_lines(
    tx: Tx<'_>,
    invoice_number: &str,
    lines: &[InvoiceLineRecord],
) -> StoreResult<()> {
    const ROWS_PER_STATEMENT: usize = 60;
    match tx {
        PerBackend::Sqlite(connection) => {
            super::sqlite_bulk::insert_invoice_lines(connection, invoice_number, lines).await
        }
        PerBackend::Postgres(connection) => {
            for chunk in lines.chunks(ROWS_PER_STATEMENT) {
                let sql = close_sql::insert_lines(chunk.len(), true);
                let mut query = sqlx::query(&sql);
                for line in chunk {
                    query = query
                        .bind(invoice_number)
                        .bind(line.line_no)
                        .bind(line.line_type.as_str())
                        .bind(&line.description)
                        .bind(&line.project_name)
                        .bind(&line.service_name)
                        .bind(&line.service_type)
                        .bind(&line.service_plan)
                        .bind(&line.cloud_name)
                        .bind(line.hours)
                        .bind(line.timestamp_begin)
                        .bind(line.timestamp_end)
                        .bind(line.line_total_usd)
                        .bind(line.line_total_local)
                        .bind(line.local_currency.code())
                        .bind(&line.credit_code);
                }
                query.execute(&mut *connection).await?;
            }
            Ok(())
        }
    }
}

#[async_trait]
impl Invoices for SqlStore {
    async fn groups_to_invoice(
        &self,
        period_begin: DateTime<Utc>,
        period_end: DateTime<Utc>,
    ) -> StoreResult<Vec<BillingGroupRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups g
                 WHERE g.create_time < $2
                   AND (g.group_state = 'active' OR g.delete_time > $1)
                   AND NOT EXISTS (SELECT 1 FROM invoices i
                                   WHERE i.billing_group_id = g.billing_group_id
                                     AND i.period_begin = $1)
                 ORDER BY g.billing_group_id"
            ))
            .bind(period_begin)
            .bind(period_end)
            .fetch_all(pool)
            .await?)
        })
    }

    fn close_batches_at_once(&self) -> usize {
        match self.pool.as_ref() {
            PerBackend::Sqlite(_) => 1,
            PerBackend::Postgres(_) => 2,
        }
    }

    async fn issue_invoices(
        &self,
        invoices: &[NewInvoice],
        at: DateTime<Utc>,
        issuing: &dyn InvoiceIssuing,
    ) -> StoreResult<Vec<String>> {
        db_write!(self, |tx| {
            let mut issued = Vec::with_capacity(invoices.len());
            let mut rest = invoices;
            while let Some(first) = rest.first() {
                // Runs of invoices without credits go in bulk; an invoice
                // that uses credits also checks and updates them.
                let plain = rest
                    .iter()
                    .take_while(|invoice| invoice.credit_uses.is_empty())
                    .count();
                let (run, after) = rest.split_at(plain);
                match Tx::from(&mut *tx) {
                    PerBackend::Sqlite(connection) if plain > 0 => {
                        issued.extend(
                            super::sqlite_bulk::issue_invoices(connection, run, at, issuing)
                                .await?,
                        );
                        rest = after;
                    }
                    PerBackend::Postgres(connection)
                        if plain > 0 && super::postgres_bulk::fits(run) =>
                    {
                        issued.extend(
                            super::postgres_bulk::issue_invoices(connection, run, at, issuing)
                                .await?,
                        );
                        rest = after;
                    }
                    tx => {
                        issued.extend(issue_invoice(tx, first, at, issuing).await?);
                        rest = &rest[1..];
                    }
                }
            }
            Ok(issued)
        })
    }

    async fn record_month_close(
        &self,
        period_begin: DateTime<Utc>,
        invoices_issued: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO month_closes (period_begin, closed_at, invoices_issued)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (period_begin) DO UPDATE
                 SET closed_at = excluded.closed_at,
                     invoices_issued = month_closes.invoices_issued + excluded.invoices_issued",
            )
            .bind(period_begin)
            .bind(at)
            .bind(invoices_issued)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn invoiced_groups(&self, period_begin: DateTime<Utc>) -> StoreResult<i64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM invoices WHERE period_begin = $1 AND replaces IS NULL",
            )
            .bind(period_begin)
            .fetch_one(pool)
            .await?)
        })
    }

    async fn month_closed(&self, period_begin: DateTime<Utc>) -> StoreResult<bool> {
        let found: i64 = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM month_closes WHERE period_begin = $1")
                .bind(period_begin)
                .fetch_one(pool)
                .await?
        });
        Ok(found > 0)
    }

    async fn acquire_close_lease(
        &self,
        period_begin: DateTime<Utc>,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // Inserted, or taken over when lapsed (or already ours); a running
        // lease of another holder returns no row.
        let taken: Option<String> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_scalar(
                "INSERT INTO month_close_leases (period_begin, holder, expires_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (period_begin) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE month_close_leases.expires_at <= $4
                    OR month_close_leases.holder = excluded.holder
                 RETURNING holder",
            )
            .bind(period_begin)
            .bind(holder)
            .bind(until)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        Ok(taken.as_deref() == Some(holder))
    }

    async fn release_close_lease(
        &self,
        period_begin: DateTime<Utc>,
        holder: &str,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query("DELETE FROM month_close_leases WHERE period_begin = $1 AND holder = $2")
                .bind(period_begin)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn invoices_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<InvoiceRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE billing_group_id = $1
                 ORDER BY period_begin DESC"
            ))
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn invoices_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<InvoiceRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices
                 WHERE billing_group_id IN (SELECT billing_group_id FROM billing_groups
                                            WHERE account_id = $1)
                 ORDER BY period_begin DESC, invoice_number"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn invoice(&self, invoice_number: &str) -> StoreResult<Option<InvoiceRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1"
            ))
            .bind(invoice_number)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn invoice_lines(&self, invoice_number: &str) -> StoreResult<Vec<InvoiceLineRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvoiceLineRecord>(&format!(
                "SELECT {INVOICE_LINE_COLUMNS} FROM invoice_lines WHERE invoice_number = $1
                 ORDER BY line_no"
            ))
            .bind(invoice_number)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn set_invoice_state(
        &self,
        invoice_number: &str,
        change: InvoiceStateChange<'_>,
    ) -> StoreResult<InvoiceRecord> {
        db_write!(self, |tx| {
            let before = sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1{}",
                for_update(&*tx)
            ))
            .bind(invoice_number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let InvoiceStateUpdate {
                state,
                paid_date,
                event,
                notices,
            } = change(&before)?;
            let after = sqlx::query_as::<_, InvoiceRecord>(&format!(
                "UPDATE invoices SET state = $2, paid_date = $3 WHERE invoice_number = $1
                 RETURNING {INVOICE_COLUMNS}"
            ))
            .bind(invoice_number)
            .bind(state.as_str())
            .bind(paid_date)
            .fetch_one(&mut *tx)
            .await?;
            insert_event((&mut *tx).into(), &event).await?;
            for notice in &notices {
                super::outbox::insert_message((&mut *tx).into(), notice, event.create_time).await?;
            }
            Ok(after)
        })
    }
}
