//! Work the server does by itself: the session sweeper, the price
//! applier, the month closer, the mail sender, the budget evaluator, the
//! webhook sender and the overdue notices (all seven; each pass counted
//! and timed in `server::metrics`).
//! Work that must happen once across instances is claimed in the database.
//!
//! Each pass of a job runs [`contained`]: a panic in it is logged and the
//! job goes on at its next tick, so one bad row can never stop a job for
//! every account on the instance. Inside a pass, the jobs that work item by
//! item (budgets, prices, mail) log a failing item with its ID and go on
//! with the others.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;

use crate::server::billing::{calendar, month_close, webhooks};
use crate::server::metrics;
use crate::server::state::AppState;

/// Runs one pass of `job` (which answers whether it succeeded); a panic
/// inside it is logged, not propagated. Each pass is counted and timed
/// (`server::metrics`), a panic as a failure.
pub async fn contained(job: &'static str, pass: impl Future<Output = bool>) {
    let started = std::time::Instant::now();
    let succeeded = match AssertUnwindSafe(pass).catch_unwind().await {
        Ok(succeeded) => succeeded,
        Err(panic) => {
            tracing::error!(
                job,
                panic = panic_message(panic.as_ref()),
                "a pass of the job panicked; it runs again at its next tick"
            );
            false
        }
    };
    metrics::job_pass(job, started.elapsed(), succeeded);
}

/// The text a panic was raised with.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

pub fn spawn_session_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            contained("session sweeper", async {
                let now = state.clock.now();
                let sessions = state.store.delete_expired_sessions(now).await;
                let drafts = state.store.delete_expired_group_drafts(now).await;
                match (sessions, drafts) {
                    (Ok(sessions), Ok(drafts)) => {
                        if sessions + drafts > 0 {
                            tracing::info!(sessions, drafts, "expired sessions and drafts removed");
                        }
                        true
                    }
                    (Err(error), _) | (_, Err(error)) => {
                        tracing::warn!(%error, "could not remove expired sessions or drafts");
                        false
                    }
                }
            })
            .await;
        }
    });
}

/// Moves running services to prices that have taken effect (price-list
/// rows dated in the future take effect while the server runs). Each run is
/// continued once whatever the number of instances: the store re-checks it
/// under its row lock.
pub fn spawn_price_applier(state: AppState) {
    tokio::spawn(async move {
        let every = crate::server::billing::prices::APPLY_EVERY
            .to_std()
            .unwrap_or(Duration::from_secs(60));
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            contained("price applier", async {
                match crate::server::billing::prices::apply_due_prices(
                    state.store.as_ref(),
                    state.clock.now(),
                )
                .await
                {
                    Ok(n) => {
                        if n > 0 {
                            tracing::info!(repriced = n, "running services moved to new prices");
                        }
                        true
                    }
                    Err(error) => {
                        tracing::warn!(%error, "could not apply due prices");
                        false
                    }
                }
            })
            .await;
        }
    });
}

/// Closes the previous month once it has ended: checked at start-up and at
/// every hour boundary, so it runs in the first hour of the 1st (UTC). The
/// close takes the month's lease and is idempotent, so instances sharing a
/// database cannot issue an invoice twice. A close that fails (or panics)
/// writes nothing and is tried again the next hour.
pub fn spawn_month_closer(state: AppState) {
    tokio::spawn(async move {
        loop {
            let now = state.clock.now();
            contained("month closer", close_previous_month(&state, now)).await;
            let next_hour = 3600 - now.timestamp().rem_euclid(3600) as u64;
            tokio::time::sleep(Duration::from_secs(next_hour.max(1))).await;
        }
    });
}

