//! Billing groups (rules 2–5): the account's Billing tab, create, rename,
//! delete, the primary group, moving and assigning projects. Each change
//! words its events here and hands them to the store with the change.

use chrono::{DateTime, Utc};

use super::access::{authorize, authorized_group, authorized_project};
use super::billing_info::{self, info_changed_event, update_copied_from, BillingInfoForm};
use super::month_to_date::{accumulated_of_account, accumulated_of_groups};
use super::present::{project_summary, to_model};
use crate::error::{AppError, AppResult};
use crate::model::billing::{AccountBilling, BillingGroup, GroupSummary};
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Currency;
use crate::model::states::EventType;
use crate::model::{validation, CurrentUser, Role};
use crate::server::store::{
    BillingGroupRecord, BillingInfoChange, NewBillingGroup, NewEvent, ProjectRecord, Store,
    Violation,
};

/// The account's Billing tab: groups with counts, costs and the primary
/// marker, and the account's projects. Queries do not grow with projects.
///
/// `total_in`: the currency the account's total is shown in (the primary
/// group's when None, or when it is not a currency).
pub async fn account_billing(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    total_in: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<AccountBilling> {
    let role = authorize(store, user, account_id, Role::Viewer).await?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let summaries = store.group_summaries(account_id).await?;
    let records: Vec<&BillingGroupRecord> = summaries.iter().map(|s| &s.group).collect();
    let total_currency = total_in
        .and_then(|code| {
            code.trim()
                .to_ascii_uppercase()
                .parse::<crate::model::money::Currency>()
                .ok()
        })
        .or_else(|| {
            records
                .iter()
                .find(|g| g.billing_group_id == account.primary_billing_group_id)
                .map(|g| g.billing_currency)
        })
        .unwrap_or(crate::model::money::Currency::USD);
    let (mut costs, total) =
        accumulated_of_account(store, account_id, &records, total_currency, now).await?;
    let groups = summaries
        .iter()
        .map(|summary| {
            let g = &summary.group;
            Ok(GroupSummary {
                is_primary: g.billing_group_id == account.primary_billing_group_id,
                costs: costs
                    .remove(&g.billing_group_id)
                    .ok_or(AppError::Internal)?,
                billing_group_id: g.billing_group_id.to_string(),
                billing_group_name: g.billing_group_name.clone(),
                billing_currency: g.billing_currency,
                project_count: summary.project_count,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let projects = store.projects_of_account(account_id).await?;
    let deleted = store.deleted_groups_of_account(account_id).await?;
    let currencies: std::collections::BTreeSet<_> = groups
        .iter()
        .map(|g| g.billing_currency)
        .filter(|c| *c != crate::model::money::Currency::USD)
        .collect();
    let mut rates = Vec::new();
    for currency in currencies {
        let in_force = store
            .exchange_rate_in_force(currency, now.date_naive())
            .await?
            .map(|r| (r.usd_rate.0, r.valid_from));
        rates.push((currency, in_force));
    }
    let mut latest_invoices = super::invoices::account_invoice_list(store, account_id, now).await?;
    latest_invoices.truncate(LATEST_INVOICES_SHOWN);
    Ok(AccountBilling {
        total,
        total_currency,
        latest_invoices,
        rates,
        deleted_groups: deleted
            .into_iter()
            .map(|g| (g.billing_group_id.into_string(), g.billing_group_name))
            .collect(),
        account_id: account.account_id.into_string(),
        account_name: account.account_name,
        role,
        primary_billing_group_id: account.primary_billing_group_id.into_string(),
        groups,
        projects: projects.iter().map(project_summary).collect(),
    })
}

/// Invoices the account's Billing tab lists; the Invoices tab has them all.
const LATEST_INVOICES_SHOWN: usize = 5;

/// A group's name: 1–128 characters, not unique.
pub fn group_name(value: &str) -> AppResult<String> {
    validation::display_name(value, "Billing group name", 128)
        .map_err(|m| AppError::invalid("billing_group_name", m))
}

/// The `billing_group_created` event of a new group.
pub fn created_event(new: &NewBillingGroup, actor: &str, now: DateTime<Utc>) -> NewEvent {
    NewEvent {
        billing_group_id: new.billing_group_id.clone(),
        account_id: new.account_id.clone(),
        actor: actor.to_string(),
        event_type: EventType::BillingGroupCreated,
        event_desc: format!("Billing group '{}' created", new.billing_group_name),
        project_name: None,
        details: None,
        create_time: now,
    }
}

/// Creates a group in the account, optionally copying billing information
/// (not the card) from another group of the same account.
pub async fn create_group(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    name: &str,
    copy_from: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let details = match copy_from.map(str::trim).filter(|s| !s.is_empty()) {
        None => NewGroupDetails::Defaults,
        Some(id) => NewGroupDetails::CopyFrom(id),
    };
    create_group_with(store, user, account_id, name, details, &[], now).await
}

/// Where a new group's billing details come from.
pub enum NewGroupDetails<'a> {
    /// A new group's defaults (USD, no details, no payment method).
    Defaults,
    /// Another active group of the account (billing group id); its card
    /// stays with it.
    CopyFrom(&'a str),
    /// Filled in, checked like the Billing information tab.
    Form(&'a BillingInfoForm),
}

/// Creates a group complete: name, billing details and the projects to
/// assign now, everything checked first and written in one transaction
/// with the events each part writes on its own (created, billing
/// information changed, each project moved out and in).
pub async fn create_group_with(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    name: &str,
    details: NewGroupDetails<'_>,
    projects: &[String],
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    authorize(store, user, account_id, Role::Billing).await?;
    let name = group_name(name)?;
    let update = match details {
        NewGroupDetails::Defaults => None,
        NewGroupDetails::CopyFrom(id) => Some(update_copied_from(
            &copy_source(store, account_id, &GroupId::from(id)).await?,
        )),
        NewGroupDetails::Form(form) => Some(billing_info::validate(
            form,
            &BillingGroupRecord::new_defaults(account_id, now),
            now,
        )?),
    };
    let names = projects_of_account_named(store, account_id, projects, "projects").await?;
    let new = NewBillingGroup {
        billing_group_id: GroupId::from(uuid::Uuid::new_v4().to_string()),
        account_id: account_id.clone(),
        billing_group_name: name,
        billing_currency: update
            .as_ref()
            .map(|u| u.billing_currency)
            .unwrap_or(Currency::USD),
    };
    let info_change = info_changed_event(user, now);
    let move_change =
        |locked: &ProjectRecord, from: &BillingGroupRecord, to: &BillingGroupRecord| {
            move_events(locked, from, to, &user.email, now)
        };
    Ok(store
        .create_billing_group_with(
            &new,
            &created_event(&new, &user.email, now),
            update
                .as_ref()
                .map(|u| (u, &info_change as BillingInfoChange<'_>)),
            &names,
            &move_change,
            now,
        )
        .await?)
}

/// The group a new group copies its details from: an active group of the
/// same account.
pub(super) async fn copy_source(
    store: &dyn Store,
    account_id: &AccountId,
    billing_group_id: &GroupId,
) -> AppResult<BillingGroupRecord> {
    store
        .billing_group(billing_group_id)
        .await?
        .filter(|g| g.account_id == account_id && g.is_active())
        .ok_or_else(|| {
            AppError::invalid(
                "copy_from",
                "Choose a billing group of this account to copy from.",
            )
        })
}

/// The names, trimmed, when each is a project of the account and none is
/// named twice; otherwise a message on `field`.
pub async fn projects_of_account_named(
    store: &dyn Store,
    account_id: &AccountId,
    project_names: &[String],
    field: &str,
) -> AppResult<Vec<String>> {
    if project_names.is_empty() {
        return Ok(Vec::new());
    }
    let account_projects = store.projects_of_account(account_id).await?;
    let mut names: Vec<String> = Vec::with_capacity(project_names.len());
    for name in project_names.iter().map(|n| n.trim()) {
        if !account_projects.iter().any(|p| p.project_name == name) {
            return Err(AppError::invalid(
                field,
                format!("Project '{name}' is not a project of this account."),
            ));
        }
        if names.iter().any(|n| n == name) {
            return Err(AppError::invalid(
                field,
                format!("Project '{name}' is named twice; name each project once."),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// Rule 5: rename at any time; the event records old and new name.
pub async fn rename_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    let name = group_name(name)?;
    let change = |locked: &BillingGroupRecord| {
        if !locked.is_active() {
            return Err(AppError::not_found("Billing group"));
        }
        Ok(NewEvent {
            billing_group_id: locked.billing_group_id.clone(),
            account_id: locked.account_id.clone(),
            actor: user.email.clone(),
            event_type: EventType::BillingGroupRenamed,
            event_desc: format!("Renamed from '{}' to '{name}'", locked.billing_group_name),
            project_name: None,
            details: Some(serde_json::json!({
                "before": {"billing_group_name": locked.billing_group_name},
                "after": {"billing_group_name": name},
            })),
            create_time: now,
        })
    };
    Ok(store
        .rename_billing_group(&group.billing_group_id, &name, now, &change)
        .await?)
}

/// Rule 4: deletes an empty, non-primary group; otherwise says why and
/// what to do.
pub async fn delete_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    if let Some(reason) = delete_refusal(store, &group).await? {
        return Err(reason);
    }
    // The database checks again under lock: a project assigned meanwhile
    // makes this fail with the same message.
    let change = |locked: &BillingGroupRecord| {
        if !locked.is_active() {
            return Err(AppError::not_found("Billing group"));
        }
        Ok(NewEvent {
            billing_group_id: locked.billing_group_id.clone(),
            account_id: locked.account_id.clone(),
            actor: user.email.clone(),
            event_type: EventType::BillingGroupDeleted,
            event_desc: format!("Billing group '{}' deleted", locked.billing_group_name),
            project_name: None,
            details: None,
            create_time: now,
        })
    };
    store
        .delete_billing_group(&group.billing_group_id, now, &change)
        .await?;
    Ok(group)
}

/// Why the group cannot be deleted right now, if it cannot.
pub async fn delete_refusal(
    store: &dyn Store,
    group: &BillingGroupRecord,
) -> AppResult<Option<AppError>> {
    let account = store
        .account(&group.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    if account.primary_billing_group_id == group.billing_group_id {
        return Ok(Some(Violation::GroupIsPrimary.into()));
    }
    if !store
        .projects_of_group(&group.billing_group_id)
        .await?
        .is_empty()
    {
        return Ok(Some(Violation::GroupHasProjects.into()));
    }
    Ok(None)
}

/// Rule 3: sets the account's primary group (admins only); both groups
/// get an event.
pub async fn set_primary(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    authorize(store, user, account_id, Role::Admin).await?;
    let choose = || {
        AppError::invalid(
            "billing_group_id",
            "Choose an active billing group of this account.",
        )
    };
    let group = store
        .billing_group(billing_group_id)
        .await?
        .filter(|g| g.account_id == account_id && g.is_active())
        .ok_or_else(choose)?;
    let change = |previous: &str, locked: &BillingGroupRecord| {
        if !locked.is_active() {
            return Err(choose());
        }
        if previous == locked.billing_group_id {
            return Ok(Vec::new());
        }
        let details = serde_json::json!({
            "before": {"primary_billing_group_id": previous},
            "after": {"primary_billing_group_id": locked.billing_group_id},
        });
        let event = |group_id: &GroupId, text: &str| NewEvent {
            billing_group_id: group_id.clone(),
            account_id: account_id.clone(),
            actor: user.email.clone(),
            event_type: EventType::PrimaryBillingGroupChanged,
            event_desc: text.to_string(),
            project_name: None,
            details: Some(details.clone()),
            create_time: now,
        };
        Ok(vec![
            event(
                &locked.billing_group_id,
                "Set as the account's primary billing group",
            ),
            event(
                &GroupId::from(previous),
                "No longer the account's primary billing group",
            ),
        ])
    };
    Ok(store
        .set_primary_billing_group(account_id, &group.billing_group_id, now, &change)
        .await?)
}

/// The events of a project's move (rule 11): out of one group, into the
/// other, each in its own log.
fn move_events(
    project: &ProjectRecord,
    from: &BillingGroupRecord,
    to: &BillingGroupRecord,
    actor: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<NewEvent>> {
    if !to.is_active() {
        return Err(Violation::GroupDeleted.into());
    }
    let name = &project.project_name;
    let details = serde_json::json!({
        "before": {"billing_group_id": from.billing_group_id, "billing_group_name": from.billing_group_name},
        "after": {"billing_group_id": to.billing_group_id, "billing_group_name": to.billing_group_name},
    });
    let event = |group: &BillingGroupRecord, event_type, text: String| NewEvent {
        billing_group_id: group.billing_group_id.clone(),
        account_id: project.account_id.clone(),
        actor: actor.to_string(),
        event_type,
        event_desc: text,
        project_name: Some(name.clone()),
        details: Some(details.clone()),
        create_time: now,
    };
    Ok(vec![
        event(
            from,
            EventType::ProjectMovedOut,
            format!(
                "Project '{name}' moved to billing group '{}'",
                to.billing_group_name
            ),
        ),
        event(
            to,
            EventType::ProjectMovedIn,
            format!(
                "Project '{name}' moved in from billing group '{}'",
                from.billing_group_name
            ),
        ),
    ])
}

/// Rule 2: moves (or assigns) a project into a group of its own account.
pub async fn move_project(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    to_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<ProjectRecord> {
    let (project, _) = authorized_project(store, user, project_name, Role::Billing).await?;
    let target = store
        .billing_group(to_group_id)
        .await?
        .filter(|g| g.account_id == project.account_id && g.is_active())
        .ok_or_else(|| {
            AppError::invalid(
                "billing_group_id",
                "Choose a billing group of this project's account; that one is not one of them.",
            )
        })?;
    if target.billing_group_id == project.billing_group_id {
        return Err(AppError::invalid(
            "billing_group_id",
            format!(
                "Project '{}' is already in billing group '{}'.",
                project.project_name, target.billing_group_name
            ),
        ));
    }
    let change = |locked: &ProjectRecord, from: &BillingGroupRecord, to: &BillingGroupRecord| {
        move_events(locked, from, to, &user.email, now)
    };
    store
        .move_projects(
            std::slice::from_ref(&project.project_name),
            &target.billing_group_id,
            now,
            &change,
        )
        .await?
        .pop()
        .ok_or_else(|| {
            AppError::invalid(
                "billing_group_id",
                format!(
                    "Project '{}' is already in billing group '{}'.",
                    project.project_name, target.billing_group_name
                ),
            )
        })
}

/// Assigns several projects of the account to the group: the whole request
/// is checked first (every name a project of this account, none twice),
/// then every move is made in one transaction — all or nothing.
pub async fn assign_projects(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    project_names: &[String],
    now: DateTime<Utc>,
) -> AppResult<Vec<ProjectRecord>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    if project_names.is_empty() {
        return Err(AppError::invalid(
            "projects_names",
            "Choose at least one project to assign.",
        ));
    }
    let names =
        projects_of_account_named(store, &group.account_id, project_names, "projects_names")
            .await?;
    let change = |locked: &ProjectRecord, from: &BillingGroupRecord, to: &BillingGroupRecord| {
        move_events(locked, from, to, &user.email, now)
    };
    Ok(store
        .move_projects(&names, &group.billing_group_id, now, &change)
        .await?)
}

/// A group as the API shows it: with its account's name, whether it is the
/// primary group, and its accumulated costs (the same figure as the page's
/// header and the estimate's service lines).
pub struct GroupDetail {
    pub group: BillingGroup,
    pub account_name: String,
    pub is_primary: bool,
    pub costs: crate::model::billing::AccumulatedCosts,
}

/// One group (active or deleted) for any member of its account.
pub async fn group_detail(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<GroupDetail> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let account = store
        .account(&group.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    let month = super::month_to_date::MonthToDate::load(
        store,
        group,
        now,
        super::month_to_date::WithCredits::No,
    )
    .await?;
    Ok(GroupDetail {
        is_primary: account.primary_billing_group_id == month.group.billing_group_id,
        account_name: account.account_name,
        costs: month.accumulated(),
        group: to_model(month.group),
    })
}

/// The active groups of one account (or of every account of the caller),
/// by account and name.
pub async fn group_details(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: Option<&AccountId>,
    now: DateTime<Utc>,
) -> AppResult<Vec<GroupDetail>> {
    let account_ids: Vec<AccountId> = match account_id {
        Some(account_id) => {
            authorize(store, user, account_id, Role::Viewer).await?;
            vec![account_id.clone()]
        }
        None => store
            .accounts_of_user(&user.user_id)
            .await?
            .into_iter()
            .map(|a| a.account_id)
            .collect(),
    };
    let mut details = Vec::new();
    for account_id in account_ids {
        let account = store
            .account(&account_id)
            .await?
            .ok_or_else(|| AppError::not_found("Account"))?;
        let summaries = store.group_summaries(&account_id).await?;
        let records: Vec<&BillingGroupRecord> = summaries.iter().map(|s| &s.group).collect();
        let mut costs = accumulated_of_groups(store, &account_id, &records, now).await?;
        for summary in summaries {
            let group = summary.group;
            details.push(GroupDetail {
                is_primary: account.primary_billing_group_id == group.billing_group_id,
                account_name: account.account_name.clone(),
                costs: costs
                    .remove(&group.billing_group_id)
                    .ok_or(AppError::Internal)?,
                group: to_model(group),
            });
        }
    }
    Ok(details)
}
