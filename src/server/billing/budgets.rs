//! Budgets (issue 18): a monthly amount per billing group, in its
//! currency, with thresholds (50 %, 90 %, 100 % unless set), measured on
//! the month so far — the header's figure, before credits and VAT — and on
//! the forecast to the month's end at the current run rate. Each threshold
//! alerts once per month and measure: an event, and an email to the
//! billing contacts (the invoice emails when there are none). Evaluated by
//! a job every [`EVALUATE_EVERY`], one instance at a time.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::access::authorized_group;
use super::calendar::month_of;
use super::month_to_date::{MonthToDate, WithCredits};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::amount::{parse_amount, MAX_MONEY};
use crate::model::billing::BudgetStatus;
use crate::model::ids::GroupId;
use crate::model::money::Money;
use crate::model::states::{BudgetMeasure, EventType, MessageKind, WebhookEvent};
use crate::model::{CurrentUser, Role};
use crate::server::store::{
    BillingGroupRecord, BudgetRecord, DbDecimal, JsonText, NewEvent, NewMessage, Store,
};

pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 90, 100];

/// How often budgets are evaluated (the job's lease).
pub const EVALUATE_EVERY: Duration = Duration::minutes(15);

/// Parses "50, 90, 100" (or empty: the defaults).
fn parse_thresholds(text: &str) -> Result<Vec<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(DEFAULT_THRESHOLDS.to_vec());
    }
    let mut values = Vec::new();
    for part in text.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let part = part.trim().trim_end_matches('%');
        let value: u32 = part
            .parse()
            .map_err(|_| format!("'{part}' is not a percentage (a whole number like 90)."))?;
        if !(1..=1000).contains(&value) {
            return Err(format!("{value} % is out of range: use 1 to 1000."));
        }
        if values.last().is_some_and(|last| *last >= value) {
            return Err(
                "Give the thresholds in ascending order, each once (like 50, 90, 100).".into(),
            );
        }
        values.push(value);
    }
    if values.len() > 10 {
        return Err("Use at most 10 thresholds.".into());
    }
    Ok(values)
}

/// Sets the group's budget (billing managers and admins). An empty amount
/// removes it.
pub async fn set_budget(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    amount: &str,
    thresholds: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<BudgetRecord>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    let currency = group.billing_currency;
    let event = |desc: String, after: serde_json::Value| NewEvent {
        billing_group_id: group.billing_group_id.clone(),
        account_id: group.account_id.clone(),
        actor: user.email.clone(),
        event_type: EventType::BudgetChanged,
        event_desc: desc,
        project_name: None,
        details: Some(serde_json::json!({"after": after})),
        create_time: now,
    };
    if amount.trim().is_empty() && thresholds.trim().is_empty() {
        store
            .set_budget(
                None,
                &group.billing_group_id,
                &event("Budget removed".into(), serde_json::Value::Null),
            )
            .await?;
        return Ok(None);
    }
    let mut errors = Vec::new();
    let amount = match parse_amount(amount, currency.minor_units()) {
        Ok(value) if value <= Decimal::ZERO => {
            errors.push(FieldError::new("amount", "A budget is more than zero."));
            None
        }
        Ok(value) if value > Decimal::from(MAX_MONEY) => {
            errors.push(FieldError::new(
                "amount",
                format!(
                    "A budget can be at most {} {}.",
                    Money::of(Decimal::from(MAX_MONEY), currency).grouped(),
                    currency.code()
                ),
            ));
            None
        }
        Ok(value) => Some(value),
        Err(message) => {
            errors.push(FieldError::new(
                "amount",
                format!("{message} (The budget is in {}.)", currency.code()),
            ));
            None
        }
    };
    let thresholds = parse_thresholds(thresholds)
        .map_err(|m| errors.push(FieldError::new("thresholds", m)))
        .ok();
    let (Some(amount), Some(thresholds)) = (amount, thresholds) else {
        return Err(AppError::Invalid { errors });
    };
    let budget = BudgetRecord {
        billing_group_id: group.billing_group_id.clone(),
        amount: DbDecimal(amount),
        thresholds: JsonText(thresholds.clone()),
        update_time: now,
    };
    let money = Money::of(amount, currency);
    store
        .set_budget(
            Some(&budget),
            &group.billing_group_id,
            &event(
                format!(
                    "Monthly budget set to {money}, alerts at {} %",
                    thresholds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
                serde_json::json!({"amount": money.plain(), "currency": currency.code(), "thresholds": thresholds}),
            ),
        )
        .await?;
    Ok(Some(budget))
}

/// Where the month stands against the group's budget (None: no budget).
pub async fn status(
    store: &dyn Store,
    group: &BillingGroupRecord,
    month: Option<&MonthToDate>,
    now: DateTime<Utc>,
) -> AppResult<Option<BudgetStatus>> {
    match store.budget(&group.billing_group_id).await? {
        Some(budget) => Ok(Some(status_of(store, group, budget, month, now).await?)),
        None => Ok(None),
    }
}

/// Where the month stands against this budget of the group.
async fn status_of(
    store: &dyn Store,
    group: &BillingGroupRecord,
    budget: BudgetRecord,
    month: Option<&MonthToDate>,
    now: DateTime<Utc>,
) -> AppResult<BudgetStatus> {
    let loaded;
    let month = match month {
        Some(month) => month,
        None => {
            loaded = MonthToDate::load(store, group.clone(), now, WithCredits::No).await?;
            &loaded
        }
    };
    let currency = group.billing_currency;
    let (actual, forecast) = match month.accumulated().local {
        Some(actual) => {
            let rate = month.rate.unwrap_or(Decimal::ONE);
            let hours_left = Decimal::from((month.month.1 - now).num_hours().max(0));
            // Checked sums: stored prices and rates are bounded where they
            // enter, but a forecast must not be able to panic a page.
            let forecast = month
                .run_rates()
                .values()
                .try_fold(Decimal::ZERO, |sum, rate| sum.checked_add(*rate))
                .and_then(|run_rate| run_rate.checked_mul(rate))
                .and_then(|local_rate| local_rate.checked_mul(hours_left))
                .and_then(|rest| rest.checked_add(actual.amount));
            match forecast {
                Some(forecast) => (Some(actual), Some(Money::of(forecast, currency))),
                None => {
                    tracing::warn!(billing_group_id = %group.billing_group_id, "budget forecast out of range");
                    (Some(actual), None)
                }
            }
        }
        None => (None, None),
    };
    let alerted = store
        .budget_alerts_sent(&group.billing_group_id, month_of(now).0)
        .await?
        .into_iter()
        .map(|(measure, percent)| (measure, percent as u32))
        .collect();
    Ok(BudgetStatus {
        amount: Money::of(budget.amount.0, currency),
        thresholds: budget.thresholds.0,
        actual,
        forecast,
        alerted,
        next_evaluation: Some(next_evaluation(store, now).await?),
    })
}

/// The budget shown to a member of the group's account.
pub async fn budget_of_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<Option<BudgetStatus>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    status(store, &group, None, now).await
}

