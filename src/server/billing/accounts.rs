//! Rule 1: accounts are the entry point; an account is created with its first
//! billing group, which is its primary group.

use chrono::{DateTime, Utc};

use super::store_error;
use crate::error::{AppError, AppResult};
use crate::model::{validation, AccountWithProjects, CurrentUser, Role, CURRENCIES};
use crate::server::auth::internal;
use crate::server::store::{AccountRecord, BillingGroupRecord, NewAccount, Store};

/// Account IDs look like Aiven's: 12 hex-ish characters, never starting with
/// `org` (PRODUCT.md §7).
pub fn new_account_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("a{}", &hex[..11])
}

pub async fn create_account(
    store: &dyn Store,
    creator: &CurrentUser,
    account_name: &str,
    billing_currency: &str,
    at: DateTime<Utc>,
) -> AppResult<(AccountRecord, BillingGroupRecord)> {
    let account_name = validation::display_name(account_name, "Account name", 128)
        .map_err(|m| AppError::invalid("account_name", m))?;
    if !CURRENCIES.contains(&billing_currency) {
        return Err(AppError::invalid(
            "billing_currency",
            format!(
                "'{billing_currency}' is not a billing currency; use one of {}.",
                CURRENCIES.join(", ")
            ),
        ));
    }
    let new = NewAccount {
        account_id: new_account_id(),
        first_group_name: format!("{account_name} billing"),
        account_name,
        first_group_id: uuid::Uuid::new_v4().to_string(),
        billing_currency: billing_currency.to_string(),
    };
    let created = store
        .create_account(&new, &creator.email, at)
        .await
        .map_err(store_error)?;
    store
        .add_member(&new.account_id, &creator.user_id, Role::Admin, at)
        .await
        .map_err(store_error)?;
    Ok(created)
}

/// Every account the user belongs to with its groups and projects: three
/// queries whatever the number of accounts and projects.
pub async fn accounts_with_projects(
    store: &dyn Store,
    user: &CurrentUser,
) -> AppResult<Vec<AccountWithProjects>> {
    let accounts = store
        .accounts_of_user(&user.user_id)
        .await
        .map_err(internal)?;
    let projects = store
        .projects_of_user(&user.user_id)
        .await
        .map_err(internal)?;
    let groups = store
        .groups_of_user(&user.user_id)
        .await
        .map_err(internal)?;
    accounts
        .into_iter()
        .map(|a| {
            let role = Role::parse(&a.role).ok_or(AppError::Internal)?;
            Ok(AccountWithProjects {
                projects: projects
                    .iter()
                    .filter(|p| p.account_id == a.account_id)
                    .map(super::projects::summary)
                    .collect(),
                billing_groups: groups
                    .iter()
                    .filter(|g| g.account_id == a.account_id)
                    .map(|g| (g.billing_group_id.clone(), g.billing_group_name.clone()))
                    .collect(),
                account_id: a.account_id,
                account_name: a.account_name,
                role,
                primary_billing_group_id: a.primary_billing_group_id,
                billing_group_count: a.billing_group_count,
            })
        })
        .collect()
}
