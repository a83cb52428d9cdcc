//! The guided **Create billing group** flow: name → billing details →
//! projects → summary → create. Each step is a plain POST form carrying
//! the other answers in hidden fields; the server keeps them as a draft and
//! the next step's URL names the draft (never an answer); the summary posts
//! them all at once.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::account_page::account_id;
use crate::api::new_group::{get_new_group_page, CreateBillingGroupGuided, NewGroupStep};
use crate::model::new_group::{NewGroupDraft, NewGroupPage, DETAIL_FIELDS, STEPS};
use crate::model::states::PaymentMethod;
use crate::paths::app_url;
use crate::ui::forms::{
    action_error, ActionForm, AllMessages, BillingDetailsFieldset, DetailValues, FieldError,
};
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

#[component]
pub fn NewBillingGroupPage() -> impl IntoView {
    let id = account_id();
    let query = use_query_map();
    let draft_id = move || query.read().get("draft").unwrap_or_default();
    let step = move || {
        query
            .read()
            .get("step")
            .and_then(|s| s.parse::<u8>().ok())
            .unwrap_or(1)
    };
    let data = Resource::new(
        move || (id(), draft_id(), step()),
        |(id, draft_id, step)| get_new_group_page(id, draft_id, step),
    );
    let create = ServerAction::<CreateBillingGroupGuided>::new();
    view! {
        <Title text="Create billing group" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    Suspend::new(async move {
                        match data.await {
                            Ok(page) => view! { <Flow page create /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </AppLayout>
    }
}

/// Hidden inputs with the answers other steps gave.
fn hidden_answers(
    draft: &NewGroupDraft,
    except: &[&str],
    projects_name: Option<&'static str>,
) -> impl IntoView {
    let fields = draft
        .hidden_fields(except)
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();
    let projects = projects_name.map(|name| {
        draft
            .projects
            .iter()
            .map(|p| view! { <input type="hidden" name=name value=p.clone() /> })
            .collect_view()
    });
    view! { {fields} {projects} }
}

#[component]
fn Flow(page: NewGroupPage, create: ServerAction<CreateBillingGroupGuided>) -> impl IntoView {
    let draft = page.draft.clone();
    let here = app_url(format!("/account/{}/new-billing-group", page.account_id));
    // Each step posts here; the answer is a redirect to the next step.
    let post_to = app_url(<NewGroupStep as ServerFn>::url());
    let account_id = page.account_id.clone();
    let account_field =
        move || view! { <input type="hidden" name="account_id" value=account_id.clone() /> };
    let billing = app_url(format!("/account/{}/billing", page.account_id));
    let step = page.step;
    let page_error = page.error.clone();
    // A new group bills, unless told otherwise, in the account's currency
    // (its primary group's), not USD.
    let detail_values = {
        let mut values = DetailValues::of_draft(&draft);
        if values.billing_currency.trim().is_empty() {
            values.billing_currency = page.default_currency.code().to_string();
        }
        values
    };
    let error = Signal::derive(move || page_error.clone());
    let steps = STEPS
        .iter()
        .map(|(n, label)| {
            view! { <li aria-current=(*n == step).then_some("step")>{*label}</li> }
        })
        .collect_view();
    let link = {
        let here = here.clone();
        let draft_id = page.draft_id.clone();
        move |to: u8| match draft_id.as_str() {
            "" => format!("{here}?step={to}"),
            id => format!("{here}?draft={id}&step={to}"),
        }
    };
    let body = match step {
        1 => view! {
            <form method="post" action=post_to.clone() class="wizard" aria-label="Name">
                {account_field()}
                {hidden_answers(&draft, &["billing_group_name"], Some("projects[]"))}
                <label for="new-group-name">"Billing group name"</label>
                <input id="new-group-name" name="billing_group_name" maxlength="128" required value=draft.billing_group_name.clone() />
                <FieldError error field="billing_group_name" />
                <div class="wizard-actions">
                    <a href=billing.clone()>"Cancel"</a>
                    <button type="submit" name="step" value="2">"Next: billing details"</button>
                </div>
            </form>
        }
        .into_any(),
        2 => {
            let payment = match draft.payment_method.as_str() {
                "" => PaymentMethod::NoPaymentExpected.as_str().to_string(),
                other => other.to_string(),
            };
            let method = |value: &'static str, label: &'static str| {
                view! {
                    <label class="choice">
                        <input type="radio" name="payment_method" value=value checked=payment == value />
                        {label}
                    </label>
                }
            };
            view! {
                <form method="post" action=post_to.clone() class="wizard billing-info" aria-label="Billing details">
                    {account_field()}
                    {hidden_answers(&draft, &DETAIL_FIELDS, Some("projects[]"))}
                    <label for="copy_from">"Copy billing details from"</label>
                    <select id="copy_from" name="copy_from">
                        <option value="">"Don't copy: fill them in below"</option>
                        {page
                            .groups
                            .iter()
                            .map(|(id, name)| view! { <option value=id.clone() selected=draft.copy_from == *id>{name.clone()}</option> })
                            .collect_view()}
                    </select>
                    <p class="muted">"A copy takes the other group's details and payment method (a card stays with its group: pay by invoice instead); the fields below are then ignored."</p>
                    <FieldError error field="copy_from" />
                    <fieldset>
                        <legend>"Payment method"</legend>
                        {method("no_payment_expected", "No payment expected")}
                        {method("email", "Pay by invoice (sent to the billing emails)")}
                        <p class="muted">"A card is added on the group's Billing information tab once it exists."</p>
                        <FieldError error field="payment_method" />
                    </fieldset>
                    <BillingDetailsFieldset values=detail_values.clone() error editable=true />
                    <div class="wizard-actions">
                        <a href=link(1)>"Back"</a>
                        <button type="submit" name="step" value="3">"Next: projects"</button>
                    </div>
                </form>
            }
            .into_any()
        }
        3 => {
            let choices = if page.projects.is_empty() {
                view! { <p class="muted">"This account has no projects yet."</p> }.into_any()
            } else {
                page.projects
                    .iter()
                    .map(|(name, group)| {
                        view! {
                            <label class="choice">
                                <input type="checkbox" name="projects[]" value=name.clone() checked=draft.projects.contains(name) />
                                {format!("{name} (now in {group})")}
                            </label>
                        }
                    })
                    .collect_view()
                    .into_any()
            };
            view! {
                <form method="post" action=post_to.clone() class="wizard" aria-label="Projects">
                    {account_field()}
                    {hidden_answers(&draft, &[], None)}
                    <fieldset>
                        <legend>"Projects to move into the new group (optional)"</legend>
                        <p class="muted">"From the moment of the move, a project's costs go to the new group; what it cost before stays where it was."</p>
                        {choices}
                    </fieldset>
                    <FieldError error field="projects" />
                    <div class="wizard-actions">
                        <a href=link(2)>"Back"</a>
                        <button type="submit" name="step" value="4">"Next: summary"</button>
                    </div>
                </form>
            }
            .into_any()
        }
        _ => view! { <Summary page=page.clone() draft=draft.clone() create edit=link.clone() /> }.into_any(),
    };
    view! {
        <p class="breadcrumb">
            <a href=billing.clone()>{format!("← {} · Billing", page.account_name)}</a>
        </p>
        <h1>"Create billing group"</h1>
        <ol class="steps" aria-label="Steps">{steps}</ol>
        <FieldError error />
        <section class="panel">{body}</section>
    }
}

#[component]
fn Summary(
    page: NewGroupPage,
    draft: NewGroupDraft,
    create: ServerAction<CreateBillingGroupGuided>,
    edit: impl Fn(u8) -> String + 'static,
) -> impl IntoView {
    let error = Signal::derive(action_error(create));
    let details = match page.groups.iter().find(|(id, _)| *id == draft.copy_from) {
        Some((_, name)) => format!("Copied from {name}"),
        None => {
            let place = [
                draft.company.as_str(),
                draft.city.as_str(),
                draft.country_code.as_str(),
            ]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ");
            let method = match PaymentMethod::parse(draft.payment_method.trim()) {
                Some(PaymentMethod::Email) => "pay by invoice",
                _ => "no payment expected",
            };
            let currency = match draft.billing_currency.trim() {
                "" => page.default_currency.code(),
                code => code,
            };
            match place.is_empty() {
                true => format!("{currency}, {method}; no address yet"),
                false => format!("{place} · {currency}, {method}"),
            }
        }
    };
    let projects = match draft.projects.is_empty() {
        true => "None for now".to_string(),
        false => draft.projects.join(", "),
    };
    view! {
        <dl class="facts summary">
            <dt>"Name"</dt>
            <dd>{draft.billing_group_name.clone()} " " <a href=edit(1)>"Edit name"</a></dd>
            <dt>"Billing details"</dt>
            <dd>{details} " " <a href=edit(2)>"Edit billing details"</a></dd>
            <dt>"Projects"</dt>
            <dd>{projects} " " <a href=edit(3)>"Edit projects"</a></dd>
        </dl>
        <ActionForm action=create attr:class="wizard" attr:aria-label="Create">
            <input type="hidden" name="account_id" value=page.account_id.clone() />
            {hidden_answers(&draft, &[], Some("projects[]"))}
            <button type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Creating…" } else { "Create billing group" }}
            </button>
        </ActionForm>
        <AllMessages error />
    }
}
