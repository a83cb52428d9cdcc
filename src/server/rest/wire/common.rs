//! What every resource's JSON uses: amounts, email lists, a bare message,
//! and the password sign-in `avn user login` sends.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::money::Money;

/// An amount as the API writes it: a string with the currency's decimals
/// (`"568.00"`, `"1234"` for JPY), rounded by the one rule.
pub fn amount(money: Money) -> Decimal {
    let mut rounded = money.currency.round(money.amount);
    rounded.rescale(money.currency.minor_units());
    rounded
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub email: String,
}

impl Email {
    /// Addresses as Aiven lists them: `[{"email": …}]`, always a list.
    pub fn list(addresses: &[String]) -> Vec<Email> {
        addresses
            .iter()
            .map(|e| Email { email: e.clone() })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MessageResponse {
    pub message: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAuthRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserAuthResponse {
    /// A new personal API token: send it as `authorization: aivenv1 <token>`.
    pub token: String,
    pub state: String,
    pub user_email: String,
}
