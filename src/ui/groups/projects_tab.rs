use leptos::prelude::*;
use rust_decimal::Decimal;

use super::{group_id, GroupActions, ProjectCosts, TabError};
use crate::api::groups::get_group_projects;
use crate::model::billing::GroupProjects;
use crate::model::money::Money;
use crate::ui::forms::{action_error, ActionForm, FieldError};

/// The Projects tab's route: its data, then [`ProjectsView`].
#[component]
pub fn ProjectsTab() -> impl IntoView {
    let id = group_id();
    let actions = GroupActions::of_layout();
    let data = Resource::new(
        move || (id(), actions.versions()),
        |(id, _)| get_group_projects(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
            {move || {
                Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <ProjectsView page actions /> }.into_any(),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// USD that the services running now cost over `hours`, as the preview says it.
fn projected(run_rate_usd: Decimal, hours: i64) -> Money {
    Money::usd(run_rate_usd * Decimal::from(hours))
}

/// The group's projects; assign others of the account; move one to another
/// group (offered only when the account has another group).
#[component]
fn ProjectsView(page: GroupProjects, actions: GroupActions) -> impl IntoView {
    let can_change = page.can_change;
    let group_id = page.billing_group_id.clone();
    let move_error = Signal::derive(action_error(actions.move_project));
    let assign_error = Signal::derive(action_error(actions.assign));
    let other_groups = page.other_groups.clone();
    let movable =
        can_change && !other_groups.is_empty() && page.projects.iter().any(|p| !p.moved_out);
    // The move preview follows the two selects once the page is live.
    let selected_project = RwSignal::new(
        page.projects
            .iter()
            .find(|p| !p.moved_out)
            .map(|p| p.project_name.clone())
            .unwrap_or_default(),
    );
    let selected_target = RwSignal::new(
        other_groups
            .first()
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
    );
    let group_name = page.billing_group_name.clone();
    let hours_left = page.hours_to_month_end;
    let preview_projects = page.projects.clone();
    let preview_group = group_name.clone();
    let preview = move || {
        let project = selected_project.get();
        let p = preview_projects
            .iter()
            .find(|p| p.project_name == project)?;
        let projected = projected(p.run_rate_usd, hours_left).grouped();
        let target = selected_target.get();
        let mut text = format!(
            "{} USD charged to {} so far this month stays on {}. About {} USD more (the services running now, {} USD/h for {} hours) would go to {} by month end.",
            p.cost_usd.grouped(),
            project,
            preview_group,
            projected,
            p.run_rate_usd.normalize(),
            hours_left,
            target,
        );
        if !p.credits_usd.amount.is_zero() {
            text.push_str(&format!(
                " {}'s credits are expected to pay {} USD of what stays; from the move on, {}'s credits pay for it.",
                preview_group,
                p.credits_usd.grouped(),
                target
            ));
        }
        if !p.earmarked_usd.amount.is_zero() {
            text.push_str(&format!(
                " Credits earmarked for {} ({} USD left) stay with {} and stop paying for it after the move.",
                project,
                p.earmarked_usd.grouped(),
                preview_group
            ));
        }
        Some(text)
    };
    let target_names = other_groups.clone();
    let preview_rows: Vec<_> = page
        .projects
        .iter()
        .filter(|p| !p.moved_out)
        .cloned()
        .collect();
    // What stays, in the group's own currency too (when it is not USD).
    let local_header = page
        .projects
        .iter()
        .find_map(|p| p.cost_local.as_ref())
        .map(|m| format!("So far this month ({})", m.currency));
    view! {
        <section class="panel" aria-labelledby="projects-heading">
            <h2 id="projects-heading">"Projects in this billing group"</h2>
            <ProjectCosts projects=page.projects.clone() />
        </section>
        {movable
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="move-heading">
                        <h2 id="move-heading">"Move a project to another billing group"</h2>
                        <ActionForm action=actions.move_project attr:class="stack move-form">
                            <div class="inline-form">
                                <label for="move-project">"Project to move"</label>
                                <select
                                    id="move-project"
                                    name="project_name"
                                    on:change=move |ev| selected_project.set(event_target_value(&ev))
                                >
                                    {page
                                        .projects
                                        .iter()
                                        .filter(|p| !p.moved_out)
                                        .map(|p| view! { <option>{p.project_name.clone()}</option> })
                                        .collect_view()}
                                </select>
                                <label for="move-target">"Move to"</label>
                                <select
                                    id="move-target"
                                    name="billing_group_id"
                                    on:change=move |ev| {
                                        let id = event_target_value(&ev);
                                        if let Some((_, name)) = target_names.iter().find(|(g, _)| *g == id) {
                                            selected_target.set(name.clone());
                                        }
                                    }
                                >
                                    {other_groups
                                        .iter()
                                        .map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> })
                                        .collect_view()}
                                </select>
                            </div>
                            <h3>"Move preview"</h3>
                            <p class="move-summary" aria-live="polite">{preview.clone()}</p>
                            <div class="table-scroll" tabindex="0"><table class="move-preview cards" aria-label="Move preview" aria-describedby="move-legend">
                                <thead>
                                    <tr>
                                        <th scope="col">"Project"</th>
                                        {local_header.clone().map(|h| view! { <th scope="col" class="num">{h}</th> })}
                                        <th scope="col" class="num">"So far this month (USD)"</th>
                                        <th scope="col" class="num">"Paid by credits (USD)"</th>
                                        <th scope="col" class="num">"Rest of month, estimated (USD)"</th>
                                        <th scope="col" class="num">"Earmarked credits (USD)"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {preview_rows
                                        .iter()
                                        .map(|p| {
                                            let local = local_header.clone().map(|label| {
                                                let amount = p.cost_local.as_ref().map(|m| m.grouped()).unwrap_or_default();
                                                view! { <td class="num" data-label=label>{amount}</td> }
                                            });
                                            view! {
                                                <tr>
                                                    <td class="card-text">{p.project_name.clone()}</td>
                                                    {local}
                                                    <td class="num" data-label="So far this month (USD)">{p.cost_usd.grouped()}</td>
                                                    <td class="num" data-label="Paid by credits (USD)">{p.credits_usd.grouped()}</td>
                                                    <td class="num" data-label="Rest of month, estimated (USD)">
                                                        {projected(p.run_rate_usd, hours_left).grouped()}
                                                    </td>
                                                    <td class="num" data-label="Earmarked credits (USD)">{p.earmarked_usd.grouped()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table></div>
                            <p class="muted" id="move-legend">
                                {format!("What a project was charged so far this month stays on {group_name}, and so do the credits that pay for it and the credits earmarked for it. From the move on, its new hours are charged to the group it moves to: the estimate is the rest of the month at the rate of the services running now.")}
                            </p>
                            <label class="choice">
                                <input type="checkbox" id="move-confirm" required />
                                <span>"I have read the preview: move the project now"</span>
                            </label>
                            <button type="submit" class="move-submit" disabled=move || actions.move_project.pending().get()>
                                "Move"
                            </button>
                        </ActionForm>
                        <FieldError error=move_error field="billing_group_id" />
                        <FieldError error=move_error />
                        {move || {
                            matches!(actions.move_project.value().get(), Some(Ok(())))
                                .then(|| view! { <p class="success" role="status">"Project moved. Both groups' event logs record it."</p> })
                        }}
                    </section>
                }
            })}
        {(can_change && page.other_groups.is_empty())
            .then(|| {
                view! {
                    <p class="muted">
                        "Moving projects between billing groups is offered when the account has more than one billing group."
                    </p>
                }
            })}
        {can_change
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="assign-heading">
                        <h2 id="assign-heading">"Assign projects"</h2>
                        {if page.assignable_projects.is_empty() {
                            view! { <p class="muted">"Every project of this account is already in this billing group."</p> }
                                .into_any()
                        } else {
                            view! {
                                <ActionForm action=actions.assign attr:class="stack">
                                    <input type="hidden" name="billing_group_id" value=group_id.clone() />
                                    <label for="assign-projects">"Projects of this account in other billing groups"</label>
                                    <select id="assign-projects" name="projects_names[]" multiple size="6">
                                        {page
                                            .assignable_projects
                                            .iter()
                                            .map(|(project, group)| {
                                                view! {
                                                    <option value=project.clone()>
                                                        {format!("{project} (in {group})")}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <button type="submit" disabled=move || actions.assign.pending().get()>
                                        "Assign projects"
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }}
                        <FieldError error=assign_error field="projects_names" />
                        <FieldError error=assign_error />
                        {move || {
                            actions
                                .assign
                                .value()
                                .get()
                                .and_then(Result::ok)
                                .map(|n| {
                                    let text = match n {
                                        1 => "1 project assigned to this group.".to_string(),
                                        n => format!("{n} projects assigned to this group."),
                                    };
                                    view! { <p class="success" role="status">{text}</p> }
                                })
                        }}
                    </section>
                }
            })}
    }
}
