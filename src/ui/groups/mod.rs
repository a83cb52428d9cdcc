//! The billing group page: a layout route (`page.rs`: header with the
//! accumulated costs and the action menu, the tabs) and one child route per
//! tab, each with its own data. What the layout and the tabs share lives
//! here.

pub mod billing_info_tab;
pub mod credits_tab;
pub mod deliveries_tab;
pub mod events_tab;
pub mod header;
pub mod invoices_tab;
pub mod overview_tab;
pub mod page;
pub mod projects_tab;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::billing_info::SaveBillingInfo;
use crate::api::groups::{AssignProjects, MoveProject, RenameBillingGroup};
use crate::error::AppError;
use crate::model::billing::ProjectCost;
use crate::model::money::{Currency, Money};
use crate::paths::app_url;
use crate::ui::ErrorPanel;

/// The tabs, in order: (URL segment, label).
pub const TABS: [(&str, &str); 7] = [
    ("overview", "Overview"),
    ("projects", "Projects"),
    ("invoices", "Invoices"),
    ("credits", "Credits"),
    ("events", "Events"),
    ("billing-information", "Billing information"),
    ("deliveries", "Deliveries"),
];

/// Tabs only admins see.
pub const ADMIN_TABS: [&str; 1] = ["deliveries"];

/// Actions whose success changes what the header or a tab shows: the
/// layout creates them, and every resource that shows their effect is keyed
/// on their versions.
#[derive(Clone, Copy)]
pub struct GroupActions {
    pub rename: ServerAction<RenameBillingGroup>,
    pub move_project: ServerAction<MoveProject>,
    pub assign: ServerAction<AssignProjects>,
    pub save_info: ServerAction<SaveBillingInfo>,
}

impl GroupActions {
    pub fn new() -> Self {
        GroupActions {
            rename: ServerAction::new(),
            move_project: ServerAction::new(),
            assign: ServerAction::new(),
            save_info: ServerAction::new(),
        }
    }

    /// The layout's actions (a tab always renders inside it).
    pub fn of_layout() -> Self {
        use_context::<GroupActions>().unwrap_or_default()
    }

    /// Changes whenever an action that moves money or projects succeeded.
    pub fn versions(&self) -> (usize, usize, usize, usize) {
        (
            self.rename.version().get(),
            self.move_project.version().get(),
            self.assign.version().get(),
            self.save_info.version().get(),
        )
    }
}

impl Default for GroupActions {
    fn default() -> Self {
        GroupActions::new()
    }
}

/// The group id of the page (the layout's route parameter).
pub fn group_id() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("billing_group_id").unwrap_or_default()
}

/// A tab's failure. A group that does not exist (or is not the caller's)
/// is reported once, by the header; a tab shows only its own failures.
#[component]
pub fn TabError(error: AppError) -> impl IntoView {
    match error {
        AppError::NotFound { .. } => ().into_any(),
        error => view! { <ErrorPanel error /> }.into_any(),
    }
}

/// The group's projects and their month-to-date cost in this group.
#[component]
pub fn ProjectCosts(projects: Vec<ProjectCost>) -> impl IntoView {
    if projects.is_empty() {
        return view! { <p class="muted">"No projects are assigned to this billing group."</p> }
            .into_any();
    }
    // The group's currency, when it has a rate: every row has it then.
    let local = projects
        .iter()
        .find_map(|p| p.cost_local)
        .map(|m| m.currency);
    let total_usd = projects
        .iter()
        .fold(Money::zero(Currency::USD), |sum, p| sum + p.cost_usd);
    let total_local = local.map(|currency| {
        projects
            .iter()
            .filter_map(|p| p.cost_local)
            .fold(Money::zero(currency), |sum, cost| sum + cost)
    });
    let label = match projects.len() {
        1 => "Total of 1 project".to_string(),
        n => format!("Total of {n} projects"),
    };
    view! {
        <div class="table-scroll" tabindex="0"><table class="project-costs cards" aria-label="Projects this month">
            <thead>
                <tr>
                    <th scope="col">"Project"</th>
                    <th scope="col" class="num">"Cost this month (USD)"</th>
                    {local.map(|c| view! { <th scope="col" class="num">{format!("Cost this month ({c})")}</th> })}
                </tr>
            </thead>
            <tbody>
                {projects
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <td class="card-text">
                                    <a href=app_url(format!("/project/{}", p.project_name))>{p.project_name.clone()}</a>
                                    {p.moved_out.then(|| view! { <span class="muted">" (moved out this month)"</span> })}
                                </td>
                                <td class="num" data-label="Cost this month (USD)">{p.cost_usd.grouped()}</td>
                                {local.map(|c| view! { <td class="num" data-label=format!("Cost this month ({c})")>{p.cost_local.map(|c| c.grouped())}</td> })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                <tr class="total-row">
                    <th scope="row">{label}</th>
                    <td class="num" data-label="USD">{total_usd.grouped()}</td>
                    {total_local.map(|t| view! { <td class="num" data-label=t.currency.code()>{t.grouped()}</td> })}
                </tr>
            </tfoot>
        </table></div>
    }
    .into_any()
}
