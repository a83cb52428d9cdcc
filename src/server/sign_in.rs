//! Signing in: the one credential check behind the sign-in form and
//! `POST /v1/userauth`, and how repeated failures are slowed down so that
//! guessing stays slow while nobody can keep a user with the right password
//! out (OWASP Authentication Cheat Sheet: throttle per account and source,
//! trust known devices, slow down rather than lock out).
//!
//! Failures are counted (in the database, so every instance sees them) per
//! scope:
//! - **(email, address) pair**, for browsers the user has not signed in
//!   with before: after [`PAIR_FREE_FAILURES`], each try of that pair waits
//!   2, 4, 8 … seconds after the last failure, at most
//!   [`PAIR_MAX_WAIT_SECONDS`]. Another address is not affected.
//! - **device** — a browser that signed in as this user before carries a
//!   signed device cookie: it skips the pair's wait (so an attacker behind
//!   the same NAT or proxy cannot lock its user out) until it fails
//!   [`DEVICE_FAILURES_ALLOWED`] times in a row itself.
//! - **address** — over [`ADDRESS_SLOW_AFTER`] failures in
//!   [`ADDRESS_WINDOW_MINUTES`] minutes, every try from the address is
//!   answered one second later per failure over, at most
//!   [`MAX_DELAY_SECONDS`]: slower, never refused.
//! - **email** — over [`EMAIL_SLOW_AFTER`] failures from any address in
//!   [`EMAIL_WINDOW_MINUTES`] minutes (guessing from many addresses),
//!   untrusted tries for that email are slowed the same way.
//!
//! Password checks themselves run on the blocking pool, one per core at a
//! time (`auth::verify_password_off_runtime`), which bounds the guessing
//! rate of the whole server.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};
use crate::model::validation;
use crate::server::auth::{dummy_hash, new_secret, verify_password_off_runtime};
use crate::server::metrics;
use crate::server::store::{SignInFailureRecord, Store, UserRecord};

pub const PAIR_FREE_FAILURES: i64 = 5;
pub const PAIR_MAX_WAIT_SECONDS: i64 = 900;
/// A pair's count starts over when its last failure is this old.
pub const PAIR_WINDOW_HOURS: i64 = 24;
pub const DEVICE_FAILURES_ALLOWED: i64 = 5;
pub const ADDRESS_SLOW_AFTER: i64 = 30;
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;
pub const EMAIL_SLOW_AFTER: i64 = 50;
pub const EMAIL_WINDOW_MINUTES: i64 = 60;
pub const MAX_DELAY_SECONDS: i64 = 10;

/// The device cookie's name and lifetime.
pub const DEVICE_COOKIE: &str = "bc_device";
pub const DEVICE_COOKIE_DAYS: i64 = 365;

/// One try: who claims to be whom, from where, with which device cookie.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client: Option<IpAddr>,
    pub device_cookie: Option<&'a str>,
}

/// A successful try: the user, and the device cookie to give the browser.
#[derive(Debug, Clone)]
pub struct Verified {
    pub user: UserRecord,
    pub device_cookie: String,
}

