//! The server: configuration, router, layers, state and shutdown.

pub mod auth;
pub mod billing;
pub mod config;
pub mod demo;
pub mod rest;
pub mod security;
pub mod store;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::model::CurrentUser;
use config::Config;
use store::DynStore;

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: DynStore,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The signed-in user of this request (None: signed out), put into the
/// request's extensions once by [`load_session_user`].
#[derive(Debug, Clone)]
pub struct SessionUser(pub Option<CurrentUser>);

/// Why start-up failed: one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(config.site_pkg_dir.clone())
        .site_addr(config.site_addr)
        .build()
}

/// Starts the server and returns when it has shut down (SIGTERM or Ctrl-C).
pub async fn run(config: Config) -> Result<(), StartupError> {
    // The port first: if it is taken, nothing else gets created.
    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .map_err(|e| {
            StartupError(format!(
                "cannot listen on {} ({e}); set LEPTOS_SITE_ADDR or site.addr in Leptos.toml",
                config.site_addr
            ))
        })?;
    prepare_data_dir(&config)?;
    let store = store::connect(&config.database_url, config.max_connections)
        .await
        .map_err(|e| StartupError(format!("database at DATABASE_URL could not be opened: {e}")))?;
    tracing::info!(backend = ?store.backend(), "database ready, migrations applied");

    if config.demo {
        let seeded = demo::seed_if_empty(
            store.as_ref(),
            &config.seller,
            Utc::now(),
            config.scheduled_close,
        )
        .await
        .map_err(|e| StartupError(format!("demo data could not be created: {e}")))?;
        if seeded {
            println!(
                "Demo data created. Sign in at http://{}/signin as {} with password {}",
                config.site_addr,
                demo::DEMO_EMAIL,
                demo::DEMO_PASSWORD
            );
        } else {
            println!(
                "Demo mode: the database already holds data, nothing seeded. Demo sign-in (if seeded earlier): {} / {}",
                demo::DEMO_EMAIL,
                demo::DEMO_PASSWORD
            );
        }
    }

    let state = AppState {
        leptos_options: leptos_options(&config),
        store,
        config: Arc::new(config),
    };
    spawn_session_sweeper(state.store.clone());
    if state.config.scheduled_close {
        spawn_month_closer(state.store.clone(), state.config.seller.clone());
    } else {
        tracing::info!("scheduled month close is off; run `billing-console close-month` from cron");
    }
    let app = router(state.clone());
    tracing::info!(addr = %state.config.site_addr, "listening");
    println!(
        "billing-console listening on http://{}",
        state.config.site_addr
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| StartupError(format!("server error: {e}")))?;
    state.store.close().await;
    tracing::info!("shut down");
    Ok(())
}

/// The whole HTTP surface: pages, server functions, health, static files —
/// at the root, or under `BASE_PATH` when one is set.
pub fn router(state: AppState) -> Router {
    let base: Arc<str> = Arc::from(state.config.base_path.as_str());
    let app = app_router(state);
    if base.is_empty() {
        return app;
    }
    // The app's routes stay at the root; this outer router strips the base
    // before they are matched (a layer on `app` itself would run too late).
    Router::new()
        .fallback_service(app)
        .layer(middleware::from_fn_with_state(base, strip_base_path))
}

/// The request's URI as the browser sent it, kept while the app's routes
/// see it without the base path; pages render with it (see [`page_handler`]).
#[derive(Clone)]
struct UriWithBase(axum::http::Uri);

/// Serves `<base>/…` as `/…`; `/healthz` stays answerable at the root for
/// health checks that talk to an instance directly, `/` points at the base,
/// anything else outside the base is not ours.
async fn strip_base_path(
    State(base): State<Arc<str>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let rest = if path == &*base {
        Some("/")
    } else {
        path.strip_prefix(&*base)
            .filter(|rest| rest.starts_with('/'))
    };
    let Some(rest) = rest else {
        return match path {
            "/healthz" => next.run(request).await,
            "/" => Redirect::to(&format!("{base}/")).into_response(),
            _ => (
                StatusCode::NOT_FOUND,
                format!("Not found. This billing console is served under {base}/"),
            )
                .into_response(),
        };
    };
    let stripped = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    let Ok(stripped) = stripped.parse::<axum::http::Uri>() else {
        return (StatusCode::BAD_REQUEST, "Malformed request path.").into_response();
    };
    let original = std::mem::replace(request.uri_mut(), stripped);
    request.extensions_mut().insert(UriWithBase(original));
    next.run(request).await
}

