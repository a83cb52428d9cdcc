//! The HTML document around the app, which only the server renders: the
//! page's security policy, the bundle's files as found in the site folder,
//! the meta tags, and the app (`crate::app::App`) in its body.

use leptos::prelude::*;
use leptos_meta::MetaTags;

use super::state::AppState;
use crate::app::App;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    super::security::set_page_policy();
    let base = crate::paths::base();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=crate::paths::META_NAME content=base.to_string() />
                <link rel="icon" href=crate::paths::app_url("/favicon.svg") type="image/svg+xml" />
                <AutoReload options=options.clone() />
                {bundle_head(&options, &base)}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The stylesheet and hydration script, named as the server found them in
/// the site folder (hashed or not; see `server/bundle.rs`).
fn bundle_head(options: &LeptosOptions, base: &str) -> impl IntoView {
    use_context::<AppState>()
        .map(|state| super::bundle::head(&state.bundle, base, &options.site_pkg_dir))
}
