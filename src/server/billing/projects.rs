//! Rules 2 and 3 at creation: a project is in exactly one group of its own
//! account, the primary one unless its creator names another.

use chrono::{DateTime, Utc};

use super::access::{authorize, authorized_project};
use super::present::{project_summary, to_model};
use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::{Currency, Money};
use crate::model::states::{EventType, ServiceState};
use crate::model::{validation, CurrentUser, PlanOption, ProjectPage, Role, ServiceSummary};
use crate::server::store::{NewEvent, NewProject, ProjectRecord, Store};

pub async fn create_project(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    project_name: &str,
    billing_group_id: Option<&str>,
    default_cloud: &str,
    at: DateTime<Utc>,
) -> AppResult<ProjectRecord> {
    authorize(store, user, account_id, Role::Billing).await?;
    let project_name =
        validation::project_name(project_name).map_err(|m| AppError::invalid("project_name", m))?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let group_id = match billing_group_id.map(str::trim).filter(|g| !g.is_empty()) {
        None => account.primary_billing_group_id.clone(),
        Some(requested) => {
            // A group of another account, or a deleted one, is refused here
            // with a clear message; the database refuses it again regardless.
            let group = store.billing_group(&GroupId::from(requested)).await?;
            match group {
                Some(g) if g.account_id == account.account_id && g.is_active() => {
                    g.billing_group_id
                }
                _ => {
                    return Err(AppError::invalid(
                        "billing_group_id",
                        "Choose a billing group of this account; that one does not exist here.",
                    ))
                }
            }
        }
    };
    let default_cloud = match default_cloud.trim() {
        "" => "google-europe-north1".to_string(),
        cloud => validation::cloud_name(cloud).map_err(|m| AppError::invalid("cloud", m))?,
    };
    let event = NewEvent {
        billing_group_id: group_id.clone(),
        account_id: account.account_id.clone(),
        actor: user.email.clone(),
        event_type: EventType::ProjectAdded,
        event_desc: format!("Project '{project_name}' created in this billing group"),
        project_name: Some(project_name.clone()),
        details: None,
        create_time: at,
    };
    let new = NewProject {
        project_name,
        account_id: account.account_id,
        billing_group_id: group_id,
        default_cloud,
    };
    Ok(store.create_project(&new, &event, at).await?)
}

/// Whether a project name is taken, asked by someone who may create
/// projects in the account (names are unique across all accounts, as in
/// Aiven; nobody else learns which names exist).
pub async fn project_name_taken(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    project_name: &str,
) -> AppResult<bool> {
    authorize(store, user, account_id, Role::Billing).await?;
    Ok(store.project(project_name.trim()).await?.is_some())
}

