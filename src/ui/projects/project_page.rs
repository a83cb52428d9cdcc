use leptos::prelude::*;

use crate::model::states::ServiceState;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use leptos_router::NavigateOptions;

use crate::api::accounts::{menu_projects, project_details};
use crate::api::services::{ChangeServicePlan, CreateService, PowerService, TerminateService};
use crate::model::{ProjectPage, Role, ServiceSummary};
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, AllMessages, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

/// `/`: opens the current project (the first one the user has), or the
/// projects & accounts page when there is none.
#[component]
pub fn CurrentProjectRedirect() -> impl IntoView {
    let first = Resource::new(|| (), |_| menu_projects(1));
    view! {
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                let first = first.await.ok().and_then(|(names, _)| names.into_iter().next());
                let path = match first {
                    Some(name) => app_url(format!("/project/{name}")),
                    None => app_url("/projects"),
                };
                // The path already carries the base: the server sends it as
                // it is, and the client must not resolve it against the base again.
                let options = NavigateOptions { resolve: false, ..Default::default() };
                view! { <Redirect path=path options /> }
            })}
        </Suspense>
    }
}

/// The actions of the services section, shared by its parts.
#[derive(Clone, Copy)]
struct ServiceActions {
    create: ServerAction<CreateService>,
    power: ServerAction<PowerService>,
    plan: ServerAction<ChangeServicePlan>,
    terminate: ServerAction<TerminateService>,
}

