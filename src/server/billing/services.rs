//! Services of a project (issue 17): created, powered off and on,
//! re-planned and terminated — from the project page or `avn service …` —
//! each change an event in the project's billing group log. Admins change;
//! every member reads.
//!
//! A plan change ends the open run at the change and starts the next on the
//! new plan at once; the new run bills from the next hour of the old run's
//! grid, so the hour in progress is billed once, at the plan it started on
//! (`costs` counts hours on each run's grid).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::access::authorized_project;
use super::costs::next_grid_hour;
use super::prices::PriceList;
use crate::error::{AppError, AppResult, FieldError};
use crate::model::states::{EventType, ServiceState};
use crate::model::{validation, CurrentUser, Role};
use crate::server::store::{
    NewEvent, NewService, ProjectRecord, ServiceAction, ServiceOp, ServiceStateRecord, Store,
};

/// What a service create asks for.
#[derive(Debug, Clone, Default)]
pub struct NewServiceRequest {
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    /// Empty: the project's default cloud.
    pub cloud: String,
}

/// A service as the API shows it: its plan, price and state, and the size
/// its plan has in its cloud now (from the price list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetail {
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: Decimal,
    pub state: ServiceState,
    pub node_count: i64,
    pub disk_space_mb: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// `service` as the API shows it at `now`.
pub fn detail(service: ServiceStateRecord, list: &PriceList, now: DateTime<Utc>) -> ServiceDetail {
    let size = list.price_at(
        &service.service_type,
        &service.plan,
        &service.cloud_name,
        now,
    );
    ServiceDetail {
        node_count: size.map_or(1, |s| s.node_count),
        disk_space_mb: size.map_or(0, |s| s.disk_mb),
        hourly_price_usd: service.hourly_price_usd.0,
        state: service.state,
        project_name: service.project_name,
        service_name: service.service_name,
        service_type: service.service_type,
        plan: service.plan,
        cloud_name: service.cloud_name,
        create_time: service.create_time,
        update_time: service.update_time,
    }
}

fn event(
    service: &ServiceStateRecord,
    actor: &CurrentUser,
    event_type: EventType,
    event_desc: String,
    details: serde_json::Value,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent {
        billing_group_id: service.billing_group_id.clone(),
        account_id: service.account_id.clone(),
        actor: actor.email.clone(),
        event_type,
        event_desc,
        project_name: Some(service.project_name.clone()),
        details: Some(details),
        create_time: at,
    }
}

/// The project's services that still exist (terminated ones are gone from
/// lists and changes, as in Aiven; their hours stay billed).
pub async fn list(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
) -> AppResult<Vec<ServiceStateRecord>> {
    let (project, _) = authorized_project(store, user, project_name, Role::Viewer).await?;
    Ok(store
        .services_of_project(&project.project_name)
        .await?
        .into_iter()
        .filter(|s| s.state != ServiceState::Terminated)
        .collect())
}

/// One service that still exists; a terminated or unknown one is not found.
pub async fn get(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    service_name: &str,
    needed: Role,
) -> AppResult<(ProjectRecord, ServiceStateRecord)> {
    let (project, _) = authorized_project(store, user, project_name, needed).await?;
    let service = store
        .services_of_project(&project.project_name)
        .await?
        .into_iter()
        .find(|s| s.service_name == service_name.trim() && s.state != ServiceState::Terminated)
        .ok_or_else(|| AppError::not_found("Service"))?;
    Ok((project, service))
}

/// Creates a service that starts running (and accruing hours in the
/// project's billing group) at once.
pub async fn create(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    request: &NewServiceRequest,
    now: DateTime<Utc>,
) -> AppResult<ServiceStateRecord> {
    let (project, _) = authorized_project(store, user, project_name, Role::Developer).await?;
    let list = PriceList::load(store).await?;
    let mut errors = Vec::new();
    let name = validation::service_name(&request.service_name)
        .map_err(|m| errors.push(FieldError::new("service_name", m)))
        .ok();
    let (service_type, plan) = (request.service_type.trim(), request.plan.trim());
    let cloud = match request.cloud.trim() {
        "" => project.default_cloud.as_str(),
        cloud => cloud,
    };
    let price = match list.price_for_new_run(service_type, plan, cloud, now) {
        Ok(price) => Some(price),
        Err(AppError::Invalid { errors: more }) => {
            errors.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let (Some(name), Some(price)) = (name, price) else {
        return Err(AppError::Invalid { errors });
    };
    let new = NewService {
        service_id: uuid::Uuid::new_v4().to_string(),
        project_name: project.project_name.clone(),
        service_name: name.clone(),
        service_type: service_type.to_string(),
        plan: plan.to_string(),
        cloud_name: cloud.to_string(),
        hourly_price_usd: price,
    };
    let created = NewEvent {
        billing_group_id: project.billing_group_id.clone(),
        account_id: project.account_id.clone(),
        actor: user.email.clone(),
        event_type: EventType::ServiceCreated,
        event_desc: format!(
            "Service '{name}' ({service_type} {plan} in {cloud}) created at {} USD/h",
            price.normalize()
        ),
        project_name: Some(project.project_name.clone()),
        details: Some(serde_json::json!({"after": {
            "service_name": name, "service_type": service_type, "plan": plan,
            "cloud_name": cloud, "hourly_price_usd": price.to_string(),
        }})),
        create_time: now,
    };
    store
        .create_running_service(&new, &created, now)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Invalid { errors } if errors.iter().any(|e| e.field == "service_name") => {
                AppError::Conflict {
                    message: format!(
                        "Project '{}' already has a service named '{name}'.",
                        project.project_name
                    ),
                }
            }
            other => other,
        })
}

