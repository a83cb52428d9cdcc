//! A group's budget and its Deliveries list.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::billing::Deliveries;
#[cfg(feature = "ssr")]
use crate::model::ids::GroupId;

/// Sets the group's monthly budget (billing managers and admins); an empty
/// amount and thresholds remove it.
#[server(endpoint = "set_budget")]
pub async fn set_budget(
    billing_group_id: String,
    amount: String,
    #[server(default)] thresholds: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::budgets::set_budget(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &amount,
        &thresholds,
        context::now()?,
    )
    .await
    .map(|_| ())
}

/// The group's emails (invoices, budget alerts) and how each went (admins).
#[server(endpoint = "group_deliveries")]
pub async fn get_deliveries(billing_group_id: String) -> Result<Deliveries, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::mail::deliveries(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        state.config.mail.configured(),
    )
    .await
}

/// Queues a failed (or sent) email again (admins).
#[server(endpoint = "send_again")]
pub async fn send_again(billing_group_id: String, message_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::mail::send_again(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &message_id,
        context::now()?,
    )
    .await
}
