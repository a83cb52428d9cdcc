//! `/v1/billing-group/{id}/budget` and `…/deliveries`: a group's monthly
//! budget, and its emails (invoices, budget alerts) with how each went.

use axum::extract::{Path, State};
use axum::Json;

use super::error::ApiResult;
use super::extract::{ApiJson, ApiUser};
use super::wire::{
    amount, BudgetRequest, BudgetResponse, BudgetWire, DeliveriesResponse, DeliveryWire,
};
use crate::model::ids::GroupId;
use crate::server::billing::{budgets, mail};
use crate::server::state::AppState;

fn wire(status: Option<crate::model::billing::BudgetStatus>) -> BudgetResponse {
    BudgetResponse {
        budget: status.map(|s| BudgetWire {
            currency: s.amount.currency.code().to_string(),
            amount: amount(s.amount),
            thresholds: s.thresholds,
            actual: s.actual.map(amount),
            forecast: s.forecast.map(amount),
            alerts_sent: s
                .alerted
                .into_iter()
                .map(|(measure, percent)| format!("{}:{percent}", measure.as_str()))
                .collect(),
        }),
    }
}

pub async fn get_budget(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<BudgetResponse>> {
    let status = budgets::budget_of_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(wire(status)))
}

pub async fn put_budget(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiJson(body): ApiJson<BudgetRequest>,
) -> ApiResult<Json<BudgetResponse>> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let thresholds = body
        .thresholds
        .map(|t| t.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    if body.amount.trim().is_empty() {
        return Err(crate::error::AppError::invalid(
            "amount",
            "Give the monthly amount (DELETE removes a budget).",
        )
        .into());
    }
    budgets::set_budget(
        store,
        &user,
        &GroupId::from(&billing_group_id),
        &body.amount,
        &thresholds,
        now,
    )
    .await?;
    let status =
        budgets::budget_of_group(store, &user, &GroupId::from(&billing_group_id), now).await?;
    Ok(Json(wire(status)))
}

pub async fn delete_budget(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<BudgetResponse>> {
    budgets::set_budget(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        "",
        "",
        state.clock.now(),
    )
    .await?;
    Ok(Json(BudgetResponse { budget: None }))
}

pub async fn deliveries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<DeliveriesResponse>> {
    let list = mail::deliveries(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        state.config.mail.configured(),
    )
    .await?;
    Ok(Json(DeliveriesResponse {
        mail_configured: list.mail_configured,
        deliveries: list
            .deliveries
            .into_iter()
            .map(|d| DeliveryWire {
                message_id: d.message_id,
                kind: d.kind.as_str().to_string(),
                invoice_number: d.invoice_number,
                recipients: d.recipients,
                subject: d.subject,
                state: d.state.as_str().to_string(),
                attempts: d.attempts,
                last_error: d.last_error,
                server_response: d.server_response,
                create_time: d.create_time,
                sent_time: d.sent_time,
            })
            .collect(),
    }))
}
