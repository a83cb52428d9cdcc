//! Invoice types shared by the pages and the server (rule 8).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::states::{CreditNoteKind, GroupState, InvoiceState, LineType, PaymentMethod};
use super::Role;

/// The path segment and number of the running month's invoice.
pub const ESTIMATE: &str = "estimate";

/// What every page calls the running month's estimate (one name).
pub const ESTIMATE_LABEL: &str = "Estimate (running month)";

/// An account's issued invoices across its billing groups, deleted ones
/// included (the account's Invoices tab), newest period first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInvoices {
    pub account_id: String,
    pub account_name: String,
    pub invoices: Vec<AccountInvoice>,
}

/// One invoice of [`AccountInvoices`] with the group it bills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInvoice {
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub summary: InvoiceSummary,
}

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
    /// When it was paid: marked paid by an admin, or paid at issue (card,
    /// or nothing to pay).
    #[serde(default)]
    pub paid_date: Option<NaiveDate>,
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

    /// What is still to be paid on it: what remains of an open invoice,
    /// nothing on a settled one; None for the estimate.
    pub fn outstanding(&self) -> Option<Money> {
        if self.state == InvoiceState::Estimate {
            return None;
        }
        Some(if self.is_open() {
            self.remaining_due()
        } else {
            Money::zero(self.currency)
        })
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
    /// The last 12 months ("YYYY-MM"), oldest first, the running month last.
    pub months: Vec<(String, MonthBar)>,
}

/// A month of the 12-month chart: what its bar stands for, in USD before
/// VAT and after credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MonthBar {
    /// Its invoice, less what credit notes took off it.
    Invoiced(Decimal),
    /// The running month's estimate.
    Running(Decimal),
    /// Ended but not invoiced yet (its close has not run).
    NotInvoiced,
    /// Before the group existed.
    BeforeGroup,
}

impl MonthBar {
    /// The amount drawn, if the month has one.
    pub fn usd(self) -> Option<Decimal> {
        match self {
            MonthBar::Invoiced(usd) | MonthBar::Running(usd) => Some(usd),
            MonthBar::NotInvoiced | MonthBar::BeforeGroup => None,
        }
    }
}

/// Sorts invoices by one of their fields (Aiven's names: `invoice_number`,
/// `period_begin`, `period_end`, `state`, `currency`, `total_inc_vat`,
/// `total_vat_zero`; anything else sorts by period), ascending or not. The
/// Invoices tab and the REST API's `?sort=` both use it.
pub fn sort_invoices(invoices: &mut [InvoiceSummary], field: &str, descending: bool) {
    match field {
        "invoice_number" => invoices.sort_by(|a, b| a.invoice_number.cmp(&b.invoice_number)),
        "period_end" => invoices.sort_by_key(|i| i.period_end),
        "issue_date" => invoices.sort_by_key(|i| i.issue_date),
        "due_date" => invoices.sort_by_key(|i| i.due_date),
        "paid_date" => invoices.sort_by_key(|i| i.paid_date),
        "outstanding" => invoices.sort_by_key(|i| i.outstanding().map(|m| m.amount)),
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

/// The Invoices tab's sort keys (`?sort=`, also its CSV export's) as the
/// invoice fields [`sort_invoices`] sorts by.
pub fn list_sort_field(key: &str) -> &'static str {
    match key {
        "number" => "invoice_number",
        "state" => "state",
        "excl" => "total_vat_zero",
        "total" => "total_inc_vat",
        "outstanding" => "outstanding",
        "currency" => "currency",
        "issued" => "issue_date",
        "due" => "due_date",
        "paid" => "paid_date",
        _ => "period_begin",
    }
}

/// Which invoices a list shows, as the Invoices tab's query says it
/// (`show`, `reference`, `from`, `to`), for the tab and its CSV export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// `open`, `overdue`, or anything else for all.
    pub show: String,
    pub search: Option<crate::model::payment::InvoiceSearch>,
    /// Periods from this month on (its first day).
    pub from: Option<NaiveDate>,
    /// Periods up to this month (its first day).
    pub to: Option<NaiveDate>,
}

/// A month typed as `YYYY-MM` (what `<input type="month">` sends): its
/// first day, or the message for the field.
pub fn parse_month(text: &str) -> Result<Option<NaiveDate>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("'{text}' is not a month: write it as 2026-10."))
}

impl InvoiceFilter {
    pub fn keeps(&self, invoice: &InvoiceSummary) -> bool {
        let month = invoice.period_begin.date_naive();
        (match self.show.as_str() {
            "open" => invoice.is_open(),
            "overdue" => invoice.overdue_days.is_some(),
            _ => true,
        }) && self
            .search
            .as_ref()
            .is_none_or(|search| search.matches(&invoice.invoice_number))
            && self.from.is_none_or(|from| month >= from)
            && self.to.is_none_or(|to| month <= to)
    }
}

