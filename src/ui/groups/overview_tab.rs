use leptos::prelude::*;

use crate::model::billing::GroupPage;

/// Overview: the group's projects with this month's costs so far; invoices
/// and credits sections say what will appear there.
#[component]
pub fn OverviewTab(page: GroupPage) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="overview-projects">
            <h2 id="overview-projects">"Projects"</h2>
            <ProjectCosts page=page.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-invoices">
            <h2 id="overview-invoices">"Invoices"</h2>
            <p class="muted">
                "The latest invoices of this billing group will be listed here once the first month is closed. The running month so far: "
                {page.costs.usd.to_string()} "."
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
pub fn InvoicesTab(page: GroupPage) -> impl IntoView {
    view! {
        <h2>"Invoices"</h2>
        <p>
            "One invoice per calendar month, with a separate line for each project and service, will be listed here: the running month as an estimate, and closed months with their number, issue and due dates, totals and PDF and CSV downloads."
        </p>
        <p class="muted">
            "This month so far, before tax: " {page.costs.usd.to_string()}
            {page.costs.local.map(|m| format!(" ({m})"))}
        </p>
    }
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
