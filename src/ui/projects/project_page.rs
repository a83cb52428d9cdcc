use leptos::prelude::*;

use crate::model::states::ServiceState;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use leptos_router::NavigateOptions;

use crate::api::accounts::{menu_projects, project_details};
use crate::api::invoices::PowerService;
use crate::model::{Role, ServiceSummary};
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError};
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

/// One project: its account, billing group and services.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("project_name").unwrap_or_default();
    let power = ServerAction::<PowerService>::new();
    let page = Resource::new(
        move || (name(), power.version().get()),
        |(name, _)| project_details(name),
    );
    view! {
        <Title text=name />
        <AppLayout current_project=params.read_untracked().get("project_name").unwrap_or_default()>
            <Suspense fallback=|| view! { <p class="muted">"Loading project…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let project = page.project;
                            view! {
                                <h1>{project.project_name.clone()}</h1>
                                <dl class="facts">
                                    <dt>"Account"</dt>
                                    <dd>{page.account_name}</dd>
                                    <dt>"Billing group"</dt>
                                    <dd>{project.billing_group_name.clone()}</dd>
                                    <dt>"Default cloud"</dt>
                                    <dd>{project.default_cloud.clone()}</dd>
                                    <dt>"Your role"</dt>
                                    <dd>{page.role.to_string()}</dd>
                                </dl>
                                <ServicesTable
                                    services=page.services
                                    project_name=project.project_name.clone()
                                    can_power=page.role.allows(Role::Admin)
                                    power
                                />
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

#[component]
fn ServicesTable(
    services: Vec<ServiceSummary>,
    project_name: String,
    can_power: bool,
    power: ServerAction<PowerService>,
) -> impl IntoView {
    let power_error = Signal::derive(action_error(power));
    if services.is_empty() {
        return view! { <p class="muted">"This project has no services."</p> }.into_any();
    }
    view! {
        <section class="panel" aria-labelledby="services-heading">
            <h2 id="services-heading">"Services"</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Service"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Plan"</th>
                        <th scope="col">"Cloud"</th>
                        <th scope="col" class="num">"USD / hour"</th>
                        <th scope="col">"State"</th>
                        {can_power.then(|| view! { <th scope="col">"Power"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {services
                        .into_iter()
                        .map(|s| {
                            let project_name = project_name.clone();
                            let service_name = s.service_name.clone();
                            let state_label = s.state.label();
                            view! {
                                <tr>
                                    <td>{s.service_name}</td>
                                    <td>{s.service_type}</td>
                                    <td>{s.plan}</td>
                                    <td>{s.cloud_name}</td>
                                    <td class="num">{s.hourly_price_usd.to_string()}</td>
                                    <td>
                                        <span class=format!("state {}", s.state)>{state_label}</span>
                                    </td>
                                    {(can_power && s.state != ServiceState::Terminated)
                                        .then(|| {
                                            let running = s.state == ServiceState::Running;
                                            let (value, label) = if running {
                                                ("off", format!("Power off {service_name}"))
                                            } else {
                                                ("on", format!("Power on {service_name}"))
                                            };
                                            view! {
                                                <td>
                                                    <ActionForm action=power>
                                                        <input type="hidden" name="project_name" value=project_name.clone() />
                                                        <input type="hidden" name="service_name" value=service_name.clone() />
                                                        <input type="hidden" name="power" value=value />
                                                        <button type="submit" aria-label=label.clone() disabled=move || power.pending().get()>
                                                            {if running { "Power off" } else { "Power on" }}
                                                        </button>
                                                    </ActionForm>
                                                </td>
                                            }
                                        })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <FieldError error=power_error />
        </section>
    }
        .into_any()
}