/// The totals of a list of invoices, one row per currency (a group's
/// currency can change from one month to the next): (currency, how many,
/// excl. VAT, incl. VAT, outstanding). The estimate is not an invoice and
/// is not counted.
pub fn invoice_totals(invoices: &[InvoiceSummary]) -> Vec<(Currency, usize, Money, Money, Money)> {
    let mut totals: Vec<(Currency, usize, Money, Money, Money)> = Vec::new();
    for invoice in invoices
        .iter()
        .filter(|i| i.state != InvoiceState::Estimate)
    {
        let outstanding = invoice
            .outstanding()
            .unwrap_or_else(|| Money::zero(invoice.currency));
        match totals.iter_mut().find(|t| t.0 == invoice.currency) {
            Some(total) => {
                total.1 += 1;
                total.2 = total.2 + invoice.total_vat_zero;
                total.3 = total.3 + invoice.total_inc_vat;
                total.4 = total.4 + outstanding;
            }
            None => totals.push((
                invoice.currency,
                1,
                invoice.total_vat_zero,
                invoice.total_inc_vat,
                outstanding,
            )),
        }
    }
    totals
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

    fn listed(number: &str, month: u32, state: InvoiceState, total: &str) -> InvoiceSummary {
        let begin = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, month, 1, 0, 0, 0).unwrap();
        let total = Money::of(total.parse().unwrap(), Currency::EUR);
        InvoiceSummary {
            invoice_number: number.into(),
            period_begin: begin,
            period_end: begin + chrono::Duration::days(30),
            state,
            currency: Currency::EUR,
            total_vat_zero: total,
            total_inc_vat: total,
            issue_date: Some(day(1)),
            due_date: Some(day(15)),
            overdue_days: None,
            download_cookie: None,
            credited: None,
            replaces: None,
            reissued_as: None,
            paid_date: None,
        }
    }

    #[test]
    fn the_invoices_list_filters_by_months_and_totals_what_it_shows() {
        let list = vec![
            listed(ESTIMATE, 11, InvoiceState::Estimate, "5.00"),
            listed("A-0003", 10, InvoiceState::Mailed, "1000.00"),
            listed("A-0002", 9, InvoiceState::Paid, "200.50"),
            listed("A-0001", 8, InvoiceState::Due, "30.25"),
        ];
        let filter = InvoiceFilter {
            from: parse_month("2026-09").unwrap(),
            to: parse_month(" 2026-10 ").unwrap(),
            ..InvoiceFilter::default()
        };
        let kept: Vec<&str> = list
            .iter()
            .filter(|i| filter.keeps(i))
            .map(|i| i.invoice_number.as_str())
            .collect();
        assert_eq!(kept, ["A-0003", "A-0002"]);
        assert!(parse_month("10/2026").is_err());
        assert_eq!(parse_month("").unwrap(), None);
        // The estimate is not counted; what is paid is not outstanding.
        let totals = invoice_totals(&list);
        assert_eq!(totals.len(), 1);
        let (currency, count, excl, incl, outstanding) = totals[0];
        assert_eq!((currency, count), (Currency::EUR, 3));
        assert_eq!(excl.grouped(), "1,230.75");
        assert_eq!(incl.grouped(), "1,230.75");
        assert_eq!(outstanding.grouped(), "1,030.25");
    }

    #[test]
    fn every_column_of_the_invoices_list_sorts() {
        let mut list = vec![
            listed("A-0001", 8, InvoiceState::Due, "30.25"),
            listed("A-0003", 10, InvoiceState::Paid, "1000.00"),
            listed("A-0002", 9, InvoiceState::Mailed, "200.50"),
        ];
        sort_invoices(&mut list, list_sort_field("outstanding"), true);
        let numbers: Vec<&str> = list.iter().map(|i| i.invoice_number.as_str()).collect();
        assert_eq!(numbers, ["A-0002", "A-0001", "A-0003"], "paid owes nothing");
        for key in [
            "number",
            "period",
            "state",
            "excl",
            "total",
            "outstanding",
            "currency",
            "issued",
            "due",
            "paid",
        ] {
            assert!(!list_sort_field(key).is_empty(), "{key}");
        }
    }

    #[test]
    fn an_invoice_credited_in_full_is_never_overdue() {
        assert_eq!(
            overdue_days(InvoiceState::Due, Some(day(1)), Decimal::ZERO, day(30)),
            None
        );
    }
}
