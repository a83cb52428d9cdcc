//! The signed-in user's profile: password and signed-in browsers.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::people::{PasswordChangeReport, SessionInfo};

#[cfg(feature = "ssr")]
fn current_session_hash() -> Result<Option<String>, AppError> {
    Ok(crate::server::auth::session_hash_of(
        &super::context::parts()?.headers,
    ))
}

#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::profile::sessions(
        state.store.as_ref(),
        &user,
        current_session_hash()?.as_deref(),
        context::now()?,
    )
    .await
}

/// Changes the password; other sessions end, API tokens are revoked, and
/// this browser's session goes on under a new cookie.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<PasswordChangeReport, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let (report, new_secret) = crate::server::billing::profile::change_password(
        state.store.as_ref(),
        &user,
        &current_password,
        &new_password,
        current_session_hash()?.as_deref(),
        context::now()?,
    )
    .await?;
    if let Some(secret) = new_secret {
        super::auth::set_session_cookies(&secret, None)?;
    }
    Ok(report)
}

/// Signs out every other browser; this one stays.
#[server(endpoint = "sign_out_other_sessions")]
pub async fn sign_out_other_sessions() -> Result<u64, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::profile::sign_out_other_sessions(
        state.store.as_ref(),
        &user,
        current_session_hash()?.as_deref(),
    )
    .await
}

/// Signs out everywhere, this browser included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::profile::sign_out_other_sessions(state.store.as_ref(), &user, None)
        .await?;
    super::auth::leave_to_sign_in(&state, &context::parts()?)
}