fn address(client: Option<IpAddr>) -> String {
    client.map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

fn pair_scope(email: &str, client: Option<IpAddr>) -> String {
    format!("pair:{email}|{}", address(client))
}

fn address_scope(client: Option<IpAddr>) -> String {
    format!("address:{}", address(client))
}

fn email_scope(email: &str) -> String {
    format!("email:{email}")
}

fn device_scope(nonce: &str) -> String {
    format!("device:{nonce}")
}

/// Seconds the pair must still wait after `failures`, the last at `last`.
pub fn pair_wait(failures: i64, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    if failures < PAIR_FREE_FAILURES {
        return None;
    }
    let exponent = (failures - PAIR_FREE_FAILURES + 1).min(16) as u32;
    let wait = (1i64 << exponent).min(PAIR_MAX_WAIT_SECONDS);
    let ready_at = last + Duration::seconds(wait);
    (now < ready_at).then(|| (ready_at - now).num_seconds().max(1) as u64)
}

/// How much later to answer, given the address's (and, for an untrusted
/// try, the email's) recent failures: the slower path instead of a wall.
pub fn slow_down(address_failures: i64, email_failures: i64) -> std::time::Duration {
    let over = (address_failures - ADDRESS_SLOW_AFTER + 1)
        .max(email_failures - EMAIL_SLOW_AFTER + 1)
        .clamp(0, MAX_DELAY_SECONDS);
    std::time::Duration::from_secs(over as u64)
}

type HmacSha256 = Hmac<Sha256>;

/// The key device cookies are signed with, the same on every instance.
async fn device_key(store: &dyn Store, now: DateTime<Utc>) -> AppResult<String> {
    Ok(store
        .server_secret("device-cookies", &new_secret(), now)
        .await?)
}

fn device_mac(key: &str, email: &str, nonce: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).ok()?;
    mac.update(b"device|");
    mac.update(email.as_bytes());
    mac.update(b"|");
    mac.update(nonce.as_bytes());
    Some(mac)
}

