//! Budgets and mail deliveries on the wire.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `PUT /v1/billing-group/{id}/budget`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// The monthly amount in the group's currency, e.g. "3000.00".
    pub amount: String,
    /// Percentages, ascending (default 50, 90, 100).
    #[serde(default)]
    pub thresholds: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BudgetWire {
    pub currency: String,
    pub amount: Decimal,
    pub thresholds: Vec<u32>,
    /// The month so far, before credits and VAT (null without a rate).
    pub actual: Option<Decimal>,
    /// The month's end at the current run rate.
    pub forecast: Option<Decimal>,
    /// Alerts already sent this month, as `actual:90` or `forecast:100`.
    pub alerts_sent: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BudgetResponse {
    /// Null: no budget.
    // Always present: the schema names it required and spells out the null.
    #[schemars(required, schema_with = "nullable_budget")]
    pub budget: Option<BudgetWire>,
}

fn nullable_budget(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let budget = generator.subschema_for::<BudgetWire>();
    schemars::json_schema!({
        "description": "Null: no budget.",
        "anyOf": [budget, {"type": "null"}],
    })
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveryWire {
    pub message_id: String,
    /// `invoice` or `budget_alert`.
    pub kind: String,
    pub invoice_number: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// What the receiving mail server answered when it took the message.
    pub server_response: Option<String>,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveriesResponse {
    pub mail_configured: bool,
    pub deliveries: Vec<DeliveryWire>,
}
