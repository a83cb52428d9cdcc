//! Passwords and sessions: hashing on the bounded blocking pool, session
//! cookies, the client address behind trusted proxies. (Who may do what is
//! `billing::access`.)

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::model::ids::UserId;
use crate::model::CurrentUser;
use crate::server::store::Store;

pub const SESSION_COOKIE: &str = "bc_session";

/// Hashes a password (argon2id). Slow on purpose: request paths call
/// [`hash_password_off_runtime`].
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
}

pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password hashing runs on the blocking pool, at most one per core at a
/// time: a burst of sign-ins waits its turn rather than stall the async
/// workers (and other requests with them) or allocate argon2's 19 MiB each
/// at once.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs `work` (argon2) on the blocking pool under a hashing permit.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })
}

/// [`verify_password`] off the async workers.
pub async fn verify_password_off_runtime(stored_hash: String, password: String) -> AppResult<bool> {
    off_runtime(move || verify_password(&stored_hash, &password)).await
}

/// [`hash_password`] off the async workers.
pub async fn hash_password_off_runtime(password: String) -> AppResult<String> {
    off_runtime(move || hash_password(&password)).await?
}

/// Verified against when the email is unknown, so both answers take as long.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// A fresh random secret (cookie value or API token): 256 bits, hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored instead of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Opens a session for the user from `client`; returns the cookie value.
pub async fn open_session(
    store: &dyn Store,
    user_id: &str,
    session_ttl_hours: i64,
    client: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let secret = new_secret();
    let expires = now + Duration::hours(session_ttl_hours);
    store
        .create_session(
            &secret_hash(&secret),
            &UserId::from(user_id),
            now,
            expires,
            &client_address(client),
        )
        .await?;
    Ok(secret)
}

/// How a client's address is kept with its session.
fn client_address(client: Option<IpAddr>) -> String {
    client.map(|ip| ip.to_string()).unwrap_or_default()
}

/// How often a session's "last used" is written at most.
const NOTE_SESSION_USE_EVERY: Duration = Duration::minutes(1);

/// Ends the session whose cookie value is `secret`.
pub async fn sign_out(store: &dyn Store, secret: &str) -> AppResult<()> {
    Ok(store.delete_session(&secret_hash(secret)).await?)
}

/// The user whose session cookie came with the request, if it is valid.
pub async fn user_from_headers(
    store: &dyn Store,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<Option<CurrentUser>> {
    let Some(secret) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let user = store
        .session_user(
            &secret_hash(&secret),
            now,
            now - NOTE_SESSION_USE_EVERY,
            &client_address(client),
        )
        .await?;
    Ok(user.map(|u| u.current()))
}

/// The stored hash of the session cookie that came with the request.
pub fn session_hash_of(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE).map(|secret| secret_hash(&secret))
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// True when the browser reached us over https: only a trusted proxy's
/// X-Forwarded-Proto is believed.
pub fn request_is_https(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted_proxies: &[IpAddr],
) -> bool {
    let from_trusted = peer.is_some_and(|p| trusted_proxies.contains(&p.ip()));
    from_trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
}

/// The visitor's address: the peer, or — only when the peer is a trusted
/// proxy — the last address in X-Forwarded-For that is not itself a trusted
/// proxy (earlier entries are whatever the client claimed).
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    Some(
        forwarded
            .iter()
            .rev()
            .find(|a| !trusted_proxies.contains(a))
            .copied()
            .unwrap_or(peer),
    )
}

