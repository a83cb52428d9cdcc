//! Credit types shared by the pages and the server (rule 10), and the code
//! format: 16 characters of Crockford's base-32 alphabet (80 random bits),
//! shown in groups of four. Typing is forgiving: case, spaces and dashes do
//! not matter, and O, I and L read as 0, 1 and 1.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::Role;

/// Crockford's base 32: no I, L, O or U, so nothing reads as something else.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LENGTH: usize = 16;

/// `ABCDEFGHJKMNPQRS` → `ABCD-EFGH-JKMN-PQRS`.
pub fn display_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a typed code, or None when it cannot be one.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut code = String::with_capacity(CODE_LENGTH);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        code.push(c);
    }
    (code.len() == CODE_LENGTH).then_some(code)
}

/// The last day a credit can be used (it expires when that day ends, UTC).
pub fn last_valid_day(expire_time: DateTime<Utc>) -> NaiveDate {
    (expire_time - chrono::Duration::seconds(1)).date_naive()
}

/// A credit as the Credits tab lists it. Amounts in USD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Shown grouped: `ABCD-EFGH-JKMN-PQRS`.
    pub code: String,
    pub credit_type: crate::model::states::CreditType,
    pub value_usd: Money,
    pub remaining_value_usd: Money,
    pub consumed_usd: Money,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
    pub earmarked_project_name: Option<String>,
    pub claim_time: Option<DateTime<Utc>>,
    pub state: super::states::CreditState,
    /// What the running month's estimate expects to take from it.
    pub expected_this_month_usd: Money,
}

/// The burn-down of one credit at the current run rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditForecast {
    pub code: String,
    /// The day its remaining value reaches zero; None when it will not
    /// before it expires (or ever, at the current rate).
    pub runs_out_on: Option<NaiveDate>,
    /// Left on it when it expires, in the display currency.
    pub expires_unused: Money,
    /// Remaining value now, less what this month's usage so far is expected
    /// to take at close, in the display currency.
    pub remaining_after_month_to_date: Money,
}

/// The Credits tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsPage {
    pub billing_group_id: String,
    pub group_active: bool,
    pub role: Role,
    pub credits: Vec<Credit>,
    /// The account's projects (earmark choices).
    pub projects: Vec<String>,
    /// The currency of the forecast's amounts (the group's, or USD without
    /// an exchange rate for today).
    pub currency: Currency,
    /// USD per hour of the group's services running now.
    pub run_rate_usd: Decimal,
    pub forecast: Vec<CreditForecast>,
    /// Sum of `expires_unused`.
    pub total_expiring_unused: Money,
    pub notice: Option<String>,
}

/// A credit line of an invoice, or the estimate's expected use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCredit {
    /// `estimate` for the running month.
    pub invoice_number: String,
    pub period_begin: DateTime<Utc>,
    pub code: String,
    pub project_name: Option<String>,
    pub amount_usd: Money,
    pub amount_local: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_forgiving() {
        let code = "ABCDEFGHJKMNPQRS";
        assert_eq!(normalize_code("abcd efgh-jkmn pqrs").as_deref(), Some(code));
        assert_eq!(display_code(code), "ABCD-EFGH-JKMN-PQRS");
        assert_eq!(
            normalize_code("O0IL-0000-0000-0000").as_deref(),
            Some("0011000000000000")
        );
        assert_eq!(normalize_code("ABCD"), None, "too short");
        assert_eq!(
            normalize_code("ABCD-EFGH-JKMN-PQRU"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(normalize_code(""), None);
        assert_eq!(normalize_code("ÄBCD-EFGH-JKMN-PQRS"), None);
    }
}
