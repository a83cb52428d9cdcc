use leptos::prelude::*;

use super::overview_tab::ProjectCosts;
use super::page::GroupActions;
use crate::model::billing::GroupPage;
use crate::model::Role;
use crate::ui::forms::{action_error, FieldError};

/// The group's projects; assign others of the account; move one to another
/// group (offered only when the account has another group).
#[component]
pub fn ProjectsTab(page: GroupPage, actions: GroupActions) -> impl IntoView {
    let can_change = page.role.allows(Role::Billing) && page.group.state_active;
    let group_id = page.group.billing_group_id.clone();
    let move_error = Signal::derive(action_error(actions.move_project));
    let assign_error = Signal::derive(action_error(actions.assign));
    let other_groups = page.other_groups.clone();
    let movable = can_change && !other_groups.is_empty() && !page.projects.is_empty();
    view! {
        <section class="panel" aria-labelledby="projects-heading">
            <h2 id="projects-heading">"Projects in this billing group"</h2>
            <ProjectCosts page=page.clone() />
        </section>
        {movable
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="move-heading">
                        <h2 id="move-heading">"Move a project to another billing group"</h2>
                        <ActionForm action=actions.move_project attr:class="inline-form">
                            <label for="move-project">"Project to move"</label>
                            <select id="move-project" name="project_name">
                                {page
                                    .projects
                                    .iter()
                                    .map(|p| view! { <option>{p.project_name.clone()}</option> })
                                    .collect_view()}
                            </select>
                            <label for="move-target">"Move to"</label>
                            <select id="move-target" name="billing_group_id">
                                {other_groups
                                    .iter()
                                    .map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" disabled=move || actions.move_project.pending().get()>
                                "Move"
                            </button>
                        </ActionForm>
                        <FieldError error=move_error field="billing_group_id" />
                        <FieldError error=move_error />
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
                    </section>
                }
            })}
    }
}
