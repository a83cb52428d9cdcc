//! Small pieces every form uses: field messages and action results.

use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::error::{IntoAppError, ServerFnErrorErr};
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};

use crate::error::AppError;
use crate::model::countries::COUNTRIES;
use crate::model::money::Currency;
use crate::ui::raw_text::escape_raw_text;

/// The error of the action's last run, if it failed.
pub fn action_error<S>(
    action: ServerAction<S>,
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || action.value().get().and_then(Result::err)
}

/// The message for one field under an input, or for the form as a whole
/// when `field` is None (errors not tied to a field).
#[component]
pub fn FieldError(
    error: Signal<Option<AppError>>,
    #[prop(optional)] field: Option<&'static str>,
) -> impl IntoView {
    let message = move || {
        let error = error.get()?;
        match field {
            Some(field) => error.field_message(field),
            None => match &error {
                AppError::Invalid { errors } if errors.iter().all(|e| e.field != "request") => None,
                other => Some(other.to_string()),
            },
        }
    };
    // A field's message has the id its input names in `aria-describedby`.
    let id = field.map(error_id);
    view! {
        {move || {
            message()
                .map(|m| {
                    view! {
                        <p class="error" role="alert" id=id.clone()>
                            {m}
                        </p>
                    }
                })
        }}
    }
}

/// The id of a field's message (see [`FieldError`], [`invalid`]).
pub fn error_id(field: &str) -> String {
    format!("{field}-error")
}

/// `aria-invalid` of the input `field` names: "true" while the last
/// refusal has a message for it.
/// (A `Signal`, one type for every field: each closure type would be its
/// own copy of the attribute code in the WASM.)
pub fn invalid(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> Signal<Option<&'static str>> {
    Signal::derive(move || is_invalid(error, field).then_some("true"))
}

fn is_invalid(error: Signal<Option<AppError>>, field: &str) -> bool {
    error.with(|e| e.as_ref().is_some_and(|e| e.field_message(field).is_some()))
}

/// `aria-describedby` of the input `field` names: its hint, if it has one,
/// and its message while there is one.
pub fn described_by(
    error: Signal<Option<AppError>>,
    field: &'static str,
    hint: Option<&'static str>,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let mut ids: Vec<String> = hint.map(str::to_string).into_iter().collect();
        if is_invalid(error, field) {
            ids.push(error_id(field));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    })
}

