//! `/v1/userauth`, `/v1/account` and `/v1/project`.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::billing_groups::account_of;
use super::extract::{ApiJson, ApiUser, ClientAddr};
use super::wire::{
    billing_address, cents, AccountWire, AccountsResponse, CardInfoWire, CreateProjectRequest,
    Email, ProjectResponse, ProjectWire, ProjectsResponse, UserAuthRequest, UserAuthResponse,
};
use super::ApiResult;
use crate::error::{AppError, AppResult};
use crate::model::countries::country_name;
use crate::model::{CurrentUser, Role};
use crate::server::auth::{self, internal};
use crate::server::billing::{credits, groups, projects};
use crate::server::store::{ProjectRecord, Store};
use crate::server::{tokens, AppState};

/// `avn user login`: the sign-in check (with its back-off), then a new
/// personal token, listed in the console like any other.
pub async fn user_auth(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<UserAuthRequest>,
) -> ApiResult<Json<UserAuthResponse>> {
    let store = state.store.as_ref();
    let now = Utc::now();
    let user = auth::check_credentials(store, &body.email, &body.password, client.0, now).await?;
    let user = CurrentUser {
        user_id: user.user_id,
        email: user.email,
        real_name: user.real_name,
    };
    let created = tokens::create(
        store,
        &user,
        "Signed in with POST /v1/userauth (avn user login)",
        now,
    )
    .await?;
    Ok(Json(UserAuthResponse {
        token: created.token,
        state: "active".into(),
        user_email: user.email,
    }))
}

