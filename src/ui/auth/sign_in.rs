use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SignIn;
use crate::ui::forms::ActionForm;

/// Email and password. Works as a plain form POST before hydration (errors
/// come back in the URL and show the same way); after hydration it signs in
/// without a reload and shows a pending state.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());
    let error = move || action.value().get().and_then(Result::err);
    let pending = action.pending();

    view! {
        <Title text="Sign in" />
        <main class="signin">
            <h1>"Billing console"</h1>
            <p class="lede">"Sign in to manage billing groups, invoices and credits."</p>
            <ActionForm action=action attr:class="stack" attr:aria-label="Sign in">
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                />
                <input type="hidden" name="next" value=next />
                {move || error().map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </main>
    }
}