/// The error pattern, at the top of a refused form: what to fix, each item
/// a link to its field, and focus moved here — by script after hydration,
/// by `autofocus` when the server renders the refusal of a plain post.
#[component]
pub fn ErrorSummary(error: Signal<Option<AppError>>) -> impl IntoView {
    let summary = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if error.with(Option::is_some) {
            request_animation_frame(move || {
                if let Some(element) = summary.get_untracked() {
                    let _ = element.focus();
                }
            });
        }
    });
    move || {
        error.get().map(|error| {
            let items: Vec<(Option<String>, String)> = match &error {
                AppError::Invalid { errors } => errors
                    .iter()
                    .map(|e| {
                        let linked = !e.field.is_empty() && e.field != "request";
                        (linked.then(|| e.field.clone()), e.message.clone())
                    })
                    .collect(),
                other => vec![(None, other.to_string())],
            };
            let heading = match items.len() {
                1 => "Not saved: one thing to fix".to_string(),
                n => format!("Not saved: {n} things to fix"),
            };
            view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus node_ref=summary>
                    <h2>{heading}</h2>
                    <ul>
                        {items
                            .into_iter()
                            .map(|(field, message)| match field {
                                Some(field) => {
                                    view! { <li><a href=format!("#{field}")>{message}</a></li> }.into_any()
                                }
                                None => view! { <li>{message}</li> }.into_any(),
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// Every message of a refused action, field by field, where the fields
/// are not beside the button (an earlier step, a row of a table).
#[component]
pub fn AllMessages(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|error| match error {
            AppError::Invalid { errors } => view! {
                <ul class="error" role="alert">
                    {errors.into_iter().map(|e| view! { <li>{e.message}</li> }).collect_view()}
                </ul>
            }
            .into_any(),
            other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
        })
    }
}

/// A billing currency (`billing_currency`): `selected` (a code), USD when
/// none is.
#[component]
pub fn CurrencySelect(id: &'static str, #[prop(optional, into)] selected: String) -> impl IntoView {
    let selected = match selected.trim() {
        "" => Currency::USD.code().to_string(),
        code => code.to_string(),
    };
    view! {
        <select id=id name="billing_currency">
            {Currency::ALL
                .iter()
                .map(|c| view! { <option value=c.code() selected=selected == c.code()>{c.code()}</option> })
                .collect_view()}
        </select>
    }
}

/// A new name and password, as the setup and invitation pages ask for
/// them: each with its field message (`real_name`, `password`).
#[component]
pub fn NewUserFields(id_prefix: &'static str, error: Signal<Option<AppError>>) -> impl IntoView {
    use crate::model::validation::PASSWORD_MIN_CHARS;
    let name_id = format!("{id_prefix}-name");
    let password_id = format!("{id_prefix}-password");
    let hint_id = format!("{id_prefix}-password-hint");
    view! {
        <label for=name_id.clone()>"Your name"</label>
        <input id=name_id name="real_name" autocomplete="name" maxlength="128" required />
        <FieldError error field="real_name" />
        <label for=password_id.clone()>"Password"</label>
        <input
            id=password_id
            type="password"
            name="password"
            autocomplete="new-password"
            minlength=PASSWORD_MIN_CHARS.to_string()
            required
            aria-describedby=hint_id.clone()
        />
        <p id=hint_id class="muted">
            {format!("At least {PASSWORD_MIN_CHARS} characters; a few unrelated words work well.")}
        </p>
        <FieldError error field="password" />
    }
}

/// Leptos's `ActionForm` with the base path in its `action`: before
/// hydration the browser posts the form itself, and `ServFn::url()` alone
/// ("/api/…") would miss an app served at a sub-path. After hydration it
/// behaves like Leptos's (the server function's client already carries
/// the base, see `hydrate()`), and while its request runs the form is
/// `aria-busy` (its buttons show it) and ignores another submit.
#[component]
pub fn ActionForm<ServFn, OutputProtocol>(
    /// The action the form dispatches.
    action: ServerAction<ServFn>,
    children: Children,
) -> impl IntoView
where
    ServFn: serde::de::DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>>
        + Clone
        + Send
        + Sync
        + 'static,
    <<ServFn::Client as Client<ServFn::Error>>::Request as ClientReq<ServFn::Error>>::FormData:
        From<leptos::web_sys::FormData>,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    <ServFn as ServerFn>::Client: Client<<ServFn as ServerFn>::Error>,
{
    let version = action.version();
    let value = action.value();
    let pending = action.pending();
    let on_submit = move |ev: leptos::web_sys::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        // One request at a time: a second click while the first runs is
        // not a second change.
        if pending.get_untracked() {
            return;
        }
        match ServFn::from_event(&ev) {
            Ok(input) => {
                action.dispatch(input);
            }
            Err(err) => {
                leptos::logging::error!("form fields do not fit the server function: {err:?}");
                value.set(Some(Err(
                    ServerFnErrorErr::Serialization(err.to_string()).into_app_error()
                )));
                version.update(|n| *n += 1);
            }
        }
    };
    view! {
        <form
            action=crate::paths::app_url(ServFn::url())
            method="post"
            on:submit=on_submit
            aria-busy=move || pending.get().then_some("true")
        >
            {children()}
        </form>
    }
}

/// A group's billing details as text, the way their inputs hold them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailValues {
    pub company: String,
    /// One line each.
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    /// One per line.
    pub billing_emails: String,
    pub billing_contact_emails: String,
    /// A currency code.
    pub billing_currency: String,
    pub billing_extra_text: String,
}

impl DetailValues {
    pub fn of_group(g: &crate::model::billing::BillingGroup) -> DetailValues {
        DetailValues {
            company: g.company.clone(),
            address: g.address_lines.join("\n"),
            city: g.city.clone(),
            state: g.state.clone(),
            zip_code: g.zip_code.clone(),
            country_code: g.country_code.clone(),
            vat_id: g.vat_id.clone(),
            billing_emails: g.billing_emails.join("\n"),
            billing_contact_emails: g.billing_contact_emails.join("\n"),
            billing_currency: g.billing_currency.code().to_string(),
            billing_extra_text: g.billing_extra_text.clone(),
        }
    }

    pub fn of_draft(d: &crate::model::new_group::NewGroupDraft) -> DetailValues {
        DetailValues {
            company: d.company.clone(),
            address: d.address.clone(),
            city: d.city.clone(),
            state: d.state.clone(),
            zip_code: d.zip_code.clone(),
            country_code: d.country_code.clone(),
            vat_id: d.vat_id.clone(),
            billing_emails: d.billing_emails.clone(),
            billing_contact_emails: d.billing_contact_emails.clone(),
            billing_currency: d.billing_currency.clone(),
            billing_extra_text: d.billing_extra_text.clone(),
        }
    }
}

/// The billing details' inputs (company, address, country, VAT ID, the two
/// email lists, currency, invoice text), each with its field message: the
/// Billing information tab and the guided create flow share them.
#[component]
pub fn BillingDetailsFieldset(
    values: DetailValues,
    error: Signal<Option<AppError>>,
    editable: bool,
) -> impl IntoView {
    let field = move |id: &'static str, label: &'static str, value: String, max: usize| {
        view! {
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                value=value
                maxlength=max.to_string()
                disabled=!editable
                aria-invalid=invalid(error, id)
                aria-describedby=described_by(error, id, None)
            />
            <FieldError error field=id />
        }
    };
    view! {
            <fieldset disabled=!editable>
                <legend>"Billing details"</legend>
                {field("company", "Company", values.company.clone(), 128)}
                <label for="address">"Address lines"</label>
                <textarea
                    id="address"
                    name="address"
                    rows="3"
                    aria-invalid=invalid(error, "address")
                    aria-describedby=described_by(error, "address", None)
                    inner_html=escape_raw_text(&values.address)
                ></textarea>
                <FieldError error field="address" />
                {field("city", "City", values.city.clone(), 128)}
                {field("state", "State", values.state.clone(), 128)}
                {field("zip_code", "Zip code", values.zip_code.clone(), 32)}
                <label for="country_code">"Country"</label>
                <select
                    id="country_code"
                    name="country_code"
                    aria-invalid=invalid(error, "country_code")
                    aria-describedby=described_by(error, "country_code", None)
                >
                    <option value="">"Choose a country"</option>
                    {COUNTRIES
                        .iter()
                        .map(|(code, name)| {
                            view! {
                                <option value=*code selected=values.country_code == *code>
                                    {*name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <FieldError error field="country_code" />
                {field("vat_id", "VAT ID", values.vat_id.clone(), 64)}
                <label for="billing_emails">"Invoice emails (one per line)"</label>
                <p class="muted" id="billing_emails_hint">"They receive each month's invoice (PDF attached) when paying by invoice."</p>
                <textarea
                    id="billing_emails"
                    name="billing_emails"
                    rows="3"
                    aria-invalid=invalid(error, "billing_emails")
                    aria-describedby=described_by(error, "billing_emails", Some("billing_emails_hint"))
                    inner_html=escape_raw_text(&values.billing_emails)
                ></textarea>
                <FieldError error field="billing_emails" />
                <label for="billing_contact_emails">"Billing contact emails (one per line)"</label>
                <p class="muted" id="billing_contact_emails_hint">"They hear about billing problems and budget alerts (the invoice emails do when this is empty)."</p>
                <textarea
                    id="billing_contact_emails"
                    name="billing_contact_emails"
                    rows="2"
                    aria-invalid=invalid(error, "billing_contact_emails")
                    aria-describedby=described_by(error, "billing_contact_emails", Some("billing_contact_emails_hint"))
                    inner_html=escape_raw_text(&values.billing_contact_emails)
                ></textarea>
                <FieldError error field="billing_contact_emails" />
                <label for="billing_currency">"Billing currency"</label>
                <CurrencySelect id="billing_currency" selected=values.billing_currency.clone() />
                <FieldError error field="billing_currency" />
                <label for="billing_extra_text">"Extra text on invoices"</label>
                <textarea
                    id="billing_extra_text"
                    name="billing_extra_text"
                    rows="3"
                    maxlength="1000"
                    aria-invalid=invalid(error, "billing_extra_text")
                    aria-describedby=described_by(error, "billing_extra_text", None)
                    inner_html=escape_raw_text(&values.billing_extra_text)
                ></textarea>
                <FieldError error field="billing_extra_text" />
            </fieldset>
    }
}
