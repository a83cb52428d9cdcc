//! Prometheus metrics: every name the server exports is written here, once.
//! Counters and histograms are recorded where things happen (requests, job
//! passes, the month close, sign-ins); what is a state rather than an event
//! (the outbox, the connection pool) is read when Prometheus scrapes.
//!
//! Off unless `METRICS_ADDR` or `METRICS_TOKEN` is set: then the recorder
//! is installed and `/metrics` is served on its own listener, or on the main
//! address behind a bearer token. Never public by default.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::server::auth::secret_hash;
use crate::server::state::AppState;

/// Histogram buckets (seconds) for requests, job passes and month closes.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same
/// handle). None when another recorder was installed first.
pub fn enable() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match built {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::error!(%error, "metrics could not be enabled");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "billing_http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        "billing_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route"
    );
    describe_counter!("billing_job_runs_total", "Passes of each background job");
    describe_counter!(
        "billing_job_failures_total",
        "Passes of each background job that failed or panicked"
    );
    describe_histogram!(
        "billing_job_duration_seconds",
        Unit::Seconds,
        "Time a pass of each background job took"
    );
    describe_gauge!(
        "billing_job_last_success_timestamp_seconds",
        Unit::Seconds,
        "Unix time of each job's last successful pass"
    );
    describe_counter!("billing_month_closes_total", "Month closes run, by outcome");
    describe_histogram!(
        "billing_month_close_duration_seconds",
        Unit::Seconds,
        "Time a month close took"
    );
    describe_counter!(
        "billing_month_close_invoices_issued_total",
        "Invoices issued by month closes"
    );
    describe_counter!(
        "billing_budget_alerts_total",
        "Budget thresholds found crossed and alerted"
    );
    describe_counter!(
        "billing_mail_delivered_total",
        "Messages the outbox delivered"
    );
    describe_counter!(
        "billing_sign_ins_total",
        "Password sign-in attempts, by outcome (ok, invalid, throttled)"
    );
    describe_counter!(
        "billing_sign_in_slowdowns_total",
        "Sign-in attempts slowed down after earlier failures"
    );
    describe_gauge!(
        "billing_outbox_waiting",
        "Messages queued or being sent, by kind"
    );
    describe_gauge!("billing_outbox_failed", "Messages given up on, by kind");
    describe_gauge!(
        "billing_outbox_oldest_waiting_age_seconds",
        Unit::Seconds,
        "Age of the oldest waiting message, by kind (0: none waiting)"
    );
    describe_gauge!(
        "billing_db_pool_connections",
        "Database connections, by state"
    );
    describe_gauge!("billing_db_pool_max_connections", "The pool's size limit");
    describe_gauge!(
        "billing_db_pool_acquire_seconds",
        Unit::Seconds,
        "Time to take a connection from the pool, measured at the scrape"
    );
}

/// Counts and times every request by its route's pattern (never the raw
/// path: IDs would make a series each).
pub async fn track_request(request: Request, next: Next) -> Response {
    if HANDLE.get().is_none_or(Option::is_none) {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(other)".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "billing_http_request_duration_seconds",
        "method" => method.clone(),
        "route" => route.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "billing_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .increment(1);
    response
}

/// A pass of a background job: its duration, and whether it succeeded.
/// (The label is `job_name`: Prometheus keeps `job` for the scrape's own.)
pub fn job_pass(job: &'static str, took: Duration, succeeded: bool) {
    metrics::counter!("billing_job_runs_total", "job_name" => job).increment(1);
    metrics::histogram!("billing_job_duration_seconds", "job_name" => job)
        .record(took.as_secs_f64());
    if succeeded {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        metrics::gauge!("billing_job_last_success_timestamp_seconds", "job_name" => job)
            .set(now.as_secs_f64());
    } else {
        metrics::counter!("billing_job_failures_total", "job_name" => job).increment(1);
    }
}

/// A month close that ran: how long, and how many invoices it issued
/// (None: it failed).
pub fn month_close(took: Duration, issued: Option<usize>) {
    let outcome = if issued.is_some() { "ok" } else { "failed" };
    metrics::counter!("billing_month_closes_total", "outcome" => outcome).increment(1);
    metrics::histogram!("billing_month_close_duration_seconds").record(took.as_secs_f64());
    if let Some(issued) = issued {
        metrics::counter!("billing_month_close_invoices_issued_total").increment(issued as u64);
    }
}

pub fn budget_alerts(count: usize) {
    metrics::counter!("billing_budget_alerts_total").increment(count as u64);
}

pub fn mail_delivered(count: usize) {
    metrics::counter!("billing_mail_delivered_total").increment(count as u64);
}

pub fn webhooks_delivered(count: usize) {
    metrics::counter!("billing_webhooks_delivered_total").increment(count as u64);
}

/// A password sign-in's outcome: "ok", "invalid" or "throttled".
pub fn sign_in(outcome: &'static str) {
    metrics::counter!("billing_sign_ins_total", "outcome" => outcome).increment(1);
}

pub fn sign_in_slowed() {
    metrics::counter!("billing_sign_in_slowdowns_total").increment(1);
}

/// `GET /metrics`: the scrape. With `METRICS_TOKEN` set, only with
/// `Authorization: Bearer <token>` (their SHA-256 hashes compared, so the
/// time taken tells nothing about how much of a guess was right).
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if secret_hash(given) != secret_hash(token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Metrics need the bearer token set in METRICS_TOKEN.\n",
            )
                .into_response();
        }
    }
    let Some(handle) = enable() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Metrics are unavailable.\n",
        )
            .into_response();
    };
    read_states(&state).await;
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// The gauges that describe a state, read now.
async fn read_states(state: &AppState) {
    let pool = state.store.pool_status();
    metrics::gauge!("billing_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("billing_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!("billing_db_pool_max_connections").set(f64::from(pool.max));
    match tokio::time::timeout(Duration::from_secs(2), state.store.acquire_time()).await {
        Ok(Ok(took)) => metrics::gauge!("billing_db_pool_acquire_seconds").set(took.as_secs_f64()),
        _ => metrics::gauge!("billing_db_pool_acquire_seconds").set(2.0),
    }
    match state.store.outbox_summary().await {
        Ok(kinds) => {
            let now = state.clock.now();
            for kind in kinds {
                let age = kind
                    .oldest_waiting
                    .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                let label = kind.kind;
                metrics::gauge!("billing_outbox_waiting", "kind" => label.clone())
                    .set(kind.waiting as f64);
                metrics::gauge!("billing_outbox_failed", "kind" => label.clone())
                    .set(kind.failed as f64);
                metrics::gauge!("billing_outbox_oldest_waiting_age_seconds", "kind" => label)
                    .set(age);
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: the outbox could not be read"),
    }
}

/// Serves `/metrics` alone on `addr` until the process ends.
pub async fn serve_on_own_address(
    state: AppState,
    addr: std::net::SocketAddr,
) -> Result<(), crate::server::state::StartupError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        crate::server::state::StartupError(format!("cannot listen on METRICS_ADDR {addr} ({e})"))
    })?;
    let router = axum::Router::new()
        .route("/metrics", axum::routing::get(serve))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(())
}
