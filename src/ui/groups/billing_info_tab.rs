use leptos::prelude::*;

use super::{group_id, GroupActions, TabError};
use crate::api::billing_info::SaveBillingInfo;
use crate::api::groups::get_billing_info;
use crate::model::billing::BillingInfoPage;
use crate::model::states::PaymentMethod;
use crate::ui::forms::{
    action_error, described_by, invalid, ActionForm, BillingDetailsFieldset, DetailValues,
    ErrorSummary, FieldError,
};

/// The Billing information tab's route: its data, then the form.
#[component]
pub fn BillingInfoTab() -> impl IntoView {
    let id = group_id();
    let actions = GroupActions::of_layout();
    let data = Resource::new(
        move || (id(), actions.save_info.version().get()),
        |(id, _)| get_billing_info(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading billing information…"</p> }>
            {move || {
                Suspend::new(async move {
                    match data.await {
                        Ok(page) => {
                            view! { <BillingInfoForm page action=actions.save_info /> }.into_any()
                        }
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Payment method and billing details, one all-or-nothing save with a
/// message next to each field that needs fixing.
#[component]
fn BillingInfoForm(page: BillingInfoPage, action: ServerAction<SaveBillingInfo>) -> impl IntoView {
    let g = page.group.clone();
    let editable = page.editable;
    let error = Signal::derive(action_error(action));
    let saved = move || matches!(action.value().get(), Some(Ok(())));
    let card_text = g.card_info.as_ref().map(|c| {
        format!(
            "{} ending in {}, expires {:02}/{}",
            c.brand, c.last4, c.exp_month, c.exp_year
        )
    });
    view! {
        <ActionForm action attr:class="billing-info" attr:aria-label="Billing information">
            <input type="hidden" name="billing_group_id" value=g.billing_group_id.clone() />
            <ErrorSummary error />
            <fieldset disabled=!editable>
                <legend>"Payment method"</legend>
                <label class="choice">
                    <input
                        type="radio"
                        id="payment_method"
                        name="payment_method"
                        value="card"
                        checked=g.payment_method == PaymentMethod::Card
                        aria-invalid=invalid(error, "payment_method")
                        aria-describedby=described_by(error, "payment_method", None)
                    />
                    "Credit card"
                </label>
                <label class="choice">
                    <input type="radio" name="payment_method" value="email" checked=g.payment_method == PaymentMethod::Email />
                    "Pay by invoice (sent to the billing emails)"
                </label>
                <label class="choice">
                    <input
                        type="radio"
                        name="payment_method"
                        value="no_payment_expected"
                        checked=g.payment_method == PaymentMethod::NoPaymentExpected
                    />
                    "No payment expected"
                </label>
                <FieldError error field="payment_method" />
                {card_text.map(|t| view! { <p class="muted">"Card on file: " {t} ". Leave the number empty to keep it."</p> })}
                <div class="card-fields">
                    <label for="card_number">"Card number"</label>
                    <input
                        id="card_number"
                        name="card_number"
                        inputmode="numeric"
                        autocomplete="cc-number"
                        aria-invalid=invalid(error, "card_number")
                        aria-describedby=described_by(error, "card_number", None)
                    />
                    <FieldError error field="card_number" />
                    <label for="card_expiry">"Expiry (MM/YY)"</label>
                    <input
                        id="card_expiry"
                        name="card_expiry"
                        placeholder="MM/YY"
                        autocomplete="cc-exp"
                        aria-invalid=invalid(error, "card_expiry")
                        aria-describedby=described_by(error, "card_expiry", None)
                    />
                    <FieldError error field="card_expiry" />
                    <label for="card_name">"Name on card"</label>
                    <input
                        id="card_name"
                        name="card_name"
                        autocomplete="cc-name"
                        value=g.card_info.as_ref().map(|c| c.name.clone()).unwrap_or_default()
                        aria-invalid=invalid(error, "card_name")
                        aria-describedby=described_by(error, "card_name", None)
                    />
                    <FieldError error field="card_name" />
                </div>
            </fieldset>
            <BillingDetailsFieldset values=DetailValues::of_group(&g) error editable />
            <FieldError error />
            {editable
                .then(|| {
                    view! {
                        <button type="submit" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Saving…" } else { "Save billing information" }}
                        </button>
                    }
                })}
            {move || saved().then(|| view! { <p role="status">"Billing information saved."</p> })}
        </ActionForm>
    }
}
