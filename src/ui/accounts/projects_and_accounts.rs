use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::accounts::list_accounts;
use crate::api::groups::CreateProject;
use crate::model::{AccountWithProjects, Role};
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

/// Every account the user belongs to, each with its projects and the billing
/// group each project is in.
#[component]
pub fn ProjectsAndAccountsPage() -> impl IntoView {
    // Bumped by any account's Create project form after it succeeds.
    let refresh = RwSignal::new(0u32);
    let accounts = Resource::new(move || refresh.get(), |_| list_accounts());
    view! {
        <Title text="Projects & accounts" />
        <AppLayout>
            <h1>"Projects & accounts"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Ok(accounts) if accounts.is_empty() => {
                            view! {
                                <p class="panel">
                                    "You are not a member of any account yet. Ask an account admin to invite you."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(accounts) => {
                            accounts
                                .into_iter()
                                .map(|account| view! { <AccountCard account=account refresh /> })
                                .collect_view()
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
fn AccountCard(account: AccountWithProjects, refresh: RwSignal<u32>) -> impl IntoView {
    let heading_id = format!("account-{}", account.account_id);
    let project_count = account.projects.len();
    let primary = account.primary_billing_group_id.clone();
    let create_form = account
        .role
        .allows(Role::Billing)
        .then(|| view! { <CreateProjectForm account=account.clone() refresh /> });
    view! {
        <section class="panel account" aria-labelledby=heading_id.clone()>
            <header class="account-header">
                <h2 id=heading_id.clone()>
                    <a href=app_url(format!("/account/{}/billing", account.account_id))>
                        {account.account_name.clone()}
                    </a>
                </h2>
                <span class="badge" title="Your role on this account">
                    {account.role.to_string()}
                </span>
                <span class="month-to-date" title="This month so far, before tax, all its billing groups">
                    {account.month_to_date_local.unwrap_or(account.month_to_date_usd).shown()}
                    " this month"
                </span>
                <span class="muted">
                    <span class="invoice-number account-id">{account.account_id.clone()}</span>
                    {format!(
                        " · {} project{} · {} billing group{}",
                        project_count,
                        if project_count == 1 { "" } else { "s" },
                        account.billing_group_count,
                        if account.billing_group_count == 1 { "" } else { "s" },
                    )}
                </span>
            </header>
            {if account.projects.is_empty() {
                view! { <p class="muted">"No projects in this account yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll" tabindex="0"><table>
                        <caption class="visually-hidden">
                            {format!("Projects of {}", account.account_name)}
                        </caption>
                        <thead>
                            <tr>
                                <th scope="col">"Project"</th>
                                <th scope="col">"Billing group"</th>
                                <th scope="col">"Cloud"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {account
                                .projects
                                .into_iter()
                                .map(|p| {
                                    let is_primary = p.billing_group_id == primary;
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=app_url(format!(
                                                    "/project/{}",
                                                    p.project_name,
                                                ))>{p.project_name.clone()}</a>
                                            </td>
                                            <td>
                                                {p.billing_group_name.clone()}
                                                {is_primary
                                                    .then(|| {
                                                        view! { <span class="badge primary">"Primary"</span> }
                                                    })}
                                            </td>
                                            <td>{p.default_cloud.clone()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table></div>
                }
                    .into_any()
            }}
            {create_form}
        </section>
    }
}

/// Create project: a name, and the billing group (the primary one unless
/// another is chosen).
#[component]
fn CreateProjectForm(account: AccountWithProjects, refresh: RwSignal<u32>) -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            refresh.update(|n| *n += 1);
        }
    });
    let error = Signal::derive(action_error(create));
    let name_id = format!("new-project-{}", account.account_id);
    let group_id = format!("new-project-group-{}", account.account_id);
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <details class="create-project">
            <summary>"Create project"</summary>
            <ActionForm action=create attr:class="inline-form">
                <input type="hidden" name="account_id" value=account.account_id.clone() />
                <label for=name_id.clone()>"Project name"</label>
                <input id=name_id name="project_name" maxlength="63" required pattern="[a-z][a-z0-9\\-]*" />
                <label for=group_id.clone()>"Billing group"</label>
                <select id=group_id name="billing_group_id">
                    {account
                        .billing_groups
                        .iter()
                        .map(|(id, name)| {
                            let primary = *id == account.primary_billing_group_id;
                            view! {
                                <option value=id.clone() selected=primary>
                                    {if primary { format!("{name} (primary)") } else { name.clone() }}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <button type="submit" disabled=move || create.pending().get()>
                    "Create project"
                </button>
            </ActionForm>
            <FieldError error field="project_name" />
            <FieldError error field="billing_group_id" />
            <FieldError error />
            {move || created().map(|name| view! { <p role="status">{format!("Project '{name}' created.")}</p> })}
        </details>
    }
}