/// One project: its account, billing group and services; admins create,
/// power, re-plan and terminate services here (each with a confirmation).
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("project_name").unwrap_or_default();
    let actions = ServiceActions {
        create: ServerAction::new(),
        power: ServerAction::new(),
        plan: ServerAction::new(),
        terminate: ServerAction::new(),
    };
    // A confirmation closes once its action has answered (the rows are
    // drawn again, and an element left open would close on the next click).
    Effect::new(move |_| {
        let answered = (
            actions.power.version().get(),
            actions.plan.version().get(),
            actions.terminate.version().get(),
        );
        if answered != (0, 0, 0) {
            close_confirmations();
        }
    });
    let page = Resource::new(
        move || {
            (
                name(),
                actions.create.version().get(),
                actions.power.version().get(),
                actions.plan.version().get(),
                actions.terminate.version().get(),
            )
        },
        |(name, ..)| project_details(name),
    );
    view! {
        <Title text=name />
        <AppLayout current_project=params.read_untracked().get("project_name").unwrap_or_default()>
            <Suspense fallback=|| view! { <p class="muted">"Loading project…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let project = page.project.clone();
                            let runs_services = page.role.allows(Role::Developer);
                            view! {
                                <h1>{project.project_name.clone()}</h1>
                                <dl class="facts">
                                    <dt>"Account"</dt>
                                    <dd>
                                        <a href=app_url(format!("/account/{}/billing", project.account_id))>
                                            {page.account_name.clone()}
                                        </a>
                                    </dd>
                                    <dt>"Billing group"</dt>
                                    <dd>
                                        <a href=app_url(format!("/billing-group/{}", project.billing_group_id))>
                                            {project.billing_group_name.clone()}
                                        </a>
                                    </dd>
                                    <dt>"Default cloud"</dt>
                                    <dd>{project.default_cloud.clone()}</dd>
                                    <dt>"Your role"</dt>
                                    <dd>{page.role.to_string()}</dd>
                                </dl>
                                <ActionResults actions />
                                <ServicesTable
                                    services=page.services.clone()
                                    project_name=project.project_name.clone()
                                    runs_services
                                    actions
                                />
                                {runs_services
                                    .then(|| {
                                        view! {
                                            <CreateServiceForm
                                                project_name=project.project_name.clone()
                                                page=page.clone()
                                                actions
                                            />
                                        }
                                    })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// Closes every open confirmation of the page (browser only).
fn close_confirmations() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        // One at a time: each closed one no longer matches.
        for _ in 0..64 {
            let Some(details) = document()
                .query_selector("details.confirm[open]")
                .ok()
                .flatten()
                .and_then(|node| node.dyn_into::<leptos::web_sys::HtmlDetailsElement>().ok())
            else {
                return;
            };
            details.set_open(false);
        }
    }
}

/// What the last action did, or why it was refused.
#[component]
fn ActionResults(actions: ServiceActions) -> impl IntoView {
    let errors = [
        Signal::derive(action_error(actions.power)),
        Signal::derive(action_error(actions.plan)),
        Signal::derive(action_error(actions.terminate)),
    ];
    view! {
        {errors.map(|error| view! { <AllMessages error /> })}
        {move || {
            actions
                .create
                .value()
                .get()
                .and_then(Result::ok)
                .map(|name| view! { <p class="success" role="status">{format!("Service {name} created; it is running.")}</p> })
        }}
        {move || {
            actions
                .plan
                .value()
                .get()
                .and_then(Result::ok)
                .map(|plan| view! { <p class="success" role="status">{format!("Plan changed to {plan}; the new plan is billed from the next full hour.")}</p> })
        }}
        {move || {
            matches!(actions.terminate.value().get(), Some(Ok(())))
                .then(|| view! { <p class="success" role="status">"Service terminated."</p> })
        }}
    }
}

#[component]
fn ServicesTable(
    services: Vec<ServiceSummary>,
    project_name: String,
    runs_services: bool,
    actions: ServiceActions,
) -> impl IntoView {
    if services.is_empty() {
        return view! { <p class="muted">"This project has no services."</p> }.into_any();
    }
    view! {
        <section class="panel" aria-labelledby="services-heading">
            <h2 id="services-heading">"Services"</h2>
            <div class="table-scroll" tabindex="0">
                <table class="cards" aria-labelledby="services-heading">
                    <thead>
                        <tr>
                            <th scope="col">"Service"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Plan"</th>
                            <th scope="col">"Cloud"</th>
                            <th scope="col" class="num">"USD / hour"</th>
                            <th scope="col" class="num">"This month"</th>
                            <th scope="col">"State"</th>
                            {runs_services.then(|| view! { <th scope="col">"Actions"</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {services
                            .into_iter()
                            .map(|s| {
                                let manage = (runs_services && s.state != ServiceState::Terminated)
                                    .then(|| {
                                        view! {
                                            <td class="card-actions">
                                                <ServiceControls service=s.clone() project_name=project_name.clone() actions />
                                            </td>
                                        }
                                    });
                                view! {
                                    <tr>
                                        <td class="nowrap" data-label="Service">{s.service_name.clone()}</td>
                                        <td data-label="Type">{s.service_type.clone()}</td>
                                        <td class="nowrap" data-label="Plan">{s.plan.clone()}</td>
                                        <td class="nowrap" data-label="Cloud">{s.cloud_name.clone()}</td>
                                        <td class="num" data-label="USD / hour">{crate::ui::per_hour(s.hourly_price_usd)}</td>
                                        <td class="num nowrap" data-label="This month">{s.month_to_date.shown()}</td>
                                        <td data-label="State">
                                            <span class=format!("state {}", s.state)>{s.state.label()}</span>
                                        </td>
                                        {manage}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// Power, plan and termination of one service: each opens a confirmation
/// first (a disclosure, so it works without JavaScript).
#[component]
fn ServiceControls(
    service: ServiceSummary,
    project_name: String,
    actions: ServiceActions,
) -> impl IntoView {
    let name = service.service_name.clone();
    let running = service.state == ServiceState::Running;
    let (power, power_label, power_text, power_note) = if running {
        (
            "off",
            format!("Power off {name}"),
            "Power off",
            format!("Power off {name}? Charges stop after the hour in progress."),
        )
    } else {
        (
            "on",
            format!("Power on {name}"),
            "Power on",
            format!("Power on {name}? A new hour is billed at once, at today's price."),
        )
    };
    let hidden = move || {
        view! {
            <input type="hidden" name="project_name" value=project_name.clone() />
            <input type="hidden" name="service_name" value=name.clone() />
        }
    };
    let (hidden_power, hidden_plan, hidden_terminate) = (hidden.clone(), hidden.clone(), hidden);
    let plan_id = format!("plan-{}", service.service_name);
    let confirm_id = format!("confirm-{}", service.service_name);
    let plan_options = service
        .other_plans
        .iter()
        .map(|(plan, price)| {
            view! { <option value=plan.clone()>{format!("{plan} — {} USD/h", price.normalize())}</option> }
        })
        .collect_view();
    let has_other_plans = !service.other_plans.is_empty();
    let plan_label = format!("Change plan of {}", service.service_name);
    let plan_field = format!("New plan for {}", service.service_name);
    let terminate_label = format!("Terminate {}", service.service_name);
    let confirm_label = format!("Type {} to terminate it for good", service.service_name);
    view! {
        <div class="row-actions">
            <details class="confirm">
                <summary role="button" aria-label=power_label>{power_text}</summary>
                <div class="confirm-box">
                    <p>{power_note}</p>
                    <ActionForm action=actions.power>
                        {hidden_power()}
                        <input type="hidden" name="power" value=power />
                        <button type="submit" disabled=move || actions.power.pending().get()>
                            {if running { "Confirm power off" } else { "Confirm power on" }}
                        </button>
                    </ActionForm>
                </div>
            </details>
            {has_other_plans
                .then(|| {
                    view! {
                        <details class="confirm">
                            <summary role="button" aria-label=plan_label>
                                "Change plan"
                            </summary>
                            <div class="confirm-box">
                                <ActionForm action=actions.plan attr:class="stack">
                                    {hidden_plan()}
                                    <label for=plan_id.clone()>{plan_field}</label>
                                    <select id=plan_id name="plan">{plan_options}</select>
                                    <p class="muted">
                                        "The hour in progress stays on the current plan; the new plan is billed from the next full hour."
                                    </p>
                                    <button type="submit" disabled=move || actions.plan.pending().get()>
                                        "Confirm plan change"
                                    </button>
                                </ActionForm>
                            </div>
                        </details>
                    }
                })}
            <details class="confirm">
                <summary role="button" class="danger" aria-label=terminate_label>
                    "Terminate"
                </summary>
                <div class="confirm-box">
                    <ActionForm action=actions.terminate attr:class="stack">
                        {hidden_terminate()}
                        <label for=confirm_id.clone()>{confirm_label}</label>
                        <input id=confirm_id name="confirm_name" autocomplete="off" required />
                        <button type="submit" class="danger" disabled=move || actions.terminate.pending().get()>
                            "Terminate service"
                        </button>
                    </ActionForm>
                </div>
            </details>
        </div>
    }
}

/// A new service: name, plan (with its price) and cloud.
#[component]
fn CreateServiceForm(
    project_name: String,
    page: ProjectPage,
    actions: ServiceActions,
) -> impl IntoView {
    let error = Signal::derive(action_error(actions.create));
    let default_cloud = page.project.default_cloud.clone();
    view! {
        <section class="panel" aria-labelledby="create-service-heading">
            <h2 id="create-service-heading">"Create service"</h2>
            {if page.plans.is_empty() {
                view! {
                    <p class="muted">
                        "The price list is empty: an operator imports it with billing-console prices import."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ActionForm action=actions.create attr:class="stack narrow-form">
                        <input type="hidden" name="project_name" value=project_name />
                        <label for="new-service-name">"Service name"</label>
                        <input id="new-service-name" name="service_name" maxlength="64" required />
                        <FieldError error field="service_name" />
                        <label for="new-service-plan">"Service type and plan"</label>
                        <select id="new-service-plan" name="plan">
                            {page
                                .plans
                                .iter()
                                .map(|p| {
                                    let price = if p.lowest_usd == p.highest_usd {
                                        format!("{} USD/h", p.lowest_usd.normalize())
                                    } else {
                                        format!("{}–{} USD/h", p.lowest_usd.normalize(), p.highest_usd.normalize())
                                    };
                                    view! {
                                        <option value=format!("{}:{}", p.service_type, p.plan)>
                                            {format!("{} {} — {price}", p.description, p.plan)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <FieldError error field="service_type" />
                        <FieldError error field="plan" />
                        <label for="new-service-cloud">"Cloud"</label>
                        <select id="new-service-cloud" name="cloud">
                            {page
                                .clouds
                                .iter()
                                .map(|c| view! { <option value=c.clone() selected=*c == default_cloud>{c.clone()}</option> })
                                .collect_view()}
                        </select>
                        <FieldError error field="cloud" />
                        <FieldError error />
                        <p class="muted">"The service starts at once and is billed per started hour."</p>
                        <button type="submit" disabled=move || actions.create.pending().get()>
                            {move || if actions.create.pending().get() { "Creating…" } else { "Create service" }}
                        </button>
                    </ActionForm>
                }
                    .into_any()
            }}
        </section>
    }
}
