//! Credits: the Credits tab and claiming a code.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::credits::{Credit, CreditsPage};
#[cfg(feature = "ssr")]
use crate::model::ids::GroupId;

/// The group's credits with the burn-down forecast.
#[server(endpoint = "group_credits")]
pub async fn get_credits(billing_group_id: String) -> Result<CreditsPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::credits::credits_page(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        context::now()?,
    )
    .await
}

/// Claims a credit code into the group (billing or admin). An empty
/// `earmarked_project_name` means all projects of the group.
#[server(endpoint = "claim_credit")]
pub async fn claim_credit(
    billing_group_id: String,
    code: String,
    #[server(default)] earmarked_project_name: String,
) -> Result<Credit, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::credits::claim_credit(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &code,
        Some(earmarked_project_name.as_str()),
        context::now()?,
    )
    .await
}
