use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::billing_info_tab::BillingInfoTab;
use super::credits_tab::CreditsTab;
use super::events_tab::EventsTab;
use super::header::GroupHeader;
use super::invoices_tab::InvoicesTab;
use super::overview_tab::OverviewTab;
use super::projects_tab::ProjectsTab;
use super::TABS;
use crate::api::billing_info::SaveBillingInfo;
use crate::api::groups::{get_group_page, AssignProjects, MoveProject, RenameBillingGroup};
use crate::model::billing::GroupPage;
use crate::paths::app_url;
use crate::ui::layout::AppLayout;
use crate::ui::not_found::NotFound;
use crate::ui::ErrorPanel;

/// Actions whose success changes what the page shows.
#[derive(Clone, Copy)]
pub struct GroupActions {
    pub rename: ServerAction<RenameBillingGroup>,
    pub move_project: ServerAction<MoveProject>,
    pub assign: ServerAction<AssignProjects>,
    pub save_info: ServerAction<SaveBillingInfo>,
}

#[component]
pub fn BillingGroupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("billing_group_id").unwrap_or_default();
    let tab = move || {
        params
            .read()
            .get("tab")
            .unwrap_or_else(|| "overview".to_string())
    };
    let actions = GroupActions {
        rename: ServerAction::new(),
        move_project: ServerAction::new(),
        assign: ServerAction::new(),
        save_info: ServerAction::new(),
    };
    let page = Resource::new(
        move || {
            (
                id(),
                tab(),
                actions.rename.version().get(),
                actions.move_project.version().get(),
                actions.assign.version().get(),
                actions.save_info.version().get(),
            )
        },
        // The tab travels with the data, so a tab switch re-renders with it.
        |(id, tab, ..)| async move {
            let page = get_group_page(id, tab.clone()).await;
            (tab, page)
        },
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading billing group…"</p> }>
                {move || Suspend::new(async move {
                    let (tab, page) = page.await;
                    if !TABS.iter().any(|(key, _)| *key == tab) {
                        return view! { <NotFound /> }.into_any();
                    }
                    match page {
                        Ok(page) => view! { <GroupView page tab actions /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn GroupView(page: GroupPage, tab: String, actions: GroupActions) -> impl IntoView {
    let id = page.group.billing_group_id.clone();
    let label = TABS
        .iter()
        .find(|(key, _)| *key == tab)
        .map(|(_, l)| *l)
        .unwrap_or("Overview");
    let title = format!("{} · {label}", page.group.billing_group_name);
    let body = match tab.as_str() {
        "projects" => view! { <ProjectsTab page=page.clone() actions /> }.into_any(),
        "invoices" => view! { <InvoicesTab billing_group_id=id.clone() /> }.into_any(),
        "credits" => view! { <CreditsTab billing_group_id=id.clone() /> }.into_any(),
        "events" => view! { <EventsTab billing_group_id=id.clone() /> }.into_any(),
        "billing-information" => {
            view! { <BillingInfoTab page=page.clone() action=actions.save_info /> }.into_any()
        }
        _ => view! { <OverviewTab page=page.clone() /> }.into_any(),
    };
    view! {
        <Title text=title />
        <GroupHeader page=page.clone() rename=actions.rename />
        <nav class="tabs" aria-label="Billing group">
            {TABS
                .iter()
                .map(|(key, label)| {
                    let href = if *key == "overview" {
                        app_url(format!("/billing-group/{id}"))
                    } else {
                        app_url(format!("/billing-group/{id}/{key}"))
                    };
                    view! {
                        <a href=href aria-current=(*key == tab).then_some("page")>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <section class="tab-body">{body}</section>
    }
}
