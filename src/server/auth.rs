//! Passwords, sessions and the one authorization check.

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
use crate::model::{validation, CurrentUser};
use crate::server::store::{ClientFailureRecord, Store, UserRecord};

pub const SESSION_COOKIE: &str = "bc_session";

/// Failed sign-ins for one email before each further try must wait.
const FREE_FAILURES: i64 = 5;
const MAX_BACKOFF_SECONDS: i64 = 300;

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

fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verified against when the email is unknown, so both answers take as long.
fn dummy_hash() -> &'static str {
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

/// Seconds the email must still wait before the next try, if any.
pub fn backoff_remaining(
    failures: i64,
    last_failure: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<u64> {
    if failures < FREE_FAILURES {
        return None;
    }
    let exponent = (failures - FREE_FAILURES).min(16) as u32;
    let wait = (1i64 << exponent).min(MAX_BACKOFF_SECONDS);
    let ready_at = last_failure + Duration::seconds(wait);
    (now < ready_at).then(|| (ready_at - now).num_seconds().max(1) as u64)
}

/// Checks the credentials and opens a session; returns the user and the
/// cookie value. Unknown email and wrong password get the same answer.
pub async fn sign_in(
    store: &dyn Store,
    email: &str,
    password: &str,
    session_ttl_hours: i64,
    client: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<(UserRecord, String)> {
    let user = check_credentials(store, email, password, client, now).await?;
    let secret = new_secret();
    let expires = now + Duration::hours(session_ttl_hours);
    store
        .create_session(&secret_hash(&secret), &user.user_id, now, expires)
        .await?;
    Ok((user, secret))
}

/// Ends the session whose cookie value is `secret`.
pub async fn sign_out(store: &dyn Store, secret: &str) -> AppResult<()> {
    Ok(store.delete_session(&secret_hash(secret)).await?)
}

/// Failed sign-ins one client address may make in a window before it has
/// to wait: enough for people behind one office NAT, too few for guessing.
pub const CLIENT_FAILURE_LIMIT: i64 = 30;
/// The window: it starts over once the last failure is this old.
pub const CLIENT_FAILURE_WINDOW_MINUTES: i64 = 15;

/// Seconds a client address must still wait, if it is over the limit.
pub fn client_wait(state: &ClientFailureRecord, now: DateTime<Utc>) -> Option<u64> {
    let until = state.last_failure_time + Duration::minutes(CLIENT_FAILURE_WINDOW_MINUTES);
    (state.failures >= CLIENT_FAILURE_LIMIT && until > now)
        .then(|| (until - now).num_seconds().max(1) as u64)
}

/// Email and password, with the back-off after failures (per email, and per
/// client address when known): the one check behind the sign-in form and
/// `POST /v1/userauth`.
pub async fn check_credentials(
    store: &dyn Store,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<UserRecord> {
    let client = client.map(|ip| ip.to_string());
    if let Some(client) = &client {
        if let Some(state) = store.client_login_failures(client).await? {
            if let Some(retry_after_seconds) = client_wait(&state, now) {
                return Err(AppError::TooManyAttempts {
                    retry_after_seconds,
                });
            }
        }
    }
    let email = match validation::email(email) {
        Ok(email) => email,
        Err(_) => {
            if let Some(client) = &client {
                record_client_failure(store, client, now).await?;
            }
            return Err(AppError::InvalidCredentials);
        }
    };
    if let Some(state) = store.login_failures(&email).await? {
        if let Some(retry_after_seconds) =
            backoff_remaining(state.failures, state.last_failure_time, now)
        {
            return Err(AppError::TooManyAttempts {
                retry_after_seconds,
            });
        }
    }
    let user = store.user_by_email(&email).await?;
    let verified = match &user {
        Some(user) => verify_password(&user.password_hash, password),
        None => {
            verify_password(dummy_hash(), password);
            false
        }
    };
    let Some(user) = user.filter(|_| verified) else {
        store.record_login_failure(&email, now).await?;
        if let Some(client) = &client {
            record_client_failure(store, client, now).await?;
        }
        tracing::info!(email = %email, "sign-in failed");
        return Err(AppError::InvalidCredentials);
    };
    store.clear_login_failures(&email).await?;
    Ok(user)
}

async fn record_client_failure(
    store: &dyn Store,
    client: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let window_start_after = now - Duration::minutes(CLIENT_FAILURE_WINDOW_MINUTES);
    let state = store
        .record_client_login_failure(client, now, window_start_after)
        .await?;
    if state.failures == CLIENT_FAILURE_LIMIT {
        tracing::warn!(client = %client, "sign-ins from this address paused after repeated failures");
    }
    Ok(())
}

/// The user whose session cookie came with the request, if it is valid.
pub async fn user_from_headers(
    store: &dyn Store,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> AppResult<Option<CurrentUser>> {
    let Some(secret) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let user = store.session_user(&secret_hash(&secret), now).await?;
    Ok(user.map(|u| CurrentUser {
        user_id: u.user_id,
        email: u.email,
        real_name: u.real_name,
    }))
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
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
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
    fn repeated_failures_back_off_exponentially() {
        let t0 = Utc::now();
        assert_eq!(backoff_remaining(4, t0, t0), None);
        assert_eq!(backoff_remaining(5, t0, t0), Some(1));
        assert_eq!(backoff_remaining(8, t0, t0), Some(8));
        assert_eq!(backoff_remaining(8, t0, t0 + Duration::seconds(9)), None);
        assert_eq!(backoff_remaining(40, t0, t0), Some(300));
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
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
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