/// A device cookie for `email`: a random nonce and its signature.
fn device_cookie_for(key: &str, email: &str) -> AppResult<String> {
    let nonce = new_secret()[..32].to_string();
    let mac = device_mac(key, email, &nonce).ok_or(AppError::Internal)?;
    Ok(format!(
        "{nonce}.{}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// The nonce of a device cookie that was signed for `email`.
fn trusted_nonce(key: &str, email: &str, cookie: &str) -> Option<String> {
    let (nonce, signature) = cookie.split_once('.')?;
    let signature = hex::decode(signature).ok()?;
    device_mac(key, email, nonce)?
        .verify_slice(&signature)
        .ok()
        .map(|()| nonce.to_string())
}

fn failures_of(
    records: &[SignInFailureRecord],
    scope: &str,
    window_start: DateTime<Utc>,
) -> Option<SignInFailureRecord> {
    records
        .iter()
        .find(|r| r.scope == scope && r.last_failure_time >= window_start)
        .cloned()
}

/// Checks email and password under the throttling above. An unknown email
/// and a wrong password get the same answer, in the same time.
pub async fn check_credentials(
    store: &dyn Store,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> AppResult<Verified> {
    let address_scope = address_scope(attempt.client);
    let address_window = now - Duration::minutes(ADDRESS_WINDOW_MINUTES);
    let Ok(email) = validation::email(attempt.email) else {
        store
            .record_sign_in_failure(&[(address_scope, address_window)], now)
            .await?;
        metrics::sign_in("invalid");
        return Err(AppError::InvalidCredentials);
    };
    let key = device_key(store, now).await?;
    let nonce = attempt
        .device_cookie
        .and_then(|cookie| trusted_nonce(&key, &email, cookie));
    let pair_scope = pair_scope(&email, attempt.client);
    let email_scope = email_scope(&email);
    let mut scopes = vec![
        pair_scope.clone(),
        address_scope.clone(),
        email_scope.clone(),
    ];
    if let Some(nonce) = &nonce {
        scopes.push(device_scope(nonce));
    }
    let records = store.sign_in_failures(&scopes).await?;
    let pair_window = now - Duration::hours(PAIR_WINDOW_HOURS);
    let email_window = now - Duration::minutes(EMAIL_WINDOW_MINUTES);
    let device = nonce
        .as_ref()
        .and_then(|n| failures_of(&records, &device_scope(n), pair_window));
    let trusted = nonce.is_some() && device.is_none_or(|d| d.failures < DEVICE_FAILURES_ALLOWED);
    if !trusted {
        if let Some(pair) = failures_of(&records, &pair_scope, pair_window) {
            if let Some(retry_after_seconds) = pair_wait(pair.failures, pair.last_failure_time, now)
            {
                metrics::sign_in("throttled");
                return Err(AppError::TooManyAttempts {
                    retry_after_seconds,
                });
            }
        }
    }
    let count = |scope: &str, window: DateTime<Utc>| {
        failures_of(&records, scope, window).map_or(0, |r| r.failures)
    };
    let email_failures = if trusted {
        0
    } else {
        count(&email_scope, email_window)
    };
    let delay = slow_down(count(&address_scope, address_window), email_failures);
    if !delay.is_zero() {
        metrics::sign_in_slowed();
        tokio::time::sleep(delay).await;
    }
    let user = store.user_by_email(&email).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let verified = verify_password_off_runtime(hash, attempt.password.to_string()).await?;
    let Some(user) = user.filter(|_| verified) else {
        let mut failed = vec![(address_scope, address_window), (email_scope, email_window)];
        match (&nonce, trusted) {
            (Some(nonce), true) => failed.push((device_scope(nonce), pair_window)),
            _ => failed.push((pair_scope, pair_window)),
        }
        store.record_sign_in_failure(&failed, now).await?;
        metrics::sign_in("invalid");
        tracing::info!(email = %email, "sign-in failed");
        return Err(AppError::InvalidCredentials);
    };
    // A trusted device clears only its own count: the pair's belongs to
    // whoever else guesses from that address, and must not start over
    // each time the real user signs in.
    let cleared = match (&nonce, trusted) {
        (Some(nonce), true) => device_scope(nonce),
        _ => pair_scope,
    };
    store.clear_sign_in_failures(&[cleared]).await?;
    metrics::sign_in("ok");
    Ok(Verified {
        device_cookie: device_cookie_for(&key, &user.email)?,
        user,
    })
}

/// The device cookie as a `Set-Cookie` value, scoped like the session's.
pub fn device_set_cookie(value: &str, secure: bool, base_path: &str) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let path = if base_path.is_empty() { "/" } else { base_path };
    format!(
        "{DEVICE_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        DEVICE_COOKIE_DAYS * 24 * 3600
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_waits_longer_after_each_failure_up_to_a_cap() {
        let t0 = Utc::now();
        assert_eq!(pair_wait(4, t0, t0), None);
        assert_eq!(pair_wait(5, t0, t0), Some(2));
        assert_eq!(pair_wait(7, t0, t0), Some(8));
        assert_eq!(pair_wait(7, t0, t0 + Duration::seconds(9)), None);
        assert_eq!(pair_wait(40, t0, t0), Some(PAIR_MAX_WAIT_SECONDS as u64));
    }

    #[test]
    fn many_failures_slow_down_and_never_refuse() {
        assert!(slow_down(ADDRESS_SLOW_AFTER - 1, 0).is_zero());
        assert_eq!(slow_down(ADDRESS_SLOW_AFTER, 0).as_secs(), 1);
        assert_eq!(slow_down(ADDRESS_SLOW_AFTER + 3, 0).as_secs(), 4);
        assert_eq!(slow_down(0, EMAIL_SLOW_AFTER + 1).as_secs(), 2);
        assert_eq!(
            slow_down(10_000, 10_000).as_secs(),
            MAX_DELAY_SECONDS as u64
        );
    }

    #[test]
    fn a_device_cookie_is_trusted_only_for_its_email_and_key() {
        let cookie = device_cookie_for("key-1", "ann@example.com").unwrap();
        assert!(trusted_nonce("key-1", "ann@example.com", &cookie).is_some());
        assert!(trusted_nonce("key-1", "bob@example.com", &cookie).is_none());
        assert!(trusted_nonce("key-2", "ann@example.com", &cookie).is_none());
        let (nonce, _) = cookie.split_once('.').unwrap();
        assert!(trusted_nonce("key-1", "ann@example.com", &format!("{nonce}.00")).is_none());
        assert!(trusted_nonce("key-1", "ann@example.com", "garbage").is_none());
    }
}
