//! Invoices: the Invoices tab, an invoice's page, an admin's state change,
//! and powering services (which is what makes the estimate move).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::invoices::{InvoiceDetail, InvoiceSummary};

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
        &billing_group_id,
        context::now()?,
    )
    .await
    .map(|(_, invoices)| invoices)
}

/// Why this instance issues no invoices, if it issues none (the seller's
/// settings are incomplete): said on the group's Invoices tab.
#[server(endpoint = "invoice_issuing_paused")]
pub async fn get_issuing_paused(billing_group_id: String) -> Result<Option<String>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::invoices::issuing_paused(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &billing_group_id,
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
        &billing_group_id,
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
        &billing_group_id,
        &invoice_number,
        &state,
        context::now()?,
    )
    .await
}