/// Renders a page. The router matches the path the browser sees (with the
/// base, which `<Router base>` strips), so the page gets its original URI back.
fn page_handler(
    provide_state: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> impl Fn(Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let render =
        leptos_axum::render_app_async_with_context(provide_state, move || shell(options.clone()));
    move |mut request: Request| {
        if let Some(UriWithBase(uri)) = request.extensions_mut().remove::<UriWithBase>() {
            *request.uri_mut() = uri;
        }
        render(request)
    }
}

fn app_router(state: AppState) -> Router {
    // Generated outside any request, the routes carry no base: requests
    // reach them with the base stripped.
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let base = crate::paths::BasePath(Arc::from(state.config.base_path.as_str()));
    let provide_state = move || {
        provide_context(context_state.clone());
        provide_context(base.clone());
    };
    let options = state.leptos_options.clone();
    // Client addresses in the logs come from X-Forwarded-For only through these.
    let trusted_proxies = Arc::new(state.config.trusted_proxies.clone());

    Router::new()
        // An empty page list: this registers the server functions only;
        // pages go through `page_handler`.
        .leptos_routes_with_context(&state, Vec::new(), provide_state.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .leptos_routes_with_handler(routes, page_handler(provide_state.clone(), options))
        .route(
            "/billing-group/{billing_group_id}/events.csv",
            get(events_csv),
        )
        .route(
            "/billing-group/{billing_group_id}/invoices/{invoice_number}/{format}",
            get(invoice_file),
        )
        // Pages need a session; the 404 fallback and /healthz stay public.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_sign_in,
        ))
        // The REST API authenticates by token, not by the session cookie.
        .nest("/v1", rest::router())
        .route("/healthz", get(healthz))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_state, shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            load_session_user,
        ))
        // Limits and headers for every response (pages set their own CSP
        // with a nonce; this one is the default).
        .layer(middleware::from_fn(security::limit_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            security::REQUEST_TIMEOUT,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            security::default_policy(),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // The WASM bundle shrinks to about a third with gzip or brotli.
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(move |request: &Request<Body>| {
                let request_id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let peer = request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0);
                let client = auth::client_ip(request.headers(), peer, &trusted_proxies)
                    .map(|ip| ip.to_string())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    client = %client,
                    request_id = %request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Loads the session's user once per request (not for static assets).
async fn load_session_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let is_asset =
        path.starts_with(&format!("/{}/", state.config.site_pkg_dir)) || path == "/healthz";
    if !is_asset {
        let user = match auth::user_from_headers(
            state.store.as_ref(),
            request.headers(),
            Utc::now(),
        )
        .await
        {
            Ok(user) => user,
            Err(error) => return (error.status(), error.to_string()).into_response(),
        };
        request.extensions_mut().insert(SessionUser(user));
    }
    next.run(request).await
}

/// Sends signed-out visitors of a page to sign-in, remembering where they were.
/// `next` is the app path (without the base), so it cannot point elsewhere.
async fn require_sign_in(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page =
        request.method() == Method::GET && !path.starts_with("/api/") && path != "/signin";
    let signed_in = request
        .extensions()
        .get::<SessionUser>()
        .is_some_and(|s| s.0.is_some());
    if is_page && !signed_in {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let location = format!("/signin?next={}", encode_query_value(target));
        return Redirect::to(&crate::paths::join(&state.config.base_path, &location))
            .into_response();
    }
    next.run(request).await
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct EventsCsvQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    project: Option<String>,
}

/// The request's signed-in user (set by the session layer).
fn signed_in(request: &Request) -> Option<CurrentUser> {
    request
        .extensions()
        .get::<SessionUser>()
        .and_then(|s| s.0.clone())
}

/// A download asked for without a session.
fn sign_in_first() -> Response {
    (StatusCode::UNAUTHORIZED, "Sign in to continue.").into_response()
}

/// The Events tab's log as a CSV download, with the tab's filter.
async fn events_csv(
    State(state): State<AppState>,
    Path(billing_group_id): Path<String>,
    Query(query): Query<EventsCsvQuery>,
    request: Request,
) -> Response {
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    let result = billing::events::events_csv(
        state.store.as_ref(),
        &user,
        &billing_group_id,
        query.event_type.as_deref(),
        query.project.as_deref(),
    )
    .await;
    match result {
        Ok((filename, csv)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(error) => (error.status(), error.to_string()).into_response(),
    }
}

/// An invoice (or the running month's estimate) as `pdf` or `csv`.
async fn invoice_file(
    State(state): State<AppState>,
    Path((billing_group_id, invoice_number, format)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    if format != "pdf" && format != "csv" {
        return (StatusCode::NOT_FOUND, "Invoices download as pdf or csv.").into_response();
    }
    let detail = billing::invoices::invoice_detail(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &billing_group_id,
        &invoice_number,
        Utc::now(),
    )
    .await;
    let detail = match detail {
        Ok(detail) => detail,
        Err(error) => return (error.status(), error.to_string()).into_response(),
    };
    let stem = billing::invoice_files::file_stem(&detail);
    let (content_type, body) = if format == "pdf" {
        (
            "application/pdf",
            billing::invoice_files::invoice_pdf(&detail),
        )
    } else {
        (
            "text/csv; charset=utf-8",
            billing::invoice_files::invoice_csv(&detail).into_bytes(),
        )
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{format}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// 200 when the database answers within two seconds, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await;
    let (status, database) = match ping {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
    };
    let body = format!(
        r#"{{"status":"{}","database":"{database}"}}"#,
        if status == StatusCode::OK {
            "ok"
        } else {
            "unavailable"
        }
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The visitor's address for this request: the peer's, or X-Forwarded-For's
/// when the peer is a trusted proxy (what per-address limits key on).
pub fn client_of(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    config: &Config,
) -> Option<std::net::IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    auth::client_ip(headers, peer, &config.trusted_proxies)
}

/// True when the request reached us over https through a trusted proxy.
pub fn request_is_https(parts: &http::request::Parts, config: &Config) -> bool {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    auth::request_is_https(&parts.headers, peer, &config.trusted_proxies)
}

/// The SQLite file's directory must exist and be writable before the
/// database is opened, so the error names the directory, not a SQL error.
fn prepare_data_dir(config: &Config) -> Result<(), StartupError> {
    let Some(dir) = config.sqlite_data_dir() else {
        return Ok(());
    };
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let unwritable = |e: std::io::Error| {
        StartupError(format!(
            "data directory '{}' is not writable ({e}); fix its permissions or set DATABASE_URL",
            dir.display()
        ))
    };
    std::fs::create_dir_all(&dir).map_err(unwritable)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unwritable)?;
    std::fs::remove_file(&probe).map_err(unwritable)?;
    Ok(())
}

fn spawn_session_sweeper(store: DynStore) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match store.delete_expired_sessions(Utc::now()).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not remove expired sessions"),
            }
        }
    });
}

