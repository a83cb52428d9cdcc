//! Invoice types shared by the pages and the server (rule 8).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::states::{CreditNoteKind, GroupState, InvoiceState, LineType, PaymentMethod};
use super::Role;

/// The path segment and number of the running month's invoice.
pub const ESTIMATE: &str = "estimate";

/// An invoice as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    /// `estimate` for the running month.
    pub invoice_number: String,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub state: InvoiceState,
    pub currency: Currency,
    pub total_vat_zero: Money,
    pub total_inc_vat: Money,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Days past its due date, for an invoice still to be paid; derived
    /// when read (see [`overdue_days`]), never stored.
    pub overdue_days: Option<i64>,
    /// Key of the invoice's PDF link in the REST API (issued invoices only).
    pub download_cookie: Option<String>,
    /// What credit notes took off it, VAT included (a positive amount;
    /// None when nothing was credited).
    #[serde(default)]
    pub credited: Option<Money>,
    /// The voided invoice this one was issued in place of.
    #[serde(default)]
    pub replaces: Option<String>,
    /// The invoice issued in place of this one, voided.
    #[serde(default)]
    pub reissued_as: Option<String>,
}

impl InvoiceSummary {
    /// Issued, not settled, and something of it remains to be paid.
    pub fn is_open(&self) -> bool {
        self.state.is_open() && self.remaining_due().amount > Decimal::ZERO
    }

    /// The total less what credit notes took off.
    pub fn remaining_due(&self) -> Money {
        match self.credited {
            Some(credited) => self.total_inc_vat + -credited,
            None => self.total_inc_vat,
        }
    }

    /// How a person reads its standing: its state, unless credit notes
    /// settled it.
    pub fn standing(&self) -> &'static str {
        if self.reissued_as.is_some() {
            "Void"
        } else if self.credited.is_some() && self.remaining_due().amount <= Decimal::ZERO {
            "Credited"
        } else {
            self.state.label()
        }
    }
}

/// How many days an invoice is past due on `today`: its due date has
/// passed, it is not paid, waived or uncollectible (nor an estimate), and
/// credit notes left something of it to pay.
pub fn overdue_days(
    state: InvoiceState,
    due_date: Option<NaiveDate>,
    remaining_due: Decimal,
    today: NaiveDate,
) -> Option<i64> {
    let days = (today - due_date?).num_days();
    (state.is_open() && remaining_due > Decimal::ZERO && days > 0).then_some(days)
}

/// A credit note as listed: on the invoice it credits, in the group's list
/// and in the API. Amounts are negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteSummary {
    pub credit_note_number: String,
    pub invoice_number: String,
    pub kind: CreditNoteKind,
    pub reason: String,
    /// A void's replacement invoice.
    pub reissued_as: Option<String>,
    pub currency: Currency,
    pub total_vat_zero: Money,
    pub total_inc_vat: Money,
    pub issue_date: NaiveDate,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

/// What an admin credits on an invoice: a reason, and either everything
/// that remains (no lines) or amounts per line, typed in the invoice's
/// currency before VAT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRequest {
    pub reason: String,
    #[serde(default)]
    pub lines: Vec<CreditedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditedLine {
    pub line_no: i64,
    /// As typed (`12,50` and `12.50` both read as twelve and a half).
    pub amount: String,
}

/// What can still be credited on an invoice line, before VAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditableLine {
    pub line_no: i64,
    pub description: String,
    pub line_total: Money,
    pub creditable: Money,
}

/// An issued invoice's corrections: its credit notes, and what is left to
/// credit, per line and in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corrections {
    pub credit_notes: Vec<CreditNoteSummary>,
    pub creditable_lines: Vec<CreditableLine>,
    /// Before VAT; zero once credited in full.
    pub creditable_total: Option<Money>,
}

/// A credit note as a document: what it credits and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteFacts {
    pub kind: CreditNoteKind,
    pub reason: String,
    pub invoice_number: String,
    pub invoice_issue_date: NaiveDate,
    pub reissued_as: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// From 1, in the order printed (what a credit note refers to).
    #[serde(default)]
    pub line_no: i64,
    pub line_type: LineType,
    pub description: String,
    pub project_name: Option<String>,
    pub service_name: Option<String>,
    pub service_type: Option<String>,
    pub service_plan: Option<String>,
    pub cloud_name: Option<String>,
    pub hours: Option<i64>,
    pub timestamp_begin: Option<DateTime<Utc>>,
    pub timestamp_end: Option<DateTime<Utc>>,
    pub line_total_usd: Money,
    pub line_total_local: Money,
    pub local_currency: Currency,
    /// The credit a `credit_consumption` line used.
    pub credit_code: Option<String>,
}

/// A party on an invoice: the seller, or the customer as on the issue date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceParty {
    pub name: String,
    pub address_lines: Vec<String>,
    pub country_code: String,
    pub country: String,
    pub vat_id: String,
    /// The seller's company registration number (customers: empty; absent
    /// in parties frozen before it existed).
    #[serde(default)]
    pub business_id: String,
    pub emails: Vec<String>,
    pub extra_text: String,
}

