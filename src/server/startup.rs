//! Start-up: bind, open the store, seed demo data, start the jobs, build
//! the router (pages, server functions, downloads, `/v1`, health) with its
//! layers, serve until SIGTERM. It only wires; what each piece does lives
//! in its own module.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::shell::shell;
use crate::app::App;
use crate::server::bundle::Bundle;
use crate::server::config::Config;
use crate::server::state::{AppState, StartupError};
use crate::server::store::DynStore;
use crate::server::{
    auth, demo, downloads, jobs, links, metrics, middleware, rest, security, store,
};

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(config.site_pkg_dir.clone())
        .site_addr(config.site_addr)
        .build()
}

/// Brotli and gzip quality for responses compressed on the fly (pages, API);
/// see docs/BENCHMARKS.md for the bytes and CPU per level.
const PAGE_COMPRESSION_LEVEL: i32 = 4;

/// The bundle in the configured site folder (see `bundle.rs`).
pub fn bundle(config: &Config) -> Bundle {
    Bundle::locate(&config.site_root, &config.site_pkg_dir, &config.output_name)
}

/// Opens the database named by the configuration (creating the SQLite
/// file's folder first) and applies its migrations.
pub async fn open_store(config: &Config) -> Result<DynStore, StartupError> {
    prepare_data_dir(config)?;
    store::connect(&config.database_url, config.max_connections)
        .await
        .map_err(|e| StartupError(format!("database at DATABASE_URL could not be opened: {e}")))
}

