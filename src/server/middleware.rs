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

/// Serves `<base>/…` as `/…`; `/healthz`, `/readyz` (and `/metrics`)
/// stay answerable at the root for checks that talk to an instance directly, `/` points at the base,
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
            "/healthz" | "/readyz" | "/metrics" => next.run(request).await,
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
    let is_asset = path.starts_with(&format!("/{}/", state.config.site_pkg_dir))
        || matches!(path, "/healthz" | "/readyz" | "/metrics");
    if !is_asset {
        let client = client_of(request.headers(), request.extensions(), &state.config);
        let user = match auth::user_from_headers(
            state.store.as_ref(),
            request.headers(),
            client,
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
    // Reached by a link, not a sign-in: the token in the link is the key.
    const PUBLIC_PAGES: [&str; 3] = ["/signin", "/setup", "/invitation"];
    let is_page = request.method() == Method::GET
        && !path.starts_with("/api/")
        && !PUBLIC_PAGES.contains(&path);
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
        let location = format!("/signin?next={}", crate::paths::encode_query_value(target));
        return Redirect::to(&crate::paths::join(&state.config.base_path, &location))
            .into_response();
    }
    next.run(request).await
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

/// A server function's error keeps its meaning on the wire: a caller's
/// mistake answers 4xx (400, 401, 403, 404, 409, 429), not the 500 that
/// server functions answer for every error. Only responses server functions
/// mark as errors (`serverfnerror`) and that are still 500 are touched, so a
/// plain form post — already a 302 back to its page, with the error in the
/// URL — keeps working without JavaScript.
pub(crate) async fn server_fn_error_status(request: Request, next: Next) -> Response {
    use axum::http::{header, HeaderValue};
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, axum::body::Body::empty());
        }
    };
    if let Ok(error) = serde_json::from_slice::<crate::error::AppError>(&bytes) {
        parts.status = match &error {
            crate::error::AppError::Transport { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            other => other.status(),
        };
        if let crate::error::AppError::TooManyAttempts {
            retry_after_seconds,
        } = &error
        {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Where this request should come from: `PUBLIC_URL`'s origin, or the
/// request's own scheme and host (`X-Forwarded-Host`/`-Proto` believed only
/// from a trusted proxy). None when the request names no host.
fn expected_origin(parts: &axum::http::request::Parts, config: &Config) -> Option<String> {
    if let Some(url) = &config.public_url {
        return Some(url.origin().ascii_serialization());
    }
    request_origin(parts, config)
}

/// The scheme and host the request was made to (`X-Forwarded-Host`/`-Proto`
/// believed only from a trusted proxy). None when it names no host.
pub fn request_origin(parts: &axum::http::request::Parts, config: &Config) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let from_proxy = peer.is_some_and(|p| config.trusted_proxies.contains(&p.ip()));
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let host = from_proxy
        .then(|| header("x-forwarded-host"))
        .flatten()
        .or_else(|| header("host"))?;
    let scheme = if auth::request_is_https(&parts.headers, peer, &config.trusted_proxies) {
        "https"
    } else {
        "http"
    };
    let origin = url::Url::parse(&format!("{scheme}://{host}/")).ok()?;
    Some(origin.origin().ascii_serialization())
}

/// The origin a browser says a request comes from: its `Origin`, or
/// without one its `Referer`'s. None when it says neither (non-browser
/// clients such as `avn` and curl).
fn claimed_origin(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    match value(axum::http::header::ORIGIN) {
        Some(origin) => Some(
            url::Url::parse(origin)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| origin.to_string()),
        ),
        None => value(axum::http::header::REFERER).map(|referer| {
            url::Url::parse(referer)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| "null".to_string())
        }),
    }
}

/// Refuses (403) a state-changing request that a browser says comes from
/// another origin — a sibling site on the same domain included, which
/// SameSite=Lax alone would let through (sign-in too: no login CSRF). The
/// browser says so by `Origin` (or `Referer`), or by `Sec-Fetch-Site`
/// alone: `cross-site`, or `same-site` without our origin.
pub(crate) async fn same_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if writes {
        let (parts, body) = request.into_parts();
        let claimed = claimed_origin(&parts.headers);
        let expected = expected_origin(&parts, &state.config);
        let fetch_site = parts
            .headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let refused = match (fetch_site.as_deref(), claimed, expected) {
            // The browser itself says the request comes from another site,
            // with or without an Origin header.
            (Some("cross-site"), _, _) => true,
            // Another origin of the same site (a sibling subdomain): ours
            // only if its Origin is exactly ours.
            (Some("same-site"), Some(claimed), Some(expected)) => claimed != expected,
            (Some("same-site"), _, _) => true,
            (_, Some(claimed), Some(expected)) => claimed != expected,
            // A browser that names an origin where we cannot tell ours.
            (_, Some(claimed), None) => claimed == "null",
            (_, None, _) => false,
        };
        if refused {
            tracing::warn!(path = %parts.uri.path(), "cross-origin write refused");
            return (
                StatusCode::FORBIDDEN,
                "This request comes from another site; it was refused.",
            )
                .into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    next.run(request).await
}

/// How long browsers and proxies may keep a response. Bundle files whose
/// names carry a content hash: a year (a new build has new names); bundle
/// files with plain names (a development build): ask each time. Pages show
/// a signed-in user's live figures: kept by the browser only, and checked
/// each time. Other static files (the icon): an hour. A response that says
/// already (downloads) keeps its own.
///
/// Bundle files also vary by the encoding asked for (the server picks the
/// brotli or gzip copy), and carry none of the page-only headers (policy,
/// framing, referrer): a split bundle is a few hundred small files, and
/// those headers were half of each one's bytes.
pub(crate) async fn cache_control(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    use axum::http::{header, HeaderValue};
    let in_pkg = request
        .uri()
        .path()
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(state.config.site_pkg_dir.as_str()))
        .is_some_and(|rest| rest.starts_with('/'));
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_html = content_type.starts_with("text/html");
    // Images and fonts from the site folder.
    let is_static_asset = content_type.starts_with("image/") || content_type.starts_with("font/");
    let ok = matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED);
    let policy = if is_html {
        Some("private, no-cache")
    } else if in_pkg && ok {
        let headers = response.headers_mut();
        for page_only in [
            header::CONTENT_SECURITY_POLICY,
            header::X_FRAME_OPTIONS,
            header::REFERRER_POLICY,
        ] {
            headers.remove(page_only);
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        Some(if state.bundle.hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        })
    } else if ok && is_static_asset {
        Some("public, max-age=3600")
    } else {
        None
    };
    if let Some(policy) = policy {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}