pub async fn list_accounts(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<AccountsResponse>> {
    let store = state.store.as_ref();
    let mut accounts = Vec::new();
    for member in store
        .accounts_of_user(&user.user_id)
        .await
        .map_err(internal)?
    {
        let account = account_of(store, &member.account_id).await?;
        accounts.push(AccountWire {
            account_id: account.account_id,
            account_name: account.account_name,
            primary_billing_group_id: account.primary_billing_group_id,
            role: member.role,
            create_time: account.create_time,
            update_time: account.update_time,
        });
    }
    Ok(Json(AccountsResponse { accounts }))
}

/// Projects as the API shows them, with their group's billing details,
/// month-to-date charges and available credits. Queries grow with the
/// number of accounts and groups involved, not with projects.
pub(super) async fn project_wires(
    store: &dyn Store,
    records: Vec<ProjectRecord>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ProjectWire>> {
    let account_ids: BTreeSet<String> = records.iter().map(|p| p.account_id.clone()).collect();
    let group_ids: BTreeSet<String> = records.iter().map(|p| p.billing_group_id.clone()).collect();
    let mut accounts = BTreeMap::new();
    // (group, project) → USD this month.
    let mut charges: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for account_id in &account_ids {
        accounts.insert(account_id.clone(), account_of(store, account_id).await?);
        let (account_charges, _) = groups::month_to_date_by_group(store, account_id, now).await?;
        for charge in account_charges {
            *charges
                .entry((charge.billing_group_id, charge.project_name))
                .or_default() += charge.amount_usd;
        }
    }
    let mut group_models = BTreeMap::new();
    let mut group_credits = BTreeMap::new();
    for group_id in &group_ids {
        let record = store
            .billing_group(group_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        group_models.insert(group_id.clone(), groups::to_model(record)?);
        let usable: Vec<_> = store
            .credits_of_group(group_id)
            .await
            .map_err(internal)?
            .iter()
            .map(|c| credits::credit_of(c, Decimal::ZERO, now))
            .filter(|c| c.state == "active")
            .collect();
        group_credits.insert(group_id.clone(), usable);
    }
    let mut out = Vec::with_capacity(records.len());
    for p in records {
        let (Some(group), Some(account)) = (
            group_models.get(&p.billing_group_id),
            accounts.get(&p.account_id),
        ) else {
            return Err(AppError::Internal);
        };
        let available_credits = group_credits
            .get(&p.billing_group_id)
            .into_iter()
            .flatten()
            .filter(|c| {
                c.earmarked_project_name
                    .as_deref()
                    .is_none_or(|e| e == p.project_name)
            })
            .map(|c| c.remaining_value_usd)
            .sum::<Decimal>();
        let estimated = charges
            .get(&(p.billing_group_id.clone(), p.project_name.clone()))
            .copied()
            .unwrap_or_default();
        out.push(ProjectWire {
            account_name: account.account_name.clone(),
            billing_group_name: group.billing_group_name.clone(),
            billing_currency: group.billing_currency.clone(),
            billing_emails: Email::list(&group.billing_emails),
            billing_extra_text: group.billing_extra_text.clone(),
            billing_address: billing_address(group),
            company: group.company.clone(),
            country_code: group.country_code.clone(),
            country: country_name(&group.country_code)
                .unwrap_or_default()
                .to_string(),
            vat_id: group.vat_id.clone(),
            payment_method: group.payment_method.clone(),
            card_info: group.card_info.as_ref().map(|c| CardInfoWire::of(c, group)),
            estimated_balance: cents(estimated),
            available_credits: cents(available_credits),
            project_name: p.project_name,
            account_id: p.account_id,
            billing_group_id: p.billing_group_id,
            default_cloud: p.default_cloud,
            create_time: p.create_time,
        });
    }
    Ok(out)
}

pub async fn list_projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<ProjectsResponse>> {
    let store = state.store.as_ref();
    let mut records = Vec::new();
    for member in store
        .accounts_of_user(&user.user_id)
        .await
        .map_err(internal)?
    {
        records.extend(
            store
                .projects_of_account(&member.account_id)
                .await
                .map_err(internal)?,
        );
    }
    let projects = project_wires(store, records, Utc::now()).await?;
    Ok(Json(ProjectsResponse { projects }))
}

/// `avn project create NAME --parent-id ACCOUNT [--billing-group-id ID]
/// [--cloud C] [--copy-from-project P [--use-source-project-billing-group]]`.
pub async fn create_project(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<CreateProjectRequest>,
) -> ApiResult<Json<ProjectResponse>> {
    let store = state.store.as_ref();
    let now = Utc::now();
    if body.tech_emails.as_ref().is_some_and(|e| !e.is_empty()) {
        return Err(AppError::invalid(
            "tech_emails",
            "Technical contacts are not kept by this console; leave tech_emails out.",
        )
        .into());
    }
    let source = match body
        .copy_from_project
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(name) => Some(
            projects::authorized_project(store, &user, name, Role::Viewer)
                .await
                .map_err(|_| {
                    AppError::invalid(
                        "copy_from_project",
                        format!("'{name}' is not a project of an account of yours."),
                    )
                })?
                .0,
        ),
        None => None,
    };
    let account_id = match (
        body.account_id
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty()),
        &source,
    ) {
        (Some(account_id), _) => account_id.to_string(),
        (None, Some(source)) => source.account_id.clone(),
        (None, None) => {
            return Err(AppError::invalid(
                "account_id",
                "Name the account the project belongs to (avn: --parent-id).",
            )
            .into())
        }
    };
    let billing_group_id = match (
        &body.billing_group_id,
        &source,
        body.use_source_project_billing_group,
    ) {
        (Some(id), _, _) => Some(id.clone()),
        (None, Some(source), Some(true)) => Some(source.billing_group_id.clone()),
        _ => None,
    };
    let cloud = body
        .cloud
        .clone()
        .or_else(|| source.as_ref().map(|s| s.default_cloud.clone()))
        .unwrap_or_default();
    // Aiven answers 409 for a name in use (`avn project create
    // --no-fail-if-exists` relies on it); the database still has the last word.
    if store
        .project(body.project.trim())
        .await
        .map_err(internal)?
        .is_some()
    {
        return Err(AppError::Conflict {
            message: format!("Project '{}' already exists.", body.project.trim()),
        }
        .into());
    }
    let created = projects::create_project(
        store,
        &user,
        &account_id,
        &body.project,
        billing_group_id.as_deref(),
        &cloud,
        now,
    )
    .await?;
    let project = project_wires(store, vec![created], now)
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    Ok(Json(ProjectResponse { project }))
}
