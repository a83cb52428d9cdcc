//! The base path: where the app lives on its host ("" at the root,
//! "/billing" behind a proxy at a sub-path). Every in-app URL the app writes
//! — links, form actions, redirects, downloads — goes through [`app_url`].
//!
//! The server knows the base from its configuration and provides it to each
//! render and server function as [`BasePath`]; the browser reads the one the
//! server wrote into the page (`<meta name="base-path">`), so both sides
//! render the same links and hydration matches.

/// The configured base path, provided as context on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath(pub std::sync::Arc<str>);

/// Name of the `<meta>` element that hands the base path to the browser.
pub const META_NAME: &str = "base-path";

/// The base path of this request ("" at the root). Outside a request (the
/// route list generated at start-up) it is "", which is what the router's
/// route table wants: requests reach it with the base already stripped.
#[cfg(not(feature = "hydrate"))]
pub fn base() -> std::sync::Arc<str> {
    leptos::prelude::use_context::<BasePath>()
        .map(|b| b.0)
        .unwrap_or_else(|| std::sync::Arc::from(""))
}

/// The base path the server wrote into the page, read once.
#[cfg(feature = "hydrate")]
pub fn base() -> std::sync::Arc<str> {
    thread_local! {
        static BASE: std::sync::Arc<str> = std::sync::Arc::from(read_meta().as_str());
    }
    BASE.with(|b| b.clone())
}

#[cfg(feature = "hydrate")]
fn read_meta() -> String {
    leptos::prelude::document()
        .query_selector(&format!("meta[name=\"{META_NAME}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default()
}

/// An app path ("/projects") as the browser must ask for it ("/billing/projects").
pub fn app_url(path: impl AsRef<str>) -> String {
    join(&base(), path.as_ref())
}

/// `base` + `path`, where `path` starts with a slash.
pub fn join(base: &str, path: &str) -> String {
    let mut out = String::with_capacity(base.len() + path.len());
    out.push_str(base);
    out.push_str(path);
    out
}

/// Percent-encodes a query value (the same on the server and in the browser).
pub fn encode_query_value(value: &str) -> String {
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

/// The first-run page with its one-time token, under `base` (scheme, host
/// and base path).
pub fn setup_link(base: &str, token: &str) -> String {
    format!("{base}/setup?token={token}")
}

/// An invitation's page with its token (in the query, which request logs
/// leave out), under `base`.
pub fn invitation_link(base: &str, token: &str) -> String {
    format!("{base}/invitation?token={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_deployments_keep_their_paths() {
        assert_eq!(join("", "/projects"), "/projects");
        assert_eq!(app_url("/projects"), "/projects", "no context: the root");
    }

    #[test]
    fn a_sub_path_prefixes_every_app_path() {
        assert_eq!(join("/billing", "/projects"), "/billing/projects");
        assert_eq!(join("/billing", "/api/x"), "/billing/api/x");
    }
}
