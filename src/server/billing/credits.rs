//! Credits (rule 10): issuing codes, claiming them, and the Credits tab.
//! What credits pay is `credit_rule`'s, written once.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rust_decimal::Decimal;

use super::access::{authorize, authorized_group};
use super::credit_rule::{burn_down, Balance};
use super::month_to_date::{MonthToDate, WithCredits};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::amount::parse_amount;
use crate::model::credits::{
    display_code, last_valid_day, normalize_code, AppliedCredit, Credit, CreditForecast,
    CreditsPage, CODE_ALPHABET, CODE_LENGTH,
};
use crate::model::ids::GroupId;
use crate::model::money::{Currency, Money};
use crate::model::states::{CreditState, CreditType, EventType};
use crate::model::{CurrentUser, Role};
use crate::server::store::{
    AppliedCreditRecord, BillingGroupRecord, CreditClaim, CreditRecord, NewCredit, NewEvent, Store,
    StoreError,
};

/// Failed claims a user may make in `CLAIM_WINDOW_MINUTES` (guessing is
/// hopeless at 80 bits, but nobody should get to try).
pub const CLAIM_FAILURES_ALLOWED: i64 = 10;
pub const CLAIM_WINDOW_MINUTES: i64 = 15;
pub const MAX_CREDIT_VALUE_USD: i64 = 1_000_000;
pub const MAX_CODES_PER_ISSUE: u32 = 10_000;

// ---------------------------------------------------------------- issuing --

/// 16 characters of Crockford's base 32 from the operating system's RNG:
/// 80 random bits.
pub fn generate_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// What an operator asks for: `credits issue --value 300 --type trial
/// --expires 2027-03-31 [--starts 2026-11-01] [--count N]`.
#[derive(Debug, Clone, Default)]
pub struct IssueRequest {
    pub value: String,
    pub credit_type: String,
    /// Last valid day (UTC); the credit expires when it ends.
    pub expires: Option<String>,
    /// First valid day (UTC); default: now.
    pub starts: Option<String>,
    pub count: u32,
}

/// Validates the request as a whole (every bad field is named), then
/// stores the new codes in one transaction and returns them.
pub async fn issue_credits(
    store: &dyn Store,
    request: &IssueRequest,
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let mut errors = Vec::new();
    let value = match parse_amount(&request.value, 2) {
        Ok(v) if v <= Decimal::ZERO => {
            errors.push(FieldError::new(
                "value",
                "The value must be more than 0 USD.",
            ));
            None
        }
        Ok(v) if v > Decimal::from(MAX_CREDIT_VALUE_USD) => {
            errors.push(FieldError::new(
                "value",
                format!("The value can be at most {MAX_CREDIT_VALUE_USD} USD."),
            ));
            None
        }
        Ok(v) => Some(v.normalize()),
        Err(message) => {
            errors.push(FieldError::new(
                "value",
                format!("{message} (The value is in USD.)"),
            ));
            None
        }
    };
    let credit_type = CreditType::parse(&request.credit_type.trim().to_ascii_lowercase());
    if credit_type.is_none() {
        let names: Vec<&str> = CreditType::ALL.iter().map(|t| t.as_str()).collect();
        errors.push(FieldError::new(
            "type",
            format!("Choose a type: {}.", names.join(", ")),
        ));
    }
    let day =
        |field: &str, text: &str, errors: &mut Vec<FieldError>| match NaiveDate::parse_from_str(
            text.trim(),
            "%Y-%m-%d",
        ) {
            Ok(day) => day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("'{}' is not a date; write it as YYYY-MM-DD.", text.trim()),
                ));
                None
            }
        };
    let start_time = match &request.starts {
        Some(text) => day("starts", text, &mut errors),
        None => Some(now),
    };
    // A credit is valid through its last day: it expires when that day ends.
    let expire_time = request
        .expires
        .as_ref()
        .map(|text| day("expires", text, &mut errors).map(|d| d + Duration::days(1)));
    if let Some(Some(expiry)) = expire_time {
        if expiry <= now {
            errors.push(FieldError::new("expires", "The expiry date has passed."));
        } else if start_time.is_some_and(|start| start >= expiry) {
            errors.push(FieldError::new(
                "expires",
                "The credit must start before it expires.",
            ));
        }
    }
    if !(1..=MAX_CODES_PER_ISSUE).contains(&request.count) {
        errors.push(FieldError::new(
            "count",
            format!("Issue between 1 and {MAX_CODES_PER_ISSUE} codes at a time."),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid { errors });
    }
    let (Some(value), Some(start_time), Some(credit_type)) = (value, start_time, credit_type)
    else {
        return Err(AppError::Internal);
    };
    let expire_time = expire_time.flatten();
    let credits: Vec<NewCredit> = (0..request.count)
        .map(|_| NewCredit {
            code: generate_code(),
            credit_type,
            value_usd: value,
            start_time,
            expire_time,
        })
        .collect();
    store.insert_credits(&credits, now).await?;
    Ok(credits.into_iter().map(|c| display_code(&c.code)).collect())
}

