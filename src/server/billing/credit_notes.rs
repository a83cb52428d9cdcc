//! Credit notes as they are read: listed, on their invoice (what was
//! credited and what is left to credit), and as documents (page, PDF, CSV,
//! XML, mail). How they are made: `corrections`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::access::authorized_group;
use super::drafts::line_of;
use super::month_close::invoice_number;
use crate::error::{AppError, AppResult};
use crate::model::ids::GroupId;
use crate::model::invoices::{
    Corrections, CreditNoteFacts, CreditNoteSummary, CreditableLine, InvoiceDetail, InvoiceSummary,
};
use crate::model::money::Money;
use crate::model::states::{CreditNoteKind, InvoiceState, LineType};
use crate::model::{CurrentUser, Role};
use crate::server::store::{
    CreditNoteLineRecord, CreditNoteRecord, InvoiceLineRecord, InvoiceRecord, Store,
};

/// The group's credit note series: `CN-`, the group id's first 12 hex
/// digits and the sequence number (invoices have the same without `CN-`).
pub fn credit_note_number(billing_group_id: &GroupId, sequence: i64) -> String {
    format!("CN-{}", invoice_number(billing_group_id, sequence))
}

/// Lines a credit note may take something off: charges, not VAT (which
/// follows from them) nor the credits an invoice used.
pub(super) fn is_creditable(line: &InvoiceLineRecord) -> bool {
    !matches!(line.line_type, LineType::Vat | LineType::CreditConsumption)
}

/// What is left of each non-VAT line (local, USD) after the credit notes
/// already written, by line number.
pub(super) fn remaining_by_line(
    lines: &[InvoiceLineRecord],
    credited: &[CreditNoteLineRecord],
) -> BTreeMap<i64, (Decimal, Decimal)> {
    let mut remaining: BTreeMap<i64, (Decimal, Decimal)> = lines
        .iter()
        .filter(|l| l.line_type != LineType::Vat)
        .map(|l| (l.line_no, (l.line_total_local.0, l.line_total_usd.0)))
        .collect();
    for line in credited {
        if let Some(left) = line.credited_line_no.and_then(|no| remaining.get_mut(&no)) {
            left.0 += line.line.line_total_local.0;
            left.1 += line.line.line_total_usd.0;
        }
    }
    remaining
}

/// The invoice's totals less its credit notes: (before VAT, VAT).
pub(super) fn remaining_totals(
    invoice: &InvoiceRecord,
    notes: &[CreditNoteRecord],
) -> (Decimal, Decimal) {
    let base: Decimal =
        invoice.total_vat_zero.0 + notes.iter().map(|n| n.total_vat_zero.0).sum::<Decimal>();
    let vat: Decimal = (invoice.total_inc_vat.0 - invoice.total_vat_zero.0)
        + notes
            .iter()
            .map(|n| n.total_inc_vat.0 - n.total_vat_zero.0)
            .sum::<Decimal>();
    (base, vat)
}

pub fn summary_of_note(note: &CreditNoteRecord) -> CreditNoteSummary {
    CreditNoteSummary {
        credit_note_number: note.credit_note_number.clone(),
        invoice_number: note.invoice_number.clone(),
        kind: note.kind,
        reason: note.reason.clone(),
        reissued_as: note.reissued_as.clone(),
        currency: note.currency,
        total_vat_zero: Money::of(note.total_vat_zero.0, note.currency),
        total_inc_vat: Money::of(note.total_inc_vat.0, note.currency),
        issue_date: note.issue_date,
        created_by: note.created_by.clone(),
        create_time: note.create_time,
    }
}

