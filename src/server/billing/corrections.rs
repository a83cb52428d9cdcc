//! Corrections of an issued invoice (PRODUCT.md §9). An issued invoice is
//! never edited: an admin credits it, in full or by line and amount, with
//! a reason — a **credit note** with its own number in the group's own
//! series, the original's number and date, negative amounts, its PDF, CSV,
//! XML, mail and event — or **voids and reissues** it: a credit note for
//! what remains and a new invoice for the same month from the current
//! billing details, each naming the other, in one transaction.
//!
//! What may still be credited is decided on the invoice as the store locks
//! it (`CreditNotes::correct_invoice`), so two admins at once never credit
//! more than the invoice totals.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::access::{authorize, authorized_group};
use super::credit_notes::{
    credit_note_number, is_creditable, remaining_by_line, remaining_totals, summary_of_note,
};
use super::drafts::{customer_of, frozen_seller, state_at_issue, vat_for, vat_line};
use super::month_close::{download_cookie, invoice_number, why_issuing_paused};
use super::webhooks::{credit_note_data, issued_invoice_data, Subscribers};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::amount::parse_amount;
use crate::model::ids::{AccountId, GroupId};
use crate::model::invoices::{CreditNoteSummary, CreditRequest};
use crate::model::money::{Currency, Money};
use crate::model::states::{CreditNoteKind, EventType, InvoiceState, LineType, WebhookEvent};
use crate::model::{CurrentUser, Role};
use crate::server::config::Seller;
use crate::server::store::{
    Correction, CreditNoteLineRecord, CreditNoteRecord, DbDecimal, InvoiceLineRecord,
    InvoiceRecord, JsonText, LockedInvoice, NewEvent, NewInvoice, Reissue, Store,
};

/// Who corrects, when, and as which seller (whose settings a reissued
/// invoice takes, and where the mails link to).
pub struct Corrector<'a> {
    pub seller: &'a Seller,
    /// `PUBLIC_URL` for the mails' links (empty: no link).
    pub link_base: &'a str,
    pub user: &'a CurrentUser,
    pub now: DateTime<Utc>,
}

/// The longest reason a credit note carries.
pub const REASON_MAX: usize = 500;

/// What a caller asked to credit, read before anything is locked: the
/// reason, and the amounts per line (empty: everything that remains).
fn read_request(
    request: &CreditRequest,
    currency: Currency,
) -> AppResult<(String, Vec<(i64, Decimal)>)> {
    let mut errors = Vec::new();
    let reason = request.reason.trim().to_string();
    if reason.is_empty() {
        errors.push(FieldError::new(
            "reason",
            "Say why the invoice is corrected (it is printed on the credit note).",
        ));
    } else if reason.chars().count() > REASON_MAX {
        errors.push(FieldError::new(
            "reason",
            format!("Keep the reason to {REASON_MAX} characters."),
        ));
    }
    let mut amounts: Vec<(i64, Decimal)> = Vec::new();
    for line in &request.lines {
        if line.amount.trim().is_empty() {
            continue;
        }
        let field = format!("line_{}", line.line_no);
        match parse_amount(&line.amount, currency.minor_units()) {
            Ok(amount) if amount > Decimal::ZERO => {
                if amounts.iter().any(|(no, _)| *no == line.line_no) {
                    errors.push(FieldError::new(&field, "This line is given twice."));
                } else {
                    amounts.push((line.line_no, amount));
                }
            }
            Ok(_) => errors.push(FieldError::new(&field, "Credit more than zero.")),
            Err(message) => errors.push(FieldError::new(&field, message)),
        }
    }
    if !request.lines.is_empty() && amounts.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "lines",
            "Enter an amount on at least one line, or credit the invoice in full.",
        ));
    }
    if errors.is_empty() {
        Ok((reason, amounts))
    } else {
        Err(AppError::Invalid { errors })
    }
}

/// What is credited of a line, amounts negative: the line as it was when
/// it is credited whole, else "Part of" it without its hours (which were
/// the whole line's).
fn credit_line(
    line_no: i64,
    of: &InvoiceLineRecord,
    local: Decimal,
    usd: Decimal,
) -> CreditNoteLineRecord {
    CreditNoteLineRecord {
        credited_line_no: Some(of.line_no),
        line: InvoiceLineRecord {
            line_no,
            line_total_local: DbDecimal(-local),
            line_total_usd: DbDecimal(-usd),
            ..part_of(of, local, "Part of")
        },
    }
}

