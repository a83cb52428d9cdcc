//! Credit notes: written with their lines, events and mails (and, for a
//! void, the reissued invoice) in one transaction, against the credited
//! invoice as locked.

use crate::model::ids::{AccountId, GroupId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::{StoreError, StoreResult};
use super::events::insert_event;
use super::group_rows::lock_group;
use super::invoices::{insert_reissue, INVOICE_COLUMNS, INVOICE_LINE_COLUMNS};
use super::pool::{db_run, db_write, for_update, SqlStore, Tx};
use super::records::*;
use super::traits::{CorrectionRule, CreditNotes};

const CREDIT_NOTE_COLUMNS: &str = "credit_note_number, billing_group_id, sequence_number,
    invoice_number, kind, reason, reissued_as, currency, exchange_rate, vat_rate, vat_note,
    total_usd, total_vat_zero, total_inc_vat, issue_date, download_cookie, payment_method,
    customer, seller, created_by, create_time";

const CREDIT_NOTE_LINE_COLUMNS: &str = "credited_line_no, line_no, line_type, description,
    project_name, service_name, service_type, service_plan, cloud_name, hours, timestamp_begin,
    timestamp_end, line_total_usd, line_total_local, local_currency, credit_code";

async fn insert_credit_note(tx: Tx<'_>, note: &CreditNoteRecord) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(&format!(
            "INSERT INTO credit_notes ({CREDIT_NOTE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21)"
        ))
        .bind(&note.credit_note_number)
        .bind(&note.billing_group_id)
        .bind(note.sequence_number)
        .bind(&note.invoice_number)
        .bind(note.kind.as_str())
        .bind(&note.reason)
        .bind(&note.reissued_as)
        .bind(note.currency.code())
        .bind(note.exchange_rate)
        .bind(note.vat_rate)
        .bind(&note.vat_note)
        .bind(note.total_usd)
        .bind(note.total_vat_zero)
        .bind(note.total_inc_vat)
        .bind(note.issue_date)
        .bind(&note.download_cookie)
        .bind(note.payment_method.as_str())
        .bind(JsonText::encode(&note.customer.0))
        .bind(JsonText::encode(&note.seller.0))
        .bind(&note.created_by)
        .bind(note.create_time)
        .execute(connection)
        .await?;
    });
    Ok(())
}

async fn insert_credit_note_line(
    tx: Tx<'_>,
    number: &str,
    line: &CreditNoteLineRecord,
) -> StoreResult<()> {
    let l = &line.line;
    db_run!(tx, |connection| {
        sqlx::query(&format!(
            "INSERT INTO credit_note_lines (credit_note_number, {CREDIT_NOTE_LINE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(number)
        .bind(line.credited_line_no)
        .bind(l.line_no)
        .bind(l.line_type.as_str())
        .bind(&l.description)
        .bind(&l.project_name)
        .bind(&l.service_name)
        .bind(&l.service_type)
        .bind(&l.service_plan)
        .bind(&l.cloud_name)
        .bind(l.hours)
        .bind(l.timestamp_begin)
        .bind(l.timestamp_end)
        .bind(l.line_total_usd)
        .bind(l.line_total_local)
        .bind(l.local_currency.code())
        .bind(&l.credit_code)
        .execute(connection)
        .await?;
    });
    Ok(())
}

#[async_trait]
impl CreditNotes for SqlStore {
    async fn correct_invoice(
        &self,
        invoice_number: &str,
        rule: CorrectionRule<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<Correction> {
        db_write!(self, |tx| {
            let invoice = sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1"
            ))
            .bind(invoice_number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            // The group first, then the invoice: both series are the
            // group's, and every writer of either locks in this order.
            let group = lock_group((&mut *tx).into(), &invoice.billing_group_id).await?;
            let invoice = sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1{}",
                for_update(&*tx)
            ))
            .bind(invoice_number)
            .fetch_one(&mut *tx)
            .await?;
            let lines = sqlx::query_as::<_, InvoiceLineRecord>(&format!(
                "SELECT {INVOICE_LINE_COLUMNS} FROM invoice_lines WHERE invoice_number = $1
                 ORDER BY line_no"
            ))
            .bind(invoice_number)
            .fetch_all(&mut *tx)
            .await?;
            let credit_notes = sqlx::query_as::<_, CreditNoteRecord>(&format!(
                "SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes WHERE invoice_number = $1
                 ORDER BY sequence_number"
            ))
            .bind(invoice_number)
            .fetch_all(&mut *tx)
            .await?;
            let credited_lines = sqlx::query_as::<_, CreditNoteLineRecord>(&format!(
                "SELECT {CREDIT_NOTE_LINE_COLUMNS} FROM credit_note_lines l
                 JOIN credit_notes n ON n.credit_note_number = l.credit_note_number
                 WHERE n.invoice_number = $1 ORDER BY l.credit_note_number, l.line_no"
            ))
            .bind(invoice_number)
            .fetch_all(&mut *tx)
            .await?;
            let next_credit_note_sequence: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM credit_notes
                 WHERE billing_group_id = $1",
            )
            .bind(&invoice.billing_group_id)
            .fetch_one(&mut *tx)
            .await?;
            let next_invoice_sequence: i64 = sqlx::query_scalar(super::close_sql::NEXT_SEQUENCE)
                .bind(&invoice.billing_group_id)
                .fetch_one(&mut *tx)
                .await?;
            let locked = LockedInvoice {
                group,
                invoice,
                lines,
                credit_notes,
                credited_lines,
                next_credit_note_sequence,
                next_invoice_sequence,
            };
            let correction = rule(&locked)?;
            if let Some(reissue) = &correction.reissue {
                insert_reissue((&mut *tx).into(), reissue, at).await?;
            }
            insert_credit_note((&mut *tx).into(), &correction.credit_note).await?;
            for line in &correction.lines {
                insert_credit_note_line(
                    (&mut *tx).into(),
                    &correction.credit_note.credit_note_number,
                    line,
                )
                .await?;
            }
            for event in &correction.events {
                insert_event((&mut *tx).into(), event).await?;
            }
            for mail in &correction.mails {
                super::outbox::insert_message((&mut *tx).into(), mail, at).await?;
            }
            Ok(correction)
        })
    }

    async fn credit_notes_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<CreditNoteRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditNoteRecord>(&format!(
                "SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes WHERE billing_group_id = $1
                 ORDER BY sequence_number DESC"
            ))
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn credit_notes_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<CreditNoteRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditNoteRecord>(&format!(
                "SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes
                 WHERE billing_group_id IN (SELECT billing_group_id FROM billing_groups
                                            WHERE account_id = $1)
                 ORDER BY sequence_number DESC"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn credit_note(&self, credit_note_number: &str) -> StoreResult<Option<CreditNoteRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditNoteRecord>(&format!(
                "SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes WHERE credit_note_number = $1"
            ))
            .bind(credit_note_number)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn credit_note_lines(
        &self,
        credit_note_number: &str,
    ) -> StoreResult<Vec<CreditNoteLineRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditNoteLineRecord>(&format!(
                "SELECT {CREDIT_NOTE_LINE_COLUMNS} FROM credit_note_lines
                 WHERE credit_note_number = $1 ORDER BY line_no"
            ))
            .bind(credit_note_number)
            .fetch_all(pool)
            .await?)
        })
    }
}
