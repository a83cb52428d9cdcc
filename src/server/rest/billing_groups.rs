//! `/v1/billing-group…`: list, create, get, update, delete, projects,
//! assigning projects, events. The rules are `server::billing::groups`'s.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::extract::{ApiJson, ApiQuery, ApiUser};
use super::wire::{
    AssignProjectsRequest, BillingFields, BillingGroupResponse, BillingGroupWire,
    BillingGroupsResponse, CreateBillingGroupRequest, EventWire, EventsQuery, EventsResponse,
    GroupFigures, MessageResponse, ProjectsResponse, UpdateBillingGroupRequest,
};
use super::{accounts, ApiError, ApiResult};
use crate::error::{AppError, AppResult};
use crate::model::{CurrentUser, Role};
use crate::server::auth::{authorize, internal};
use crate::server::billing::billing_info::{self, BillingInfoForm};
use crate::server::billing::{events, groups, invoices};
use crate::server::store::{AccountRecord, BillingGroupRecord, Store};
use crate::server::AppState;

/// Month-to-date figures of an account's groups: USD per group and the
/// rates of the currencies in use (two queries plus one per currency).
pub(super) struct AccountFigures {
    account: AccountRecord,
    usd_by_group: BTreeMap<String, Decimal>,
    rates: BTreeMap<String, Option<Decimal>>,
    now: DateTime<Utc>,
}

impl AccountFigures {
    pub(super) async fn load(
        store: &dyn Store,
        account: AccountRecord,
        now: DateTime<Utc>,
    ) -> AppResult<Self> {
        let (_, usd_by_group) =
            groups::month_to_date_by_group(store, &account.account_id, now).await?;
        Ok(AccountFigures {
            account,
            usd_by_group,
            rates: BTreeMap::new(),
            now,
        })
    }

    pub(super) async fn wire(
        &mut self,
        store: &dyn Store,
        record: BillingGroupRecord,
    ) -> AppResult<BillingGroupWire> {
        let group = groups::to_model(record)?;
        let usd = self
            .usd_by_group
            .get(&group.billing_group_id)
            .copied()
            .unwrap_or_default();
        if !self.rates.contains_key(&group.billing_currency) {
            let rate =
                invoices::rate_on(store, &group.billing_currency, self.now.date_naive()).await?;
            self.rates.insert(group.billing_currency.clone(), rate);
        }
        let rate = self.rates.get(&group.billing_currency).copied().flatten();
        let figures = GroupFigures {
            account_name: self.account.account_name.clone(),
            is_primary: self.account.primary_billing_group_id == group.billing_group_id,
            usd,
            local: rate.map(|r| usd * r),
        };
        Ok(BillingGroupWire::of(&group, figures))
    }
}

pub(super) async fn account_of(store: &dyn Store, account_id: &str) -> AppResult<AccountRecord> {
    store
        .account(account_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::not_found("Account"))
}

/// The account's active groups.
async fn groups_of_account(
    store: &dyn Store,
    account: AccountRecord,
    now: DateTime<Utc>,
) -> AppResult<Vec<BillingGroupWire>> {
    let summaries = store
        .group_summaries(&account.account_id)
        .await
        .map_err(internal)?;
    let mut figures = AccountFigures::load(store, account, now).await?;
    let mut out = Vec::with_capacity(summaries.len());
    for summary in summaries {
        out.push(figures.wire(store, summary.group).await?);
    }
    Ok(out)
}

