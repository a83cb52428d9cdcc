//! Invoice types shared by the pages and the server (rule 8).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::states::{GroupState, InvoiceState, LineType, PaymentMethod};
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
}

impl InvoiceSummary {
    /// Issued and still to be paid (see [`InvoiceState::is_open`]).
    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }
}

/// How many days an invoice is past due on `today`: its due date has
/// passed and it is not paid, waived or uncollectible (nor an estimate).
pub fn overdue_days(
    state: InvoiceState,
    due_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<i64> {
    let days = (today - due_date?).num_days();
    (state.is_open() && days > 0).then_some(days)
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
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
            assert_eq!(overdue_days(state, Some(day(15)), day(15)), None);
            assert_eq!(overdue_days(state, Some(day(15)), day(16)), Some(1));
            assert_eq!(overdue_days(state, Some(day(15)), day(30)), Some(15));
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
            assert_eq!(overdue_days(state, Some(day(1)), day(30)), None);
        }
        assert_eq!(overdue_days(InvoiceState::Due, None, day(30)), None);
    }
}
