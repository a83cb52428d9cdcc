//! Links the server prints or mails (first-run setup, invitations): built
//! from `PUBLIC_URL` when it is set, otherwise from the request's own
//! scheme and host (through a trusted proxy's forwarded headers), or, with
//! no request at hand, from the listening address.

use axum::http::request::Parts;

use crate::server::config::Config;
use crate::server::middleware;

/// Scheme, host and base path, without a trailing slash.
pub fn public_base(config: &Config, request: Option<&Parts>) -> String {
    if let Some(url) = &config.public_url {
        return url.as_str().trim_end_matches('/').to_string();
    }
    match request.and_then(|parts| middleware::request_origin(parts, config)) {
        Some(origin) => format!("{origin}{}", config.base_path),
        None => format!("http://{}{}", config.site_addr, config.base_path),
    }
}

/// Where links in mail point: `PUBLIC_URL`, or empty when it is not set
/// (a mail then carries no link: a guessed address, like the listening
/// one, would send customers to a host they cannot reach).
pub fn mail_base(config: &Config) -> String {
    config
        .public_url
        .as_ref()
        .map(|url| url.as_str().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

pub use crate::paths::{invitation_link, setup_link};
