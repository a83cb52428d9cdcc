use leptos::prelude::*;

use crate::api::groups::{DeleteBillingGroup, RenameBillingGroup};
use crate::model::billing::GroupHeader;
use crate::model::Role;
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError};

/// Name, accumulated costs (top right) and the action menu.
#[component]
pub fn GroupHeaderView(
    header: GroupHeader,
    rename: ServerAction<RenameBillingGroup>,
) -> impl IntoView {
    let page = header;
    let delete = ServerAction::<DeleteBillingGroup>::new();
    let group = page.group.clone();
    let can_change = page.role.allows(Role::Billing) && group.is_active();
    let rename_error = Signal::derive(action_error(rename));
    let delete_error = Signal::derive(action_error(delete));
    // The menu closes once its action has done its work.
    let menu = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = rename.value().get() {
            if let Some(menu) = menu.get() {
                menu.set_open(false);
            }
        }
    });
    let projects_href = app_url(format!(
        "/billing-group/{}/projects",
        group.billing_group_id
    ));
    // Why deleting is refused, if it is: the page knows, the server checks again.
    let refusal = if page.is_primary {
        Some(view! {
            <p>
                "This is the account's primary billing group, so it cannot be deleted. Choose another primary group in the "
                <a href=app_url(format!("/account/{}/settings", group.account_id))>"account's Settings"</a> " first."
            </p>
        }
        .into_any())
    } else if page.project_count > 0 {
        let count = page.project_count;
        Some(view! {
            <p>
                {format!(
                    "This billing group has {count} project{} assigned, so it cannot be deleted. Move them to another group on the ",
                    if count == 1 { "" } else { "s" },
                )} <a href=projects_href.clone()>"Projects tab"</a> " first."
            </p>
        }
        .into_any())
    } else {
        None
    };
    let (delete_id, delete_name) = (
        group.billing_group_id.clone(),
        group.billing_group_name.clone(),
    );
    let local = page
        .costs
        .local
        .as_ref()
        .map(|m| m.shown())
        .unwrap_or_else(|| "exchange rate missing".into());
    view! {
        <header class="group-header">
            <div class="group-title">
                <p class="muted">
                    <a href=app_url(format!("/account/{}/billing", group.account_id))>{page.account_name.clone()}</a>
                    " / Billing groups"
                </p>
                <h1>
                    {group.billing_group_name.clone()}
                    {page.is_primary.then(|| view! { <span class="badge primary">"Primary"</span> })}
                    {(!group.is_active()).then(|| view! { <span class="badge deleted">"Deleted"</span> })}
                </h1>
                {move || {
                    matches!(rename.value().get(), Some(Ok(())))
                        .then(|| view! { <p class="success" role="status">"Billing group renamed; its events log the old and new name."</p> })
                }}
            </div>
            <div class="costs" role="group" aria-label="Accumulated costs">
                <span class="muted">"Accumulated costs"</span>
                <strong>{local}</strong>
                <span class="muted">{page.costs.usd.shown()} " · this month, before tax"</span>
            </div>
            {can_change.then(move || view! {
                <details class="menu action-menu" node_ref=menu>
                    <summary aria-label="Billing group actions">"Actions"</summary>
                    <div class="menu-items">
                        <ActionForm action=rename attr:class="stack" attr:aria-label="Rename">
                            <input type="hidden" name="billing_group_id" value=group.billing_group_id.clone() />
                            <label for="rename-name">"New name"</label>
                            <input
                                id="rename-name"
                                name="billing_group_name"
                                value=group.billing_group_name.clone()
                                maxlength="128"
                                required
                            />
                            <FieldError error=rename_error field="billing_group_name" />
                            <FieldError error=rename_error />
                            <button type="submit" disabled=move || rename.pending().get()>
                                "Rename"
                            </button>
                        </ActionForm>
                        <hr />
                        <details class="delete">
                            <summary>"Delete"</summary>
                            {match refusal {
                                Some(reason) => view! { <div role="note" class="refusal">{reason}</div> }.into_any(),
                                None => {
                                    view! {
                                        <ActionForm action=delete attr:class="stack">
                                            <input type="hidden" name="billing_group_id" value=delete_id />
                                            <p>
                                                {format!(
                                                    "Delete billing group '{delete_name}'? Its invoices and events stay readable.",
                                                )}
                                            </p>
                                            <button
                                                type="submit"
                                                class="danger"
                                                disabled=move || delete.pending().get()
                                            >
                                                {format!("Delete '{delete_name}'")}
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                            }}
                            <FieldError error=delete_error />
                        </details>
                    </div>
                </details>
            })}
        </header>
    }
}
