//! Rules 2 and 3 at creation: a project is in exactly one group of its own
//! account, the primary one unless its creator names another.

use chrono::{DateTime, Utc};

use super::store_error;
use crate::error::{AppError, AppResult};
use crate::model::{validation, CurrentUser, ProjectPage, ProjectSummary, Role, ServiceSummary};
use crate::server::auth::{authorize, internal};
use crate::server::store::{NewProject, ProjectRecord, Store};

pub async fn create_project(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &str,
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
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let group_id = match billing_group_id.map(str::trim).filter(|g| !g.is_empty()) {
        None => account.primary_billing_group_id.clone(),
        Some(requested) => {
            // A group of another account, or a deleted one, is refused here
            // with a clear message; the database refuses it again regardless.
            let group = store.billing_group(requested).await.map_err(internal)?;
            match group {
                Some(g) if g.account_id == account.account_id && g.group_state == "active" => {
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
        cloud => cloud.to_string(),
    };
    store
        .create_project(
            &NewProject {
                project_name,
                account_id: account.account_id,
                billing_group_id: group_id,
                default_cloud,
            },
            &user.email,
            at,
        )
        .await
        .map_err(store_error)
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
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let role = authorize(store, user, &project.account_id, needed)
        .await
        .map_err(|e| match e {
            AppError::NotFound { .. } => not_found(),
            other => other,
        })?;
    Ok((project, role))
}

/// The project page; a project of an account the user is not in is "not found".
pub async fn project_page(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
) -> AppResult<ProjectPage> {
    let (project, role) = authorized_project(store, user, project_name, Role::Viewer).await?;
    let account = store
        .account(&project.account_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::Internal)?;
    let services = store
        .services_of_project(&project.project_name)
        .await
        .map_err(internal)?;
    Ok(ProjectPage {
        account_name: account.account_name,
        role,
        services: services
            .into_iter()
            .map(|s| ServiceSummary {
                service_name: s.service_name,
                service_type: s.service_type,
                plan: s.plan,
                cloud_name: s.cloud_name,
                hourly_price_usd: s.hourly_price_usd.0,
                state: s.state,
            })
            .collect(),
        project: summary(&project),
    })
}

pub(crate) fn summary(project: &ProjectRecord) -> ProjectSummary {
    ProjectSummary {
        project_name: project.project_name.clone(),
        account_id: project.account_id.clone(),
        billing_group_id: project.billing_group_id.clone(),
        billing_group_name: project.billing_group_name.clone(),
        default_cloud: project.default_cloud.clone(),
        create_time: project.create_time,
    }
}

/// Powers a service of a project on or off (admin): charges start with the
/// next started hour, or stop (rule 6).
pub async fn power_service(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    service_name: &str,
    on: bool,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let (project, _) = authorized_project(store, user, project_name, Role::Admin).await?;
    let service = store
        .services_of_project(&project.project_name)
        .await
        .map_err(internal)?
        .into_iter()
        .find(|s| s.service_name == service_name.trim())
        .ok_or_else(|| AppError::not_found("Service"))?;
    if on && service.state == "terminated" {
        return Err(AppError::Conflict {
            message: "A terminated service cannot be powered on.".into(),
        });
    }
    store
        .power_service(&service.service_id, on, at)
        .await
        .map_err(store_error)
}
