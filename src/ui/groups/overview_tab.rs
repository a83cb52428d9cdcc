use leptos::prelude::*;

use crate::model::billing::GroupPage;
use crate::model::credits::AppliedCredit;
use crate::model::invoices::ESTIMATE;
use crate::paths::app_url;
use crate::ui::invoices::{CostChartView, InvoiceTable};

/// Overview: the group's projects with this month's costs so far, the cost
/// chart, the estimate and latest invoices, and the credits they use.
#[component]
pub fn OverviewTab(page: GroupPage) -> impl IntoView {
    let id = page.group.billing_group_id.clone();
    let invoices_href = app_url(format!("/billing-group/{id}/invoices"));
    view! {
        <section class="panel" aria-labelledby="overview-projects">
            <h2 id="overview-projects">"Projects"</h2>
            <ProjectCosts page=page.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-costs">
            <h2 id="overview-costs">"Costs"</h2>
            {page.chart.clone().map(|chart| view! { <CostChartView chart /> })}
        </section>
        <section class="panel" aria-labelledby="overview-invoices">
            <h2 id="overview-invoices">"Invoices"</h2>
            <InvoiceTable billing_group_id=id.clone() invoices=page.invoices.clone() />
            <p>
                <a href=invoices_href>"All invoices"</a>
            </p>
        </section>
        <section class="panel" aria-labelledby="overview-credits">
            <h2 id="overview-credits">"Applied credits"</h2>
            <AppliedCredits billing_group_id=id.clone() credits=page.applied_credits.clone() />
        </section>
    }
}

/// The group's projects and their month-to-date cost in this group.
#[component]
pub fn ProjectCosts(page: GroupPage) -> impl IntoView {
    if page.projects.is_empty() {
        return view! { <p class="muted">"No projects are assigned to this billing group."</p> }
            .into_any();
    }
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">"Project"</th>
                    <th scope="col" class="num">"Cost this month (USD)"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .projects
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <td>
                                    <a href=app_url(format!("/project/{}", p.project_name))>{p.project_name.clone()}</a>
                                </td>
                                <td class="num">{p.cost_usd.to_string()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Credits the running month is expected to use, then those issued
/// invoices used.
#[component]
fn AppliedCredits(billing_group_id: String, credits: Vec<AppliedCredit>) -> impl IntoView {
    let credits_href = app_url(format!("/billing-group/{billing_group_id}/credits"));
    if credits.is_empty() {
        return view! {
            <p class="muted">
                "No credits applied yet. " <a href=credits_href>"Claim a credit code"</a>
                " on the Credits tab."
            </p>
        }
        .into_any();
    }
    view! {
        <table aria-label="Applied credits">
            <thead>
                <tr>
                    <th scope="col">"Invoice"</th>
                    <th scope="col">"Period"</th>
                    <th scope="col">"Credit"</th>
                    <th scope="col">"Project"</th>
                    <th scope="col" class="num">"Applied (USD)"</th>
                    <th scope="col" class="num">"Applied"</th>
                </tr>
            </thead>
            <tbody>
                {credits
                    .into_iter()
                    .map(|c| {
                        let href = app_url(format!(
                            "/billing-group/{billing_group_id}/invoices/{}",
                            c.invoice_number
                        ));
                        let label = if c.invoice_number == ESTIMATE {
                            "Estimate (expected)".to_string()
                        } else {
                            c.invoice_number.clone()
                        };
                        view! {
                            <tr>
                                <td><a href=href>{label}</a></td>
                                <td>{c.period_begin.format("%Y-%m").to_string()}</td>
                                <td><code>{c.code.clone()}</code></td>
                                <td>{c.project_name.clone().unwrap_or_else(|| "All projects".into())}</td>
                                <td class="num">{c.amount_usd.to_string()}</td>
                                <td class="num">{format!("{} {}", c.amount_local, c.currency)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <p>
            <a href=credits_href>"All credits"</a>
        </p>
    }
    .into_any()
}
