//! An invoice's state as the list and the invoice page show it.

use leptos::prelude::*;

use crate::model::states::InvoiceState;

/// `1 day`, `15 days`.
pub fn days_text(days: i64) -> String {
    if days == 1 {
        "1 day".into()
    } else {
        format!("{days} days")
    }
}

/// An invoice's state, and how long it is overdue when it is.
#[component]
pub fn InvoiceStateBadge(state: InvoiceState, overdue_days: Option<i64>) -> impl IntoView {
    view! {
        <span class=format!("state {state}")>{state.label()}</span>
        {overdue_days
            .map(|days| {
                view! { " " <span class="state overdue">{format!("Overdue · {}", days_text(days))}</span> }
            })}
    }
}
