//! Accounts and projects as the user sees them.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AccountWithProjects, ProjectPage};

/// Every account the user belongs to, each with its projects and their groups.
#[server(endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountWithProjects>, AppError> {
    let state = super::context::state()?;
    let user = super::context::user()?;
    crate::server::billing::accounts::accounts_with_projects(
        state.store.as_ref(),
        &user,
        super::context::now()?,
    )
    .await
}

/// One project with its services; a project of a foreign account is "not found".
#[server(endpoint = "project_details")]
pub async fn project_details(project_name: String) -> Result<ProjectPage, AppError> {
    let state = super::context::state()?;
    let user = super::context::user()?;
    crate::server::billing::projects::project_page(
        state.store.as_ref(),
        &user,
        &project_name,
        super::context::now()?,
    )
    .await
}

/// The top bar's project menu: the first `limit` project names of the
/// user's accounts and how many more there are (the full list stays on the
/// projects & accounts page, so every page stays small).
#[server(endpoint = "menu_projects")]
pub async fn menu_projects(limit: usize) -> Result<(Vec<String>, usize), AppError> {
    let state = super::context::state()?;
    let user = super::context::user()?;
    crate::server::billing::projects::menu_projects(state.store.as_ref(), &user, limit).await
}
