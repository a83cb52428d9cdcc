//! Rule 1: accounts are the entry point; an account is created with its first
//! billing group, which is its primary group.

use chrono::{DateTime, Utc};

use super::access::authorize;
use super::groups::created_event;
use super::present::{account_info, project_summary, to_model};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::billing::BillingGroup;
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Currency;
use crate::model::people::{AccountInfo, AccountOverview};
use crate::model::states::{AccountEventType, EventType, WebhookEvent};
use crate::model::{validation, AccountWithProjects, CurrentUser, Role};
use crate::server::store::{
    AccountRecord, BillingGroupRecord, MemberAccountRecord, NewAccount, NewAccountEvent,
    NewBillingGroup, NewEvent, Store,
};

/// Account IDs look like Aiven's: 12 hex-ish characters, never starting with
/// `org` (PRODUCT.md §7).
pub fn new_account_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("a{}", &hex[..11])
}

/// Rule 1 as the records to write: the account, its first group (the
/// primary one) with the admin as first member, the group's events and the
/// account's first event.
pub fn new_account(
    admin: &CurrentUser,
    account_name: &str,
    billing_currency: &str,
    at: DateTime<Utc>,
) -> AppResult<(NewAccount, Vec<NewEvent>, NewAccountEvent)> {
    let mut errors = Vec::new();
    let account_name = validation::display_name(account_name, "Account name", 128)
        .map_err(|m| errors.push(FieldError::new("account_name", m)))
        .ok();
    let billing_currency = parse_currency(billing_currency)
        .map_err(|m| errors.push(FieldError::new("billing_currency", m)))
        .ok();
    let (Some(account_name), Some(billing_currency)) = (account_name, billing_currency) else {
        return Err(AppError::Invalid { errors });
    };
    let account_id = AccountId::from(new_account_id());
    let first_group = NewBillingGroup {
        billing_group_id: GroupId::from(uuid::Uuid::new_v4().to_string()),
        account_id: account_id.clone(),
        billing_group_name: format!("{account_name} billing"),
        billing_currency,
    };
    let events = vec![
        created_event(&first_group, &admin.email, at),
        NewEvent {
            billing_group_id: first_group.billing_group_id.clone(),
            account_id: account_id.clone(),
            actor: admin.email.clone(),
            event_type: EventType::PrimaryBillingGroupChanged,
            event_desc: format!("Set as the primary billing group of account '{account_name}'"),
            project_name: None,
            details: None,
            create_time: at,
        },
    ];
    let account_event = NewAccountEvent {
        account_id: account_id.clone(),
        actor: admin.email.clone(),
        event_type: AccountEventType::AccountCreated,
        event_desc: format!(
            "Account '{account_name}' created with {} as its admin, billing in {}",
            admin.email,
            billing_currency.code()
        ),
        details: Some(serde_json::json!({
            "after": {"account_name": account_name, "admin": admin.email, "billing_currency": billing_currency.code()}
        })),
        create_time: at,
        notices: Vec::new(),
    };
    Ok((
        NewAccount {
            account_id,
            account_name,
            first_group,
            admin_user_id: admin.user_id.clone(),
        },
        events,
        account_event,
    ))
}

/// A billing currency by code (default USD when empty), or what to use.
fn parse_currency(code: &str) -> Result<Currency, String> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(Currency::USD);
    }
    Currency::parse(code).ok_or_else(|| {
        let codes: Vec<&str> = Currency::ALL.iter().map(|c| c.code()).collect();
        format!(
            "'{code}' is not a billing currency; use one of {}.",
            codes.join(", ")
        )
    })
}

/// Rule 1: creates an account whose first admin is `admin` (set-up, the
/// command line and the checked entry below all come here).
pub async fn create_account(
    store: &dyn Store,
    admin: &CurrentUser,
    account_name: &str,
    billing_currency: &str,
    at: DateTime<Utc>,
) -> AppResult<(AccountRecord, BillingGroupRecord)> {
    let (new, events, account_event) = new_account(admin, account_name, billing_currency, at)?;
    Ok(store
        .create_account(&new, &events, &account_event, at)
        .await?)
}

/// Creating an account from a page or the API: operators only; the
/// operator becomes its first admin.
pub async fn create_account_as_operator(
    store: &dyn Store,
    caller: &CurrentUser,
    account_name: &str,
    billing_currency: &str,
    at: DateTime<Utc>,
) -> AppResult<(AccountInfo, BillingGroup)> {
    require_operator(caller)?;
    let (account, group) =
        create_account(store, caller, account_name, billing_currency, at).await?;
    Ok((account_info(account), to_model(group)))
}

pub fn require_operator(caller: &CurrentUser) -> AppResult<()> {
    if caller.is_operator {
        Ok(())
    } else {
        Err(AppError::OperatorsOnly)
    }
}

