use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::welcome::{check_setup_token, CompleteSetup};
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, CurrencySelect, FieldError, NewUserFields};

/// `/setup?token=…`: the first run. Creates the first user, an operator,
/// and the first account, then signs in. The link is printed by the server
/// while no user exists and works once.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let status = Resource::new(token, check_setup_token);
    let action = ServerAction::<CompleteSetup>::new();
    let error = Signal::derive(action_error(action));
    view! {
        <Title text="Set up" />
        <main class="signin setup">
            <h1>"Billing console"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Checking the setup link…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(()) => {
                            view! {
                                <p class="lede">
                                    "Create the first user — an operator, who administers this console — and the first account."
                                </p>
                                <ActionForm action attr:class="stack" attr:aria-label="Set up">
                                    <input type="hidden" name="token" value=token() />
                                    <h2>"You"</h2>
                                    <label for="setup-email">"Email"</label>
                                    <input id="setup-email" type="email" name="email" autocomplete="username" required />
                                    <FieldError error field="email" />
                                    <NewUserFields id_prefix="setup" error />
                                    <h2>"The first account"</h2>
                                    <label for="setup-account">"Account name"</label>
                                    <input id="setup-account" name="account_name" maxlength="128" required />
                                    <FieldError error field="account_name" />
                                    <label for="setup-currency">"Billing currency"</label>
                                    <CurrencySelect id="setup-currency" />
                                    <FieldError error field="billing_currency" />
                                    <FieldError error field="token" />
                                    <FieldError error />
                                    <button type="submit" disabled=move || action.pending().get()>
                                        {move || {
                                            if action.pending().get() { "Setting up…" } else { "Create operator and account" }
                                        }}
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            let message = error
                                .field_message("token")
                                .unwrap_or_else(|| error.to_string());
                            view! {
                                <p class="error" role="alert">{message}</p>
                                <p>
                                    <a href=app_url("/signin")>"Sign in"</a>
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
