use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::groups::{get_account_billing, MoveProject, SetPrimaryBillingGroup};
use crate::api::people::{get_account_events, RenameAccount};
use crate::model::billing::AccountBilling;
use crate::model::invoices::AccountInvoice;
use crate::model::Role;
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError};
use crate::ui::invoices::InvoiceTable;
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

pub(super) fn account_id() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("account_id").unwrap_or_default()
}

#[component]
pub(super) fn AccountTabs(account_id: String, active: &'static str) -> impl IntoView {
    let tab = |key: &'static str, label: &'static str| {
        let href = app_url(format!("/account/{account_id}/{key}"));
        view! {
            <a href=href aria-current=(active == key).then_some("page")>
                {label}
            </a>
        }
    };
    view! {
        <nav class="tabs" aria-label="Account">
            {tab("billing", "Billing")} {tab("invoices", "Invoices")} {tab("members", "Members")}
            {tab("settings", "Settings")}
            {tab("webhooks", "Webhooks")}
        </nav>
    }
}

/// The account's Billing tab: its billing groups, creating one, and
/// assigning projects to groups.
#[component]
pub fn AccountBillingPage() -> impl IntoView {
    let id = account_id();
    let assign = ServerAction::<MoveProject>::new();
    let query = leptos_router::hooks::use_query_map();
    let data = Resource::new(
        move || (id(), query.read().get("currency"), assign.version().get()),
        |(id, currency, _)| get_account_billing(id, currency),
    );
    view! {
        <Title text="Billing" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading billing groups…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(billing) => view! { <AccountBillingView billing assign /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// The newest invoices of all the account's groups, and the way to the
/// whole list.
#[component]
fn LatestInvoices(account_id: String, invoices: Vec<AccountInvoice>) -> impl IntoView {
    let all = app_url(format!("/account/{account_id}/invoices"));
    let groups = invoices
        .iter()
        .map(|i| {
            let group = (i.billing_group_id.clone(), i.billing_group_name.clone());
            (i.summary.invoice_number.clone(), group)
        })
        .collect();
    let invoices = invoices.into_iter().map(|i| i.summary).collect();
    view! {
        <section class="panel" aria-labelledby="latest-invoices-heading">
            <h2 id="latest-invoices-heading">"Latest invoices"</h2>
            <InvoiceTable billing_group_id=String::new() invoices groups compact=true />
            <p><a href=all>"All invoices of the account"</a></p>
        </section>
    }
}

#[component]
fn AccountBillingView(billing: AccountBilling, assign: ServerAction<MoveProject>) -> impl IntoView {
    let can_change = billing.role.allows(Role::Billing);
    let assign_error = Signal::derive(action_error(assign));
    let groups = billing.groups.clone();
    let group_options = move || {
        groups
            .iter()
            .map(|g| view! { <option value=g.billing_group_id.clone()>{g.billing_group_name.clone()}</option> })
            .collect_view()
    };
    view! {
        <h1>{billing.account_name.clone()}</h1>
        <AccountTabs account_id=billing.account_id.clone() active="billing" />
        <section class="panel" aria-labelledby="groups-heading">
            <h2 id="groups-heading">"Billing groups"</h2>
            <p class="muted">"This month so far, before tax, in each group's currency (USD beside it)."</p>
            <div class="table-scroll" tabindex="0"><table aria-label="Billing groups" class="group-costs">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col" class="num">"Projects"</th>
                        <th scope="col" class="num">"Accumulated costs"</th>
                        <th scope="col">"Currency"</th>
                    </tr>
                </thead>
                <tbody>
                    {billing
                        .groups
                        .iter()
                        .map(|g| {
                            let local = g.costs.local.as_ref().map(|m| m.shown());
                            view! {
                                <tr>
                                    <td>
                                        <a href=app_url(format!(
                                            "/billing-group/{}",
                                            g.billing_group_id,
                                        ))>{g.billing_group_name.clone()}</a>
                                        {g
                                            .is_primary
                                            .then(|| view! { <span class="badge primary">"Primary"</span> })}
                                    </td>
                                    <td class="num">{g.project_count}</td>
                                    <td class="num">
                                        {local.unwrap_or_else(|| "rate missing".into())}
                                        <span class="muted">" · " {g.costs.usd.shown()}</span>
                                    </td>
                                    <td>{g.billing_currency.code()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
                <tfoot>
                    <tr class="total-row">
                        <th scope="row">{format!("Total of {} billing groups", billing.groups.len())}</th>
                        <td class="num">{billing.groups.iter().map(|g| g.project_count).sum::<i64>()}</td>
                        <td class="num">
                            {billing
                                .total
                                .local
                                .as_ref()
                                .map(|m| m.shown())
                                .unwrap_or_else(|| format!("no {} rate", billing.total_currency))}
                            <span class="muted">" · " {billing.total.usd.shown()}</span>
                        </td>
                        <td>{billing.total_currency.code()}</td>
                    </tr>
                </tfoot>
            </table></div>
            <form method="get" class="inline-form compact" aria-label="Total currency">
                <label for="total-currency">"Show the total in"</label>
                <select id="total-currency" name="currency">
                    {crate::model::money::Currency::ALL
                        .iter()
                        .map(|c| view! {
                            <option value=c.code() selected=*c == billing.total_currency>{c.code()}</option>
                        })
                        .collect_view()}
                </select>
                <button type="submit">"Show"</button>
            </form>
            <crate::ui::groups::invoices_tab::FocusExport action=app_url(format!("/account/{}/focus.csv", billing.account_id)) />
        </section>
        <LatestInvoices account_id=billing.account_id.clone() invoices=billing.latest_invoices.clone() />
        {(!billing.rates.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="rates-heading">
                <h2 id="rates-heading">"Exchange rates"</h2>
                <p class="muted">"Amounts are kept in USD and shown in each group's currency at the rate in force; an invoice uses the rate of its issue date."</p>
                <ul class="rates">
                    {billing.rates.iter().map(|(currency, rate)| match rate {
                        Some((rate, since)) => view! {
                            <li>{format!("1 USD = {} {} (since {since})", rate.normalize(), currency.code())}</li>
                        }.into_any(),
                        None => view! {
                            <li class="error">{format!("No {} rate yet: an operator imports one with billing-console rates import.", currency.code())}</li>
                        }.into_any(),
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!billing.deleted_groups.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="deleted-heading">
                <h2 id="deleted-heading">"Deleted billing groups"</h2>
                <p class="muted">"Their events and invoices stay readable."</p>
                <ul>
                    {billing.deleted_groups.iter().map(|(id, name)| view! {
                        <li><a href=app_url(format!("/billing-group/{id}/events"))>{name.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {can_change.then(move || view! {
            <section class="panel" aria-labelledby="create-heading">
                <h2 id="create-heading">"Create billing group"</h2>
                <p class="muted">
                    "A few steps: name, billing details (or a copy of another group's), projects to move in now, then a summary before anything is created."
                </p>
                <a class="button-link" href=app_url(format!("/account/{}/new-billing-group", billing.account_id))>
                    "Create billing group"
                </a>
            </section>
            <section class="panel" aria-labelledby="assign-heading">
                <h2 id="assign-heading">"Assign projects to billing groups"</h2>
                <ActionForm action=assign attr:class="inline-form">
                    <label for="assign-project">"Project"</label>
                    <select id="assign-project" name="project_name">
                        {billing
                            .projects
                            .iter()
                            .map(|p| {
                                view! {
                                    <option value=p
                                        .project_name
                                        .clone()>
                                        {format!("{} (in {})", p.project_name, p.billing_group_name)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="assign-group">"Billing group"</label>
                    <select id="assign-group" name="billing_group_id">
                        {group_options.clone()}
                    </select>
                    <button type="submit" disabled=move || assign.pending().get()>
                        "Assign"
                    </button>
                </ActionForm>
                <FieldError error=assign_error field="billing_group_id" />
                <FieldError error=assign_error />
                {move || {
                    matches!(assign.value().get(), Some(Ok(())))
                        .then(|| view! { <p role="status">"Project assigned."</p> })
                }}
            </section>
        })}
    }
}

/// The account's Settings tab: its name, the primary billing group, and
/// the account's own log.
#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let id = account_id();
    let set_primary = ServerAction::<SetPrimaryBillingGroup>::new();
    let rename = ServerAction::<RenameAccount>::new();
    let data = Resource::new(
        move || (id(), set_primary.version().get(), rename.version().get()),
        |(id, ..)| get_account_billing(id, None),
    );
    // Only a rename writes to the account's own log.
    let events = Resource::new(
        move || (id(), rename.version().get()),
        |(id, _)| get_account_events(id),
    );
    let error = Signal::derive(action_error(set_primary));
    let rename_error = Signal::derive(action_error(rename));
    view! {
        <Title text="Settings" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(billing) => {
                            let is_admin = billing.role.allows(Role::Admin);
                            let primary = billing.primary_billing_group_id.clone();
                            let (rename_id, primary_id) =
                                (billing.account_id.clone(), billing.account_id.clone());
                            let current_name = billing.account_name.clone();
                            view! {
                                <h1>{billing.account_name.clone()}</h1>
                                <AccountTabs account_id=billing.account_id.clone() active="settings" />
                                <section class="panel" aria-labelledby="name-heading">
                                    <h2 id="name-heading">"Account name"</h2>
                                    <ActionForm action=rename attr:class="inline-form">
                                        <input type="hidden" name="account_id" value=rename_id />
                                        <label for="account-name">"Account name"</label>
                                        <input
                                            id="account-name"
                                            name="account_name"
                                            maxlength="128"
                                            required
                                            value=current_name
                                            disabled=!is_admin
                                        />
                                        {is_admin
                                            .then(|| {
                                                view! {
                                                    <button type="submit" disabled=move || rename.pending().get()>
                                                        "Rename"
                                                    </button>
                                                }
                                            })}
                                    </ActionForm>
                                    <FieldError error=rename_error field="account_name" />
                                    <FieldError error=rename_error />
                                    {move || {
                                        matches!(rename.value().get(), Some(Ok(())))
                                            .then(|| view! { <p role="status">"Account renamed."</p> })
                                    }}
                                </section>
                                <section class="panel" aria-labelledby="primary-heading">
                                    <h2 id="primary-heading">"Primary billing group"</h2>
                                    <p class="muted">
                                        "New projects of this account go to the primary billing group unless their creator chooses another."
                                    </p>
                                    <ActionForm action=set_primary attr:class="inline-form">
                                        <input type="hidden" name="account_id" value=primary_id />
                                        <label for="primary-group">"Primary billing group"</label>
                                        <select id="primary-group" name="billing_group_id" disabled=!is_admin>
                                            {billing
                                                .groups
                                                .iter()
                                                .map(|g| {
                                                    view! {
                                                        <option
                                                            value=g.billing_group_id.clone()
                                                            selected=g.billing_group_id == primary
                                                        >
                                                            {g.billing_group_name.clone()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                        {is_admin
                                            .then(|| {
                                                view! {
                                                    <button type="submit" disabled=move || set_primary.pending().get()>
                                                        "Save"
                                                    </button>
                                                }
                                            })}
                                    </ActionForm>
                                    {(!is_admin)
                                        .then(|| {
                                            view! {
                                                <p class="muted">"Only account admins can change the primary billing group."</p>
                                            }
                                        })}
                                    <FieldError error field="billing_group_id" />
                                    <FieldError error />
                                    {move || {
                                        matches!(set_primary.value().get(), Some(Ok(())))
                                            .then(|| view! { <p role="status">"Primary billing group saved."</p> })
                                    }}
                                </section>
                                <AccountEventsPanel events />
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// The account's own log: created, renamed, members changed.
#[component]
fn AccountEventsPanel(
    events: Resource<Result<Vec<crate::model::people::AccountEvent>, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="account-events-heading">
            <h2 id="account-events-heading">"Account events"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="muted">"No account events yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <div class="table-scroll" tabindex="0">
                                    <table aria-label="Account events">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Time"</th>
                                                <th scope="col">"Event"</th>
                                                <th scope="col">"Description"</th>
                                                <th scope="col">"By"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|e| {
                                                    view! {
                                                        <tr>
                                                            <td>{crate::ui::when(Some(e.create_time))}</td>
                                                            <td>{crate::model::states::event_type_label(&e.event_type)}</td>
                                                            <td>{e.event_desc.clone()}</td>
                                                            <td>{e.actor.clone()}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
