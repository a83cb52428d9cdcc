//! Rule 1: accounts are the entry point; an account is created with its first
//! billing group, which is its primary group.

use chrono::{DateTime, Utc};

use super::groups::created_event;
use super::present::project_summary;
use crate::error::{AppError, AppResult};
use crate::model::money::Currency;
use crate::model::states::EventType;
use crate::model::{validation, AccountWithProjects, CurrentUser, Role};
use crate::server::store::{
    AccountRecord, BillingGroupRecord, MemberAccountRecord, NewAccount, NewBillingGroup, NewEvent,
    Store,
};

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
    let billing_currency = Currency::parse(billing_currency).ok_or_else(|| {
        let codes: Vec<&str> = Currency::ALL.iter().map(|c| c.code()).collect();
        AppError::invalid(
            "billing_currency",
            format!(
                "'{billing_currency}' is not a billing currency; use one of {}.",
                codes.join(", ")
            ),
        )
    })?;
    let account_id = new_account_id();
    let first_group = NewBillingGroup {
        billing_group_id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.clone(),
        billing_group_name: format!("{account_name} billing"),
        billing_currency,
    };
    let events = [
        created_event(&first_group, &creator.email, at),
        NewEvent {
            billing_group_id: first_group.billing_group_id.clone(),
            account_id: account_id.clone(),
            actor: creator.email.clone(),
            event_type: EventType::PrimaryBillingGroupChanged,
            event_desc: format!("Set as the primary billing group of account '{account_name}'"),
            project_name: None,
            details: None,
            create_time: at,
        },
    ];
    let new = NewAccount {
        account_id,
        account_name,
        first_group,
    };
    let created = store.create_account(&new, &events, at).await?;
    store
        .add_member(&new.account_id, &creator.user_id, Role::Admin, at)
        .await?;
    Ok(created)
}

/// The accounts the user belongs to, with their role (the API's list).
pub async fn accounts_of_user(
    store: &dyn Store,
    user: &CurrentUser,
) -> AppResult<Vec<(MemberAccountRecord, AccountRecord)>> {
    let mut accounts = Vec::new();
    for member in store.accounts_of_user(&user.user_id).await? {
        let account = store
            .account(&member.account_id)
            .await?
            .ok_or(AppError::Internal)?;
        accounts.push((member, account));
    }
    Ok(accounts)
}

/// Every account the user belongs to with its groups and projects: three
/// queries whatever the number of accounts and projects.
pub async fn accounts_with_projects(
    store: &dyn Store,
    user: &CurrentUser,
) -> AppResult<Vec<AccountWithProjects>> {
    let accounts = store.accounts_of_user(&user.user_id).await?;
    let projects = store.projects_of_user(&user.user_id).await?;
    let groups = store.groups_of_user(&user.user_id).await?;
    Ok(accounts
        .into_iter()
        .map(|a| AccountWithProjects {
            projects: projects
                .iter()
                .filter(|p| p.account_id == a.account_id)
                .map(project_summary)
                .collect(),
            billing_groups: groups
                .iter()
                .filter(|g| g.account_id == a.account_id)
                .map(|g| (g.billing_group_id.clone(), g.billing_group_name.clone()))
                .collect(),
            account_id: a.account_id,
            account_name: a.account_name,
            role: a.role,
            primary_billing_group_id: a.primary_billing_group_id,
            billing_group_count: a.billing_group_count,
        })
        .collect())
}
