//! The guided **Create billing group** flow (see `model::new_group`,
//! `server::billing::new_group`).
// The last step's arguments are the form's fields, flat, so that it posts
// as plain HTML before hydration; clippy counts them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::ids::AccountId;
#[cfg(feature = "ssr")]
use crate::model::new_group::NewGroupDraft;
use crate::model::new_group::NewGroupPage;
#[cfg(feature = "ssr")]
use crate::paths::app_url;

/// The flow's page at `step` for the kept draft `draft` (its id; empty:
/// a new flow), the answers so far checked.
#[server(endpoint = "new_group_page")]
pub async fn get_new_group_page(
    account_id: String,
    #[server(default)] draft: String,
    #[server(default)] step: u8,
) -> Result<NewGroupPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::new_group::draft_page(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &draft,
        step,
        context::now()?,
    )
    .await
}

/// A step's form: keeps every answer so far as a draft and opens the step
/// asked for (`step`), naming the draft in the URL instead of the answers.
#[server(endpoint = "new_group_step")]
pub async fn new_group_step(
    account_id: String,
    #[server(default)] step: u8,
    #[server(default)] billing_group_name: String,
    #[server(default)] copy_from: String,
    #[server(default)] payment_method: String,
    #[server(default)] company: String,
    #[server(default)] address: String,
    #[server(default)] city: String,
    #[server(default)] state: String,
    #[server(default)] zip_code: String,
    #[server(default)] country_code: String,
    #[server(default)] vat_id: String,
    #[server(default)] billing_emails: String,
    #[server(default)] billing_contact_emails: String,
    #[server(default)] billing_currency: String,
    #[server(default)] billing_extra_text: String,
    #[server(default)] projects: Vec<String>,
) -> Result<(), AppError> {
    use super::context;
    let app = context::state()?;
    let user = context::user()?;
    let draft = NewGroupDraft {
        billing_group_name,
        copy_from,
        payment_method,
        company,
        address,
        city,
        state,
        zip_code,
        country_code,
        vat_id,
        billing_emails,
        billing_contact_emails,
        billing_currency,
        billing_extra_text,
        projects,
    };
    let draft_id = crate::server::billing::new_group::save_draft(
        app.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &draft,
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!(
        "/account/{}/new-billing-group?draft={draft_id}&step={}",
        crate::paths::encode_query_value(account_id.trim()),
        step.clamp(1, 4)
    )));
    Ok(())
}

/// The last step: creates the group with its details and projects in one
/// transaction, then opens it.
#[server(endpoint = "create_billing_group_guided")]
pub async fn create_billing_group_guided(
    account_id: String,
    #[server(default)] billing_group_name: String,
    #[server(default)] copy_from: String,
    #[server(default)] payment_method: String,
    #[server(default)] company: String,
    #[server(default)] address: String,
    #[server(default)] city: String,
    #[server(default)] state: String,
    #[server(default)] zip_code: String,
    #[server(default)] country_code: String,
    #[server(default)] vat_id: String,
    #[server(default)] billing_emails: String,
    #[server(default)] billing_contact_emails: String,
    #[server(default)] billing_currency: String,
    #[server(default)] billing_extra_text: String,
    #[server(default)] projects: Vec<String>,
) -> Result<String, AppError> {
    use super::context;
    let app = context::state()?;
    let user = context::user()?;
    let draft = NewGroupDraft {
        billing_group_name,
        copy_from,
        payment_method,
        company,
        address,
        city,
        state,
        zip_code,
        country_code,
        vat_id,
        billing_emails,
        billing_contact_emails,
        billing_currency,
        billing_extra_text,
        projects,
    };
    let group = crate::server::billing::new_group::create_group_from_draft(
        app.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &draft,
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!(
        "/billing-group/{}",
        group.billing_group_id
    )));
    Ok(group.billing_group_id.into_string())
}
