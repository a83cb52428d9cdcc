//! Webhooks (issue 30): an account's endpoints and their deliveries, as the
//! Webhooks page and `/v1` show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::states::{DeliveryState, WebhookEvent};

/// An endpoint (its secret is shown once, when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub webhook_id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

/// A new endpoint and its signing secret (`whsec_…`), which is not shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub attempt_time: DateTime<Utc>,
    pub succeeded: bool,
    /// The endpoint's answer (`HTTP 200 …`) or why the try failed.
    pub detail: String,
}

/// One event sent (or to be sent) to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Also the `webhook-id` header: the same on every try.
    pub message_id: String,
    pub webhook_id: String,
    pub url: String,
    /// The event type (`invoice.issued`, …).
    pub event: String,
    pub state: DeliveryState,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
    /// When the next try is due (queued deliveries).
    pub next_attempt_time: DateTime<Utc>,
    pub attempts: Vec<DeliveryAttempt>,
    pub can_resend: bool,
}

/// The account's Webhooks page (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub account_name: String,
    pub endpoints: Vec<Webhook>,
    pub deliveries: Vec<WebhookDelivery>,
}