/// An issued invoice's credit notes and what is left to credit on it.
pub async fn corrections_of(
    store: &dyn Store,
    record: &InvoiceRecord,
    lines: &[InvoiceLineRecord],
    group_notes: &[CreditNoteRecord],
) -> AppResult<Corrections> {
    let notes: Vec<CreditNoteRecord> = group_notes
        .iter()
        .filter(|n| n.invoice_number == record.invoice_number)
        .cloned()
        .collect();
    let mut credited = Vec::new();
    for note in &notes {
        credited.extend(store.credit_note_lines(&note.credit_note_number).await?);
    }
    let remaining = remaining_by_line(lines, &credited);
    let (base_left, _) = remaining_totals(record, &notes);
    let void = notes.iter().any(|n| n.kind == CreditNoteKind::Void);
    Ok(Corrections {
        credit_notes: notes.iter().map(summary_of_note).collect(),
        creditable_lines: lines
            .iter()
            .filter(|l| is_creditable(l) && !void)
            .map(|l| CreditableLine {
                line_no: l.line_no,
                description: l.description.clone(),
                line_total: Money::of(l.line_total_local.0, l.local_currency),
                creditable: Money::of(
                    remaining.get(&l.line_no).map_or(Decimal::ZERO, |r| r.0),
                    l.local_currency,
                ),
            })
            .collect(),
        creditable_total: Some(Money::of(
            if void {
                Decimal::ZERO
            } else {
                base_left.max(Decimal::ZERO)
            },
            record.currency,
        )),
    })
}

/// The group's credit notes, newest first.
pub async fn credit_notes_of_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
) -> AppResult<Vec<CreditNoteSummary>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    Ok(store
        .credit_notes_of_group(&group.billing_group_id)
        .await?
        .iter()
        .map(summary_of_note)
        .collect())
}

/// A credit note as a document (page, PDF, CSV, XML): the invoice detail
/// shape with negative lines and what it credits.
async fn note_detail(
    store: &dyn Store,
    note: CreditNoteRecord,
    role: Role,
) -> AppResult<InvoiceDetail> {
    let not_found = || AppError::not_found("Credit note");
    let group = store
        .billing_group(&note.billing_group_id)
        .await?
        .ok_or_else(not_found)?;
    let invoice = store
        .invoice(&note.invoice_number)
        .await?
        .ok_or_else(not_found)?;
    let lines = store.credit_note_lines(&note.credit_note_number).await?;
    let frozen = &note.seller.0;
    let summary = InvoiceSummary {
        invoice_number: note.credit_note_number.clone(),
        period_begin: invoice.period_begin,
        period_end: invoice.period_end,
        state: InvoiceState::Paid,
        currency: note.currency,
        total_vat_zero: Money::of(note.total_vat_zero.0, note.currency),
        total_inc_vat: Money::of(note.total_inc_vat.0, note.currency),
        issue_date: Some(note.issue_date),
        due_date: None,
        overdue_days: None,
        download_cookie: Some(note.download_cookie.clone()),
        credited: None,
        replaces: None,
        reissued_as: None,
        paid_date: None,
    };
    Ok(InvoiceDetail {
        summary,
        billing_group_id: group.billing_group_id.to_string(),
        billing_group_name: group.billing_group_name.clone(),
        billing_group_state: group.group_state,
        role,
        exchange_rate: note.exchange_rate.0,
        vat_rate: note.vat_rate.0,
        vat_note: note.vat_note.clone(),
        total_usd: Money::usd(note.total_usd.0),
        payment_method: note.payment_method,
        seller: frozen.party.clone(),
        customer: note.customer.0.clone(),
        lines: lines.iter().map(|l| line_of(&l.line)).collect(),
        notice: None,
        payment: None,
        pay_to: None,
        credit_note: Some(CreditNoteFacts {
            kind: note.kind,
            reason: note.reason.clone(),
            invoice_number: invoice.invoice_number.clone(),
            invoice_issue_date: invoice.issue_date,
            reissued_as: note.reissued_as.clone(),
        }),
        corrections: Corrections::default(),
    })
}

/// One credit note of a group; another group's answers "not found".
pub async fn credit_note_detail(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    credit_note_number: &str,
) -> AppResult<InvoiceDetail> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let note = store
        .credit_note(credit_note_number.trim())
        .await?
        .filter(|n| n.billing_group_id == group.billing_group_id)
        .ok_or_else(|| AppError::not_found("Credit note"))?;
    note_detail(store, note, role).await
}

/// A credit note as its email carries it.
pub async fn credit_note_for_mail(
    store: &dyn Store,
    credit_note_number: &str,
) -> AppResult<InvoiceDetail> {
    let note = store
        .credit_note(credit_note_number)
        .await?
        .ok_or_else(|| AppError::not_found("Credit note"))?;
    note_detail(store, note, Role::Viewer).await
}
