//! A project's services on its page: create, power, plan, terminate.

use leptos::prelude::*;

use crate::error::AppError;

/// Creates a service; `plan` is "type:plan" as the plan picker offers it.
#[server(endpoint = "create_service")]
pub async fn create_service(
    project_name: String,
    service_name: String,
    plan: String,
    cloud: String,
) -> Result<String, AppError> {
    use super::context;
    use crate::server::billing::services::{self, NewServiceRequest};
    let state = context::state()?;
    let user = context::user()?;
    let (service_type, plan) = plan
        .split_once(':')
        .ok_or_else(|| AppError::invalid("plan", "Choose a plan."))?;
    let created = services::create(
        state.store.as_ref(),
        &user,
        &project_name,
        &NewServiceRequest {
            service_name,
            service_type: service_type.to_string(),
            plan: plan.to_string(),
            cloud,
        },
        context::now()?,
    )
    .await?;
    Ok(created.service_name)
}

/// Powers a project's service on (`power` = "on") or off (admin).
#[server(endpoint = "power_service")]
pub async fn power_service(
    project_name: String,
    service_name: String,
    power: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let on = match power.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::invalid("power", "Choose on or off.")),
    };
    crate::server::billing::services::power(
        state.store.as_ref(),
        &user,
        &project_name,
        &service_name,
        on,
        context::now()?,
    )
    .await
    .map(|_| ())
}

#[server(endpoint = "change_service_plan")]
pub async fn change_service_plan(
    project_name: String,
    service_name: String,
    plan: String,
) -> Result<String, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::services::change_plan(
        state.store.as_ref(),
        &user,
        &project_name,
        &service_name,
        &plan,
        context::now()?,
    )
    .await
    .map(|s| s.plan)
}

/// Terminates a service once its name is typed again.
#[server(endpoint = "terminate_service")]
pub async fn terminate_service(
    project_name: String,
    service_name: String,
    confirm_name: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    // The caller's role first: a refusal says nothing about the service.
    crate::server::billing::services::get(
        state.store.as_ref(),
        &user,
        &project_name,
        &service_name,
        crate::model::Role::Developer,
    )
    .await?;
    if confirm_name.trim() != service_name.trim() {
        return Err(AppError::invalid(
            "confirm_name",
            "Type the service's name to confirm: termination cannot be undone.",
        ));
    }
    crate::server::billing::services::terminate(
        state.store.as_ref(),
        &user,
        &project_name,
        &service_name,
        context::now()?,
    )
    .await
}
