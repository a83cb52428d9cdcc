use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use crate::api::accounts::{menu_projects, project_details};
use crate::model::ServiceSummary;
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
                    Some(name) => format!("/project/{name}"),
                    None => "/projects".to_string(),
                };
                view! { <Redirect path=path /> }
            })}
        </Suspense>
    }
}

/// One project: its account, billing group and services.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("project_name").unwrap_or_default();
    let page = Resource::new(name, project_details);
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
                                <ServicesTable services=page.services />
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
fn ServicesTable(services: Vec<ServiceSummary>) -> impl IntoView {
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
                    </tr>
                </thead>
                <tbody>
                    {services
                        .into_iter()
                        .map(|s| {
                            let state_label = match s.state.as_str() {
                                "running" => "Running",
                                "powered_off" => "Powered off",
                                "terminated" => "Terminated",
                                _ => "Not started",
                            };
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
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
        .into_any()
}