/// The job's lease name; its expiry is the next evaluation.
pub const JOB_NAME: &str = "budget-alerts";

/// One threshold crossed, as the mail lists it.
fn alert_line(status: &BudgetStatus, measure: BudgetMeasure, percent: i64) -> String {
    let figure = match measure {
        BudgetMeasure::Actual => status.actual.as_ref(),
        BudgetMeasure::Forecast => status.forecast.as_ref(),
    }
    .map(Money::shown)
    .unwrap_or_default();
    match measure {
        BudgetMeasure::Actual => format!("- {percent} % reached: {figure} so far this month"),
        BudgetMeasure::Forecast => format!(
            "- {percent} % forecast: {figure} by the month's end at the services' current run rate"
        ),
    }
}

/// The event of one threshold crossed.
fn alert_event(
    group: &BillingGroupRecord,
    status: &BudgetStatus,
    (measure, percent): (BudgetMeasure, u32),
    figure: &Money,
    now: DateTime<Utc>,
) -> NewEvent {
    let name = &group.billing_group_name;
    let month = now.format("%B %Y");
    NewEvent {
        billing_group_id: group.billing_group_id.clone(),
        account_id: group.account_id.clone(),
        actor: "budget".into(),
        event_type: EventType::BudgetThresholdReached,
        event_desc: match measure {
            BudgetMeasure::Actual => {
                format!("Budget alert: {name} reached {percent} % of its budget for {month}")
            }
            BudgetMeasure::Forecast => format!(
                "Budget alert: {name} is forecast to reach {percent} % of its budget for {month}"
            ),
        },
        project_name: None,
        details: Some(serde_json::json!({"after": {
            "measure": measure.as_str(), "threshold": percent,
            "figure": figure.plain(), "budget": status.amount.plain(),
        }})),
        create_time: now,
    }
}

/// The one mail of an evaluation: every threshold it found crossed, the
/// month, the group and a link to its Overview.
fn alert_mail(
    group: &BillingGroupRecord,
    status: &BudgetStatus,
    claimed: &[(BudgetMeasure, i64)],
    link_base: &str,
    now: DateTime<Utc>,
) -> Option<NewMessage> {
    let recipients = if group.billing_contact_emails.0.is_empty() {
        group.billing_emails.0.clone()
    } else {
        group.billing_contact_emails.0.clone()
    };
    if recipients.is_empty() {
        return None;
    }
    let name = &group.billing_group_name;
    let month = now.format("%B %Y");
    let lines: Vec<String> = claimed
        .iter()
        .map(|(measure, percent)| alert_line(status, *measure, *percent))
        .collect();
    let labels: Vec<String> = claimed
        .iter()
        .map(|(measure, percent)| match measure {
            BudgetMeasure::Actual => format!("{percent} % reached"),
            BudgetMeasure::Forecast => format!("{percent} % forecast"),
        })
        .collect();
    let link = if link_base.is_empty() {
        String::new()
    } else {
        format!(
            "\nSee the group's costs: {link_base}/billing-group/{}\n",
            group.billing_group_id
        )
    };
    Some(NewMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        kind: MessageKind::BudgetAlert,
        account_id: group.account_id.clone(),
        billing_group_id: Some(group.billing_group_id.clone()),
        invoice_number: None,
        credit_note_number: None,
        recipients,
        subject: format!("Budget alert for {name}, {month}: {}", labels.join(", ")),
        body: format!(
            "The billing group {name} has crossed {} of its budget for {month}, {} a month before credits and VAT:\n\n{}\n{link}",
            if claimed.len() == 1 { "a threshold" } else { "thresholds" },
            status.amount.shown(),
            lines.join("\n")
        ),
        webhook_id: None,
    })
}

