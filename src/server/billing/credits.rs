//! Credits (rule 10): issuing codes, claiming them, and the one consumption
//! rule that the month close, the running month's estimate and the
//! burn-down forecast all use.
//!
//! Consumption rule: a credit pays for hours used while it is valid
//! (`start_time` ≤ hour < `expire_time`), in USD. Credits are taken
//! soonest-expiring first (no expiry last; then earliest claim, then code);
//! each takes what is still unpaid in its validity, earliest hours first and
//! projects by name, up to its remaining value. An earmarked credit pays
//! only its project's charges in the group. So no charge is paid twice and
//! no remaining value goes below zero.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rust_decimal::Decimal;

use super::costs::{self, Charge};
use super::groups::authorized_group;
use super::store_error;
use crate::error::{AppError, AppResult, FieldError};
use crate::model::credits::{
    display_code, last_valid_day, normalize_code, AppliedCredit, Credit, CreditForecast,
    CreditsPage, CODE_ALPHABET, CODE_LENGTH, CREDIT_TYPES,
};
use crate::model::{CurrentUser, Role};
use crate::server::auth::{authorize, internal};
use crate::server::store::{
    AppliedCreditRecord, CreditRecord, GroupMembershipRecord, NewCredit, PricedRunRecord, Store,
    StoreError, Violation,
};

