#![recursion_limit = "256"]
//! billing-console: one crate, two builds. `ssr` is the axum server,
//! `hydrate` the WebAssembly bundle that takes over the server-rendered page.

pub mod api;
pub mod app;
pub mod error;
pub mod model;
pub mod paths;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Server functions are called at <base>/api/…; set once per page load.
    let base = paths::base();
    if !base.is_empty() {
        let root: &'static str = Box::leak(base.to_string().into_boxed_str());
        leptos::server_fn::client::set_server_url(root);
    }
    leptos::mount::hydrate_body(app::App);
}
