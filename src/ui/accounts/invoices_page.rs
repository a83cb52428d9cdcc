//! The account's Invoices tab: every issued invoice of its billing groups
//! in one list, for finance (Aiven's organization-wide invoice list).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::account_page::{account_id, AccountTabs};
use crate::api::invoices::get_account_invoices;
use crate::model::invoices::AccountInvoices;
use crate::paths::app_url;
use crate::ui::groups::invoices_tab::filtered_invoices;
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

#[component]
pub fn AccountInvoicesPage() -> impl IntoView {
    let id = account_id();
    let data = Resource::new(id, get_account_invoices);
    view! {
        <Title text="Invoices" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading invoices…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) => view! { <AccountInvoicesView list /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn AccountInvoicesView(list: AccountInvoices) -> impl IntoView {
    let query = use_query_map();
    let groups: BTreeMap<String, (String, String)> = list
        .invoices
        .iter()
        .map(|i| {
            let group = (i.billing_group_id.clone(), i.billing_group_name.clone());
            (i.summary.invoice_number.clone(), group)
        })
        .collect();
    let invoices = list.invoices.into_iter().map(|i| i.summary).collect();
    let base = app_url(format!("/account/{}/invoices", list.account_id));
    view! {
        <h1>{list.account_name}</h1>
        <AccountTabs account_id=list.account_id active="invoices" />
        <section class="panel account-invoices" aria-labelledby="account-invoices-heading">
            <h2 id="account-invoices-heading">"Invoices of all billing groups"</h2>
            <p class="muted">
                "Issued invoices, newest month first, with a total per currency. Each group's running month is on its own page."
            </p>
            {filtered_invoices(query, base, None, String::new(), invoices, Some(groups))}
        </section>
    }
}