/// Closes the previous month once it has ended: checked at start-up and at
/// every hour boundary, so it runs in the first hour of the 1st (UTC). The
/// close is idempotent, so instances sharing a database cannot issue an
/// invoice twice.
fn spawn_month_closer(store: DynStore, seller: config::Seller) {
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let period = billing::invoices::previous_month(now);
            match store.month_closed(period).await {
                Ok(true) => {}
                Ok(false) => {
                    match billing::invoices::close_month(
                        store.as_ref(),
                        &seller,
                        period,
                        now,
                        "system",
                    )
                    .await
                    {
                        Ok(summary) if summary.another_instance_closing => tracing::info!(
                            period = %summary.period,
                            "another instance is closing the month; checking again next hour"
                        ),
                        Ok(summary) => tracing::info!(
                            period = %summary.period,
                            issued = summary.issued.len(),
                            already_invoiced = summary.already_invoiced,
                            "month closed"
                        ),
                        Err(error) => {
                            tracing::warn!(%error, "month close failed; retrying next hour")
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "could not check the month close"),
            }
            let next_hour = 3600 - now.timestamp().rem_euclid(3600) as u64;
            tokio::time::sleep(Duration::from_secs(next_hour.max(1))).await;
        }
    });
}

/// `billing-console close-month`: closes one month and reports what it did.
pub async fn close_month_command(
    config: Config,
    period: Option<String>,
) -> Result<String, StartupError> {
    prepare_data_dir(&config)?;
    let store = store::connect(&config.database_url, config.max_connections)
        .await
        .map_err(|e| StartupError(format!("database at DATABASE_URL could not be opened: {e}")))?;
    let now = Utc::now();
    let period = match period {
        Some(text) => billing::invoices::parse_period(&text),
        None => Ok(billing::invoices::previous_month(now)),
    }
    .map_err(|e| StartupError(format!("--period: {e}")))?;
    let result =
        billing::invoices::close_month(store.as_ref(), &config.seller, period, now, "system").await;
    store.close().await;
    let summary = result.map_err(|e| StartupError(format!("close-month: {e}")))?;
    if summary.another_instance_closing {
        return Ok(format!(
            "{} is being closed by another instance right now; nothing was done here.",
            summary.period
        ));
    }
    Ok(format!(
        "Closed {}: {} invoice(s) issued, {} group(s) already invoiced.",
        summary.period,
        summary.issued.len(),
        summary.already_invoiced
    ))
}

/// `billing-console credits issue …`: new codes, one per line.
pub async fn issue_credits_command(
    config: Config,
    request: billing::credits::IssueRequest,
) -> Result<Vec<String>, StartupError> {
    prepare_data_dir(&config)?;
    let store = store::connect(&config.database_url, config.max_connections)
        .await
        .map_err(|e| StartupError(format!("database at DATABASE_URL could not be opened: {e}")))?;
    let result = billing::credits::issue_credits(store.as_ref(), &request, Utc::now()).await;
    store.close().await;
    result.map_err(|e| match e {
        crate::error::AppError::Invalid { errors } => StartupError(
            errors
                .iter()
                .map(|e| format!("--{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        other => StartupError(format!("credits issue: {other}")),
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
