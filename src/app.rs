//! The router and the routes (the HTML shell around them is the
//! server's: `server/shell.rs`).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::ui::accounts::{
    AccountBillingPage, AccountInvoicesPage, AccountMembersPage, AccountSettingsPage,
    AccountWebhooksPage, AllAccountsPage, NewBillingGroupPage, ProjectsAndAccountsPage,
};
use crate::ui::auth::SignInPage;
use crate::ui::groups::billing_info_tab::BillingInfoTab;
use crate::ui::groups::credits_tab::CreditsTab;
use crate::ui::groups::deliveries_tab::DeliveriesTab;
use crate::ui::groups::events_tab::EventsTab;
use crate::ui::groups::invoices_tab::InvoicesTab;
use crate::ui::groups::overview_tab::OverviewTab;
use crate::ui::groups::page::BillingGroupLayout;
use crate::ui::groups::projects_tab::ProjectsTab;
use crate::ui::invoices::{CreditNotePage, InvoicePage};
use crate::ui::not_found::NotFound;
use crate::ui::profile::{ApiTokensPage, ProfilePage};
use crate::ui::projects::{CurrentProjectRedirect, ProjectPage};
use crate::ui::welcome::{InvitationPage, SetupPage};

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this flips once hydration is done, so
    // end-to-end tests (and curious people) can tell a live page from SSR.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    crate::ui::layout::close_menus_like_menus();

    // Every page resolves its data before the first byte is sent (Async),
    // so pages are complete without JavaScript and can set their status.
    // Served at a sub-path, the router strips the base before matching and
    // keeps it on every navigation.
    let base = crate::paths::base();
    view! {
        <Title formatter=crate::ui::raw_text::page_title />
        <div id="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <Router base=base.to_string()>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                    <Route path=path!("/invitation") view=InvitationPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/accounts") view=AllAccountsPage ssr=SsrMode::Async />
                    <Route path=path!("/") view=CurrentProjectRedirect ssr=SsrMode::Async />
                    <Route path=path!("/projects") view=ProjectsAndAccountsPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/account/:account_id/billing")
                        view=AccountBillingPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/:account_id/invoices")
                        view=AccountInvoicesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/:account_id/new-billing-group")
                        view=NewBillingGroupPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/:account_id/members")
                        view=AccountMembersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/:account_id/settings")
                        view=AccountSettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/:account_id/webhooks")
                        view=AccountWebhooksPage
                        ssr=SsrMode::Async
                    />
                    <ParentRoute
                        path=path!("/billing-group/:billing_group_id")
                        view=BillingGroupLayout
                        ssr=SsrMode::Async
                    >
                        <Route path=path!("") view=OverviewTab ssr=SsrMode::Async />
                        <Route path=path!("projects") view=ProjectsTab ssr=SsrMode::Async />
                        <Route path=path!("invoices") view=InvoicesTab ssr=SsrMode::Async />
                        <Route path=path!("credits") view=CreditsTab ssr=SsrMode::Async />
                        <Route path=path!("events") view=EventsTab ssr=SsrMode::Async />
                        <Route
                            path=path!("billing-information")
                            view=BillingInfoTab
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("deliveries") view=DeliveriesTab ssr=SsrMode::Async />
                    </ParentRoute>
                    <Route
                        path=path!("/billing-group/:billing_group_id/invoices/:invoice_number")
                        view=InvoicePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/billing-group/:billing_group_id/credit-notes/:credit_note_number")
                        view=CreditNotePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/profile/tokens") view=ApiTokensPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/project/:project_name")
                        view=ProjectPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Router>
        </div>
    }
}
