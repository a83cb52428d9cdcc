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

/// An hourly price as a column shows it: three decimals (the price list's
/// precision), more only when the price has them, so the points line up.
pub fn per_hour(price: rust_decimal::Decimal) -> String {
    let price = price.normalize();
    if price.scale() <= 3 {
        format!("{price:.3}")
    } else {
        price.to_string()
    }
}

/// A time as the tables show it, or "Never": date, time and zone joined by
/// no-break spaces, so a narrow column never wraps it onto three lines.
pub fn when(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map(|t| t.format("%Y-%m-%d\u{a0}%H:%M\u{a0}UTC").to_string())
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn a_timestamp_reads_on_one_line_with_its_zone() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 16, 10, 5, 0)
            .unwrap();
        let text = super::when(Some(at));
        assert_eq!(text.replace('\u{a0}', " "), "2026-11-16 10:05 UTC");
        assert!(!text.contains(' '), "no breakable space in {text:?}");
        assert_eq!(super::when(None), "Never");
    }

    #[test]
    fn hourly_prices_line_up_at_three_decimals() {
        let price = |text: &str| super::per_hour(text.parse().unwrap());
        assert_eq!(price("0.1"), "0.100");
        assert_eq!(price("3.288"), "3.288");
        assert_eq!(price("2.50"), "2.500");
        assert_eq!(price("0.0125"), "0.0125");
    }
}