// --------------------------------------------------------------- claiming --

/// A billing manager claims a code into an active group, optionally
/// earmarked for one project of the account. Unknown, claimed, expired and
/// malformed codes count towards the user's limit of failed claims. That a
/// code is unclaimed and unexpired, and the group active, is checked on the
/// rows as locked by the claim's own transaction.
pub async fn claim_credit(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    typed_code: &str,
    earmarked_project_name: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Credit> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    authorize(store, user, &group.account_id, Role::Billing).await?;
    if !group.is_active() {
        return Err(deleted_group());
    }
    if typed_code.trim().is_empty() {
        return Err(AppError::invalid("code", "Enter a credit code."));
    }
    let failures = store
        .claim_failures_since(&user.user_id, now - Duration::minutes(CLAIM_WINDOW_MINUTES))
        .await?;
    if failures >= CLAIM_FAILURES_ALLOWED {
        return Err(AppError::invalid(
            "code",
            format!(
                "Too many codes that did not work in the last {CLAIM_WINDOW_MINUTES} minutes. Wait a while, then try again."
            ),
        ));
    }
    let earmark = earmarked_project_name
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(project) = earmark {
        store
            .project(project)
            .await?
            .filter(|p| p.account_id == group.account_id)
            .ok_or_else(|| {
                AppError::invalid(
                    "earmarked_project_name",
                    "Choose a project of this account, or all projects of the group.",
                )
            })?;
    }
    let failed = |error: AppError| async move {
        // Only the last day matters for the limit; older failures go.
        store
            .record_claim_failure(&user.user_id, now, now - Duration::days(1))
            .await?;
        Err::<Credit, AppError>(error)
    };
    let Some(code) = normalize_code(typed_code) else {
        return failed(AppError::invalid(
            "code",
            "A credit code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.",
        ))
        .await;
    };
    let claim = |credit: &CreditRecord, locked: &BillingGroupRecord| {
        claim_of(credit, locked, earmark, user, now)
    };
    match store
        .claim_credit(&code, &group.billing_group_id, now, &claim)
        .await
    {
        Ok(record) => Ok(credit_of(&record, Decimal::ZERO, now)),
        Err(StoreError::NotFound) => {
            failed(AppError::invalid(
                "code",
                "No credit has this code. Check it and try again.",
            ))
            .await
        }
        // A deleted group is not the code's fault.
        Err(StoreError::Refused(error)) if error == deleted_group() => Err(error),
        Err(StoreError::Refused(error)) => failed(error).await,
        Err(StoreError::Violation(violation)) => failed(violation.into()).await,
        Err(other) => Err(other.into()),
    }
}

fn deleted_group() -> AppError {
    AppError::invalid(
        "code",
        "This billing group has been deleted; claim the code into an active group.",
    )
}