/// Opens the database a server has set up, refusing to create one: a
/// command that reads or imports into a new, empty database would report
/// success to an operator whose server never sees the data.
pub async fn open_existing_store(config: &Config) -> Result<DynStore, StartupError> {
    store::open(
        &config.database_url,
        config.max_connections,
        store::Opening::ExistingOnly,
    )
    .await
    .map_err(|e| match e {
        store::StoreError::Missing(why) => StartupError(format!(
            "{why} ({}); set DATABASE_URL or start the server once",
            config.database_for_display()
        )),
        other => StartupError(format!(
            "database at DATABASE_URL could not be opened: {other}"
        )),
    })
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
    // Metrics first, so the demo's month closes and the jobs' first passes
    // are counted.
    let metrics_on = config.metrics_addr.is_some() || config.metrics_token.is_some();
    if metrics_on && metrics::enable().is_none() {
        return Err(StartupError("metrics could not be enabled".into()));
    }
    let store = open_store(&config).await?;
    tracing::info!(backend = ?store.backend(), "database ready, migrations applied");
    let clock = config.clock();
    if config.test_clock_file.is_some() {
        tracing::warn!(now = %clock.now(), "running on the test clock (TEST_CLOCK_FILE)");
    }

    if config.demo {
        let seeded = demo::seed_if_empty(
            store.as_ref(),
            &config.seller,
            &crate::server::links::mail_base(&config),
            clock.now(),
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

    announce_first_run(store.as_ref(), &config, clock.now()).await?;
    // Read the invoice fonts now, once: a broken file shows at start-up,
    // and the first PDF does not pay for it.
    let _ = tokio::task::spawn_blocking(crate::server::billing::pdf_fonts::fonts).await;
    if let Some(message) = crate::server::billing::month_close::why_issuing_paused(&config.seller) {
        tracing::warn!("{message}");
        println!("{message}");
    }

    let bundle = bundle(&config);
    let missing = bundle.missing(&config.site_root, &config.site_pkg_dir);
    if !missing.is_empty() {
        tracing::warn!(site_root = %config.site_root, ?missing, "the site folder lacks the browser bundle: pages will render but not hydrate (build it with `cargo leptos build`, or set LEPTOS_SITE_ROOT)");
    }
    let state = AppState {
        leptos_options: leptos_options(&config),
        bundle: Arc::new(bundle),
        store,
        webhooks: Arc::new(crate::server::webhook_sender::HttpTransport::new(
            config.webhook_allow_private_targets,
        )),
        config: Arc::new(config),
        clock,
        draining: Arc::default(),
    };
    if let Some(addr) = state.config.metrics_addr {
        metrics::serve_on_own_address(state.clone(), addr).await?;
        tracing::info!(%addr, "metrics at /metrics");
    }
    jobs::spawn_session_sweeper(state.clone());
    jobs::spawn_price_applier(state.clone());
    jobs::spawn_budget_evaluator(state.clone());
    jobs::spawn_webhook_sender(state.clone());
    jobs::spawn_overdue_notices(state.clone());
    match crate::server::mailer::SmtpMailer::new(&state.config.mail).map_err(StartupError)? {
        Some(mailer) => jobs::spawn_mail_sender(state.clone(), Arc::new(mailer)),
        None => tracing::warn!("mail is not configured (SMTP_URL): invoices, invitations and budget alerts wait in the outbox"),
    }
    if state.config.scheduled_close {
        jobs::spawn_month_closer(state.clone());
    } else {
        tracing::info!("scheduled month close is off; run `billing-console close-month` from cron");
    }
    let app = router(state.clone());
    tracing::info!(addr = %state.config.site_addr, "listening");
    println!(
        "billing-console listening on http://{} (database: {})",
        state.config.site_addr,
        state.config.database_for_display()
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_sequence(
        state.draining.clone(),
        Duration::from_secs(state.config.shutdown_drain_seconds),
    ))
    .await
    .map_err(|e| StartupError(format!("server error: {e}")))?;
    state.store.close().await;
    tracing::info!("shut down");
    Ok(())
}

/// While no user exists: a new one-time setup link, printed (stdout and
/// log) for whoever started the server.
async fn announce_first_run(
    store: &dyn crate::server::store::Store,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StartupError> {
    let token = crate::server::billing::setup::new_setup_token(store, now)
        .await
        .map_err(|e| StartupError(format!("first-run setup could not be prepared: {e}")))?;
    if let Some(token) = token {
        let link = links::setup_link(&links::public_base(config, None), &token);
        tracing::warn!(%link, "no user yet: open the setup link to create the first operator");
        println!("No user exists yet. Create the first operator and account at:\n  {link}\n(the link works once; a restart prints a new one)");
    }
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
        .layer(axum::middleware::from_fn_with_state(
            base,
            middleware::strip_base_path,
        ))
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

    // `/metrics` on the main address only behind its token (with
    // METRICS_ADDR alone it is served on that listener only).
    let metrics_here = state.config.metrics_token.is_some() && state.config.metrics_addr.is_none();
    let router = Router::new()
        // An empty page list: this registers the server functions only;
        // pages go through `page_handler`.
        .leptos_routes_with_context(&state, Vec::new(), provide_state.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .leptos_routes_with_handler(routes, page_handler(provide_state.clone(), options))
        .route(
            "/billing-group/{billing_group_id}/events.csv",
            get(downloads::events_csv),
        )
        .route(
            "/billing-group/{billing_group_id}/invoices/{invoice_number}/{format}",
            get(downloads::invoice_file),
        )
        .route(
            "/billing-group/{billing_group_id}/invoices.csv",
            get(downloads::invoice_list_csv),
        )
        .route(
            "/billing-group/{billing_group_id}/focus.csv",
            get(downloads::group_focus_csv),
        )
        .route(
            "/account/{account_id}/focus.csv",
            get(downloads::account_focus_csv),
        )
        .route(
            "/billing-group/{billing_group_id}/credit-notes/{credit_note_number}/{format}",
            get(downloads::credit_note_file),
        )
        // Pages need a session; the 404 fallback and /healthz stay public.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_sign_in,
        ))
        // The REST API authenticates by token, not by the session cookie.
        .nest("/v1", rest::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let router = if metrics_here {
        router.route("/metrics", get(metrics::serve))
    } else {
        router
    };
    router
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_state, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::load_session_user,
        ))
        // State-changing requests from another site are refused.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::same_origin_writes,
        ))
        // A server function's error answers with its own status.
        .layer(axum::middleware::from_fn(
            middleware::server_fn_error_status,
        ))
        // A panic in any handler answers 500 and is logged; inside the
        // header layers (its answer gets the same security headers) and
        // the trace layer (the 500 is in the request log too).
        .layer(CatchPanicLayer::custom(security::panic_response))
        // Limits and headers for every response (pages set their own CSP
        // with a nonce; this one is the default).
        .layer(axum::middleware::from_fn(security::limit_body))
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::cache_control,
        ))
        // Pages and API answers are compressed as they go out, at a level
        // measured for its CPU cost (docs/BENCHMARKS.md); the bundle's files
        // are compressed at build time and served as they are.
        .layer(
            CompressionLayer::new().quality(tower_http::CompressionLevel::Precise(
                PAGE_COMPRESSION_LEVEL,
            )),
        )
        // Counted by route pattern (axum's MatchedPath, set by routing:
        // `Router::layer` wraps each route, so it runs after the match).
        .layer(axum::middleware::from_fn(metrics::track_request))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |request: &Request<Body>| {
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
                })
                .on_response(log_response)
                // `log_response` already reports server errors once.
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// One line per request; the level follows the status, so a user's mistake
/// (4xx) is a warning and only the server's own failures (5xx) are errors.
fn log_response(response: &Response, latency: Duration, _span: &tracing::Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_millis() as u64;
    if response.status().is_server_error() {
        tracing::error!(status, latency_ms, "response");
    } else if response.status().is_client_error() {
        tracing::warn!(status, latency_ms, "response");
    } else {
        tracing::info!(status, latency_ms, "response");
    }
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
        if let Some(middleware::UriWithBase(uri)) =
            request.extensions_mut().remove::<middleware::UriWithBase>()
        {
            *request.uri_mut() = uri;
        }
        render(request)
    }
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

