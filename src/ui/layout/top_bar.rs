use leptos::prelude::*;

use crate::api::accounts::menu_projects;
use crate::api::auth::{whoami, SignOut};
use crate::paths::app_url;
use crate::ui::forms::ActionForm;

/// How many projects the top bar's menu lists.
const MENU_PROJECTS: usize = 15;

/// Top bar and page body. `current_project` is the project the page is
/// about, if any; otherwise the bar shows the first project the user has.
#[component]
pub fn AppLayout(
    #[prop(optional, into)] current_project: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <TopBar current_project=current_project />
        <main class="page">{children()}</main>
    }
}

#[component]
pub fn TopBar(current_project: Option<String>) -> impl IntoView {
    let menu = Resource::new(|| (), |_| menu_projects(MENU_PROJECTS));
    let user = Resource::new(|| (), |_| whoami());
    let sign_out = ServerAction::<SignOut>::new();

    view! {
        <header class="top-bar">
            <a class="brand" href=app_url("/projects")>
                "Billing console"
            </a>
            <Suspense fallback=|| view! { <span class="muted">"Loading…"</span> }>
                {
                    let current_project = current_project.clone();
                    Suspend::new(async move {
                        // The menu offers the first few; the full list is a click away.
                        let (names, more) = menu.await.unwrap_or_default();
                        let current = current_project.or_else(|| names.first().cloned());
                        let label = match &current {
                            Some(name) => format!("Project: {name}"),
                            None => "No project yet".to_string(),
                        };
                        view! {
                            <details class="menu project-menu">
                                <summary aria-label=format!("{label}, current project menu")>{label.clone()}</summary>
                                <nav class="menu-items" aria-label="Projects">
                                    <a class="menu-primary" href=app_url("/projects")>
                                        "See all projects & accounts"
                                    </a>
                                    <ul>
                                        {names
                                            .into_iter()
                                            .map(|name| {
                                                let is_current = current.as_deref() == Some(name.as_str());
                                                view! {
                                                    <li>
                                                        <a
                                                            href=app_url(format!("/project/{name}"))
                                                            aria-current=is_current.then_some("page")
                                                        >
                                                            {name.clone()}
                                                        </a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                    {(more > 0)
                                        .then(|| {
                                            view! {
                                                <p class="muted">{format!("and {more} more on the projects & accounts page")}</p>
                                            }
                                        })}
                                </nav>
                            </details>
                        }
                    })
                }
            </Suspense>
            <span class="spacer"></span>
            <Suspense fallback=|| ()>
                {Suspend::new(async move {
                    user.await
                        .ok()
                        .flatten()
                        .map(|u| {
                            view! {
                                <details class="menu user-menu">
                                    <summary aria-label=format!("{}, user menu", u.email)>{u.email.clone()}</summary>
                                    <div class="menu-items">
                                        <p class="muted">{u.real_name.clone()}</p>
                                        <a href=app_url("/profile")>"Profile"</a>
                                        <a href=app_url("/profile/tokens")>"API tokens"</a>
                                        {u
                                            .is_operator
                                            .then(|| view! { <a href=app_url("/admin/accounts")>"All accounts"</a> })}
                                        <ActionForm action=sign_out>
                                            <button type="submit">"Sign out"</button>
                                        </ActionForm>
                                    </div>
                                </details>
                            }
                        })
                })}
            </Suspense>
        </header>
    }
}