/// Evaluates every budget: the thresholds newly crossed this month, on the
/// actual cost or the forecast, are recorded once each with an event, and
/// mailed together in one message linking to `link_base`'s group page.
/// Returns how many thresholds were recorded.
///
/// One group's failure is logged with its ID and skipped: the others are
/// evaluated all the same, and the group again at the next run.
pub async fn evaluate(store: &dyn Store, now: DateTime<Utc>, link_base: &str) -> AppResult<usize> {
    let mut recorded = 0;
    for budget in store.budgets().await? {
        let group_id = budget.billing_group_id.clone();
        match evaluate_group(store, budget, now, link_base).await {
            Ok(n) => recorded += n,
            Err(error) => {
                tracing::error!(billing_group_id = %group_id, %error, "budget not evaluated; skipped until the next run")
            }
        }
    }
    Ok(recorded)
}

async fn evaluate_group(
    store: &dyn Store,
    budget: BudgetRecord,
    now: DateTime<Utc>,
    link_base: &str,
) -> AppResult<usize> {
    let period = month_of(now).0;
    let Some(group) = store.billing_group(&budget.billing_group_id).await? else {
        return Ok(0);
    };
    let status = status_of(store, &group, budget, None, now).await?;
    let mut alerts = Vec::new();
    for (measure, figure) in [
        (BudgetMeasure::Actual, &status.actual),
        (BudgetMeasure::Forecast, &status.forecast),
    ] {
        let Some(figure) = figure else { continue };
        for percent in status.thresholds.iter().copied() {
            // Beyond Decimal's range, a threshold cannot be reached.
            let Some(line) = status
                .amount
                .amount
                .checked_mul(Decimal::from(percent))
                .map(|line| line / Decimal::from(100))
            else {
                continue;
            };
            if figure.amount < line || status.alerted.contains(&(measure, percent)) {
                continue;
            }
            let event = alert_event(&group, &status, (measure, percent), figure, now);
            alerts.push(((measure, i64::from(percent)), event));
        }
    }
    if alerts.is_empty() {
        return Ok(0);
    }
    let subscribers = super::webhooks::Subscribers::of_account(store, &group.account_id).await?;
    // One mail for the thresholds this evaluation claimed, and one webhook
    // delivery per threshold and endpoint.
    let mail = |claimed: &[(BudgetMeasure, i64)]| {
        let mut messages: Vec<NewMessage> = alert_mail(&group, &status, claimed, link_base, now)
            .into_iter()
            .collect();
        for (measure, percent) in claimed {
            let figure = match measure {
                BudgetMeasure::Actual => status.actual.as_ref(),
                BudgetMeasure::Forecast => status.forecast.as_ref(),
            };
            messages.extend(subscribers.notices(
                WebhookEvent::BudgetThresholdReached,
                Some(&group.billing_group_id),
                serde_json::json!({
                    "account_id": group.account_id,
                    "billing_group_id": group.billing_group_id,
                    "billing_group_name": group.billing_group_name,
                    "period": super::calendar::period_name(period),
                    "measure": measure.as_str(),
                    "threshold_percent": percent,
                    "budget": status.amount.plain(),
                    "figure": figure.map(Money::plain),
                    "currency": status.amount.currency.code(),
                }),
                now,
            ));
        }
        messages
    };
    Ok(store
        .record_budget_alerts(&group.billing_group_id, period, &alerts, now, &mail)
        .await?)
}

/// When budgets are next evaluated: the job's lease ends then (or now,
/// when no instance holds it).
pub async fn next_evaluation(store: &dyn Store, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    Ok(store
        .job_lease_expiry(JOB_NAME)
        .await?
        .filter(|at| *at > now)
        .unwrap_or(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_ascending_percentages() {
        assert_eq!(parse_thresholds("").unwrap(), vec![50, 90, 100]);
        assert_eq!(parse_thresholds("25%, 75, 120").unwrap(), vec![25, 75, 120]);
        assert!(parse_thresholds("90, 50")
            .unwrap_err()
            .contains("ascending"));
        assert!(parse_thresholds("50, 50").is_err());
        assert!(parse_thresholds("0").unwrap_err().contains("range"));
        assert!(parse_thresholds("lots").is_err());
    }
}
