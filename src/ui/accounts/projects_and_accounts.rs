use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::accounts::list_accounts;
use crate::model::AccountWithProjects;
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

/// Every account the user belongs to, each with its projects and the billing
/// group each project is in.
#[component]
pub fn ProjectsAndAccountsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| list_accounts());
    view! {
        <Title text="Projects & accounts" />
        <AppLayout>
            <h1>"Projects & accounts"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {Suspend::new(async move {
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
                                .map(|account| view! { <AccountCard account=account /> })
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
fn AccountCard(account: AccountWithProjects) -> impl IntoView {
    let heading_id = format!("account-{}", account.account_id);
    let project_count = account.projects.len();
    let primary = account.primary_billing_group_id.clone();
    view! {
        <section class="panel account" aria-labelledby=heading_id.clone()>
            <header class="account-header">
                <h2 id=heading_id.clone()>{account.account_name.clone()}</h2>
                <span class="badge" title="Your role on this account">
                    {account.role.to_string()}
                </span>
                <span class="muted">
                    {format!(
                        "{} · {} project{} · {} billing group{}",
                        account.account_id,
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
                    <table>
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
                                                <a href=format!(
                                                    "/project/{}",
                                                    p.project_name,
                                                )>{p.project_name.clone()}</a>
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
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}
