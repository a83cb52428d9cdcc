use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::TabError;
use crate::api::invoices::{get_credit_notes, get_invoices, get_issuing_paused};
use crate::model::invoices::{
    list_sort_field, parse_month, sort_invoices, InvoiceFilter, InvoiceSummary,
};
use crate::model::payment::InvoiceSearch;
use crate::paths::app_url;
use crate::ui::invoices::{CreditNotesTable, InvoiceTable, IssuingPausedNotice};

/// The columns the list sorts by: (query value, header label), in the
/// table's order (see `InvoiceTable`).
const SORTS: [(&str, &str); 10] = [
    ("number", "Invoice"),
    ("period", "Period"),
    ("state", "State"),
    ("excl", "Total excl. VAT"),
    ("total", "Total incl. VAT"),
    ("outstanding", "Outstanding"),
    ("currency", "Currency"),
    ("issued", "Issued"),
    ("due", "Due"),
    ("paid", "Paid"),
];

/// Which invoices the list shows: (query value, link label).
const SHOWS: [(&str, &str); 3] = [("all", "All"), ("open", "Open"), ("overdue", "Overdue")];

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
    let focus_export = app_url(format!("/billing-group/{billing_group_id}/focus.csv"));
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
                    match invoices.await {
                        Ok(list) => filtered_invoices(
                            query,
                            app_url(format!("/billing-group/{billing_group_id}/invoices")),
                            Some(app_url(format!("/billing-group/{billing_group_id}/invoices.csv"))),
                            billing_group_id.clone(),
                            list,
                            None,
                        ),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
        <FocusExport action=focus_export />
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

/// An invoice list with its filters (All, Open, Overdue), a reference and
/// month search, sortable headers and, with `export`, a CSV of the list:
/// all links and GET forms on `base`, so it works without JavaScript. The
/// group's Invoices tab and the account's list both show it; `groups` (by
/// invoice number) adds each invoice's billing group.
pub fn filtered_invoices(
    query: Memo<leptos_router::params::ParamsMap>,
    base: String,
    export: Option<String>,
    billing_group_id: String,
    mut list: Vec<InvoiceSummary>,
    groups: Option<BTreeMap<String, (String, String)>>,
) -> AnyView {
    let sort = query.read().get("sort").unwrap_or_else(|| "period".into());
    let descending = query.read().get("dir").as_deref() != Some("asc");
    let show = query
        .read()
        .get("show")
        .filter(|s| SHOWS.iter().any(|(key, _)| key == s))
        .unwrap_or_else(|| "all".into());
    let reference = query.read().get("reference").unwrap_or_default();
    let from_text = query.read().get("from").unwrap_or_default();
    let to_text = query.read().get("to").unwrap_or_default();
    let search = (!reference.trim().is_empty()).then(|| InvoiceSearch::parse(&reference));
    let from = parse_month(&from_text);
    let to = parse_month(&to_text);
    let filter = InvoiceFilter {
        show: show.clone(),
        search: search.clone().and_then(Result::ok),
        from: from.clone().ok().flatten(),
        to: to.clone().ok().flatten(),
    };
    list.retain(|invoice| filter.keeps(invoice));
    let search_error = search.clone().and_then(Result::err);
    let from_error = from.clone().err();
    let to_error = to.clone().err();
    let searched = matches!(search, Some(Ok(_))) || filter.from.is_some() || filter.to.is_some();
    sort_invoices(&mut list, list_sort_field(&sort), descending);
    let dir = if descending { "desc" } else { "asc" };
    // The query without the sort, kept by every link that re-sorts or filters.
    let kept = |key: &str, value: &str| {
        if value.is_empty() {
            String::new()
        } else {
            format!("&{key}={}", urlencoding_like(value))
        }
    };
    let narrowing = format!(
        "{}{}{}",
        kept("reference", &reference),
        kept("from", &from_text),
        kept("to", &to_text)
    );
    let filters = SHOWS
        .iter()
        .map(|(key, label)| {
            let href = format!("{base}?show={key}&sort={sort}&dir={dir}{narrowing}");
            let current = (*key == show).then_some("page");
            view! { <a href=href aria-current=current>{*label}</a> }
        })
        .collect_view();
    let export = export.map(|csv| {
        view! {
            <p>
                <a class="button-link" href=format!("{csv}?show={show}&sort={sort}&dir={dir}{narrowing}") rel="external" download>
                    "Export this list (CSV)"
                </a>
            </p>
        }
    });
    let empty = match show.as_str() {
        _ if searched => Some("No invoice matches the search."),
        "open" => Some("No open invoices."),
        "overdue" => Some("No overdue invoices."),
        _ => None,
    };
    let month_field = |id: &'static str,
                       name: &'static str,
                       label: &'static str,
                       value: String,
                       error: Option<String>| {
        let error_id = format!("{id}-error");
        view! {
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type="month"
                value=value
                placeholder="2026-10"
                aria-invalid=error.is_some().then_some("true")
                aria-describedby=error.is_some().then_some(error_id.clone())
            />
            {error.map(|message| view! { <p id=error_id class="error" role="alert">{message}</p> })}
        }
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
            {search_error.map(|message| view! { <p id="invoice-reference-error" class="error" role="alert">{message}</p> })}
            {month_field("invoice-from", "from", "Periods from", from_text.clone(), from_error)}
            {month_field("invoice-to", "to", "to", to_text.clone(), to_error)}
            <button type="submit">"Find"</button>
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
                format!("{base}?show={show}&sort={key}&dir={next_dir}{narrowing}"),
                format!("{label}{arrow}"),
                active.then_some(if descending {
                    "descending"
                } else {
                    "ascending"
                }),
            )
        })
        .collect::<Vec<_>>();
    let table = match empty {
        Some(text) if list.is_empty() => view! { <p class="muted">{text}</p> }.into_any(),
        _ => match groups {
            Some(groups) => view! { <InvoiceTable billing_group_id invoices=list sort_headers=headers groups /> }.into_any(),
            None => view! { <InvoiceTable billing_group_id invoices=list sort_headers=headers /> }.into_any(),
        },
    };
    view! {
        <nav class="filters" aria-label="Show invoices">{filters}</nav>
        {form}
        {export}
        {table}
    }
    .into_any()
}

/// The FOCUS 1.0 cost export of a range of billing months (a GET form,
/// so it downloads without JavaScript too); `action` is the group's or the
/// account's `focus.csv`.
#[component]
pub fn FocusExport(action: String) -> impl IntoView {
    view! {
        <section class="focus-export" aria-labelledby="focus-export-heading">
            <h3 id="focus-export-heading">"Cost and usage export (FOCUS)"</h3>
            <p class="muted">
                "A row per invoice line in the FinOps Foundation's FOCUS 1.0 format, for cost tools: closed months are their invoices and credit notes, the running month its estimate so far. Leave both months empty for the running month."
            </p>
            <form method="get" action=action class="invoice-search">
                <label for="focus-from">"From month"</label>
                <input id="focus-from" name="from" type="month" placeholder="2026-10" />
                <label for="focus-to">"To month"</label>
                <input id="focus-to" name="to" type="month" placeholder="2026-12" />
                <button type="submit">"Download FOCUS CSV"</button>
            </form>
        </section>
    }
}

/// A query value as a link carries it (`&`, `#`, `+`, `%`, spaces and
/// anything not ASCII percent-encoded).
fn urlencoding_like(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
