use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::TabError;
use crate::api::invoices::{get_credit_notes, get_invoices, get_issuing_paused};
use crate::model::invoices::sort_invoices;
use crate::model::payment::InvoiceSearch;
use crate::paths::app_url;
use crate::ui::invoices::{CreditNotesTable, InvoiceTable, IssuingPausedNotice};

/// The columns the list sorts by: (query value, header label).
const SORTS: [(&str, &str); 4] = [
    ("number", "Invoice"),
    ("period", "Period"),
    ("state", "State"),
    ("total", "Total incl. VAT"),
];

/// Which invoices the list shows: (query value, link label).
const SHOWS: [(&str, &str); 3] = [("all", "All"), ("open", "Open"), ("overdue", "Overdue")];

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
    let id = billing_group_id.clone();
    let paused = Resource::new(move || id.clone(), get_issuing_paused);
    let id = billing_group_id.clone();
    let credit_notes = Resource::new(move || id.clone(), get_credit_notes);
    let notes_group = billing_group_id.clone();
    view! {
        <h2>"Invoices"</h2>
        <IssuingPausedNotice paused />
        <p class="muted">
            "One invoice per calendar month, with a line for each project and service. The running month is an estimate until the month is closed."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading invoices…"</p> }>
            {move || {
                let billing_group_id = billing_group_id.clone();
                Suspend::new(async move {
                    let sort = query.read().get("sort").unwrap_or_else(|| "period".into());
                    let descending = query.read().get("dir").as_deref() != Some("asc");
                    let show = query.read().get("show").filter(|s| SHOWS.iter().any(|(key, _)| key == s)).unwrap_or_else(|| "all".into());
                    let reference = query.read().get("reference").unwrap_or_default();
                    let search = (!reference.trim().is_empty()).then(|| InvoiceSearch::parse(&reference));
                    match invoices.await {
                        Ok(mut list) => {
                            list.retain(|invoice| match show.as_str() {
                                "open" => invoice.is_open(),
                                "overdue" => invoice.overdue_days.is_some(),
                                _ => true,
                            });
                            if let Some(Ok(search)) = &search {
                                list.retain(|invoice| search.matches(&invoice.invoice_number));
                            }
                            let search_error = search.clone().and_then(Result::err);
                            let searched = matches!(search, Some(Ok(_)));
                            sort_invoices(&mut list, sort_field(&sort), descending);
                            let base = app_url(format!("/billing-group/{billing_group_id}/invoices"));
                            let dir = if descending { "desc" } else { "asc" };
                            let filters = SHOWS
                                .iter()
                                .map(|(key, label)| {
                                    let href = format!("{base}?show={key}&sort={sort}&dir={dir}");
                                    let current = (*key == show).then_some("page");
                                    view! { <a href=href aria-current=current>{*label}</a> }
                                })
                                .collect_view();
                            let empty = match show.as_str() {
                                _ if searched => Some("No invoice matches that payment reference or number."),
                                "open" => Some("No open invoices."),
                                "overdue" => Some("No overdue invoices."),
                                _ => None,
                            };
                            let form = view! {
                                <form method="get" action=base.clone() class="invoice-search" role="search" aria-label="Find an invoice">
                                    <input type="hidden" name="show" value=show.clone() />
                                    <input type="hidden" name="sort" value=sort.clone() />
                                    <input type="hidden" name="dir" value=dir />
                                    <label for="invoice-reference">"Payment reference or invoice number"</label>
                                    <input
                                        id="invoice-reference"
                                        name="reference"
                                        maxlength="64"
                                        value=reference.clone()
                                        placeholder="RF11 BCF1 DD7A 781D 0003"
                                        aria-invalid=search_error.is_some().then_some("true")
                                        aria-describedby=search_error.is_some().then_some("invoice-reference-error")
                                    />
                                    <button type="submit">"Find"</button>
                                    {search_error.map(|message| view! { <p id="invoice-reference-error" class="error" role="alert">{message}</p> })}
                                </form>
                            };
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
                                        format!("{base}?show={show}&sort={key}&dir={next_dir}"),
                                        format!("{label}{arrow}"),
                                        active.then_some(if descending { "descending" } else { "ascending" }),
                                    )
                                })
                                .collect::<Vec<_>>();
                            let table = match empty {
                                Some(text) if list.is_empty() => view! { <p class="muted">{text}</p> }.into_any(),
                                _ => view! { <InvoiceTable billing_group_id invoices=list sort_headers=headers /> }.into_any(),
                            };
                            view! {
                                <nav class="filters" aria-label="Show invoices">{filters}</nav>
                                {form}
                                {table}
                            }
                            .into_any()
                        }
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || {
                let billing_group_id = notes_group.clone();
                Suspend::new(async move {
                    match credit_notes.await {
                        Ok(notes) if !notes.is_empty() => view! {
                            <h3 id="credit-notes-heading">"Credit notes"</h3>
                            <CreditNotesTable billing_group_id notes with_invoice=true />
                        }
                        .into_any(),
                        Ok(_) => ().into_any(),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