/// The session cookie, scoped to the app's base path ("" is the root) so an
/// app at a sub-path does not hand its session to its neighbours on the host.
pub fn session_cookie(secret: &str, max_age_seconds: i64, secure: bool, base_path: &str) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let path = if base_path.is_empty() { "/" } else { base_path };
    format!("{SESSION_COOKIE}={secret}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

pub fn clear_session_cookie(secure: bool, base_path: &str) -> String {
    session_cookie("", 0, secure, base_path)
}

/// Where to send the user after signing in: only a path of this site.
/// `next` is parsed the way a browser parses a `Location` (relative to a
/// stand-in origin, which it must not leave): browsers drop tabs and line
/// breaks and read `\` as `/`, so `/\t/evil.example` would leave for
/// `//evil.example`. Anything with a control character or a backslash, or
/// that resolves elsewhere, is `/`; what is kept is the parsed path and query.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next else {
        return HOME.into();
    };
    if !next.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return HOME.into();
    }
    let Ok(origin) = url::Url::parse("http://app.invalid/") else {
        return HOME.into();
    };
    match origin.join(next) {
        Ok(url) if url.origin() == origin.origin() => {
            let mut path = url.path().to_string();
            if let Some(query) = url.query() {
                path.push('?');
                path.push_str(query);
            }
            // A path that reads as a protocol-relative URL stays home.
            if path.starts_with("//") {
                HOME.into()
            } else {
                path
            }
        }
        _ => HOME.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "Correct horse"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn cookies_are_httponly_lax_and_secure_only_over_https() {
        let c = session_cookie("abc", 60, false, "");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(c.contains("; Path=/;"), "{c}");
        assert!(session_cookie("abc", 60, true, "").ends_with("; Secure"));
    }

    #[test]
    fn the_cookie_stays_under_the_base_path() {
        let c = session_cookie("abc", 60, false, "/billing");
        assert!(c.contains("; Path=/billing;"), "{c}");
        assert!(clear_session_cookie(false, "/billing").contains("; Path=/billing;"));
    }

    #[test]
    fn the_client_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy() {
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let mut headers = HeaderMap::new();
        // The client claims 1.1.1.1; the outer proxy saw 203.0.113.9.
        headers.insert(
            "x-forwarded-for",
            "1.1.1.1, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        let via_proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.7:4000".parse().unwrap();
        assert_eq!(
            client_ip(&headers, Some(via_proxy), &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(&headers, Some(stranger), &trusted),
            Some(stranger.ip()),
            "a header from an untrusted peer is ignored"
        );
        assert_eq!(
            client_ip(&HeaderMap::new(), Some(via_proxy), &trusted),
            Some(via_proxy.ip())
        );
    }

    #[test]
    fn forwarded_proto_is_believed_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        let trusted = vec![proxy.ip()];
        assert!(request_is_https(&headers, Some(proxy), &trusted));
        assert!(!request_is_https(&headers, Some(stranger), &trusted));
        assert!(!request_is_https(&HeaderMap::new(), Some(proxy), &trusted));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/accounts?x=1")), "/accounts?x=1");
        assert_eq!(
            safe_next(Some("/billing-group/g1/events?type=a%2Fb")),
            "/billing-group/g1/events?type=a%2Fb"
        );
        assert_eq!(safe_next(Some("/a/../projects")), "/projects");
        assert_eq!(safe_next(None), "/");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\u{0}/evil.example",
            " //evil.example",
            "%2F%2Fevil.example",
            "/%09/evil.example",
            "/%5C/evil.example",
            "/%2F/evil.example",
            "/\t\t//evil.example",
            "/../..//evil.example",
            "///evil.example",
            "javascript:alert(1)",
        ] {
            let kept = safe_next(Some(hostile));
            let resolved = url::Url::parse("http://app.invalid/")
                .unwrap()
                .join(&kept)
                .unwrap();
            assert_eq!(
                resolved.host_str(),
                Some("app.invalid"),
                "{hostile:?} → {kept:?}"
            );
            assert!(
                !kept.chars().any(char::is_control),
                "{hostile:?} → {kept:?}"
            );
            assert!(!kept.starts_with("//"), "{hostile:?} → {kept:?}");
        }
    }

    #[test]
    fn cookie_value_finds_the_session_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; bc_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(
            cookie_value(&headers, SESSION_COOKIE).as_deref(),
            Some("xyz")
        );
    }
}