async fn close_previous_month(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> bool {
    let period = calendar::previous_month(now);
    match state.store.month_closed(period).await {
        Ok(true) => true,
        Ok(false) => {
            let store = state.store.as_ref();
            let links = crate::server::links::mail_base(&state.config);
            let started = std::time::Instant::now();
            let result = month_close::close_month(
                store,
                &state.config.seller,
                &links,
                period,
                now,
                "system",
            )
            .await;
            match result {
                Ok(summary) if summary.another_instance_closing => {
                    tracing::info!(
                        period = %summary.period,
                        "another instance is closing the month; checking again next hour"
                    );
                    true
                }
                Ok(summary) => {
                    metrics::month_close(started.elapsed(), Some(summary.issued.len()));
                    tracing::info!(
                        period = %summary.period,
                        issued = summary.issued.len(),
                        already_invoiced = summary.invoiced_earlier + summary.already_invoiced,
                        "month closed"
                    );
                    true
                }
                Err(error) => {
                    metrics::month_close(started.elapsed(), None);
                    tracing::warn!(%error, "month close failed; retrying next hour");
                    false
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "could not check the month close");
            false
        }
    }
}

/// Delivers the outbox every few seconds. Several instances may run it:
/// each claims different messages (see `store::mail`).
pub fn spawn_mail_sender(
    state: AppState,
    mailer: std::sync::Arc<dyn crate::server::billing::mail::Mailer>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            contained("mail sender", async {
                loop {
                    match crate::server::billing::mail::deliver_due(
                        state.store.as_ref(),
                        mailer.as_ref(),
                        &state.config.seller,
                        state.clock.now(),
                    )
                    .await
                    {
                        Ok(n) if n > 0 => {
                            metrics::mail_delivered(n);
                            tracing::info!(delivered = n, "mail delivered");
                        }
                        Ok(_) => break true,
                        Err(error) => {
                            tracing::warn!(%error, "the mail outbox could not be read");
                            break false;
                        }
                    }
                }
            })
            .await;
        }
    });
}

/// Delivers webhooks every few seconds. Several instances may run it:
/// each claims different deliveries (see `store::mail`).
pub fn spawn_webhook_sender(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            contained("webhook sender", async {
                loop {
                    match webhooks::deliver_due(
                        state.store.as_ref(),
                        state.webhooks.as_ref(),
                        state.clock.now(),
                    )
                    .await
                    {
                        Ok(n) if n > 0 => {
                            metrics::webhooks_delivered(n);
                            tracing::info!(delivered = n, "webhooks delivered");
                        }
                        Ok(_) => break true,
                        Err(error) => {
                            tracing::warn!(%error, "the webhook outbox could not be read");
                            break false;
                        }
                    }
                }
            })
            .await;
        }
    });
}

/// Decides `invoice.overdue` for invoices past their due date, every few
/// minutes, one instance at a time (a lease); each invoice once besides.
pub fn spawn_overdue_notices(state: AppState) {
    tokio::spawn(async move {
        let holder = uuid::Uuid::new_v4().to_string();
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            contained("overdue notices", async {
                let now = state.clock.now();
                let store = state.store.as_ref();
                let until = now + chrono::Duration::seconds(55);
                match store
                    .take_job_lease(webhooks::OVERDUE_JOB, &holder, now, until)
                    .await
                {
                    Ok(true) => match webhooks::notice_overdue(store, now).await {
                        Ok(n) => {
                            if n > 0 {
                                tracing::info!(invoices = n, "invoices noticed overdue");
                            }
                            true
                        }
                        Err(error) => {
                            tracing::warn!(%error, "overdue invoices could not be noticed");
                            false
                        }
                    },
                    Ok(false) => true,
                    Err(error) => {
                        tracing::warn!(%error, "the overdue job's lease could not be taken");
                        false
                    }
                }
            })
            .await;
        }
    });
}

/// Evaluates budgets every `budgets::EVALUATE_EVERY`, one instance at a
/// time (a lease in the database); alerts are once-only besides.
pub fn spawn_budget_evaluator(state: AppState) {
    tokio::spawn(async move {
        let holder = uuid::Uuid::new_v4().to_string();
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            contained("budget evaluator", evaluate_budgets(&state, &holder)).await;
        }
    });
}

async fn evaluate_budgets(state: &AppState, holder: &str) -> bool {
    let now = state.clock.now();
    let store = state.store.as_ref();
    let until = now + crate::server::billing::budgets::EVALUATE_EVERY;
    match store
        .take_job_lease(
            crate::server::billing::budgets::JOB_NAME,
            holder,
            now,
            until,
        )
        .await
    {
        Ok(true) => match crate::server::billing::budgets::evaluate(
            store,
            now,
            &crate::server::links::mail_base(&state.config),
        )
        .await
        {
            Ok(n) => {
                if n > 0 {
                    metrics::budget_alerts(n);
                    tracing::info!(alerts = n, "budget alerts recorded");
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, "budgets could not be evaluated");
                false
            }
        },
        Ok(false) => true,
        Err(error) => {
            tracing::warn!(%error, "the budget job's lease could not be taken");
            false
        }
    }
}
