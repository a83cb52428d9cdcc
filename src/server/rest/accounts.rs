//! `/v1/userauth`, `/v1/account` and `/v1/project`.

use axum::extract::State;
use axum::Json;

use super::error::ApiResult;
use super::extract::{ApiJson, ApiUser, ClientAddr};
use super::wire::{
    AccountWire, AccountsResponse, CreateProjectRequest, ProjectResponse, ProjectWire,
    ProjectsResponse, UserAuthRequest, UserAuthResponse,
};
use crate::error::AppError;
use crate::model::ids::AccountId;
use crate::model::Role;
use crate::server::billing::{access, accounts, projects};
use crate::server::state::AppState;
use crate::server::{sign_in, tokens};

/// `avn user login`: the sign-in check (with its back-off), then a new
/// personal token, listed in the console like any other.
pub async fn user_auth(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<UserAuthRequest>,
) -> ApiResult<Json<UserAuthResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let attempt = sign_in::Attempt {
        email: &body.email,
        password: &body.password,
        client: client.0,
        device_cookie: None,
    };
    let user = sign_in::check_credentials(store, &attempt, now).await?.user;
    let user = user.current();
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
    let accounts = accounts::accounts_of_user(state.store.as_ref(), &user)
        .await?
        .into_iter()
        .map(|(member, account)| AccountWire {
            account_id: account.account_id.into_string(),
            account_name: account.account_name,
            primary_billing_group_id: account.primary_billing_group_id.into_string(),
            role: member.role.to_string(),
            create_time: account.create_time,
            update_time: account.update_time,
        })
        .collect();
    Ok(Json(AccountsResponse { accounts }))
}

pub async fn list_projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<ProjectsResponse>> {
    let details =
        projects::project_details(state.store.as_ref(), &user, None, state.clock.now()).await?;
    Ok(Json(ProjectsResponse {
        projects: details.into_iter().map(ProjectWire::of).collect(),
    }))
}

/// `avn project create NAME --parent-id ACCOUNT [--billing-group-id ID]
/// [--cloud C] [--copy-from-project P [--use-source-project-billing-group]]`.
pub async fn create_project(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<CreateProjectRequest>,
) -> ApiResult<Json<ProjectResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
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
            access::authorized_project(store, &user, name, Role::Viewer)
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
        (Some(account_id), _) => AccountId::from(account_id),
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
        (None, Some(source), Some(true)) => Some(source.billing_group_id.to_string()),
        _ => None,
    };
    let cloud = body
        .cloud
        .clone()
        .or_else(|| source.as_ref().map(|s| s.default_cloud.clone()))
        .unwrap_or_default();
    // Aiven answers 409 for a name in use (`avn project create
    // --no-fail-if-exists` relies on it), to callers who may create
    // projects in the account; the database still has the last word.
    if projects::project_name_taken(store, &user, &account_id, &body.project).await? {
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
    let project = ProjectWire::of(projects::detail_of(store, created, now).await?);
    Ok(Json(ProjectResponse { project }))
}

/// The account's billing overview: each active group's month to date and
/// the account's total in `?currency=` (the Billing tab's figures).
pub async fn billing_overview(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    axum::extract::Path(account_id): axum::extract::Path<String>,
    super::extract::ApiQuery(query): super::extract::ApiQuery<super::wire::BillingOverviewQuery>,
) -> ApiResult<Json<super::wire::BillingOverviewResponse>> {
    use super::wire::{amount, GroupCostWire};
    if let Some(code) = query.currency.as_deref() {
        if crate::model::money::Currency::parse(&code.trim().to_ascii_uppercase()).is_none() {
            return Err(AppError::invalid(
                "currency",
                format!("'{code}' is not a billing currency."),
            )
            .into());
        }
    }
    let billing = crate::server::billing::groups::account_billing(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        query.currency.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(super::wire::BillingOverviewResponse {
        account_id: billing.account_id,
        billing_groups: billing
            .groups
            .into_iter()
            .map(|g| GroupCostWire {
                billing_group_id: g.billing_group_id,
                billing_group_name: g.billing_group_name,
                billing_currency: g.billing_currency.to_string(),
                is_primary: g.is_primary,
                project_count: g.project_count,
                month_to_date_usd: amount(g.costs.usd),
                month_to_date_local: g.costs.local.map(amount),
            })
            .collect(),
        total_usd: amount(billing.total.usd),
        total_currency: billing.total_currency.to_string(),
        total_local: billing.total.local.map(amount),
    }))
}
