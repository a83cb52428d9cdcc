//! Pages and components, one folder per feature.

pub mod accounts;
pub mod auth;
pub mod forms;
pub mod groups;
pub mod invoices;
pub mod layout;
pub mod not_found;
pub mod profile;
pub mod projects;
pub mod raw_text;
pub mod welcome;

use leptos::prelude::*;

use crate::error::AppError;
use crate::paths::app_url;

/// A time as the tables show it, or "Never".
pub fn when(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "Never".into())
}

/// Shows a server error the way every page does: "not found" as the 404
/// page (with its status), signed-out as a link to sign in, anything else as
/// an alert with the message.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    match error {
        AppError::NotFound { what } => view! { <not_found::NotFound what=what /> }.into_any(),
        AppError::Unauthenticated => view! {
            <section class="panel" role="alert">
                <p>"Your session has ended. " <a href=app_url("/signin") rel="external">"Sign in again"</a></p>
            </section>
        }
        .into_any(),
        other => view! {
            <section class="panel" role="alert">
                <p class="error">{other.to_string()}</p>
            </section>
        }
        .into_any(),
    }
}