/// The seller as frozen with an issued invoice: who issued it and where it
/// is to be paid, as on its issue date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrozenSeller {
    pub party: InvoiceParty,
    pub iban: String,
    pub bic: String,
    pub bank_name: String,
}

/// An invoice with its lines, as its page, PDF and CSV show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDetail {
    pub summary: InvoiceSummary,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub billing_group_state: GroupState,
    pub role: Role,
    pub exchange_rate: Decimal,
    pub vat_rate: Decimal,
    pub vat_note: String,
    pub total_usd: Money,
    pub payment_method: PaymentMethod,
    pub seller: InvoiceParty,
    pub customer: InvoiceParty,
    pub lines: Vec<InvoiceLine>,
    /// Set when something about the figures needs saying (e.g. no
    /// exchange rate yet for the running month).
    pub notice: Option<String>,
    /// How to pay it by bank transfer: issued invoices not paid by card.
    pub payment: Option<crate::model::payment::PaymentInstructions>,
    /// The account it is payable to, whatever its state now (the
    /// e-invoice states how it was to be paid, also once paid): issued
    /// invoices not paid by card.
    #[serde(default)]
    pub pay_to: Option<crate::model::payment::PaymentInstructions>,
    /// Set when the document is a credit note (its number is the
    /// summary's `invoice_number`, its amounts negative).
    #[serde(default)]
    pub credit_note: Option<CreditNoteFacts>,
    /// An issued invoice's credit notes and what remains to credit.
    #[serde(default)]
    pub corrections: Corrections,
}

impl InvoiceDetail {
    /// Lines grouped by project (lines without one, like VAT, last), with
    /// the group's local subtotal.
    pub fn lines_by_project(&self) -> Vec<(Option<String>, Vec<InvoiceLine>, Money)> {
        let mut groups: Vec<(Option<String>, Vec<InvoiceLine>, Money)> = Vec::new();
        let mut lines: Vec<&InvoiceLine> = self.lines.iter().collect();
        lines.sort_by_key(|l| (l.project_name.is_none(), l.project_name.clone()));
        for line in lines {
            match groups.last_mut() {
                Some((project, group, subtotal)) if *project == line.project_name => {
                    group.push(line.clone());
                    *subtotal = *subtotal + line.line_total_local;
                }
                _ => groups.push((
                    line.project_name.clone(),
                    vec![line.clone()],
                    line.line_total_local,
                )),
            }
        }
        groups
    }
}

/// Month-to-date cost by day, stacked by project, and the last 12 months.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostChart {
    /// Projects in stacking order.
    pub projects: Vec<String>,
    /// (day, USD per project in `projects` order).
    pub days: Vec<(NaiveDate, Vec<Decimal>)>,
    /// ("YYYY-MM", USD), oldest first, the running month last.
    pub months: Vec<(String, Decimal)>,
}

/// Sorts invoices by one of their fields (Aiven's names: `invoice_number`,
/// `period_begin`, `period_end`, `state`, `currency`, `total_inc_vat`,
/// `total_vat_zero`; anything else sorts by period), ascending or not. The
/// Invoices tab and the REST API's `?sort=` both use it.
pub fn sort_invoices(invoices: &mut [InvoiceSummary], field: &str, descending: bool) {
    match field {
        "invoice_number" => invoices.sort_by(|a, b| a.invoice_number.cmp(&b.invoice_number)),
        "period_end" => invoices.sort_by_key(|i| i.period_end),
        "state" => invoices.sort_by(|a, b| a.state.as_str().cmp(b.state.as_str())),
        "currency" => invoices.sort_by(|a, b| a.currency.code().cmp(b.currency.code())),
        "total_inc_vat" => invoices.sort_by_key(|i| i.total_inc_vat.amount),
        "total_vat_zero" => invoices.sort_by_key(|i| i.total_vat_zero.amount),
        _ => invoices.sort_by_key(|i| i.period_begin),
    }
    if descending {
        invoices.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a day of November")
    }

    #[test]
    fn an_unpaid_invoice_is_overdue_the_day_after_its_due_date() {
        for state in [
            InvoiceState::Issued,
            InvoiceState::Mailed,
            InvoiceState::Due,
        ] {
            assert_eq!(
                overdue_days(state, Some(day(15)), Decimal::ONE, day(15)),
                None
            );
            assert_eq!(
                overdue_days(state, Some(day(15)), Decimal::ONE, day(16)),
                Some(1)
            );
            assert_eq!(
                overdue_days(state, Some(day(15)), Decimal::ONE, day(30)),
                Some(15)
            );
        }
    }

    #[test]
    fn settled_invoices_and_estimates_are_never_overdue() {
        for state in [
            InvoiceState::Paid,
            InvoiceState::Waived,
            InvoiceState::Uncollectible,
            InvoiceState::Estimate,
        ] {
            assert_eq!(
                overdue_days(state, Some(day(1)), Decimal::ONE, day(30)),
                None
            );
        }
        assert_eq!(
            overdue_days(InvoiceState::Due, None, Decimal::ONE, day(30)),
            None
        );
    }

    #[test]
    fn an_invoice_credited_in_full_is_never_overdue() {
        assert_eq!(
            overdue_days(InvoiceState::Due, Some(day(1)), Decimal::ZERO, day(30)),
            None
        );
    }
}
