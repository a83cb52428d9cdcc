use leptos::prelude::*;

use super::{group_id, GroupActions, ProjectCosts, TabError};
use crate::api::groups::get_group_overview;
use crate::model::billing::GroupOverview;
use crate::model::credits::AppliedCredit;
use crate::model::invoices::ESTIMATE;
use crate::paths::app_url;
use crate::ui::invoices::{CostChartView, InvoiceTable};

/// Overview: the group's projects with this month's costs so far, the cost
/// chart, the estimate and latest invoices, and the credits they use.
#[component]
pub fn OverviewTab() -> impl IntoView {
    let id = group_id();
    let actions = GroupActions::of_layout();
    let overview = Resource::new(
        move || (id(), actions.versions()),
        |(id, _)| get_group_overview(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the overview…"</p> }>
            {move || {
                Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <Overview overview /> }.into_any(),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Overview(overview: GroupOverview) -> impl IntoView {
    let id = overview.billing_group_id.clone();
    let invoices_href = app_url(format!("/billing-group/{id}/invoices"));
    view! {
        <section class="panel" aria-labelledby="overview-projects">
            <h2 id="overview-projects">"Projects"</h2>
            <ProjectCosts projects=overview.projects.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-costs">
            <h2 id="overview-costs">"Costs"</h2>
            <CostChartView chart=overview.chart.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-invoices">
            <h2 id="overview-invoices">"Invoices"</h2>
            <InvoiceTable billing_group_id=id.clone() invoices=overview.invoices.clone() />
            <p>
                <a href=invoices_href>"All invoices"</a>
            </p>
        </section>
        <section class="panel" aria-labelledby="overview-credits">
            <h2 id="overview-credits">"Applied credits"</h2>
            <AppliedCredits billing_group_id=id.clone() credits=overview.applied_credits.clone() />
        </section>
    }
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
                                <td class="num">{c.amount_usd.plain()}</td>
                                <td class="num">{c.amount_local.to_string()}</td>
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