/// One group as the API shows it (for any role that may read it).
async fn group_wire(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupWire> {
    let (group, _) = groups::authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let account = account_of(store, &group.account_id).await?;
    AccountFigures::load(store, account, now)
        .await?
        .wire(store, group)
        .await
}

pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<BillingGroupsResponse>> {
    let store = state.store.as_ref();
    let now = Utc::now();
    let mut billing_groups = Vec::new();
    for member in store
        .accounts_of_user(&user.user_id)
        .await
        .map_err(internal)?
    {
        let account = account_of(store, &member.account_id).await?;
        billing_groups.extend(groups_of_account(store, account, now).await?);
    }
    Ok(Json(BillingGroupsResponse { billing_groups }))
}

pub async fn list_of_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<BillingGroupsResponse>> {
    let store = state.store.as_ref();
    authorize(store, &user, &account_id, Role::Viewer).await?;
    let account = account_of(store, &account_id).await?;
    let billing_groups = groups_of_account(store, account, Utc::now()).await?;
    Ok(Json(BillingGroupsResponse { billing_groups }))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<BillingGroupResponse>> {
    let billing_group =
        group_wire(state.store.as_ref(), &user, &billing_group_id, Utc::now()).await?;
    Ok(Json(BillingGroupResponse { billing_group }))
}

/// The Billing information form as it would be submitted: the group's
/// current values with the request's fields laid over them. The one
/// validation (`billing_info::validate`) then checks everything at once.
fn form_with(current: &BillingGroupRecord, fields: &BillingFields) -> AppResult<BillingInfoForm> {
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
    let list = |json: &str| serde_json::from_str::<Vec<String>>(json).unwrap_or_default();
    let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_string());
    let emails = match &fields.billing_emails {
        Some(emails) => emails.iter().map(|e| e.email.clone()).collect::<Vec<_>>(),
        None => list(&current.billing_emails),
    };
    let address = match &fields.address_lines {
        Some(lines) => lines.clone(),
        None => list(&current.address_lines),
    };
    if address.iter().any(|l| l.contains('\n')) {
        return Err(AppError::invalid(
            "address_lines",
            "Give each address line as its own list item, without line breaks.",
        ));
    }
    Ok(BillingInfoForm {
        payment_method: pick(&fields.payment_method, &current.payment_method),
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
        billing_currency: pick(&fields.billing_currency, &current.billing_currency),
        billing_extra_text: pick(&fields.billing_extra_text, &current.billing_extra_text),
    })
}

fn touches_billing_info(fields: &BillingFields) -> bool {
    fields.vat_id.is_some()
        || fields.billing_currency.is_some()
        || fields.billing_extra_text.is_some()
        || fields.billing_emails.is_some()
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
    let now = Utc::now();
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
    authorize(store, &user, account_id, Role::Billing).await?;
    // Everything is checked before anything is written: the billing
    // details against a group with the defaults a new group gets.
    let form = if touches_billing_info(&fields) {
        let template = BillingGroupRecord::new_defaults(account_id, now);
        let form = form_with(&template, &fields)?;
        crate::model::validation::display_name(&name, "Billing group name", 128)
            .map_err(|m| AppError::invalid("billing_group_name", m))?;
        billing_info::validate(&form, &template, now)?;
        Some(form)
    } else {
        None
    };
    let created = groups::create_group(store, &user, account_id, &name, None, now).await?;
    if let Some(form) = form {
        billing_info::save(store, &user, &created.billing_group_id, &form, now).await?;
    }
    let billing_group = group_wire(store, &user, &created.billing_group_id, now).await?;
    Ok(Json(BillingGroupResponse { billing_group }))
}

pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiJson(UpdateBillingGroupRequest(fields)): ApiJson<UpdateBillingGroupRequest>,
) -> ApiResult<Json<BillingGroupResponse>> {
    let store = state.store.as_ref();
    let now = Utc::now();
    let (group, _) =
        groups::authorized_group(store, &user, &billing_group_id, Role::Billing).await?;
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
    let name = match &fields.billing_group_name {
        Some(name) => Some(
            crate::model::validation::display_name(name, "Billing group name", 128)
                .map_err(|m| AppError::invalid("billing_group_name", m))?,
        ),
        None => None,
    };
    let form = if touches_billing_info(&fields) {
        let form = form_with(&group, &fields)?;
        billing_info::validate(&form, &group, now)?;
        Some(form)
    } else {
        None
    };
    if let Some(name) = name.filter(|n| *n != group.billing_group_name) {
        groups::rename_group(store, &user, &group.billing_group_id, &name, now).await?;
    }
    if let Some(form) = form {
        billing_info::save(store, &user, &group.billing_group_id, &form, now).await?;
    }
    let billing_group = group_wire(store, &user, &group.billing_group_id, now).await?;
    Ok(Json(BillingGroupResponse { billing_group }))
}

pub async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<MessageResponse>> {
    groups::delete_group(state.store.as_ref(), &user, &billing_group_id, Utc::now()).await?;
    Ok(Json(MessageResponse {
        message: "Billing group deleted".into(),
    }))
}

pub async fn projects(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<ProjectsResponse>> {
    let store = state.store.as_ref();
    let (group, _) =
        groups::authorized_group(store, &user, &billing_group_id, Role::Viewer).await?;
    let projects = store
        .projects_of_group(&group.billing_group_id)
        .await
        .map_err(internal)?;
    let projects = accounts::project_wires(store, projects, Utc::now()).await?;
    Ok(Json(ProjectsResponse { projects }))
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
        &billing_group_id,
        &body.projects_names,
        Utc::now(),
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
    groups::authorized_group(store, &user, &billing_group_id, Role::Billing).await?;
    groups::move_project(store, &user, &project, &billing_group_id, Utc::now()).await?;
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
        let page = events::events_page(store, &user, &billing_group_id, before, None, None).await?;
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
