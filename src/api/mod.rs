//! Server functions: thin. Each finds the caller and calls the rules, which
//! check the caller's role first (`server::billing::access::authorize`),
//! and maps the answer. One file per feature.

pub mod accounts;
pub mod auth;
pub mod billing_info;
pub mod credits;
pub mod groups;
pub mod invoices;
pub mod mail;
pub mod new_group;
pub mod people;
pub mod profile;
pub mod services;
pub mod tokens;
pub mod webhooks;
pub mod welcome;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use chrono::Utc;
    use http::request::Parts;
    use leptos::prelude::use_context;

    use crate::error::{AppError, AppResult};
    use crate::model::CurrentUser;
    use crate::server::state::{AppState, SessionUser};

    pub fn state() -> AppResult<AppState> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    pub fn parts() -> AppResult<Parts> {
        use_context::<Parts>().ok_or(AppError::Internal)
    }

    /// The signed-in user, loaded once per request by the session layer.
    pub fn user() -> AppResult<CurrentUser> {
        parts()?
            .extensions
            .get::<SessionUser>()
            .and_then(|s| s.0.clone())
            .ok_or(AppError::Unauthenticated)
    }

    /// The server's one clock.
    pub fn now() -> AppResult<chrono::DateTime<Utc>> {
        Ok(state()?.clock.now())
    }
}
