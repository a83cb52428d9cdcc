use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::TabError;
use crate::api::groups::group_events;
use crate::model::states::event_type_label;
use crate::paths::app_url;

/// The group's log, newest first: a filter that works as a plain GET form,
/// pages by keyset ("Older events"), and a CSV download of the filtered log.
#[component]
pub fn EventsTab() -> impl IntoView {
    let billing_group_id = super::group_id()();
    let query = use_query_map();
    let param = move |key: &str| query.read().get(key).filter(|v| !v.is_empty());
    let id = billing_group_id.clone();
    let events = Resource::new(
        move || {
            (
                id.clone(),
                param("before").and_then(|b| b.parse::<i64>().ok()),
                param("type"),
                param("project"),
            )
        },
        |(id, before, event_type, project)| group_events(id, before, event_type, project),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || {
                let billing_group_id = billing_group_id.clone();
                Suspend::new(async move {
                    let selected_type = param("type").unwrap_or_default();
                    let selected_project = param("project").unwrap_or_default();
                    match events.await {
                        Ok(page) => {
                            let base = app_url(format!("/billing-group/{billing_group_id}/events"));
                            let filter_query = format!(
                                "type={}&project={}",
                                selected_type,
                                selected_project,
                            );
                            let older = page
                                .next_before
                                .map(|before| format!("{base}?{filter_query}&before={before}"));
                            let csv = app_url(format!("/billing-group/{billing_group_id}/events.csv?{filter_query}"));
                            view! {
                                <form method="get" action=base.clone() class="inline-form" aria-label="Filter events">
                                    <label for="event-type">"Event type"</label>
                                    <select id="event-type" name="type">
                                        <option value="">"All types"</option>
                                        {page
                                            .event_types
                                            .iter()
                                            .map(|t| {
                                                view! {
                                                    <option value=t.clone() selected=*t == selected_type>
                                                        {event_type_label(t)}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <label for="event-project">"Project"</label>
                                    <select id="event-project" name="project">
                                        <option value="">"All projects"</option>
                                        {page
                                            .project_names
                                            .iter()
                                            .map(|p| {
                                                view! {
                                                    <option value=p.clone() selected=*p == selected_project>
                                                        {p.clone()}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <button type="submit">"Filter"</button>
                                    <a class="button-link" href=csv rel="external" download>
                                        "Download CSV"
                                    </a>
                                </form>
                                {if page.events.is_empty() {
                                    view! { <p class="muted">"No events match."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-scroll" tabindex="0"><table aria-label="Events" class="cards">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Time (UTC)"</th>
                                                    <th scope="col">"Type"</th>
                                                    <th scope="col">"Description"</th>
                                                    <th scope="col">"Project"</th>
                                                    <th scope="col">"Actor"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {page
                                                    .events
                                                    .into_iter()
                                                    .map(|e| {
                                                        view! {
                                                            <tr>
                                                                <td class="nowrap" data-label="Time (UTC)">
                                                                    <time datetime=e
                                                                        .create_time
                                                                        .to_rfc3339()>
                                                                        {e.create_time.format("%Y-%m-%d %H:%M").to_string()}
                                                                    </time>
                                                                </td>
                                                                <td data-label="Type">{event_type_label(&e.event_type)}</td>
                                                                <td class="card-text" data-label="Description">
                                                                    {e.event_desc.clone()}
                                                                    {e
                                                                        .details
                                                                        .clone()
                                                                        .map(|d| {
                                                                            view! {
                                                                                <details class="event-details">
                                                                                    <summary>"Before and after"</summary>
                                                                                    <pre>{d}</pre>
                                                                                </details>
                                                                            }
                                                                        })}
                                                                </td>
                                                                <td data-label=e.project_name.is_some().then_some("Project")>
                                                                    {e.project_name.clone().unwrap_or_default()}
                                                                </td>
                                                                <td data-label="Actor">{e.actor.clone()}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table></div>
                                    }
                                        .into_any()
                                }}
                                {older.map(|href| view! { <a href=href>"Older events"</a> })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