/// Failed claims a user may make in `CLAIM_WINDOW_MINUTES` (guessing is
/// hopeless at 80 bits, but nobody should get to try).
pub const CLAIM_FAILURES_ALLOWED: i64 = 10;
pub const CLAIM_WINDOW_MINUTES: i64 = 15;
pub const MAX_CREDIT_VALUE_USD: i64 = 1_000_000;
pub const MAX_CODES_PER_ISSUE: u32 = 10_000;
/// How far the burn-down looks ahead for a credit without expiry.
const FORECAST_YEARS: i64 = 5;

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
    let value = match request.value.trim().parse::<Decimal>() {
        Ok(v) if v <= Decimal::ZERO => {
            errors.push(FieldError::new(
                "value",
                "The value must be more than 0 USD.",
            ));
            None
        }
        Ok(v) if v.normalize().scale() > 2 => {
            errors.push(FieldError::new(
                "value",
                "Give the value in whole cents, like 300 or 12.50.",
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
        Err(_) => {
            errors.push(FieldError::new(
                "value",
                format!(
                    "'{}' is not an amount; write it like 300 or 12.50 (USD).",
                    request.value.trim()
                ),
            ));
            None
        }
    };
    let credit_type = request.credit_type.trim().to_ascii_lowercase();
    if !CREDIT_TYPES.contains(&credit_type.as_str()) {
        errors.push(FieldError::new(
            "type",
            format!("Choose a type: {}.", CREDIT_TYPES.join(", ")),
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
    let (Some(value), Some(start_time)) = (value, start_time) else {
        return Err(AppError::Internal);
    };
    let expire_time = expire_time.flatten();
    let credits: Vec<NewCredit> = (0..request.count)
        .map(|_| NewCredit {
            code: generate_code(),
            credit_type: credit_type.clone(),
            value_usd: value,
            start_time,
            expire_time,
        })
        .collect();
    store
        .insert_credits(&credits, now)
        .await
        .map_err(store_error)?;
    Ok(credits.into_iter().map(|c| display_code(&c.code)).collect())
}

// --------------------------------------------------------------- claiming --

/// A billing manager claims a code into an active group, optionally
/// earmarked for one project of the account. Unknown, claimed, expired and
/// malformed codes count towards the user's limit of failed claims.
pub async fn claim_credit(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    typed_code: &str,
    earmarked_project_name: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Credit> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    authorize(store, user, &group.account_id, Role::Billing).await?;
    if group.group_state != "active" {
        return Err(AppError::invalid(
            "code",
            "This billing group has been deleted; claim the code into an active group.",
        ));
    }
    if typed_code.trim().is_empty() {
        return Err(AppError::invalid("code", "Enter a credit code."));
    }
    let failures = store
        .claim_failures_since(&user.user_id, now - Duration::minutes(CLAIM_WINDOW_MINUTES))
        .await
        .map_err(internal)?;
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
            .await
            .map_err(internal)?
            .filter(|p| p.account_id == group.account_id)
            .ok_or_else(|| {
                AppError::invalid(
                    "earmarked_project_name",
                    "Choose a project of this account, or all projects of the group.",
                )
            })?;
    }
    let failed = |error: AppError| async move {
        store
            .record_claim_failure(&user.user_id, now)
            .await
            .map_err(internal)?;
        Err::<Credit, AppError>(error)
    };
    let Some(code) = normalize_code(typed_code) else {
        return failed(AppError::invalid(
            "code",
            "A credit code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.",
        ))
        .await;
    };
    match store
        .claim_credit(
            &code,
            &group.billing_group_id,
            earmark,
            &user.user_id,
            &user.email,
            now,
        )
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
        Err(StoreError::Violation(Violation::CreditExpired)) => {
            let expired_on = store
                .credit(&code)
                .await
                .map_err(internal)?
                .and_then(|c| c.expire_time)
                .map(last_valid_day);
            let message = match expired_on {
                Some(day) => format!("This code expired on {day}."),
                None => "This code has expired.".to_string(),
            };
            failed(AppError::invalid("code", message)).await
        }
        Err(StoreError::Violation(Violation::CreditAlreadyClaimed)) => {
            failed(store_error(StoreError::Violation(
                Violation::CreditAlreadyClaimed,
            )))
            .await
        }
        Err(other) => Err(store_error(other)),
    }
}

pub fn credit_of(record: &CreditRecord, expected: Decimal, now: DateTime<Utc>) -> Credit {
    let remaining = record.remaining_value_usd.0;
    let state = if remaining <= Decimal::ZERO {
        "used up"
    } else if record.expire_time.is_some_and(|e| e <= now) {
        "expired"
    } else if record.start_time > now {
        "not started"
    } else {
        "active"
    };
    Credit {
        code: display_code(&record.code),
        credit_type: record.credit_type.clone(),
        value_usd: record.value_usd.0,
        remaining_value_usd: remaining,
        consumed_usd: record.value_usd.0 - remaining,
        start_time: record.start_time,
        expire_time: record.expire_time,
        earmarked_project_name: record.earmarked_project_name.clone(),
        claim_time: record.claim_time,
        state: state.into(),
        expected_this_month_usd: costs::round_money(expected),
    }
}

// ------------------------------------------------------------ consumption --

/// A credit with the remaining value a calculation starts from.
#[derive(Debug, Clone)]
pub struct Balance<'a> {
    pub credit: &'a CreditRecord,
    pub remaining: Decimal,
}

/// A stretch of time with no credit starting or expiring inside it, and the
/// group's charges in it per project (USD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub per_project: BTreeMap<String, Decimal>,
}

/// What one credit pays, exactly (rounding happens on the invoice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub code: String,
    pub credit_type: String,
    pub earmarked_project_name: Option<String>,
    pub remaining_before: Decimal,
    pub per_project: BTreeMap<String, Decimal>,
    /// Paid in each stretch, in the stretches' order.
    pub per_stretch: Vec<Decimal>,
    pub total: Decimal,
    /// The stretch in which the remaining value reached zero, and the share
    /// of that stretch's unpaid charges (in the credit's scope) it paid.
    pub ran_out_in: Option<(usize, Decimal)>,
}

/// Soonest expiry first, no expiry last; then earliest claim, then code.
fn consumption_key(
    credit: &CreditRecord,
) -> (bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>, &str) {
    (
        credit.expire_time.is_none(),
        credit.expire_time,
        credit.claim_time,
        credit.code.as_str(),
    )
}