/// `line` as a share `local` of its amount: itself when the whole, else
/// described as `what` of it, without its hours.
fn part_of(line: &InvoiceLineRecord, local: Decimal, what: &str) -> InvoiceLineRecord {
    if local == line.line_total_local.0 {
        return line.clone();
    }
    InvoiceLineRecord {
        description: format!("{what}: {}", line.description),
        hours: None,
        ..line.clone()
    }
}

/// The credit note's lines and VAT on the invoice as locked: `amounts`
/// per line, or (empty) everything that remains. Refused when it would
/// credit more than a line or the invoice has left.
fn credit_lines(
    locked: &LockedInvoice,
    amounts: &[(i64, Decimal)],
) -> AppResult<(Vec<CreditNoteLineRecord>, Decimal)> {
    let invoice = &locked.invoice;
    let currency = invoice.currency;
    let remaining = remaining_by_line(&locked.lines, &locked.credited_lines);
    let (base_left, vat_left) = remaining_totals(invoice, &locked.credit_notes);
    let left = |amount: Decimal| Money::of(amount, currency).shown();
    if base_left <= Decimal::ZERO && vat_left <= Decimal::ZERO {
        return Err(AppError::Conflict {
            message: format!(
                "Invoice {} has nothing left to credit.",
                invoice.invoice_number
            ),
        });
    }
    let mut lines = Vec::new();
    if amounts.is_empty() {
        for line in locked.lines.iter().filter(|l| l.line_type != LineType::Vat) {
            let (local, usd) = remaining.get(&line.line_no).copied().unwrap_or_default();
            if !local.is_zero() || !usd.is_zero() {
                lines.push(credit_line(lines.len() as i64 + 1, line, local, usd));
            }
        }
        return Ok((lines, vat_left));
    }
    let mut errors = Vec::new();
    let mut total = Decimal::ZERO;
    for &(line_no, amount) in amounts {
        let field = format!("line_{line_no}");
        let Some(line) = locked
            .lines
            .iter()
            .find(|l| l.line_no == line_no && is_creditable(l))
        else {
            errors.push(FieldError::new(
                &field,
                format!("Line {line_no} cannot be credited."),
            ));
            continue;
        };
        let (local_left, usd_left) = remaining.get(&line_no).copied().unwrap_or_default();
        if amount > local_left {
            errors.push(FieldError::new(
                &field,
                format!(
                    "At most {} is left to credit on this line.",
                    left(local_left)
                ),
            ));
            continue;
        }
        // USD in the same share of what is left, the whole of it with the
        // last of the line.
        let usd = if amount == local_left {
            usd_left
        } else {
            Currency::USD.round(usd_left * amount / local_left)
        };
        total += amount;
        lines.push(credit_line(lines.len() as i64 + 1, line, amount, usd));
    }
    if errors.is_empty() && total > base_left {
        errors.push(FieldError::new(
            "lines",
            format!(
                "That is {}; the invoice has {} left to credit before VAT.",
                left(total),
                left(base_left)
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid { errors });
    }
    // The last credit takes all the VAT left, so that credit notes sum to
    // the invoice to the cent; before that, the rate on the amount.
    let vat = if total == base_left {
        vat_left
    } else {
        currency
            .round(total * invoice.vat_rate.0 / Decimal::from(100))
            .min(vat_left)
    };
    Ok((lines, vat))
}

/// The credit note record (numbered from the group's series) with its VAT
/// line appended to `lines`.
fn credit_note(
    locked: &LockedInvoice,
    kind: CreditNoteKind,
    reason: &str,
    mut lines: Vec<CreditNoteLineRecord>,
    vat: Decimal,
    by: &Corrector<'_>,
) -> (CreditNoteRecord, Vec<CreditNoteLineRecord>) {
    let (seller, actor, now) = (by.seller, by.user.email.as_str(), by.now);
    let invoice = &locked.invoice;
    let usd_vat = Currency::USD.round(
        -lines
            .iter()
            .map(|l| l.line.line_total_usd.0)
            .sum::<Decimal>()
            * invoice.vat_rate.0
            / Decimal::from(100),
    );
    let vat_of_invoice = locked.lines.iter().find(|l| l.line_type == LineType::Vat);
    let vat_line = CreditNoteLineRecord {
        credited_line_no: vat_of_invoice.map(|l| l.line_no),
        line: InvoiceLineRecord {
            line_no: lines.len() as i64 + 1,
            line_type: LineType::Vat,
            description: vat_of_invoice
                .map(|l| l.description.clone())
                .unwrap_or_else(|| format!("VAT {} %", invoice.vat_rate.0.normalize())),
            project_name: None,
            service_name: None,
            service_type: None,
            service_plan: None,
            cloud_name: None,
            hours: None,
            timestamp_begin: Some(invoice.period_begin),
            timestamp_end: Some(invoice.period_end),
            line_total_usd: DbDecimal(-usd_vat),
            line_total_local: DbDecimal(-vat),
            local_currency: invoice.currency,
            credit_code: None,
        },
    };
    let total_vat_zero: Decimal = lines.iter().map(|l| l.line.line_total_local.0).sum();
    let total_usd: Decimal = lines.iter().map(|l| l.line.line_total_usd.0).sum();
    lines.push(vat_line);
    // The parties as on the invoice (one issued before the seller was kept
    // gets today's seller).
    let seller_frozen = if invoice.seller.0.party.name.is_empty() {
        frozen_seller(seller)
    } else {
        invoice.seller.0.clone()
    };
    let record = CreditNoteRecord {
        credit_note_number: credit_note_number(
            &invoice.billing_group_id,
            locked.next_credit_note_sequence,
        ),
        billing_group_id: invoice.billing_group_id.clone(),
        sequence_number: locked.next_credit_note_sequence,
        invoice_number: invoice.invoice_number.clone(),
        kind,
        reason: reason.to_string(),
        reissued_as: None,
        currency: invoice.currency,
        exchange_rate: invoice.exchange_rate,
        vat_rate: invoice.vat_rate,
        vat_note: invoice.vat_note.clone(),
        total_usd: DbDecimal(total_usd),
        total_vat_zero: DbDecimal(total_vat_zero),
        total_inc_vat: DbDecimal(total_vat_zero - vat),
        issue_date: now.date_naive(),
        download_cookie: download_cookie(),
        payment_method: invoice.payment_method,
        customer: JsonText(invoice.customer.0.clone()),
        seller: JsonText(seller_frozen),
        created_by: actor.to_string(),
        create_time: now,
    };
    (record, lines)
}

fn credited_event(note: &CreditNoteRecord, account_id: &AccountId, at: DateTime<Utc>) -> NewEvent {
    let total = Money::of(note.total_inc_vat.0, note.currency);
    NewEvent {
        billing_group_id: note.billing_group_id.clone(),
        account_id: account_id.clone(),
        actor: note.created_by.clone(),
        event_type: EventType::CreditNoteIssued,
        event_desc: format!(
            "Credit note {} of {total} issued for invoice {}: {}",
            note.credit_note_number, note.invoice_number, note.reason
        ),
        project_name: None,
        details: Some(serde_json::json!({
            "credit_note_number": note.credit_note_number,
            "invoice_number": note.invoice_number,
            "total_inc_vat": total.plain(),
            "reason": note.reason,
        })),
        create_time: at,
    }
}

/// The refusal when issuing is paused or the caller is not an admin of
/// the invoice's group; the invoice otherwise.
async fn invoice_to_correct(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    invoice_number: &str,
) -> AppResult<InvoiceRecord> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    authorize(store, user, &group.account_id, Role::Admin).await?;
    store
        .invoice(invoice_number.trim())
        .await?
        .filter(|i| i.billing_group_id == group.billing_group_id)
        .ok_or_else(|| AppError::not_found("Invoice"))
}

/// An admin credits an issued invoice: in full (no lines), or the amounts
/// given per line, with a reason.
pub async fn credit_invoice(
    store: &dyn Store,
    by: &Corrector<'_>,
    billing_group_id: &GroupId,
    invoice_number: &str,
    request: &CreditRequest,
) -> AppResult<CreditNoteSummary> {
    let (link_base, user, now) = (by.link_base, by.user, by.now);
    let record = invoice_to_correct(store, user, billing_group_id, invoice_number).await?;
    let (reason, amounts) = read_request(request, record.currency)?;
    let subscribers = Subscribers::of_group(store, &record.billing_group_id).await?;
    let rule = |locked: &LockedInvoice| {
        if let Some(reissue) = voided_by(locked) {
            return Err(AppError::Conflict {
                message: format!(
                    "Invoice {} is void (reissued as {reissue}); correct that one instead.",
                    locked.invoice.invoice_number
                ),
            });
        }
        let (lines, vat) = credit_lines(locked, &amounts)?;
        let (note, lines) = credit_note(locked, CreditNoteKind::Credit, &reason, lines, vat, by);
        Ok(Correction {
            events: vec![credited_event(&note, &locked.group.account_id, now)],
            mails: super::mail::credit_note_message(&note, &locked.group.account_id, link_base)
                .into_iter()
                .chain(subscribers.notices(
                    WebhookEvent::CreditNoteIssued,
                    Some(&note.billing_group_id),
                    credit_note_data(&note, &locked.group.account_id),
                    now,
                ))
                .collect(),
            credit_note: note,
            lines,
            reissue: None,
        })
    };
    let written = store
        .correct_invoice(&record.invoice_number, &rule, now)
        .await?;
    Ok(summary_of_note(&written.credit_note))
}

fn voided_by(locked: &LockedInvoice) -> Option<String> {
    locked
        .credit_notes
        .iter()
        .find(|n| n.kind == CreditNoteKind::Void)
        .map(|n| n.reissued_as.clone().unwrap_or_default())
}

/// An admin voids an issued invoice and reissues it from the group's
/// current billing details (for a wrong address or VAT ID): a credit note
/// for everything that remains, and an invoice for the same month with
/// what remained of each line, VAT by today's details, each naming the
/// other. Returns the credit note and the new invoice's number.
pub async fn void_and_reissue(
    store: &dyn Store,
    by: &Corrector<'_>,
    billing_group_id: &GroupId,
    invoice_number: &str,
    reason: &str,
) -> AppResult<(CreditNoteSummary, String)> {
    let (seller, link_base, user, now) = (by.seller, by.link_base, by.user, by.now);
    let record = invoice_to_correct(store, user, billing_group_id, invoice_number).await?;
    let request = CreditRequest {
        reason: reason.to_string(),
        lines: Vec::new(),
    };
    let (reason, _) = read_request(&request, record.currency)?;
    if let Some(why) = why_issuing_paused(seller) {
        return Err(AppError::Conflict {
            message: format!("No invoice can be reissued now: {why}"),
        });
    }
    let subscribers = Subscribers::of_group(store, &record.billing_group_id).await?;
    let rule = |locked: &LockedInvoice| {
        let invoice = &locked.invoice;
        if let Some(reissue) = voided_by(locked) {
            return Err(AppError::Conflict {
                message: format!(
                    "Invoice {} is already void (reissued as {reissue}).",
                    invoice.invoice_number
                ),
            });
        }
        if matches!(
            invoice.state,
            InvoiceState::Waived | InvoiceState::Uncollectible
        ) {
            return Err(AppError::Conflict {
                message: format!(
                    "Invoice {} is {}; only an invoice to be paid or paid is reissued.",
                    invoice.invoice_number, invoice.state
                ),
            });
        }
        let remaining = remaining_by_line(&locked.lines, &locked.credited_lines);
        let (lines, vat) = credit_lines(locked, &[])?;
        let (mut note, lines) = credit_note(locked, CreditNoteKind::Void, &reason, lines, vat, by);
        let reissue = reissue_of(locked, &remaining, seller, now);
        note.reissued_as = Some(reissue.invoice_number.clone());
        let account_id = &locked.group.account_id;
        let total = Money::of(reissue.invoice.total_inc_vat, reissue.invoice.currency);
        let events = vec![
            credited_event(&note, account_id, now),
            NewEvent {
                event_type: EventType::InvoiceVoided,
                event_desc: format!(
                    "Invoice {} voided by credit note {} and reissued as {}: {reason}",
                    invoice.invoice_number, note.credit_note_number, reissue.invoice_number
                ),
                details: Some(serde_json::json!({
                    "invoice_number": invoice.invoice_number,
                    "credit_note_number": note.credit_note_number,
                    "reissued_as": reissue.invoice_number,
                    "reason": reason,
                })),
                ..credited_event(&note, account_id, now)
            },
            NewEvent {
                event_type: EventType::InvoiceIssued,
                event_desc: format!(
                    "Invoice {} for {} issued for {total} in place of invoice {}",
                    reissue.invoice_number,
                    invoice.period_begin.format("%Y-%m"),
                    invoice.invoice_number
                ),
                details: Some(serde_json::json!({
                    "invoice_number": reissue.invoice_number,
                    "replaces": invoice.invoice_number,
                    "total_inc_vat": total.plain(),
                })),
                ..credited_event(&note, account_id, now)
            },
        ];
        let mut mails: Vec<_> = super::mail::credit_note_message(&note, account_id, link_base)
            .into_iter()
            .collect();
        mails.extend(super::mail::invoice_message(
            &reissue.invoice,
            &reissue.invoice_number,
            seller,
            link_base,
        ));
        mails.extend(subscribers.notices(
            WebhookEvent::CreditNoteIssued,
            Some(&note.billing_group_id),
            credit_note_data(&note, account_id),
            now,
        ));
        mails.extend(subscribers.notices(
            WebhookEvent::InvoiceIssued,
            Some(&note.billing_group_id),
            issued_invoice_data(&reissue.invoice, &reissue.invoice_number),
            now,
        ));
        Ok(Correction {
            credit_note: note,
            lines,
            reissue: Some(reissue),
            events,
            mails,
        })
    };
    let written = store
        .correct_invoice(&record.invoice_number, &rule, now)
        .await?;
    let reissued = written
        .reissue
        .map(|r| r.invoice_number)
        .unwrap_or_default();
    Ok((summary_of_note(&written.credit_note), reissued))
}

/// The invoice issued in place of a voided one: what remained of each of
/// its lines, for the same month at the same rate, to the group's billing
/// details and VAT as they are now, by today's seller.
fn reissue_of(
    locked: &LockedInvoice,
    remaining: &BTreeMap<i64, (Decimal, Decimal)>,
    seller: &Seller,
    now: DateTime<Utc>,
) -> Reissue {
    let original = &locked.invoice;
    let group = &locked.group;
    let period = (original.period_begin, original.period_end);
    let mut lines: Vec<InvoiceLineRecord> = Vec::new();
    for line in locked.lines.iter().filter(|l| l.line_type != LineType::Vat) {
        let (local, usd) = remaining.get(&line.line_no).copied().unwrap_or_default();
        if local.is_zero() && usd.is_zero() {
            continue;
        }
        lines.push(InvoiceLineRecord {
            line_no: lines.len() as i64 + 1,
            line_total_local: DbDecimal(local),
            line_total_usd: DbDecimal(usd),
            ..part_of(line, local, "Rest of")
        });
    }
    let vat = vat_for(seller, &group.country_code, &group.vat_id);
    let total_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let total_vat_zero: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let vat_line = vat_line(&lines, &vat, original.currency, period);
    let total_inc_vat = total_vat_zero + vat_line.line_total_local.0;
    lines.push(vat_line);
    let issue_date = now.date_naive();
    // A paid invoice's payment carries over to its replacement.
    let state = if original.state == InvoiceState::Paid {
        InvoiceState::Paid
    } else {
        state_at_issue(group.payment_method, total_inc_vat)
    };
    let sequence = locked.next_invoice_sequence;
    Reissue {
        invoice_number: invoice_number(&group.billing_group_id, sequence),
        sequence_number: sequence,
        replaces: original.invoice_number.clone(),
        invoice: NewInvoice {
            billing_group_id: group.billing_group_id.clone(),
            account_id: group.account_id.clone(),
            period_begin: period.0,
            period_end: period.1,
            state,
            currency: original.currency,
            exchange_rate: original.exchange_rate.0,
            vat_rate: vat.rate,
            vat_note: vat.note,
            total_usd,
            total_vat_zero,
            total_inc_vat,
            issue_date,
            due_date: issue_date + Duration::days(seller.net_days),
            download_cookie: download_cookie(),
            payment_method: group.payment_method,
            customer: customer_of(group),
            seller: frozen_seller(seller),
            lines,
            credit_uses: Vec::new(),
        },
    }
}