/// Renames the account (admins).
pub async fn rename_account(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    account_name: &str,
    at: DateTime<Utc>,
) -> AppResult<AccountInfo> {
    authorize(store, caller, account_id, Role::Admin).await?;
    let name = validation::display_name(account_name, "Account name", 128)
        .map_err(|m| AppError::invalid("account_name", m))?;
    let change = |locked: &AccountRecord| {
        if locked.account_name == name {
            return Err(AppError::invalid(
                "account_name",
                "The account already has this name.",
            ));
        }
        Ok(NewAccountEvent {
            account_id: locked.account_id.clone(),
            actor: caller.email.clone(),
            event_type: AccountEventType::AccountRenamed,
            event_desc: format!("Renamed from '{}' to '{name}'", locked.account_name),
            details: Some(serde_json::json!({
                "before": {"account_name": locked.account_name},
                "after": {"account_name": name},
            })),
            create_time: at,
            notices: Vec::new(),
        })
    };
    let renamed = store.rename_account(account_id, &name, at, &change).await?;
    Ok(account_info(renamed))
}

/// Why no invoices are issued on this instance, for operators (None:
/// they are): the seller's settings are incomplete.
pub fn issuing_paused(
    seller: &crate::server::config::Seller,
    caller: &CurrentUser,
) -> AppResult<Option<String>> {
    require_operator(caller)?;
    Ok(super::month_close::why_issuing_paused(seller))
}

/// Every account with its admins, for operators.
pub async fn all_accounts(
    store: &dyn Store,
    caller: &CurrentUser,
) -> AppResult<Vec<AccountOverview>> {
    require_operator(caller)?;
    let admins = store.account_admins().await?;
    let mine = store.accounts_of_user(&caller.user_id).await?;
    Ok(store
        .all_accounts()
        .await?
        .into_iter()
        .map(|a| AccountOverview {
            admins: admins
                .iter()
                .filter(|(account, _)| *account == a.account_id)
                .map(|(_, email)| email.clone())
                .collect(),
            your_role: mine
                .iter()
                .find(|m| m.account_id == a.account_id)
                .map(|m| m.role),
            account_id: a.account_id.into_string(),
            account_name: a.account_name,
            billing_group_count: a.billing_group_count,
            member_count: a.member_count,
            create_time: a.create_time,
        })
        .collect())
}

/// An operator adds themself as an admin of an account (to see its data),
/// which the account's log records.
pub async fn operator_join(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    at: DateTime<Utc>,
) -> AppResult<()> {
    require_operator(caller)?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let event = NewAccountEvent {
        account_id: account.account_id.clone(),
        actor: caller.email.clone(),
        event_type: AccountEventType::MemberAdded,
        event_desc: format!("{} (operator) joined as admin", caller.email),
        details: Some(serde_json::json!({"after": {"email": caller.email, "role": "admin"}})),
        create_time: at,
        notices: super::webhooks::Subscribers::of_account(store, &account.account_id)
            .await?
            .notices(
                WebhookEvent::MemberAdded,
                None,
                super::webhooks::member_data(&account.account_id, &caller.email, Role::Admin),
                at,
            ),
    };
    Ok(store
        .add_member(
            &account.account_id,
            &caller.user_id,
            Role::Admin,
            &event,
            at,
        )
        .await?)
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
    now: DateTime<Utc>,
) -> AppResult<Vec<AccountWithProjects>> {
    let accounts = store.accounts_of_user(&user.user_id).await?;
    let projects = store.projects_of_user(&user.user_id).await?;
    let groups = store.groups_of_user(&user.user_id).await?;
    let mut listed = Vec::with_capacity(accounts.len());
    for a in accounts {
        let own: Vec<&BillingGroupRecord> = groups
            .iter()
            .filter(|g| g.account_id == a.account_id)
            .collect();
        let currency = own
            .iter()
            .find(|g| g.billing_group_id == a.primary_billing_group_id)
            .map_or(Currency::USD, |g| g.billing_currency);
        let (_, month_to_date) =
            super::month_to_date::accumulated_of_account(store, &a.account_id, &own, currency, now)
                .await?;
        listed.push(AccountWithProjects {
            projects: projects
                .iter()
                .filter(|p| p.account_id == a.account_id)
                .map(project_summary)
                .collect(),
            billing_groups: own
                .iter()
                .map(|g| (g.billing_group_id.to_string(), g.billing_group_name.clone()))
                .collect(),
            month_to_date_usd: month_to_date.usd,
            month_to_date_local: month_to_date.local,
            account_id: a.account_id.into_string(),
            account_name: a.account_name,
            role: a.role,
            primary_billing_group_id: a.primary_billing_group_id.into_string(),
            billing_group_count: a.billing_group_count,
        });
    }
    Ok(listed)
}
