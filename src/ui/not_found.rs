use crate::paths::app_url;
use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page. On the server it also sets the response status to 404.
#[component]
pub fn NotFound(#[prop(optional, into)] what: Option<String>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let message = match what {
        Some(what) => format!("{what} not found, or you do not have access to it."),
        None => "There is no page at this address.".to_string(),
    };
    view! {
        <Title text="Not found" />
        <main class="not-found">
            <h1>"Page not found"</h1>
            <p>{message}</p>
            <p>
                <a href=app_url("/projects")>"See all projects & accounts"</a>
            </p>
        </main>
    }
}
