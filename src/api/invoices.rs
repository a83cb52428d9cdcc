//! Invoices: the Invoices tab, an invoice's page, an admin's state change,
//! credit notes and void-and-reissue, and powering services (which is
//! what makes the estimate move).

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::ids::{AccountId, GroupId};
use crate::model::invoices::{AccountInvoices, CreditNoteSummary, InvoiceDetail, InvoiceSummary};

/// Every issued invoice of the account's billing groups (the account's
/// Invoices tab).
#[server(endpoint = "account_invoices")]
pub async fn get_account_invoices(account_id: String) -> Result<AccountInvoices, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::invoices_of_account(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        context::now()?,
    )
    .await
}

/// The group's invoices, the running month's estimate first.
#[server(endpoint = "group_invoices")]
pub async fn get_invoices(billing_group_id: String) -> Result<Vec<InvoiceSummary>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::invoices_of_group(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
    .map(|(_, invoices)| invoices)
}

/// Why this instance issues no invoices, if it issues none (the seller's
/// settings are incomplete), or that last month waits for its close:
/// said on the group's Invoices tab.
#[server(endpoint = "invoice_issuing_paused")]
pub async fn get_issuing_paused(billing_group_id: String) -> Result<Option<String>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::issuing_paused(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

/// One invoice with its lines (`estimate`: the running month).
#[server(endpoint = "invoice")]
pub async fn get_invoice(
    billing_group_id: String,
    invoice_number: String,
) -> Result<InvoiceDetail, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::invoice_detail(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        &invoice_number,
        context::now()?,
    )
    .await
}

/// Marks an issued invoice paid, waived or uncollectible (admin).
#[server(endpoint = "set_invoice_state")]
pub async fn set_invoice_state(
    billing_group_id: String,
    invoice_number: String,
    state: String,
) -> Result<InvoiceSummary, AppError> {
    use super::context;
    let app = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::set_invoice_state(
        app.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &invoice_number,
        &state,
        context::now()?,
    )
    .await
}

/// The group's credit notes, newest first.
#[server(endpoint = "group_credit_notes")]
pub async fn get_credit_notes(
    billing_group_id: String,
) -> Result<Vec<CreditNoteSummary>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::credit_notes::credit_notes_of_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
    )
    .await
}

/// One credit note as a document.
#[server(endpoint = "credit_note")]
pub async fn get_credit_note(
    billing_group_id: String,
    credit_note_number: String,
) -> Result<InvoiceDetail, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::credit_notes::credit_note_detail(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &credit_note_number,
    )
    .await
}

/// Credits an issued invoice (admin): `scope` `full` credits everything
/// that remains; otherwise `amounts[]` per `line_numbers[]` (blank amounts
/// are skipped). The arguments are the form's fields, so it posts without
/// JavaScript too.
#[server(endpoint = "credit_invoice")]
pub async fn credit_invoice(
    billing_group_id: String,
    invoice_number: String,
    #[server(default)] reason: String,
    #[server(default)] scope: String,
    #[server(default)] line_numbers: Vec<i64>,
    #[server(default)] amounts: Vec<String>,
) -> Result<CreditNoteSummary, AppError> {
    use super::context;
    use crate::model::invoices::{CreditRequest, CreditedLine};
    use crate::server::billing::corrections::Corrector;
    let app = context::state()?;
    let user = context::user()?;
    let lines = if scope == "full" {
        Vec::new()
    } else {
        line_numbers
            .into_iter()
            .zip(amounts)
            .map(|(line_no, amount)| CreditedLine { line_no, amount })
            .collect()
    };
    crate::server::billing::corrections::credit_invoice(
        app.store.as_ref(),
        &Corrector {
            seller: &app.config.seller,
            link_base: &crate::server::links::mail_base(&app.config),
            user: &user,
            now: context::now()?,
        },
        &GroupId::from(&billing_group_id),
        &invoice_number,
        &CreditRequest { reason, lines },
    )
    .await
}

/// Voids an issued invoice and reissues it from the group's current
/// billing details (admin): the credit note and the new invoice's number.
#[server(endpoint = "void_invoice")]
pub async fn void_invoice(
    billing_group_id: String,
    invoice_number: String,
    #[server(default)] reason: String,
) -> Result<(CreditNoteSummary, String), AppError> {
    use super::context;
    use crate::server::billing::corrections::Corrector;
    let app = context::state()?;
    let user = context::user()?;
    crate::server::billing::corrections::void_and_reissue(
        app.store.as_ref(),
        &Corrector {
            seller: &app.config.seller,
            link_base: &crate::server::links::mail_base(&app.config),
            user: &user,
            now: context::now()?,
        },
        &GroupId::from(&billing_group_id),
        &invoice_number,
        &reason,
    )
    .await
}
