//! Invoices: the list table shared by the Overview and the Invoices tab,
//! an invoice's page, and the cost chart.

mod chart;
mod invoice_page;
mod state_badge;

pub use chart::CostChartView;
pub use invoice_page::{CreditNotePage, CreditNotesTable, InvoicePage};
pub use state_badge::{days_text, InvoiceStateBadge};

use leptos::prelude::*;

use crate::model::invoices::{invoice_totals, InvoiceSummary, ESTIMATE};
use crate::paths::app_url;

/// Why invoices are not being issued, once `paused` says (nothing while it
/// loads, when they are, or when it cannot be told).
#[component]
pub fn IssuingPausedNotice(
    paused: Resource<Result<Option<String>, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                paused
                    .await
                    .ok()
                    .flatten()
                    .map(|message| view! { <p class="notice" role="status">{message}</p> })
            })}
        </Suspense>
    }
}

/// The invoices as a table, with a total row per currency; with
/// `sort_headers` ((href, label, aria-sort) for Invoice, Period, State,
/// Total excl. VAT, Total incl. VAT, Outstanding, Currency, Issued, Due,
/// Paid) the headers sort it. `compact` (the Overview's latest invoices)
/// keeps the columns that fit a panel: number, period, state, total,
/// outstanding and due date. `groups` (each invoice number's group, as
/// (id, name): the account's list) adds a Billing group column and links
/// each row to its own group; otherwise every row is of `billing_group_id`.
#[component]
pub fn InvoiceTable(
    billing_group_id: String,
    invoices: Vec<InvoiceSummary>,
    #[prop(optional)] sort_headers: Option<Vec<(String, String, Option<&'static str>)>>,
    #[prop(optional)] compact: bool,
    #[prop(optional)] groups: Option<std::collections::BTreeMap<String, (String, String)>>,
) -> impl IntoView {
    let full = !compact;
    if invoices.is_empty() {
        return view! { <p class="muted">"No invoices yet."</p> }.into_any();
    }
    let with_groups = groups.is_some();
    let groups = groups.unwrap_or_default();
    let header =
        |index: usize, plain: &'static str, class: Option<&'static str>| match &sort_headers {
            Some(headers) => {
                let (href, label, sort) = headers[index].clone();
                view! {
                    <th scope="col" class=class aria-sort=sort>
                        <a href=href>{label}</a>
                    </th>
                }
                .into_any()
            }
            None => view! { <th scope="col" class=class>{plain}</th> }.into_any(),
        };
    let totals = invoice_totals(&invoices);
    view! {
        <div class="table-scroll" tabindex="0"><table aria-label="Invoices" class="invoice-list">
            <thead>
                <tr>
                    {with_groups.then(|| view! { <th scope="col">"Billing group"</th> })}
                    {header(0, "Invoice", None)}
                    {header(1, "Period", None)}
                    {header(2, "State", None)}
                    {full.then(|| header(3, "Total excl. VAT", Some("num")))}
                    {header(4, "Total incl. VAT", Some("num"))}
                    {header(5, "Outstanding", Some("num"))}
                    {full.then(|| header(6, "Currency", None))}
                    {full.then(|| header(7, "Issued", None))}
                    {header(8, "Due", None)}
                    {full.then(|| header(9, "Paid", None))}
                    {full.then(|| view! { <th scope="col">"Files"</th> })}
                </tr>
            </thead>
            <tbody>
                {invoices
                    .into_iter()
                    .map(|invoice| {
                        let group = groups.get(&invoice.invoice_number);
                        let group_id = group.map_or(billing_group_id.as_str(), |(id, _)| id.as_str());
                        let href = app_url(format!(
                            "/billing-group/{group_id}/invoices/{}",
                            invoice.invoice_number,
                        ));
                        // Linked in the full list; the account's short list
                        // names the group (its billing groups table links it).
                        let group_cell = group.map(|(id, name)| {
                            let name = if full {
                                view! { <a href=app_url(format!("/billing-group/{id}"))>{name.clone()}</a> }.into_any()
                            } else {
                                name.clone().into_any()
                            };
                            view! { <td data-label="Billing group">{name}</td> }
                        });
                        let number_class = (invoice.invoice_number != ESTIMATE).then_some("invoice-number");
                        let name = if invoice.invoice_number == ESTIMATE {
                            crate::model::invoices::ESTIMATE_LABEL.to_string()
                        } else {
                            invoice.invoice_number.clone()
                        };
                        let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                        view! {
                            <tr>
                                {group_cell}
                                <td class="nowrap" data-label="Invoice">
                                    <a class=number_class href=href.clone()>{name.clone()}</a>
                                </td>
                                <td class="nowrap" data-label="Period">{invoice.period_begin.format("%Y-%m").to_string()}</td>
                                <td data-label="State">
                                    <InvoiceStateBadge state=invoice.state overdue_days=invoice.overdue_days />
                                    {(invoice.standing() != invoice.state.label()).then(|| view! {
                                        " " <span class="state credited">{invoice.standing()}</span>
                                    })}
                                </td>
                                {full.then(|| view! { <td class="num" data-label="Total excl. VAT">{invoice.total_vat_zero.grouped()}</td> })}
                                <td class="num" data-label="Total incl. VAT">{invoice.total_inc_vat.grouped()}</td>
                                <td class="num" data-label=invoice.outstanding().is_some().then_some("Outstanding")>{invoice.outstanding().map(|m| m.grouped()).unwrap_or_default()}</td>
                                {full.then(|| view! { <td data-label="Currency">{invoice.currency.code()}</td> })}
                                {full.then(|| view! { <td class="nowrap" data-label=invoice.issue_date.is_some().then_some("Issued")>{day(invoice.issue_date)}</td> })}
                                <td class="nowrap" data-label=invoice.due_date.is_some().then_some("Due")>{day(invoice.due_date)}</td>
                                {full.then(|| view! {
                                    <td class="nowrap" data-label=invoice.paid_date.is_some().then_some("Paid")>{day(invoice.paid_date)}</td>
                                    <td class="nowrap files" data-label="Files">
                                        <a href=format!("{href}/pdf") rel="external" download>"PDF"</a>
                                        " · "
                                        <a href=format!("{href}/csv") rel="external" download>"CSV"</a>
                                    </td>
                                })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                {totals
                    .into_iter()
                    .map(|(currency, count, excl, incl, outstanding)| {
                        let label = match count {
                            1 => format!("Total of 1 invoice ({currency})"),
                            n => format!("Total of {n} invoices ({currency})"),
                        };
                        view! {
                            <tr class="total-row">
                                <th scope="row" colspan=if with_groups { "4" } else { "3" }>{label}</th>
                                {full.then(|| view! { <td class="num" data-label="Total excl. VAT">{excl.grouped()}</td> })}
                                <td class="num" data-label="Total incl. VAT">{incl.grouped()}</td>
                                <td class="num" data-label="Outstanding">{outstanding.grouped()}</td>
                                {full.then(|| view! { <td data-label="Currency">{currency.code()}</td> })}
                                <td colspan=if full { "4" } else { "1" }></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tfoot>
        </table></div>
    }
    .into_any()
}
