//! `/v1/account/{id}/webhooks`: an account's webhook endpoints and their
//! deliveries (admins; `billing::webhooks`).

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::ApiResult;
use super::extract::{ApiJson, ApiUser};
use super::wire::MessageResponse;
use crate::model::ids::AccountId;
use crate::model::webhooks::{Webhook, WebhookDelivery};
use crate::server::billing::webhooks;
use crate::server::state::AppState;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where the events are POSTed (https, a public address).
    pub url: String,
    /// Event types: `invoice.issued`, `invoice.paid`, `invoice.overdue`,
    /// `credit_note.issued`, `budget.threshold_reached`, `member.added`,
    /// `member.removed`.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookWire {
    pub webhook_id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

impl WebhookWire {
    fn of(webhook: Webhook) -> WebhookWire {
        WebhookWire {
            webhook_id: webhook.webhook_id,
            url: webhook.url,
            description: webhook.description,
            events: webhook.events.iter().map(|e| e.as_str().into()).collect(),
            created_by: webhook.created_by,
            create_time: webhook.create_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhooksResponse {
    pub webhooks: Vec<WebhookWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookCreatedResponse {
    pub webhook: WebhookWire,
    /// The signing secret (`whsec_…`, Standard Webhooks); not shown again.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttemptWire {
    pub attempt: i64,
    pub attempt_time: DateTime<Utc>,
    pub succeeded: bool,
    /// The endpoint's answer (`HTTP 200: …`) or why the try failed.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveryWire {
    /// Also the `webhook-id` header, the same on every try.
    pub message_id: String,
    pub webhook_id: String,
    pub url: String,
    pub event: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
    pub next_attempt_time: DateTime<Utc>,
    pub attempts: Vec<AttemptWire>,
}

impl DeliveryWire {
    fn of(delivery: WebhookDelivery) -> DeliveryWire {
        DeliveryWire {
            message_id: delivery.message_id,
            webhook_id: delivery.webhook_id,
            url: delivery.url,
            event: delivery.event,
            state: delivery.state.as_str().into(),
            create_time: delivery.create_time,
            sent_time: delivery.sent_time,
            next_attempt_time: delivery.next_attempt_time,
            attempts: delivery
                .attempts
                .into_iter()
                .map(|a| AttemptWire {
                    attempt: a.attempt,
                    attempt_time: a.attempt_time,
                    succeeded: a.succeeded,
                    detail: a.detail,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveriesResponse {
    pub deliveries: Vec<DeliveryWire>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<WebhooksResponse>> {
    let endpoints =
        webhooks::endpoints(state.store.as_ref(), &user, &AccountId::from(&account_id)).await?;
    Ok(Json(WebhooksResponse {
        webhooks: endpoints.into_iter().map(WebhookWire::of).collect(),
    }))
}

pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> ApiResult<Json<WebhookCreatedResponse>> {
    let created = webhooks::create(
        state.store.as_ref(),
        state.webhooks.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &body.url,
        &body.events,
        &body.description,
        state.clock.now(),
    )
    .await?;
    Ok(Json(WebhookCreatedResponse {
        webhook: WebhookWire::of(created.webhook),
        secret: created.secret,
    }))
}

pub async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((account_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    webhooks::remove(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &webhook_id,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "Webhook removed.".into(),
    }))
}

pub async fn deliveries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<DeliveriesResponse>> {
    let page = webhooks::page(state.store.as_ref(), &user, &AccountId::from(&account_id)).await?;
    Ok(Json(DeliveriesResponse {
        deliveries: page.deliveries.into_iter().map(DeliveryWire::of).collect(),
    }))
}

pub async fn resend(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((account_id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    webhooks::send_again(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &message_id,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "Delivery queued to be sent again.".into(),
    }))
}
