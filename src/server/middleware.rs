//! Request layers: the base path, the session's user, the sign-in guard,
//! and the client's address as trusted proxies report it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::server::auth;
use crate::server::config::Config;
use crate::server::state::{AppState, SessionUser};

/// The request's URI as the browser sent it, kept while the app's routes
/// see it without the base path; pages render with it (see [`page_handler`]).
#[derive(Clone)]
pub(crate) struct UriWithBase(pub(crate) axum::http::Uri);

/// Serves `<base>/…` as `/…`; `/healthz` stays answerable at the root for
/// health checks that talk to an instance directly, `/` points at the base,
/// anything else outside the base is not ours.
pub(crate) async fn strip_base_path(
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

/// Loads the session's user once per request (not for static assets).
pub(crate) async fn load_session_user(
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
            state.clock.now(),
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
pub(crate) async fn require_sign_in(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
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
