//! `/v1/project/{project}/service…` and the service types: the lifecycle
//! `avn service create/list/get/update/terminate` drives, and the price
//! list `avn service types/plans` reads (aiven-client 4.18's requests and
//! fields). The rules are `server::billing::services`'.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};

use super::error::ApiResult;
use super::extract::{ApiJson, ApiUser};
use super::wire::{
    CreateServiceRequest, MessageResponse, PlanRegionWire, ServicePlanWire, ServiceResponse,
    ServiceTypeResponse, ServiceTypeWire, ServiceTypesResponse, ServiceWire, ServicesResponse,
    UpdateServiceRequest, VpcsResponse,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::states::ServiceState;
use crate::model::Role;
use crate::server::billing::prices::{self, PriceList};
use crate::server::billing::services::{self, NewServiceRequest, ServiceDetail};
use crate::server::state::AppState;

fn wire(service: ServiceDetail) -> ServiceWire {
    ServiceWire {
        state: match service.state {
            ServiceState::Running => "RUNNING",
            _ => "POWEROFF",
        }
        .to_string(),
        node_count: service.node_count,
        disk_space_mb: service.disk_space_mb,
        hourly_price_usd: service.hourly_price_usd,
        service_uri: String::new(),
        user_config: serde_json::Map::new(),
        databases: Vec::new(),
        users: Vec::new(),
        termination_protection: false,
        project_name: service.project_name,
        service_name: service.service_name,
        service_type: service.service_type,
        cloud_name: service.cloud_name,
        plan: service.plan,
        create_time: service.create_time,
        update_time: service.update_time,
    }
}

/// An option this console does not offer: a field-level 400 rather than
/// silently ignoring what the caller asked for.
fn unsupported(field: &str, what: &str) -> FieldError {
    FieldError::new(field, format!("{what} is not supported by this console."))
}

fn is_set(value: &Option<serde_json::Value>) -> bool {
    match value {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Object(map)) => !map.is_empty(),
        Some(serde_json::Value::Array(items)) => !items.is_empty(),
        Some(serde_json::Value::Bool(flag)) => *flag,
        Some(_) => true,
    }
}

pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(project): Path<String>,
) -> ApiResult<Json<ServicesResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let found = services::list(store, &user, &project).await?;
    let list = PriceList::load(store).await?;
    Ok(Json(ServicesResponse {
        services: found
            .into_iter()
            .map(|s| wire(services::detail(s, &list, now)))
            .collect(),
    }))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((project, service)): Path<(String, String)>,
) -> ApiResult<Json<ServiceResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let (_, found) = services::get(store, &user, &project, &service, Role::Viewer).await?;
    let list = PriceList::load(store).await?;
    Ok(Json(ServiceResponse {
        service: wire(services::detail(found, &list, now)),
    }))
}

pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(project): Path<String>,
    ApiJson(body): ApiJson<CreateServiceRequest>,
) -> ApiResult<Json<ServiceResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let mut refused = Vec::new();
    for (field, value, what) in [
        (
            "user_config",
            &body.user_config,
            "Service configuration (user_config)",
        ),
        (
            "service_integrations",
            &body.service_integrations,
            "Service integrations",
        ),
        ("static_ips", &body.static_ips, "Static IP addresses"),
        ("project_vpc_id", &body.project_vpc_id, "A project VPC"),
    ] {
        if is_set(value) {
            refused.push(unsupported(field, what));
        }
    }
    if body.termination_protection == Some(true) {
        refused.push(unsupported(
            "termination_protection",
            "Termination protection",
        ));
    }
    if body.disk_space_mb.is_some() {
        refused.push(unsupported("disk_space_mb", "Extra disk space"));
    }
    if body.cmk_id.as_ref().is_some_and(|c| !c.is_empty()) {
        refused.push(unsupported("cmk_id", "A customer-managed key"));
    }
    if !refused.is_empty() {
        return Err(AppError::Invalid { errors: refused }.into());
    }
    let created = services::create(
        store,
        &user,
        &project,
        &NewServiceRequest {
            service_name: body.service_name,
            service_type: body.service_type,
            plan: body.plan,
            cloud: body.cloud.unwrap_or_default(),
        },
        now,
    )
    .await?;
    let list = PriceList::load(store).await?;
    Ok(Json(ServiceResponse {
        service: wire(services::detail(created, &list, now)),
    }))
}

