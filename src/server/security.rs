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
///
/// Also refuses, with 400, a NUL character anywhere in the path, query or
/// body (raw, `%00` or JSON's `\u0000`): no text of this app can hold one,
/// and PostgreSQL cannot store one, so it would otherwise surface as a
/// server error deep in a write.
pub async fn limit_body(request: Request, next: Next) -> Response {
    // The REST API answers in its own error shape, so `avn` can print it.
    let api = request.uri().path().starts_with("/v1/");
    let refuse = |status: StatusCode, message: &str| {
        if api {
            crate::server::rest::error::ApiError::new(status, message).into_response()
        } else {
            (status, message.to_string()).into_response()
        }
    };
    let nul = "Text may not contain NUL characters.";
    let target = request.uri().path_and_query().map_or("", |p| p.as_str());
    if has_nul(target.as_bytes(), false) {
        return refuse(StatusCode::BAD_REQUEST, nul);
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let too_large = "The request body is larger than 1 MiB.";
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT_BYTES) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large);
    }
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(bytes) if has_nul(&bytes, json) => refuse(StatusCode::BAD_REQUEST, nul),
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large),
    }
}

/// A NUL byte, or one escaped: `\u0000` in JSON, `%00` in URLs and forms.
fn has_nul(bytes: &[u8], json: bool) -> bool {
    bytes.contains(&0)
        || if json {
            bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        } else {
            bytes.windows(3).any(|w| w == b"%00")
        }
}

/// The answer to a request whose handler panicked (tower-http's
/// `CatchPanicLayer`): a logged 500 instead of a dropped connection. Panics
/// are bugs, never answers to input, so the message names none of it.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!(
        panic = crate::server::jobs::panic_message(panic.as_ref()),
        "request handler panicked; answered 500"
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The server could not complete this request. The failure has been logged.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn nul_characters_are_found_however_they_are_written() {
        assert!(has_nul(b"/v1/billing-group/%00", false));
        assert!(has_nul(b"name=a%00b", false));
        assert!(has_nul(br#"{"company": "a\u0000b"}"#, true));
        assert!(has_nul(b"raw\0byte", true));
        assert!(
            !has_nul(b"name=100%2500", false),
            "a typed '%00' arrives as %2500"
        );
        assert!(!has_nul(br#"{"company": "100%00"}"#, true));
        assert!(!has_nul(br#"{"company": "\u00e9"}"#, true));
    }
}