/// `[from, to)` cut wherever a credit starts or expires inside it.
pub fn cut_at_validity(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    balances: &[Balance],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut cuts: BTreeSet<DateTime<Utc>> = [from, to].into_iter().collect();
    for balance in balances {
        for instant in [Some(balance.credit.start_time), balance.credit.expire_time]
            .into_iter()
            .flatten()
        {
            if from < instant && instant < to {
                cuts.insert(instant);
            }
        }
    }
    let cuts: Vec<_> = cuts.into_iter().collect();
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// The consumption rule (see the module comment). `stretches` must be cut
/// at every start and expiry (`cut_at_validity`); what the credits pay is
/// taken off their charges.
pub fn allocate(balances: &[Balance], stretches: &mut [Stretch]) -> Vec<Allocation> {
    let mut order: Vec<&Balance> = balances.iter().collect();
    order.sort_by(|a, b| consumption_key(a.credit).cmp(&consumption_key(b.credit)));
    let mut allocations = Vec::with_capacity(order.len());
    for balance in order {
        let credit = balance.credit;
        let mut left = balance.remaining.max(Decimal::ZERO);
        let mut allocation = Allocation {
            code: credit.code.clone(),
            credit_type: credit.credit_type.clone(),
            earmarked_project_name: credit.earmarked_project_name.clone(),
            remaining_before: balance.remaining,
            per_project: BTreeMap::new(),
            per_stretch: vec![Decimal::ZERO; stretches.len()],
            total: Decimal::ZERO,
            ran_out_in: None,
        };
        let in_scope = |project: &str| {
            credit
                .earmarked_project_name
                .as_deref()
                .is_none_or(|earmark| earmark == project)
        };
        for (index, stretch) in stretches.iter_mut().enumerate() {
            if left.is_zero() {
                break;
            }
            let valid = credit.start_time <= stretch.from
                && credit.expire_time.is_none_or(|expiry| stretch.to <= expiry);
            if !valid {
                continue;
            }
            let unpaid_in_scope: Decimal = stretch
                .per_project
                .iter()
                .filter(|(project, _)| in_scope(project))
                .map(|(_, unpaid)| *unpaid)
                .sum();
            for (project, unpaid) in stretch.per_project.iter_mut() {
                if !in_scope(project) {
                    continue;
                }
                let take = left.min(*unpaid);
                if take <= Decimal::ZERO {
                    continue;
                }
                *unpaid -= take;
                left -= take;
                *allocation.per_project.entry(project.clone()).or_default() += take;
                allocation.per_stretch[index] += take;
                allocation.total += take;
                if left.is_zero() {
                    allocation.ran_out_in =
                        Some((index, allocation.per_stretch[index] / unpaid_in_scope));
                    break;
                }
            }
        }
        allocations.push(allocation);
    }
    allocations
}

/// What the group's claimed credits pay of `[from, to)`, given the group's
/// charges over all of it (`own`) and its usage (for stretches shorter than
/// the period, which only a credit starting or expiring inside it makes).
pub fn credits_for_period(
    billing_group_id: &str,
    credits: &[&CreditRecord],
    memberships: &[GroupMembershipRecord],
    runs: &[PricedRunRecord],
    own: &[&Charge],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Vec<Allocation> {
    let balances: Vec<Balance> = credits
        .iter()
        .filter(|c| c.remaining_value_usd.0 > Decimal::ZERO)
        .filter(|c| c.start_time < to && c.expire_time.is_none_or(|e| e > from))
        .map(|c| Balance {
            credit: c,
            remaining: c.remaining_value_usd.0,
        })
        .collect();
    if balances.is_empty() || own.is_empty() {
        return Vec::new();
    }
    let bounds = cut_at_validity(from, to, &balances);
    let mut stretches: Vec<Stretch> = if bounds.len() == 1 {
        vec![Stretch {
            from,
            to,
            per_project: per_project(own.iter().copied()),
        }]
    } else {
        bounds
            .into_iter()
            .map(|(a, b)| {
                let charges = costs::charges(memberships, runs, a, b);
                Stretch {
                    from: a,
                    to: b,
                    per_project: per_project(
                        charges
                            .iter()
                            .filter(|c| c.billing_group_id == billing_group_id),
                    ),
                }
            })
            .collect()
    };
    allocate(&balances, &mut stretches)
        .into_iter()
        .filter(|a| a.total > Decimal::ZERO)
        .collect()
}

fn per_project<'a>(charges: impl Iterator<Item = &'a Charge>) -> BTreeMap<String, Decimal> {
    let mut map = BTreeMap::new();
    for charge in charges {
        *map.entry(charge.project_name.clone())
            .or_insert(Decimal::ZERO) += charge.amount_usd;
    }
    map
}

// --------------------------------------------------------------- forecast --

/// When each credit runs out and what it leaves unused at expiry, if the
/// projects keep spending `rate_per_project` (USD per hour) from `now`.
/// Starts from `balances` (the remaining values less what the running
/// month has used so far) and applies the consumption rule day by day.
pub fn burn_down(
    balances: &[Balance],
    rate_per_project: &BTreeMap<String, Decimal>,
    now: DateTime<Utc>,
) -> Vec<(String, Option<DateTime<Utc>>, Decimal)> {
    let horizon_cap = now + Duration::days(365 * FORECAST_YEARS);
    let horizon = balances
        .iter()
        .map(|b| b.credit.expire_time.unwrap_or(horizon_cap))
        .max()
        .unwrap_or(now)
        .min(horizon_cap);
    let mut cuts: BTreeSet<DateTime<Utc>> = [now].into_iter().collect();
    let mut midnight = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    while let Some(day) = midnight {
        let next = day + Duration::days(1);
        if next >= horizon {
            break;
        }
        cuts.insert(next);
        midnight = Some(next);
    }
    if horizon > now {
        cuts.insert(horizon);
    }
    let cuts: Vec<_> = cuts.into_iter().collect();
    let mut bounds: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for window in cuts.windows(2) {
        bounds.extend(cut_at_validity(window[0], window[1], balances));
    }
    let hour_ms = Decimal::from(3_600_000);
    let mut stretches: Vec<Stretch> = bounds
        .iter()
        .map(|&(from, to)| {
            let hours = Decimal::from((to - from).num_milliseconds()) / hour_ms;
            Stretch {
                from,
                to,
                per_project: rate_per_project
                    .iter()
                    .map(|(p, rate)| (p.clone(), *rate * hours))
                    .collect(),
            }
        })
        .collect();
    let allocations = allocate(balances, &mut stretches);
    allocations
        .into_iter()
        .map(|allocation| {
            let start = allocation.remaining_before.max(Decimal::ZERO);
            // Charges accrue evenly at a run rate: it runs out the share of
            // its last stretch that it paid into it.
            let runs_out = if start.is_zero() {
                Some(now)
            } else {
                allocation.ran_out_in.and_then(|(index, share)| {
                    let stretch = stretches.get(index)?;
                    let span = Decimal::from((stretch.to - stretch.from).num_milliseconds());
                    let offset: i64 = (share * span).trunc().try_into().ok()?;
                    Some(stretch.from + Duration::milliseconds(offset))
                })
            };
            let credit = balances
                .iter()
                .find(|b| b.credit.code == allocation.code)
                .map(|b| b.credit);
            let expires = credit.and_then(|c| c.expire_time);
            let unused = match (runs_out, expires) {
                (None, Some(expiry)) if expiry <= horizon_cap => start - allocation.total,
                _ => Decimal::ZERO,
            };
            (allocation.code, runs_out, unused.max(Decimal::ZERO))
        })
        .collect()
}

// ------------------------------------------------------------------ pages --

/// The Credits tab: the group's credits, what this month is expected to use
/// of each, and the burn-down at the current run rate.
pub async fn credits_page(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<CreditsPage> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let records = store
        .credits_of_group(&group.billing_group_id)
        .await
        .map_err(internal)?;
    let group_active = group.group_state == "active";
    let projects = if group_active && role.allows(Role::Billing) {
        store
            .projects_of_account(&group.account_id)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|p| p.project_name)
            .collect()
    } else {
        Vec::new()
    };
    let (month_start, _) = costs::month_of(now);
    let (memberships, runs) = store
        .group_usage(&group.billing_group_id, month_start, now)
        .await
        .map_err(internal)?;
    let charges = costs::charges(&memberships, &runs, month_start, now);
    let own: Vec<&Charge> = charges
        .iter()
        .filter(|c| c.billing_group_id == group.billing_group_id)
        .collect();
    let credit_refs: Vec<&CreditRecord> = records.iter().collect();
    let expected = if group_active {
        credits_for_period(
            &group.billing_group_id,
            &credit_refs,
            &memberships,
            &runs,
            &own,
            (month_start, now),
        )
    } else {
        Vec::new()
    };
    let expected_of = |code: &str| {
        expected
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.total)
            .unwrap_or_default()
    };
    // The group's services running now, per project still in the group.
    let current: BTreeSet<&str> = memberships
        .iter()
        .filter(|m| m.billing_group_id == group.billing_group_id && m.valid_to.is_none())
        .map(|m| m.project_name.as_str())
        .collect();
    let mut rates: BTreeMap<String, Decimal> = BTreeMap::new();
    if group_active {
        for run in runs
            .iter()
            .filter(|r| r.ended_at.is_none() && current.contains(r.project_name.as_str()))
        {
            *rates.entry(run.project_name.clone()).or_default() += run.hourly_price_usd.0;
        }
    }
    let run_rate_usd: Decimal = rates.values().copied().sum();
    let balances: Vec<Balance> = records
        .iter()
        .filter(|c| {
            c.remaining_value_usd.0 > Decimal::ZERO && c.expire_time.is_none_or(|e| e > now)
        })
        .map(|c| Balance {
            credit: c,
            remaining: c.remaining_value_usd.0 - expected_of(&c.code),
        })
        .collect();
    let forecast_usd = burn_down(&balances, &rates, now);
    let (currency, rate, notice) =
        match super::invoices::rate_on(store, &group.billing_currency, now.date_naive()).await? {
            Some(rate) => (group.billing_currency.clone(), rate, None),
            None => (
                "USD".to_string(),
                Decimal::ONE,
                Some(format!(
                    "No exchange rate for {} is in force today, so the forecast is in USD.",
                    group.billing_currency
                )),
            ),
        };
    let local = |usd: Decimal| super::invoices::round_in(usd * rate, &currency);
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
    let total_expiring_unused = forecast.iter().map(|f| f.expires_unused).sum();
    Ok(CreditsPage {
        billing_group_id: group.billing_group_id.clone(),
        group_active,
        role,
        credits: records
            .iter()
            .map(|r| credit_of(r, expected_of(&r.code), now))
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
        amount_usd: -record.line_total_usd.0,
        amount_local: -record.line_total_local.0,
        currency: record.local_currency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::DbDecimal;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, day, 0, 0, 0).unwrap()
    }

    fn credit(
        code: &str,
        remaining: i64,
        expires: Option<u32>,
        earmark: Option<&str>,
    ) -> CreditRecord {
        CreditRecord {
            code: code.into(),
            credit_type: "trial".into(),
            value_usd: DbDecimal(Decimal::from(remaining)),
            remaining_value_usd: DbDecimal(Decimal::from(remaining)),
            start_time: t(1),
            expire_time: expires.map(t),
            issue_time: t(1),
            billing_group_id: Some("g".into()),
            earmarked_project_name: earmark.map(String::from),
            claim_time: Some(t(1)),
        }
    }

    fn stretch(from: u32, to: u32, charges: &[(&str, i64)]) -> Stretch {
        Stretch {
            from: t(from),
            to: t(to),
            per_project: charges
                .iter()
                .map(|(p, v)| (p.to_string(), Decimal::from(*v)))
                .collect(),
        }
    }

    fn balances(credits: &[CreditRecord]) -> Vec<Balance<'_>> {
        credits
            .iter()
            .map(|c| Balance {
                credit: c,
                remaining: c.remaining_value_usd.0,
            })
            .collect()
    }

    #[test]
    fn the_soonest_expiring_credit_pays_first_and_none_pays_twice() {
        let credits = [
            credit("LATE", 100, Some(30), None),
            credit("SOON", 30, Some(31), None),
            credit("NEVER", 100, None, None),
        ];
        // SOON expires on the 31st, LATE on the 30th: LATE goes first.
        let mut stretches = vec![
            stretch(1, 30, &[("a", 50), ("b", 70)]),
            stretch(30, 31, &[("a", 10)]),
        ];
        let a = allocate(&balances(&credits), &mut stretches);
        let total = |code: &str| a.iter().find(|x| x.code == code).unwrap().total;
        assert_eq!(total("LATE"), Decimal::from(100));
        assert_eq!(total("SOON"), Decimal::from(30));
        assert_eq!(total("NEVER"), Decimal::from(0));
        let unpaid: Decimal = stretches.iter().flat_map(|s| s.per_project.values()).sum();
        assert_eq!(unpaid, Decimal::ZERO);
    }

    #[test]
    fn an_earmarked_credit_pays_only_its_project() {
        let credits = [credit("EAR", 100, None, Some("b"))];
        let mut stretches = vec![stretch(1, 31, &[("a", 50), ("b", 20)])];
        let a = allocate(&balances(&credits), &mut stretches);
        assert_eq!(a[0].per_project.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(a[0].total, Decimal::from(20));
    }

    #[test]
    fn a_credit_pays_only_hours_of_its_validity() {
        let credits = [credit("HALF", 100, Some(16), None)];
        let bounds = cut_at_validity(t(1), t(31), &balances(&credits));
        assert_eq!(bounds, [(t(1), t(16)), (t(16), t(31))]);
        let mut stretches = vec![stretch(1, 16, &[("a", 15)]), stretch(16, 31, &[("a", 15)])];
        let a = allocate(&balances(&credits), &mut stretches);
        assert_eq!(a[0].total, Decimal::from(15));
    }

    #[test]
    fn the_burn_down_finds_the_day_a_credit_runs_out_and_what_expires() {
        let credits = [
            credit("RUNSOUT", 48, Some(31), None),
            credit("EXPIRES", 500, Some(31), Some("b")),
        ];
        let rates: BTreeMap<String, Decimal> = [
            ("a".to_string(), Decimal::ONE),
            ("b".to_string(), Decimal::ONE),
        ]
        .into_iter()
        .collect();
        let forecast = burn_down(&balances(&credits), &rates, t(10));
        let of = |code: &str| forecast.iter().find(|f| f.0 == code).unwrap().clone();
        // 1 USD/h on project a: 48 USD last two days.
        assert_eq!(of("RUNSOUT").1, Some(t(12)));
        assert_eq!(of("RUNSOUT").2, Decimal::ZERO);
        // Project b: 21 days × 24 USD = 504 > 500, so it runs out too…
        assert!(of("EXPIRES").1.is_some());
        // …but a smaller rate leaves some unused at expiry.
        let slow: BTreeMap<String, Decimal> = [("b".to_string(), Decimal::new(5, 1))]
            .into_iter()
            .collect();
        let forecast = burn_down(&balances(&credits), &slow, t(10));
        let expires = forecast.iter().find(|f| f.0 == "EXPIRES").unwrap();
        assert_eq!(expires.1, None);
        assert_eq!(expires.2, Decimal::from(500 - 21 * 12));
    }

    #[test]
    fn generated_codes_are_valid_and_differ() {
        let a = generate_code();
        assert_eq!(normalize_code(&display_code(&a)), Some(a.clone()));
        assert_ne!(a, generate_code());
    }
}