/// `avn service update`: a plan change and/or power off/on. avn always
/// sends the plan (the current one when not changing it).
pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((project, service)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateServiceRequest>,
) -> ApiResult<Json<ServiceResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let (_, current) = services::get(store, &user, &project, &service, Role::Developer).await?;
    let mut refused = Vec::new();
    if body
        .cloud
        .as_deref()
        .is_some_and(|c| c.trim() != current.cloud_name)
    {
        refused.push(unsupported("cloud", "Moving a service to another cloud"));
    }
    for (field, value, what) in [
        (
            "user_config",
            &body.user_config,
            "Service configuration (user_config)",
        ),
        ("maintenance", &body.maintenance, "A maintenance window"),
        ("project_vpc_id", &body.project_vpc_id, "A project VPC"),
    ] {
        if is_set(value) {
            refused.push(unsupported(field, what));
        }
    }
    if body.disk_space_mb.is_some() {
        refused.push(unsupported("disk_space_mb", "Extra disk space"));
    }
    if body.termination_protection == Some(true) {
        refused.push(unsupported(
            "termination_protection",
            "Termination protection",
        ));
    }
    if body.karapace.is_some()
        || body.schema_registry_authz.is_some()
        || body.disaster_recovery_role.is_some()
        || body.cmk_id.is_some()
    {
        refused.push(unsupported(
            "service",
            "Karapace, schema registry, disaster recovery and key options are",
        ));
    }
    if !refused.is_empty() {
        return Err(AppError::Invalid { errors: refused }.into());
    }
    let new_plan = body
        .plan
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let plan_changes = new_plan.is_some_and(|p| p != current.plan);
    let mut updated = current.clone();
    if plan_changes {
        let plan = new_plan.unwrap_or_default();
        updated = services::change_plan(store, &user, &project, &service, plan, now).await?;
    }
    if let Some(powered) = body.powered {
        updated = services::power(store, &user, &project, &service, powered, now).await?;
    }
    if !plan_changes && body.powered.is_none() {
        return Err(match new_plan {
            Some(plan) => AppError::invalid(
                "plan",
                format!(
                    "Service '{}' is already on plan {plan}.",
                    current.service_name
                ),
            ),
            None => AppError::invalid("plan", "Nothing to change: send a new plan or powered."),
        }
        .into());
    }
    let list = PriceList::load(store).await?;
    Ok(Json(ServiceResponse {
        service: wire(services::detail(updated, &list, now)),
    }))
}

pub async fn terminate(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((project, service)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    services::terminate(
        state.store.as_ref(),
        &user,
        &project,
        &service,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: format!("Service '{}' terminated.", service.trim()),
    }))
}

fn type_wire(list: &PriceList, service_type: &str, now: DateTime<Utc>) -> ServiceTypeWire {
    ServiceTypeWire {
        description: prices::type_description(service_type),
        service_plans: list
            .plan_prices(service_type, now)
            .into_iter()
            .filter(|(_, regions)| !regions.is_empty())
            .map(|(plan, regions)| ServicePlanWire {
                service_type: service_type.to_string(),
                node_count: regions.values().next().map_or(1, |r| r.node_count),
                regions: regions
                    .into_iter()
                    .map(|(cloud, row)| {
                        (
                            cloud,
                            PlanRegionWire {
                                price_usd: row.hourly_price_usd.0.normalize().to_string(),
                                node_memory_mb: row.memory_mb,
                                disk_space_mb: row.disk_mb,
                                node_cpu_count: row.cpu_count,
                            },
                        )
                    })
                    .collect(),
                service_plan: plan,
            })
            .collect(),
        user_config_schema: serde_json::json!({"type": "object", "properties": {}}),
    }
}

async fn all_types(state: &AppState) -> AppResult<ServiceTypesResponse> {
    let list = PriceList::load(state.store.as_ref()).await?;
    let now = state.clock.now();
    let service_types: BTreeMap<String, ServiceTypeWire> = list
        .service_types()
        .into_iter()
        .map(|t| {
            let wire = type_wire(&list, &t, now);
            (t, wire)
        })
        .collect();
    Ok(ServiceTypesResponse { service_types })
}

/// `avn service types/plans` without a project: the public price list.
pub async fn types(State(state): State<AppState>) -> ApiResult<Json<ServiceTypesResponse>> {
    Ok(Json(all_types(&state).await?))
}

pub async fn types_of_project(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(project): Path<String>,
) -> ApiResult<Json<ServiceTypesResponse>> {
    crate::server::billing::access::authorized_project(
        state.store.as_ref(),
        &user,
        &project,
        Role::Viewer,
    )
    .await?;
    Ok(Json(all_types(&state).await?))
}

/// One type (what `avn service create/update` reads its options from).
pub async fn one_type(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((project, service_type)): Path<(String, String)>,
) -> ApiResult<Json<ServiceTypeResponse>> {
    let store = state.store.as_ref();
    crate::server::billing::access::authorized_project(store, &user, &project, Role::Viewer)
        .await?;
    let list = PriceList::load(store).await?;
    if !list.service_types().contains(service_type.trim()) {
        return Err(AppError::not_found("Service type").into());
    }
    let wire = type_wire(&list, service_type.trim(), state.clock.now());
    Ok(Json(ServiceTypeResponse {
        service_type: service_type.trim().to_string(),
        description: wire.description,
        service_plans: wire.service_plans,
        user_config_schema: wire.user_config_schema,
    }))
}

/// Project VPCs (`avn service create --cloud` asks): this console has none.
pub async fn vpcs(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(project): Path<String>,
) -> ApiResult<Json<VpcsResponse>> {
    crate::server::billing::access::authorized_project(
        state.store.as_ref(),
        &user,
        &project,
        Role::Viewer,
    )
    .await?;
    Ok(Json(VpcsResponse { vpcs: Vec::new() }))
}