/// The claim rule on the rows as locked: the group still active, the code
/// not claimed yet and not expired; then the claim and its event.
fn claim_of(
    credit: &CreditRecord,
    group: &BillingGroupRecord,
    earmark: Option<&str>,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> AppResult<CreditClaim> {
    if !group.is_active() {
        return Err(deleted_group());
    }
    if credit.billing_group_id.is_some() {
        return Err(
            StoreError::Violation(crate::server::store::Violation::CreditAlreadyClaimed).into(),
        );
    }
    if let Some(expiry) = credit.expire_time.filter(|expiry| *expiry <= now) {
        return Err(AppError::invalid(
            "code",
            format!("This code expired on {}.", last_valid_day(expiry)),
        ));
    }
    let value = Currency::USD.plain(credit.value_usd.0);
    let earmark_text = earmark
        .map(|p| format!(", earmarked for {p}"))
        .unwrap_or_default();
    Ok(CreditClaim {
        earmarked_project_name: earmark.map(String::from),
        claimed_by: user.user_id.to_string(),
        event: NewEvent {
            billing_group_id: group.billing_group_id.clone(),
            account_id: group.account_id.clone(),
            actor: user.email.clone(),
            event_type: EventType::CreditClaimed,
            event_desc: format!(
                "Credit {} claimed: {value} USD ({}){earmark_text}",
                display_code(&credit.code),
                credit.credit_type
            ),
            project_name: earmark.map(String::from),
            details: Some(serde_json::json!({
                "after": {
                    "code": credit.code,
                    "credit_type": credit.credit_type,
                    "value_usd": credit.value_usd.0.to_string(),
                    "expire_time": credit.expire_time,
                    "earmarked_project_name": earmark,
                }
            })),
            create_time: now,
        },
    })
}

/// A credit as listed, with what the running month is expected to use.
pub fn credit_of(record: &CreditRecord, expected: Decimal, now: DateTime<Utc>) -> Credit {
    let remaining = record.remaining_value_usd.0;
    Credit {
        code: display_code(&record.code),
        credit_type: record.credit_type,
        value_usd: Money::usd(record.value_usd.0),
        remaining_value_usd: Money::usd(remaining),
        consumed_usd: Money::usd(record.value_usd.0 - remaining),
        start_time: record.start_time,
        expire_time: record.expire_time,
        earmarked_project_name: record.earmarked_project_name.clone(),
        claim_time: record.claim_time,
        state: credit_state(record, now),
        expected_this_month_usd: Money::usd(expected),
    }
}

/// Where a claimed credit stands at `now`.
fn credit_state(record: &CreditRecord, now: DateTime<Utc>) -> CreditState {
    if record.remaining_value_usd.0 <= Decimal::ZERO {
        CreditState::UsedUp
    } else if record.expire_time.is_some_and(|e| e <= now) {
        CreditState::Expired
    } else if record.start_time > now {
        CreditState::NotStarted
    } else {
        CreditState::Active
    }
}

/// What the group's usable credits still hold for a project (USD): the
/// API's `available_credits`.
pub fn available_for(credits: &[CreditRecord], project_name: &str, now: DateTime<Utc>) -> Money {
    let total = credits
        .iter()
        .filter(|c| credit_state(c, now) == CreditState::Active)
        .filter(|c| {
            c.earmarked_project_name
                .as_deref()
                .is_none_or(|e| e == project_name)
        })
        .map(|c| c.remaining_value_usd.0)
        .sum::<Decimal>();
    Money::usd(total)
}

// ------------------------------------------------------------------ pages --

/// The Credits tab: the group's credits, what this month is expected to use
/// of each, and the burn-down at the current run rate.
pub async fn credits_page(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<CreditsPage> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let group_active = group.is_active();
    let projects = if group_active && role.allows(Role::Billing) {
        store
            .projects_of_account(&group.account_id)
            .await?
            .into_iter()
            .map(|p| p.project_name)
            .collect()
    } else {
        Vec::new()
    };
    let records = store.credits_of_group(&group.billing_group_id).await?;
    let month = MonthToDate::load(store, group, now, WithCredits::Yes).await?;
    let rates: BTreeMap<String, Decimal> = if group_active {
        month.run_rates()
    } else {
        BTreeMap::new()
    };
    let run_rate_usd: Decimal = rates.values().copied().sum();
    let balances: Vec<Balance> = records
        .iter()
        .filter(|c| {
            c.remaining_value_usd.0 > Decimal::ZERO && c.expire_time.is_none_or(|e| e > now)
        })
        .map(|c| Balance {
            credit: c,
            remaining: c.remaining_value_usd.0 - month.expected_of(&c.code),
        })
        .collect();
    let forecast_usd = burn_down(&balances, &rates, now);
    let group_currency = month.group.billing_currency;
    let (currency, rate, notice) = match month.rate {
        Some(rate) => (group_currency, rate, None),
        None => (
            Currency::USD,
            Decimal::ONE,
            Some(format!(
                "No exchange rate for {group_currency} is in force today, so the forecast is in USD."
            )),
        ),
    };
    let local = |usd: Decimal| Money::of(usd * rate, currency);
    let forecast: Vec<CreditForecast> = forecast_usd
        .into_iter()
        .map(|(code, runs_out, unused)| {
            let after = balances
                .iter()
                .find(|b| b.credit.code == code)
                .map(|b| b.remaining)
                .unwrap_or_default();
            CreditForecast {
                code: display_code(&code),
                runs_out_on: runs_out.map(|t| t.date_naive()),
                expires_unused: local(unused),
                remaining_after_month_to_date: local(after),
            }
        })
        .collect();
    let total_expiring_unused = forecast
        .iter()
        .fold(Money::zero(currency), |sum, f| sum + f.expires_unused);
    Ok(CreditsPage {
        billing_group_id: month.group.billing_group_id.to_string(),
        group_active,
        role,
        credits: records
            .iter()
            .map(|r| credit_of(r, month.expected_of(&r.code), now))
            .collect(),
        projects,
        currency,
        run_rate_usd,
        forecast,
        total_expiring_unused,
        notice,
    })
}

pub fn applied_of(record: AppliedCreditRecord) -> AppliedCredit {
    AppliedCredit {
        invoice_number: record.invoice_number,
        period_begin: record.period_begin,
        code: display_code(&record.credit_code),
        project_name: record.project_name,
        amount_usd: -Money::usd(record.line_total_usd.0),
        amount_local: -Money::of(record.line_total_local.0, record.local_currency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_valid_and_differ() {
        let a = generate_code();
        assert_eq!(normalize_code(&display_code(&a)), Some(a.clone()));
        assert_ne!(a, generate_code());
    }
}