/// The project page; a project of an account the user is not in is "not
/// found". Terminated services stay listed for the month they ran in.
pub async fn project_page(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    now: DateTime<Utc>,
) -> AppResult<ProjectPage> {
    let (project, role) = authorized_project(store, user, project_name, Role::Viewer).await?;
    let account = store
        .account(&project.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    let list = super::prices::PriceList::load(store).await?;
    let month = super::month_to_date::service_costs_of_project(store, &project, now).await?;
    let services = store
        .services_of_project(&project.project_name)
        .await?
        .into_iter()
        .filter(|s| s.state != ServiceState::Terminated || month.contains_key(&s.service_name))
        .map(|s| ServiceSummary {
            month_to_date: month
                .get(&s.service_name)
                .copied()
                .unwrap_or(Money::zero(Currency::USD)),
            other_plans: list
                .plans_of(&s.service_type)
                .into_iter()
                .filter(|plan| *plan != s.plan)
                .filter_map(|plan| {
                    list.price_at(&s.service_type, &plan, &s.cloud_name, now)
                        .map(|row| (plan, row.hourly_price_usd.0))
                })
                .collect(),
            service_name: s.service_name,
            service_type: s.service_type,
            plan: s.plan,
            cloud_name: s.cloud_name,
            hourly_price_usd: s.hourly_price_usd.0,
            state: s.state,
        })
        .collect();
    let clouds: Vec<String> = list.clouds().into_iter().collect();
    let mut plans = Vec::new();
    for service_type in list.service_types() {
        for (plan, regions) in list.plan_prices(&service_type, now) {
            let prices: Vec<_> = regions.values().map(|r| r.hourly_price_usd.0).collect();
            if let (Some(lowest), Some(highest)) = (prices.iter().min(), prices.iter().max()) {
                plans.push(PlanOption {
                    description: super::prices::type_description(&service_type),
                    service_type: service_type.clone(),
                    plan,
                    lowest_usd: *lowest,
                    highest_usd: *highest,
                });
            }
        }
    }
    Ok(ProjectPage {
        account_name: account.account_name,
        role,
        services,
        project: project_summary(&project),
        plans,
        clouds,
    })
}

/// A project as the API shows it: with its group's billing details, its
/// month-to-date charges in that group and the credits available to it.
pub struct ProjectDetail {
    pub project: ProjectRecord,
    pub account_name: String,
    pub group: crate::model::billing::BillingGroup,
    pub estimated_balance: crate::model::money::Money,
    pub available_credits: crate::model::money::Money,
}

/// The caller's projects (all of their accounts', or one group's) with
/// their details. Queries grow with the accounts and groups involved, not
/// with projects.
pub async fn project_details(
    store: &dyn Store,
    user: &CurrentUser,
    of_group: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ProjectDetail>> {
    let records = match of_group {
        Some(billing_group_id) => {
            let (group, _) = super::access::authorized_group(
                store,
                user,
                &GroupId::from(billing_group_id),
                Role::Viewer,
            )
            .await?;
            store.projects_of_group(&group.billing_group_id).await?
        }
        None => store.projects_of_user(&user.user_id).await?,
    };
    details_of(store, records, now).await
}

/// One project the caller just created, with its details.
pub async fn detail_of(
    store: &dyn Store,
    project: ProjectRecord,
    now: DateTime<Utc>,
) -> AppResult<ProjectDetail> {
    details_of(store, vec![project], now)
        .await?
        .pop()
        .ok_or(AppError::Internal)
}

async fn details_of(
    store: &dyn Store,
    records: Vec<ProjectRecord>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ProjectDetail>> {
    use std::collections::{BTreeMap, BTreeSet};
    let account_ids: BTreeSet<&AccountId> = records.iter().map(|p| &p.account_id).collect();
    let group_ids: BTreeSet<&GroupId> = records.iter().map(|p| &p.billing_group_id).collect();
    let mut account_names = BTreeMap::new();
    let mut costs = BTreeMap::new();
    for account_id in account_ids {
        let account = store.account(account_id).await?.ok_or(AppError::Internal)?;
        account_names.insert(account_id.clone(), account.account_name);
        costs.extend(super::month_to_date::project_costs_of_account(store, account_id, now).await?);
    }
    let mut groups = BTreeMap::new();
    let mut credits = BTreeMap::new();
    for group_id in group_ids {
        let record = store
            .billing_group(group_id)
            .await?
            .ok_or(AppError::Internal)?;
        groups.insert(group_id.clone(), to_model(record));
        credits.insert(group_id.clone(), store.credits_of_group(group_id).await?);
    }
    let zero = crate::model::money::Money::zero(crate::model::money::Currency::USD);
    records
        .into_iter()
        .map(|project| {
            let group = groups
                .get(&project.billing_group_id)
                .cloned()
                .ok_or(AppError::Internal)?;
            let available_credits = credits
                .get(&project.billing_group_id)
                .map(|c| super::credits::available_for(c, &project.project_name, now))
                .unwrap_or(zero);
            Ok(ProjectDetail {
                account_name: account_names
                    .get(&project.account_id)
                    .cloned()
                    .unwrap_or_default(),
                estimated_balance: costs
                    .get(&(
                        project.billing_group_id.clone(),
                        project.project_name.clone(),
                    ))
                    .copied()
                    .unwrap_or(zero),
                available_credits,
                group,
                project,
            })
        })
        .collect()
}

/// The top bar's project menu: the first `limit` project names of the
/// user's accounts, and how many more there are.
pub async fn menu_projects(
    store: &dyn Store,
    user: &CurrentUser,
    limit: usize,
) -> AppResult<(Vec<String>, usize)> {
    let limit = limit.min(100);
    let (names, total) = store
        .project_names_of_user(&user.user_id, limit as i64)
        .await?;
    let more = (total as usize).saturating_sub(names.len());
    Ok((names, more))
}
