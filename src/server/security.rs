//! Security headers and request limits (issue 7).
//!
//! Pages get a Content-Security-Policy with a fresh nonce per response:
//! scripts only from this origin or inline with the nonce (Leptos puts it
//! on its hydration script and on the resource data it inlines), WASM
//! compilation allowed, no inline styles, no framing. Every other response
//! gets a policy without the nonce. Bodies are capped and requests time out.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body accepted (forms and server-function arguments are
/// a few kilobytes).
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// A request still running after this answers 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const COMMON: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// The policy of a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!("{COMMON}; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")
}

/// The policy of everything else (files, server functions, downloads).
pub fn default_policy() -> HeaderValue {
    HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         script-src 'self' 'wasm-unsafe-eval'",
    )
}

/// Called while a page renders: sets its policy with the response's nonce.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Refuses a body over `BODY_LIMIT_BYTES` with 413, whether or not it says
/// its length up front. Server functions read bodies themselves, so a limit
/// on axum's extractors alone would not reach them (and a cut-off body
/// would surface as a server error).
pub async fn limit_body(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    // The REST API answers in its own error shape, so `avn` can print it.
    let api = request.uri().path().starts_with("/v1/");
    let too_large = || {
        let message = "The request body is larger than 1 MiB.";
        if api {
            crate::server::rest::ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
                .into_response()
        } else {
            (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
        }
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT_BYTES) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(),
    }
}
