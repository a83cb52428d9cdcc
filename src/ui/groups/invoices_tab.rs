use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::TabError;
use crate::api::invoices::get_invoices;
use crate::model::invoices::sort_invoices;
use crate::paths::app_url;
use crate::ui::invoices::InvoiceTable;

/// The columns the list sorts by: (query value, header label).
const SORTS: [(&str, &str); 4] = [
    ("number", "Invoice"),
    ("period", "Period"),
    ("state", "State"),
    ("total", "Total incl. VAT"),
];

/// The tab's sort keys as the invoice fields they sort by.
fn sort_field(key: &str) -> &'static str {
    match key {
        "number" => "invoice_number",
        "state" => "state",
        "total" => "total_inc_vat",
        _ => "period_begin",
    }
}

/// Every invoice of the group, the running month's estimate included,
/// sortable by column (links, so it sorts without JavaScript too).
#[component]
pub fn InvoicesTab() -> impl IntoView {
    let billing_group_id = super::group_id()();
    let query = use_query_map();
    let id = billing_group_id.clone();
    let invoices = Resource::new(move || id.clone(), get_invoices);
    view! {
        <h2>"Invoices"</h2>
        <p class="muted">
            "One invoice per calendar month, with a line for each project and service. The running month is an estimate until the month is closed."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading invoices…"</p> }>
            {move || {
                let billing_group_id = billing_group_id.clone();
                Suspend::new(async move {
                    let sort = query.read().get("sort").unwrap_or_else(|| "period".into());
                    let descending = query.read().get("dir").as_deref() != Some("asc");
                    match invoices.await {
                        Ok(mut list) => {
                            sort_invoices(&mut list, sort_field(&sort), descending);
                            let base = app_url(format!("/billing-group/{billing_group_id}/invoices"));
                            let headers = SORTS
                                .iter()
                                .map(|(key, label)| {
                                    let active = *key == sort;
                                    let next_dir = if active && descending { "asc" } else { "desc" };
                                    let arrow = match (active, descending) {
                                        (false, _) => "",
                                        (true, true) => " ↓",
                                        (true, false) => " ↑",
                                    };
                                    (
                                        format!("{base}?sort={key}&dir={next_dir}"),
                                        format!("{label}{arrow}"),
                                        active.then_some(if descending { "descending" } else { "ascending" }),
                                    )
                                })
                                .collect::<Vec<_>>();
                            view! { <InvoiceTable billing_group_id invoices=list sort_headers=headers /> }.into_any()
                        }
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