/// 200 when this instance should get traffic: the database answers, has
/// every migration this build knows, the browser bundle is in place, and
/// no shutdown has begun. 503 otherwise, naming what is not ready.
async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems: Vec<String> = Vec::new();
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        problems.push("shutting down".into());
    }
    let check = async {
        state.store.ping().await?;
        state.store.unapplied_migrations().await
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(unapplied)) if unapplied.is_empty() => {}
        Ok(Ok(unapplied)) => problems.push(format!(
            "migrations not applied: {}",
            unapplied
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: database error");
            problems.push("database unavailable".into());
        }
        Err(_) => problems.push("database timeout".into()),
    }
    let missing = state
        .bundle
        .missing(&state.config.site_root, &state.config.site_pkg_dir);
    if !missing.is_empty() {
        problems.push(format!("browser bundle missing: {}", missing.join(", ")));
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if problems.is_empty() { "ready" } else { "not ready" },
        "problems": problems,
    });
    (status, axum::Json(body)).into_response()
}

/// The SQLite file's directory must exist and be writable before the
/// database is opened, so the error names the directory, not a SQL error.
pub(crate) fn prepare_data_dir(config: &Config) -> Result<(), StartupError> {
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

/// SIGTERM and SIGINT, listened for from the moment this is made (before
/// the server answers its first request): a handler registered only when
/// axum first polled the future let a SIGTERM that came right after the
/// first health check kill the process instead of stopping it.
struct ShutdownSignals {
    terminate: Option<tokio::signal::unix::Signal>,
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn listen() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        ShutdownSignals {
            terminate: signal(SignalKind::terminate()).ok(),
            interrupt: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// The next SIGTERM or SIGINT.
    async fn next(&mut self) {
        async fn wait(stream: &mut Option<tokio::signal::unix::Signal>) {
            match stream {
                Some(stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = wait(&mut self.terminate) => {},
            _ = wait(&mut self.interrupt) => {},
        }
    }
}

/// What a signal starts: `/readyz` turns 503 at once, requests are still
/// served for `drain` (so a load balancer that polls readiness stops
/// sending new ones), then the listener closes and in-flight requests
/// finish. A second signal skips the rest of the drain.
fn shutdown_sequence(
    draining: Arc<std::sync::atomic::AtomicBool>,
    drain: Duration,
) -> impl std::future::Future<Output = ()> {
    let mut signals = ShutdownSignals::listen();
    async move {
        signals.next().await;
        draining.store(true, std::sync::atomic::Ordering::SeqCst);
        if !drain.is_zero() {
            tracing::info!(
                seconds = drain.as_secs(),
                "shutdown signal received; /readyz answers 503 while requests are still served"
            );
            tokio::select! {
                _ = tokio::time::sleep(drain) => {},
                _ = signals.next() => tracing::info!("second signal: not waiting any longer"),
            }
        }
        tracing::info!("no longer accepting connections; finishing in-flight requests");
    }
}
