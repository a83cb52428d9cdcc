//! Invoices, their lines and credit notes on the wire.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::amount;
use crate::model::invoices::{CreditNoteSummary, InvoiceLine, InvoiceSummary};
use crate::model::states::GroupState;

/// Fields `?sort=` accepts (as `avn billing-group invoice-list --sort`).
pub const INVOICE_SORTS: [&str; 7] = [
    "invoice_number",
    "period_begin",
    "period_end",
    "state",
    "currency",
    "total_inc_vat",
    "total_vat_zero",
];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicesQuery {
    pub sort: Option<String>,
    /// An RF payment reference (spaces allowed), or part of an invoice number.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceWire {
    /// `estimate` for the running month.
    pub invoice_number: String,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub billing_group_state: String,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `estimate`, `issued` (pay by invoice, not yet delivered), `mailed`
    /// (its email delivered), `due`, `paid`, `waived` or `uncollectible`.
    pub state: String,
    pub currency: String,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Key of the PDF link `…/invoice/{invoice_number}/{download_cookie}`;
    /// null for the estimate.
    pub download_cookie: Option<String>,
    /// What credit notes took off it, VAT included; null when none did.
    pub total_credited: Option<Decimal>,
    /// `total_inc_vat` less `total_credited`: what remains to be paid.
    pub total_remaining: Decimal,
    /// The voided invoice this one was issued in place of.
    pub replaces: Option<String>,
    /// The invoice issued in place of this one, voided.
    pub reissued_as: Option<String>,
}

/// The group an invoice belongs to, as invoices show it.
pub struct InvoiceGroup<'a> {
    pub billing_group_id: &'a str,
    pub billing_group_name: &'a str,
    pub billing_group_state: GroupState,
}

impl InvoiceWire {
    pub fn of(summary: InvoiceSummary, group: &InvoiceGroup<'_>) -> Self {
        let remaining = summary.remaining_due();
        InvoiceWire {
            invoice_number: summary.invoice_number,
            billing_group_id: group.billing_group_id.to_string(),
            billing_group_name: group.billing_group_name.to_string(),
            billing_group_state: group.billing_group_state.to_string(),
            period_begin: summary.period_begin,
            period_end: summary.period_end,
            state: summary.state.to_string(),
            currency: summary.currency.to_string(),
            total_vat_zero: amount(summary.total_vat_zero),
            total_inc_vat: amount(summary.total_inc_vat),
            issue_date: summary.issue_date,
            due_date: summary.due_date,
            total_credited: summary.credited.map(amount),
            total_remaining: amount(remaining),
            download_cookie: summary.download_cookie,
            replaces: summary.replaces,
            reissued_as: summary.reissued_as,
        }
    }
}

/// A credit note: negative amounts, the invoice it credits.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNoteWire {
    pub credit_note_number: String,
    pub invoice_number: String,
    /// `credit` (part or all of the invoice) or `void` (all of it, the
    /// invoice reissued as `reissued_as`).
    pub kind: String,
    pub reason: String,
    pub reissued_as: Option<String>,
    pub currency: String,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: NaiveDate,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

impl From<CreditNoteSummary> for CreditNoteWire {
    fn from(n: CreditNoteSummary) -> Self {
        CreditNoteWire {
            credit_note_number: n.credit_note_number,
            invoice_number: n.invoice_number,
            kind: n.kind.to_string(),
            reason: n.reason,
            reissued_as: n.reissued_as,
            currency: n.currency.to_string(),
            total_vat_zero: amount(n.total_vat_zero),
            total_inc_vat: amount(n.total_inc_vat),
            issue_date: n.issue_date,
            created_by: n.created_by,
            create_time: n.create_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNotesResponse {
    pub credit_notes: Vec<CreditNoteWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNoteResponse {
    pub credit_note: CreditNoteWire,
    pub lines: Vec<InvoiceLineWire>,
}

/// An amount to take off one line of the invoice, before VAT, in its
/// currency.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLineRequest {
    pub line_no: i64,
    /// A string, like `"12.50"`.
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// Printed on the credit note (1–500 characters).
    pub reason: String,
    /// Amounts per line (`line_no` as in `…/lines`, from 1); omitted or
    /// empty: everything that remains.
    #[serde(default)]
    pub lines: Vec<CreditLineRequest>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInvoiceRequest {
    /// Printed on the credit note (1–500 characters).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VoidInvoiceResponse {
    pub credit_note: CreditNoteWire,
    /// The invoice issued in its place.
    pub invoice: InvoiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoicesResponse {
    pub invoices: Vec<InvoiceWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceResponse {
    pub invoice: InvoiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceLineWire {
    /// From 1; what a credit note's `lines` refer to.
    pub line_no: i64,
    /// `service_charge`, `credit_consumption`, `extra_charge`, `vat`, …
    pub line_type: String,
    pub description: String,
    pub project_name: Option<String>,
    pub service_name: Option<String>,
    pub service_type: Option<String>,
    pub service_plan: Option<String>,
    pub cloud_name: Option<String>,
    pub timestamp_begin: Option<DateTime<Utc>>,
    pub timestamp_end: Option<DateTime<Utc>>,
    pub line_total_usd: Decimal,
    pub line_total_local: Decimal,
    pub local_currency: String,
    /// The credit a `credit_consumption` line used.
    pub credit_code: Option<String>,
}

impl From<InvoiceLine> for InvoiceLineWire {
    fn from(l: InvoiceLine) -> Self {
        InvoiceLineWire {
            line_no: l.line_no,
            line_type: l.line_type.to_string(),
            description: l.description,
            project_name: l.project_name,
            service_name: l.service_name,
            service_type: l.service_type,
            service_plan: l.service_plan,
            cloud_name: l.cloud_name,
            timestamp_begin: l.timestamp_begin,
            timestamp_end: l.timestamp_end,
            line_total_usd: amount(l.line_total_usd),
            line_total_local: amount(l.line_total_local),
            local_currency: l.local_currency.to_string(),
            credit_code: l.credit_code,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceLinesResponse {
    pub lines: Vec<InvoiceLineWire>,
}
