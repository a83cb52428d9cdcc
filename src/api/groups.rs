//! Billing groups: the account's Billing and Settings tabs, the group page
//! and its actions. Each function: find the caller, call the rules.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::billing::{
    AccountBilling, BillingInfoPage, EventsPage, GroupHeader, GroupOverview, GroupProjects,
};
#[cfg(feature = "ssr")]
use crate::model::ids::{AccountId, GroupId};
#[cfg(feature = "ssr")]
use crate::paths::app_url;

#[server(endpoint = "account_billing")]
pub async fn get_account_billing(
    account_id: String,
    #[server(default)] total_in: Option<String>,
) -> Result<AccountBilling, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::groups::account_billing(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        total_in.as_deref(),
        context::now()?,
    )
    .await
}

/// The group page's header (every tab).
#[server(endpoint = "group_header")]
pub async fn get_group_header(billing_group_id: String) -> Result<GroupHeader, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::group_page::header(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

#[server(endpoint = "group_overview")]
pub async fn get_group_overview(billing_group_id: String) -> Result<GroupOverview, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::group_page::overview(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

#[server(endpoint = "group_projects")]
pub async fn get_group_projects(billing_group_id: String) -> Result<GroupProjects, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::group_page::projects_tab(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

#[server(endpoint = "group_billing_info")]
pub async fn get_billing_info(billing_group_id: String) -> Result<BillingInfoPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::group_page::billing_info_page(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
    )
    .await
}

#[server(endpoint = "rename_billing_group")]
pub async fn rename_billing_group(
    billing_group_id: String,
    billing_group_name: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::groups::rename_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &billing_group_name,
        context::now()?,
    )
    .await
    .map(|_| ())
}

/// Deletes an empty, non-primary group and returns to the account's Billing tab.
#[server(endpoint = "delete_billing_group")]
pub async fn delete_billing_group(billing_group_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let group = crate::server::billing::groups::delete_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!("/account/{}/billing", group.account_id)));
    Ok(())
}

#[server(endpoint = "set_primary_billing_group")]
pub async fn set_primary_billing_group(
    account_id: String,
    billing_group_id: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::groups::set_primary(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

/// Moves one project to another group of its account.
#[server(endpoint = "move_project")]
pub async fn move_project(project_name: String, billing_group_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::groups::move_project(
        state.store.as_ref(),
        &user,
        &project_name,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
    .map(|_| ())
}

/// Assigns the chosen projects of the account to this group.
#[server(endpoint = "assign_projects")]
pub async fn assign_projects(
    billing_group_id: String,
    #[server(default)] projects_names: Vec<String>,
) -> Result<usize, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::groups::assign_projects(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &projects_names,
        context::now()?,
    )
    .await
    .map(|moved| moved.len())
}

/// A page of the group's events, newest first, optionally filtered.
#[server(endpoint = "group_events")]
pub async fn group_events(
    billing_group_id: String,
    before: Option<i64>,
    event_type: Option<String>,
    project_name: Option<String>,
) -> Result<EventsPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::events::events_page(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        before,
        event_type.as_deref(),
        project_name.as_deref(),
    )
    .await
}

/// Creates a project in the account; its group is the primary one unless
/// another is chosen.
#[server(endpoint = "create_project")]
pub async fn create_project(
    account_id: String,
    project_name: String,
    billing_group_id: Option<String>,
) -> Result<String, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let project = crate::server::billing::projects::create_project(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &project_name,
        billing_group_id.as_deref(),
        "",
        context::now()?,
    )
    .await?;
    Ok(project.project_name)
}
