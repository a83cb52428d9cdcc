//! The signed-in user's own account: password, and the browsers signed in.

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::model::people::{PasswordChangeReport, SessionInfo};
use crate::model::{validation, CurrentUser};
use crate::server::auth::{
    hash_password_off_runtime, new_secret, secret_hash, verify_password_off_runtime,
};
use crate::server::store::Store;

/// The user's signed-in browsers; `current_session_hash` is the one asking.
pub async fn sessions(
    store: &dyn Store,
    user: &CurrentUser,
    current_session_hash: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<SessionInfo>> {
    Ok(store
        .sessions_of_user(&user.user_id, now)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            current: current_session_hash == Some(s.session_hash.as_str()),
            create_time: s.create_time,
            last_used_time: s.last_used_time,
            expire_time: s.expire_time,
            client_address: s.client_address,
        })
        .collect())
}

/// Signs the user out of every browser but this one; how many.
pub async fn sign_out_other_sessions(
    store: &dyn Store,
    user: &CurrentUser,
    current_session_hash: Option<&str>,
) -> AppResult<u64> {
    Ok(store
        .end_sessions_of_user(&user.user_id, current_session_hash)
        .await?)
}

/// Changes the password (the current one is required). Every other
/// session ends and every API token is revoked, in the same transaction;
/// the asking browser's session continues under a new secret, returned for
/// its cookie (so a session secret stolen before the change is worthless).
pub async fn change_password(
    store: &dyn Store,
    user: &CurrentUser,
    current_password: &str,
    new_password: &str,
    current_session_hash: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<(PasswordChangeReport, Option<String>)> {
    let record = store
        .user(&user.user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !verify_password_off_runtime(record.password_hash, current_password.to_string()).await? {
        return Err(AppError::invalid(
            "current_password",
            "This is not your current password.",
        ));
    }
    validation::password(new_password, &user.email)
        .map_err(|m| AppError::invalid("new_password", m))?;
    if new_password == current_password {
        return Err(AppError::invalid(
            "new_password",
            "The new password is the same as the current one.",
        ));
    }
    let hash = hash_password_off_runtime(new_password.to_string()).await?;
    let new_secret = current_session_hash.map(|_| new_secret());
    let new_hash = new_secret.as_deref().map(secret_hash);
    let rotate = current_session_hash.zip(new_hash.as_deref());
    let changed = store
        .change_password(&user.user_id, &hash, rotate, now)
        .await?;
    let report = PasswordChangeReport {
        sessions_ended: changed.sessions_ended,
        tokens_revoked: changed.tokens_revoked,
    };
    Ok((report, new_secret))
}