/// Powers a service on (a new run at today's price) or off (its run ends;
/// charges stop after the hour in progress).
pub async fn power(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    service_name: &str,
    on: bool,
    now: DateTime<Utc>,
) -> AppResult<ServiceStateRecord> {
    let (_, service) = get(store, user, project_name, service_name, Role::Developer).await?;
    let list = PriceList::load(store).await?;
    let change = |locked: &ServiceStateRecord| {
        let running = locked.state == ServiceState::Running;
        if on == running {
            return Err(AppError::Conflict {
                message: if on {
                    format!("Service '{}' is already running.", locked.service_name)
                } else {
                    format!("Service '{}' is already powered off.", locked.service_name)
                },
            });
        }
        if locked.state == ServiceState::Terminated {
            return Err(AppError::not_found("Service"));
        }
        let (action, event_type, desc) = if on {
            // The price list's price now; a plan the list does not price
            // (a service older than the list) keeps its last price.
            let price = list
                .price_at(&locked.service_type, &locked.plan, &locked.cloud_name, now)
                .map_or(locked.hourly_price_usd.0, |r| r.hourly_price_usd.0);
            (
                ServiceAction::PowerOn {
                    hourly_price_usd: price,
                },
                EventType::ServicePoweredOn,
                format!(
                    "Service '{}' powered on ({} at {} USD/h)",
                    locked.service_name,
                    locked.plan,
                    price.normalize()
                ),
            )
        } else {
            (
                ServiceAction::PowerOff,
                EventType::ServicePoweredOff,
                format!("Service '{}' powered off", locked.service_name),
            )
        };
        Ok(ServiceOp {
            action,
            event: event(
                locked,
                user,
                event_type,
                desc,
                serde_json::json!({"after": {"powered": on}}),
                now,
            ),
        })
    };
    Ok(store
        .change_service(&service.service_id, now, &change)
        .await?)
}

/// Changes a service's plan. Running, its hours are billed at the old plan
/// until the end of the hour in progress and at the new one from the next.
pub async fn change_plan(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    service_name: &str,
    plan: &str,
    now: DateTime<Utc>,
) -> AppResult<ServiceStateRecord> {
    let (_, service) = get(store, user, project_name, service_name, Role::Developer).await?;
    let plan = plan.trim();
    let price = PriceList::load(store).await?.price_for_new_run(
        &service.service_type,
        plan,
        &service.cloud_name,
        now,
    )?;
    let change = |locked: &ServiceStateRecord| {
        if locked.plan == plan {
            return Err(AppError::invalid(
                "plan",
                format!(
                    "Service '{}' is already on plan {plan}.",
                    locked.service_name
                ),
            ));
        }
        let billed_from = locked
            .run_billed_from
            .map(|origin| next_grid_hour(origin, now));
        let from = billed_from.map_or_else(
            || "its next power-on".to_string(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        );
        Ok(ServiceOp {
            action: ServiceAction::ChangePlan {
                plan: plan.to_string(),
                hourly_price_usd: price,
                billed_from,
            },
            event: event(
                locked,
                user,
                EventType::ServicePlanChanged,
                format!(
                    "Service '{}' changed from {} to {plan}: billed at {} USD/h from {from}",
                    locked.service_name,
                    locked.plan,
                    price.normalize()
                ),
                serde_json::json!({
                    "before": {"plan": locked.plan, "hourly_price_usd": locked.hourly_price_usd.0.to_string()},
                    "after": {"plan": plan, "hourly_price_usd": price.to_string(), "billed_from": billed_from},
                }),
                now,
            ),
        })
    };
    Ok(store
        .change_service(&service.service_id, now, &change)
        .await?)
}

/// Terminates a service: its run ends, it leaves the lists, its name stays
/// taken in the project (its hours are on this month's invoice).
pub async fn terminate(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    service_name: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (_, service) = get(store, user, project_name, service_name, Role::Developer).await?;
    let change = |locked: &ServiceStateRecord| {
        if locked.state == ServiceState::Terminated {
            return Err(AppError::not_found("Service"));
        }
        Ok(ServiceOp {
            action: ServiceAction::Terminate,
            event: event(
                locked,
                user,
                EventType::ServiceTerminated,
                format!("Service '{}' terminated", locked.service_name),
                serde_json::json!({"before": {"state": locked.state.as_str()}}),
                now,
            ),
        })
    };
    store
        .change_service(&service.service_id, now, &change)
        .await?;
    Ok(())
}
