use leptos::prelude::*;

use crate::model::billing::GroupPage;
use crate::ui::invoices::{CostChartView, InvoiceTable};

/// Overview: the group's projects with this month's costs so far, the cost
/// chart, the estimate and latest invoices; credits follow in their issue.
#[component]
pub fn OverviewTab(page: GroupPage) -> impl IntoView {
    let id = page.group.billing_group_id.clone();
    let invoices_href = format!("/billing-group/{id}/invoices");
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
            <p class="muted">"Credits claimed into this group, and how much of them invoices used, will be listed here."</p>
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
                                    <a href=format!("/project/{}", p.project_name)>{p.project_name.clone()}</a>
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

#[component]
pub fn CreditsTab() -> impl IntoView {
    view! {
        <h2>"Credits"</h2>
        <p>
            "Credit codes claimed into this billing group will be listed here with their value, remaining value, expiry and the project they are earmarked for, with a form to claim a code."
        </p>
    }
}
