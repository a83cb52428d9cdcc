//! Small pieces every form uses: field messages and action results.

use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::error::{IntoAppError, ServerFnErrorErr};
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};

use crate::error::AppError;

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
    view! {
        {move || {
            message()
                .map(|m| {
                    view! {
                        <p class="error" role="alert">
                            {m}
                        </p>
                    }
                })
        }}
    }
}

/// The billing currency of a new account (`billing_currency`), USD first chosen.
#[component]
pub fn CurrencySelect(id: &'static str) -> impl IntoView {
    use crate::model::money::Currency;
    view! {
        <select id=id name="billing_currency">
            {Currency::ALL
                .iter()
                .map(|c| view! { <option value=c.code() selected=*c == Currency::USD>{c.code()}</option> })
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
/// behaves exactly like Leptos's (the server function's client already
/// carries the base, see `hydrate()`).
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
    let on_submit = move |ev: leptos::web_sys::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
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
        <form action=crate::paths::app_url(ServFn::url()) method="post" on:submit=on_submit>
            {children()}
        </form>
    }
}
