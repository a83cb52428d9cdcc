//! Sign-in, sign-out and "who am I".

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::CurrentUser;
#[cfg(feature = "ssr")]
use crate::paths::app_url;

/// Checks email and password, sets the session cookie and sends the browser
/// on to `next` (a path of this site).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::context;
    use crate::server::{auth, sign_in};

    let state = context::state()?;
    let parts = context::parts()?;
    let now = context::now()?;
    let client =
        crate::server::middleware::client_of(&parts.headers, &parts.extensions, &state.config);
    let device_cookie = auth::cookie_value(&parts.headers, sign_in::DEVICE_COOKIE);
    let verified = sign_in::check_credentials(
        state.store.as_ref(),
        &sign_in::Attempt {
            email: &email,
            password: &password,
            client,
            device_cookie: device_cookie.as_deref(),
        },
        now,
    )
    .await?;
    start_session(&verified.user.user_id, Some(&verified.device_cookie)).await?;
    leptos_axum::redirect(&app_url(auth::safe_next(next.as_deref())));
    Ok(())
}

/// Opens a session for the user on this browser: the session cookie, and
/// the device cookie of a password sign-in.
#[cfg(feature = "ssr")]
pub(crate) async fn start_session(
    user_id: &str,
    device_cookie: Option<&str>,
) -> Result<(), AppError> {
    use super::context;
    use crate::server::auth;

    let state = context::state()?;
    let parts = context::parts()?;
    let client =
        crate::server::middleware::client_of(&parts.headers, &parts.extensions, &state.config);
    let secret = auth::open_session(
        state.store.as_ref(),
        user_id,
        state.config.session_ttl_hours,
        client,
        context::now()?,
    )
    .await?;
    set_session_cookies(&secret, device_cookie)
}

/// Gives this browser the session whose cookie value is `secret` (and the
/// device cookie of a password sign-in).
#[cfg(feature = "ssr")]
pub(crate) fn set_session_cookies(
    secret: &str,
    device_cookie: Option<&str>,
) -> Result<(), AppError> {
    use super::context;
    use crate::server::{auth, sign_in};

    let state = context::state()?;
    let parts = context::parts()?;
    let secure = crate::server::middleware::request_is_https(&parts, &state.config);
    let mut cookies = vec![auth::session_cookie(
        secret,
        state.config.session_ttl_hours * 3600,
        secure,
        &state.config.base_path,
    )];
    if let Some(device) = device_cookie {
        cookies.push(sign_in::device_set_cookie(
            device,
            secure,
            &state.config.base_path,
        ));
    }
    let response = use_context::<leptos_axum::ResponseOptions>().ok_or(AppError::Internal)?;
    for cookie in cookies {
        response.append_header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
        );
    }
    Ok(())
}

/// Ends the session on the server and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::context;
    use crate::server::auth;

    let state = context::state()?;
    let parts = context::parts()?;
    if let Some(secret) = auth::cookie_value(&parts.headers, auth::SESSION_COOKIE) {
        auth::sign_out(state.store.as_ref(), &secret).await?;
    }
    leave_to_sign_in(&state, &parts)
}

/// After a sign-out: the browser forgets its session cookie and goes to
/// the sign-in page.
#[cfg(feature = "ssr")]
pub(super) fn leave_to_sign_in(
    state: &crate::server::state::AppState,
    parts: &http::request::Parts,
) -> Result<(), AppError> {
    use crate::server::auth;
    let secure = crate::server::middleware::request_is_https(parts, &state.config);
    let response = use_context::<leptos_axum::ResponseOptions>().ok_or(AppError::Internal)?;
    response.append_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&auth::clear_session_cookie(secure, &state.config.base_path))
            .map_err(|_| AppError::Internal)?,
    );
    leptos_axum::redirect(&app_url("/signin"));
    Ok(())
}

/// The signed-in user, or None.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    match super::context::user() {
        Ok(user) => Ok(Some(user)),
        Err(AppError::Unauthenticated) => Ok(None),
        Err(other) => Err(other),
    }
}
