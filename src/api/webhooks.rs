//! An account's webhook endpoints and deliveries (admins; the Webhooks tab).

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::ids::AccountId;
use crate::model::webhooks::{CreatedWebhook, WebhooksPage};

#[server(endpoint = "account_webhooks")]
pub async fn get_webhooks(account_id: String) -> Result<WebhooksPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::webhooks::page(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
    )
    .await
}

/// Adds an endpoint; the answer carries its signing secret, shown once.
#[server(endpoint = "add_webhook")]
pub async fn add_webhook(
    account_id: String,
    url: String,
    #[server(default)] description: String,
    #[server(default)] events: Vec<String>,
) -> Result<CreatedWebhook, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::webhooks::create(
        state.store.as_ref(),
        state.webhooks.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &url,
        &events,
        &description,
        context::now()?,
    )
    .await
}

#[server(endpoint = "remove_webhook")]
pub async fn remove_webhook(account_id: String, webhook_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::webhooks::remove(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &webhook_id,
        context::now()?,
    )
    .await
}

/// Queues a sent or failed delivery again.
#[server(endpoint = "resend_webhook")]
pub async fn resend_webhook(account_id: String, message_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::webhooks::send_again(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &message_id,
        context::now()?,
    )
    .await
}
