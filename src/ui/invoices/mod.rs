//! Invoices: the list table shared by the Overview and the Invoices tab,
//! an invoice's page, and the cost chart.

mod chart;
mod invoice_page;
mod state_badge;

pub use chart::CostChartView;
pub use invoice_page::{CreditNotePage, CreditNotesTable, InvoicePage};
pub use state_badge::{days_text, InvoiceStateBadge};

use leptos::prelude::*;

use crate::model::invoices::{InvoiceSummary, ESTIMATE};
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

/// The invoices as a table; with `sort_headers` ((href, label, aria-sort)
/// for Invoice, Period, State, Total incl. VAT) the headers sort it.
#[component]
pub fn InvoiceTable(
    billing_group_id: String,
    invoices: Vec<InvoiceSummary>,
    #[prop(optional)] sort_headers: Option<Vec<(String, String, Option<&'static str>)>>,
) -> impl IntoView {
    if invoices.is_empty() {
        return view! { <p class="muted">"No invoices yet."</p> }.into_any();
    }
    let header = |index: usize, plain: &'static str| match &sort_headers {
        Some(headers) => {
            let (href, label, sort) = headers[index].clone();
            view! {
                <th scope="col" aria-sort=sort>
                    <a href=href>{label}</a>
                </th>
            }
            .into_any()
        }
        None => view! { <th scope="col">{plain}</th> }.into_any(),
    };
    view! {
        <div class="table-scroll" tabindex="0"><table aria-label="Invoices">
            <thead>
                <tr>
                    {header(0, "Invoice")}
                    {header(1, "Period")}
                    {header(2, "State")}
                    <th scope="col" class="num">"Total excl. VAT"</th>
                    {header(3, "Total incl. VAT")}
                    <th scope="col">"Currency"</th>
                    <th scope="col">"Issued"</th>
                    <th scope="col">"Due"</th>
                </tr>
            </thead>
            <tbody>
                {invoices
                    .into_iter()
                    .map(|invoice| {
                        let href = app_url(format!(
                            "/billing-group/{billing_group_id}/invoices/{}",
                            invoice.invoice_number,
                        ));
                        let number_class = (invoice.invoice_number != ESTIMATE).then_some("invoice-number");
                        let name = if invoice.invoice_number == ESTIMATE {
                            "Estimate (running month)".to_string()
                        } else {
                            invoice.invoice_number.clone()
                        };
                        view! {
                            <tr>
                                <td>
                                    <a class=number_class href=href>{name}</a>
                                </td>
                                <td class="nowrap">{invoice.period_begin.format("%Y-%m").to_string()}</td>
                                <td>
                                    <InvoiceStateBadge state=invoice.state overdue_days=invoice.overdue_days />
                                    {(invoice.standing() != invoice.state.label()).then(|| view! {
                                        " " <span class="state credited">{invoice.standing()}</span>
                                    })}
                                </td>
                                <td class="num">{invoice.total_vat_zero.grouped()}</td>
                                <td class="num">{invoice.total_inc_vat.grouped()}</td>
                                <td>{invoice.currency.code()}</td>
                                <td class="nowrap">{invoice.issue_date.map(|d| d.to_string()).unwrap_or_default()}</td>
                                <td class="nowrap">{invoice.due_date.map(|d| d.to_string()).unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}
