//! The layout of every tab of a billing group: name, accumulated costs and
//! the action menu (the header's own data), the tabs, and the active tab
//! (`<Outlet/>`, a child route with its own data).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

use super::header::GroupHeaderView;
use super::{group_id, GroupActions, TABS};
use crate::api::groups::get_group_header;
use crate::paths::app_url;
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

/// The active tab's URL segment, from the path (`overview` at the group's
/// own URL).
fn active_tab(path: &str, billing_group_id: &str) -> &'static str {
    let rest = path
        .split_once(&format!("/billing-group/{billing_group_id}"))
        .map(|(_, rest)| rest.trim_matches('/'))
        .unwrap_or_default();
    TABS.iter()
        .map(|(key, _)| *key)
        .find(|key| *key == rest)
        .unwrap_or("overview")
}

#[component]
pub fn BillingGroupLayout() -> impl IntoView {
    let id = group_id();
    let actions = GroupActions::new();
    provide_context(actions);
    let location = use_location();
    let header = Resource::new(
        {
            let id = id.clone();
            move || (id(), actions.versions())
        },
        |(id, _)| get_group_header(id),
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading billing group…"</p> }>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                        match header.await {
                            Ok(header) => {
                                let id = id();
                                let tab = active_tab(&location.pathname.get_untracked(), &id);
                                let label = TABS
                                    .iter()
                                    .find(|(key, _)| *key == tab)
                                    .map(|(_, label)| *label)
                                    .unwrap_or("Overview");
                                let title = format!("{} · {label}", header.group.billing_group_name);
                                let is_admin = header.role.allows(crate::model::Role::Admin);
                                view! {
                                    <Title text=title />
                                    <GroupHeaderView header rename=actions.rename />
                                    <TabsNav billing_group_id=id is_admin />
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <section class="tab-body">
                <Outlet />
            </section>
        </AppLayout>
    }
}

/// The tabs as links, the current one marked.
#[component]
fn TabsNav(billing_group_id: String, is_admin: bool) -> impl IntoView {
    let location = use_location();
    let id = billing_group_id.clone();
    let current = move || active_tab(&location.pathname.get(), &id);
    view! {
        <nav class="tabs" aria-label="Billing group">
            {TABS
                .iter()
                .filter(|(key, _)| is_admin || !super::ADMIN_TABS.contains(key))
                .map(|(key, label)| {
                    let href = if *key == "overview" {
                        app_url(format!("/billing-group/{billing_group_id}"))
                    } else {
                        app_url(format!("/billing-group/{billing_group_id}/{key}"))
                    };
                    let current = current.clone();
                    let key = *key;
                    view! {
                        <a href=href aria-current=move || (current() == key).then_some("page")>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::active_tab;

    #[test]
    fn the_active_tab_comes_from_the_path() {
        assert_eq!(active_tab("/billing-group/g1", "g1"), "overview");
        assert_eq!(
            active_tab("/billing/billing-group/g1/projects", "g1"),
            "projects"
        );
        assert_eq!(
            active_tab("/billing-group/g1/billing-information", "g1"),
            "billing-information"
        );
    }
}
