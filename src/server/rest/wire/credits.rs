//! Credits on the wire: listed, claimed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::amount;
use crate::model::credits::Credit;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditWire {
    /// Grouped for reading: `ABCD-EFGH-JKMN-PQRS`.
    pub code: String,
    #[serde(rename = "type")]
    pub credit_type: String,
    /// USD.
    pub value: Decimal,
    /// USD.
    pub remaining_value: Decimal,
    /// `active`, `not started`, `used up` or `expired`.
    pub state: String,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
    /// The project the credit is earmarked for, if any.
    pub project_name: Option<String>,
    pub claim_time: Option<DateTime<Utc>>,
}

impl From<Credit> for CreditWire {
    fn from(c: Credit) -> Self {
        CreditWire {
            code: c.code,
            credit_type: c.credit_type.to_string(),
            value: amount(c.value_usd),
            remaining_value: amount(c.remaining_value_usd),
            state: c.state.to_string(),
            start_time: c.start_time,
            expire_time: c.expire_time,
            project_name: c.earmarked_project_name,
            claim_time: c.claim_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditsResponse {
    pub credits: Vec<CreditWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditResponse {
    pub credit: CreditWire,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCreditRequest {
    pub code: String,
    /// Earmark the credit for this project of the account.
    pub project_name: Option<String>,
}
