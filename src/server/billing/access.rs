//! The one authorization check (PRODUCT.md §6), and the loads that begin
//! with it: a caller's role on an account, or "not found" when they are
//! not a member (a foreign ID looks like a missing one), or "forbidden"
//! when their role is below what the action needs.

use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId};
use crate::model::{CurrentUser, Role};
use crate::server::store::{BillingGroupRecord, ProjectRecord, Store};

pub async fn authorize(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    needed: Role,
) -> AppResult<Role> {
    allowed(store.member_role(&user.user_id, account_id).await?, needed)
        .ok_or_else(|| AppError::not_found("Account"))?
}

/// The caller's role when it allows `needed`; "forbidden" when it is
/// below; None when they are not a member.
fn allowed(role: Option<Role>, needed: Role) -> Option<AppResult<Role>> {
    role.map(|role| {
        if role.allows(needed) {
            Ok(role)
        } else {
            Err(AppError::Forbidden {
                role: role.to_string(),
            })
        }
    })
}

/// Loads a group and checks the caller's role on its account. A group of an
/// account the caller is not in, or an unknown one, answers "not found"; so
/// does a deleted group for any change (reads of a deleted group's page,
/// events and invoices stay possible, rule 4).
pub async fn authorized_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    needed: Role,
) -> AppResult<(BillingGroupRecord, Role)> {
    let not_found = || AppError::not_found("Billing group");
    let (group, role) = store
        .billing_group_of_member(&user.user_id, billing_group_id)
        .await?
        .filter(|(g, _)| g.is_active() || needed == Role::Viewer)
        .ok_or_else(not_found)?;
    let role = allowed(role, needed).ok_or_else(not_found)??;
    Ok((group, role))
}

/// Loads a project and checks the caller's role on its account; a project
/// of an account the caller is not in answers "not found", as an unknown one.
pub async fn authorized_project(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    needed: Role,
) -> AppResult<(ProjectRecord, Role)> {
    let not_found = || AppError::not_found("Project");
    let project = store
        .project(project_name.trim())
        .await?
        .ok_or_else(not_found)?;
    let role = authorize(store, user, &project.account_id, needed)
        .await
        .map_err(|e| match e {
            AppError::NotFound { .. } => not_found(),
            other => other,
        })?;
    Ok((project, role))
}
