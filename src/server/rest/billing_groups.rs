//! `/v1/billing-group…`: list, create, get, update, delete, projects,
//! assigning projects, events. The rules are `server::billing`'s.

use axum::extract::{Path, State};
use axum::Json;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiQuery, ApiUser};
use super::wire::{
    AssignProjectsRequest, BillingFields, BillingGroupResponse, BillingGroupWire,
    BillingGroupsResponse, CreateBillingGroupRequest, EventWire, EventsQuery, EventsResponse,
    MessageResponse, ProjectWire, ProjectsResponse, UpdateBillingGroupRequest,
};
use crate::error::{AppError, AppResult};
use crate::model::billing::BillingGroup;
use crate::model::ids::{AccountId, GroupId};
use crate::model::Role;
use crate::server::billing::billing_info::{self, BillingInfoForm};
use crate::server::billing::{access, events, groups, projects};
use crate::server::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<BillingGroupsResponse>> {
    let details =
        groups::group_details(state.store.as_ref(), &user, None, state.clock.now()).await?;
    Ok(Json(BillingGroupsResponse {
        billing_groups: details
            .into_iter()
            .map(BillingGroupWire::of_detail)
            .collect(),
    }))
}

pub async fn list_of_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<BillingGroupsResponse>> {
    let details = groups::group_details(
        state.store.as_ref(),
        &user,
        Some(&AccountId::from(&account_id)),
        state.clock.now(),
    )
    .await?;
    Ok(Json(BillingGroupsResponse {
        billing_groups: details
            .into_iter()
            .map(BillingGroupWire::of_detail)
            .collect(),
    }))
}

async fn group_response(
    state: &AppState,
    user: &crate::model::CurrentUser,
    billing_group_id: &str,
) -> ApiResult<Json<BillingGroupResponse>> {
    let detail = groups::group_detail(
        state.store.as_ref(),
        user,
        &GroupId::from(billing_group_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(BillingGroupResponse {
        billing_group: BillingGroupWire::of_detail(detail),
    }))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<BillingGroupResponse>> {
    group_response(&state, &user, &billing_group_id).await
}

/// The Billing information form as it would be submitted: the group's
/// current values with the request's fields laid over them. The one
/// validation (`billing_info::validate`) then checks everything at once.
fn form_with(current: &BillingGroup, fields: &BillingFields) -> AppResult<BillingInfoForm> {
    if fields
        .card_id
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty())
    {
        return Err(AppError::invalid(
            "card_id",
            "Cards are not kept by ID here: add the card on the billing group's Billing information tab in the console.",
        ));
    }
    let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_string());
    let emails = match &fields.billing_emails {
        Some(emails) => emails.iter().map(|e| e.email.clone()).collect::<Vec<_>>(),
        None => current.billing_emails.clone(),
    };
    let contacts = match &fields.billing_contact_emails {
        Some(emails) => emails.iter().map(|e| e.email.clone()).collect::<Vec<_>>(),
        None => current.billing_contact_emails.clone(),
    };
    let address = match &fields.address_lines {
        Some(lines) => lines.clone(),
        None => current.address_lines.clone(),
    };
    if address.iter().any(|l| l.contains('\n')) {
        return Err(AppError::invalid(
            "address_lines",
            "Give each address line as its own list item, without line breaks.",
        ));
    }
    Ok(BillingInfoForm {
        payment_method: pick(&fields.payment_method, current.payment_method.as_str()),
        // An existing card is kept as it is (no number in the request).
        card_number: String::new(),
        card_expiry: String::new(),
        card_name: String::new(),
        company: pick(&fields.company, &current.company),
        address: address.join("\n"),
        city: pick(&fields.city, &current.city),
        state: pick(&fields.state, &current.state),
        zip_code: pick(&fields.zip_code, &current.zip_code),
        country_code: pick(&fields.country_code, &current.country_code),
        vat_id: pick(&fields.vat_id, &current.vat_id),
        billing_emails: emails.join("\n"),
        billing_contact_emails: contacts.join("\n"),
        billing_currency: pick(&fields.billing_currency, current.billing_currency.code()),
        billing_extra_text: pick(&fields.billing_extra_text, &current.billing_extra_text),
    })
}

fn touches_billing_info(fields: &BillingFields) -> bool {
    fields.vat_id.is_some()
        || fields.billing_currency.is_some()
        || fields.billing_extra_text.is_some()
        || fields.billing_emails.is_some()
        || fields.billing_contact_emails.is_some()
        || fields.company.is_some()
        || fields.address_lines.is_some()
        || fields.country_code.is_some()
        || fields.city.is_some()
        || fields.state.is_some()
        || fields.zip_code.is_some()
        || fields.payment_method.is_some()
        || fields.card_id.is_some()
}

pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(CreateBillingGroupRequest(fields)): ApiJson<CreateBillingGroupRequest>,
) -> ApiResult<Json<BillingGroupResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let Some(account_id) = fields
        .account_id
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    else {
        return Err(AppError::invalid(
            "account_id",
            "Name the account the billing group belongs to.",
        )
        .into());
    };
    let name = fields.billing_group_name.clone().unwrap_or_default();
    access::authorize(store, &user, &AccountId::from(account_id), Role::Billing).await?;
    // The billing details are laid over a new group's defaults, then the
    // group and its details are checked and written in one transaction.
    let form = if touches_billing_info(&fields) {
        let template = BillingGroup::new_defaults(account_id, now);
        Some(form_with(&template, &fields)?)
    } else {
        None
    };
    let details = match &form {
        Some(form) => groups::NewGroupDetails::Form(form),
        None => groups::NewGroupDetails::Defaults,
    };
    let created = groups::create_group_with(
        store,
        &user,
        &AccountId::from(account_id),
        &name,
        details,
        &[],
        now,
    )
    .await?;
    group_response(&state, &user, &created.billing_group_id).await
}

pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiJson(UpdateBillingGroupRequest(fields)): ApiJson<UpdateBillingGroupRequest>,
) -> ApiResult<Json<BillingGroupResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let billing_group_id = GroupId::from(billing_group_id);
    let group = billing_info::editable_group(store, &user, &billing_group_id).await?;
    if let Some(account_id) = fields.account_id.as_deref().map(str::trim) {
        if account_id != group.account_id {
            return Err(AppError::invalid(
                "account_id",
                "A billing group stays in its account; create one in the other account instead.",
            )
            .into());
        }
    }
    // Check both parts before writing either, so a bad field changes nothing.
    let name = fields
        .billing_group_name
        .as_deref()
        .map(groups::group_name)
        .transpose()?;
    let form = if touches_billing_info(&fields) {
        let form = form_with(&group, &fields)?;
        billing_info::check(store, &user, &billing_group_id, &form, now).await?;
        Some(form)
    } else {
        None
    };
    if let Some(name) = name.filter(|n| *n != group.billing_group_name) {
        groups::rename_group(store, &user, &billing_group_id, &name, now).await?;
    }
    if let Some(form) = form {
        billing_info::save(store, &user, &billing_group_id, &form, now).await?;
    }
    group_response(&state, &user, &group.billing_group_id).await
}

pub async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<MessageResponse>> {
    groups::delete_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "Billing group deleted".into(),
    }))
}

pub async fn projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<ProjectsResponse>> {
    let details = projects::project_details(
        state.store.as_ref(),
        &user,
        Some(&billing_group_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(ProjectsResponse {
        projects: details.into_iter().map(ProjectWire::of).collect(),
    }))
}

pub async fn assign_projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiJson(body): ApiJson<AssignProjectsRequest>,
) -> ApiResult<Json<MessageResponse>> {
    let moved = groups::assign_projects(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &body.projects_names,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: format!("{} project(s) assigned", moved.len()),
    }))
}

pub async fn assign_project(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, project)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let store = state.store.as_ref();
    // The group first: a foreign or unknown group is "not found" whatever the project.
    access::authorized_group(
        store,
        &user,
        &GroupId::from(&billing_group_id),
        Role::Billing,
    )
    .await?;
    groups::move_project(
        store,
        &user,
        &project,
        &GroupId::from(&billing_group_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: format!("Project '{project}' assigned"),
    }))
}

pub async fn events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsResponse>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::from(AppError::invalid(
            "limit",
            "Ask for between 1 and 1000 events.",
        )));
    }
    let store = state.store.as_ref();
    let mut collected = Vec::new();
    let mut before = None;
    // The Events tab's keyset pages, read until the limit is reached.
    loop {
        let page = events::events_page(
            store,
            &user,
            &GroupId::from(&billing_group_id),
            before,
            None,
            None,
        )
        .await?;
        collected.extend(page.events);
        match page.next_before {
            Some(next) if (collected.len() as i64) < limit => before = Some(next),
            _ => break,
        }
    }
    collected.truncate(limit as usize);
    let id = billing_group_id.trim();
    Ok(Json(EventsResponse {
        events: collected
            .into_iter()
            .map(|e| EventWire::of(id, e))
            .collect(),
    }))
}
