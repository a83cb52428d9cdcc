#![recursion_limit = "256"]
//! billing-console: one crate, two builds. `ssr` is the axum server,
//! `hydrate` the WebAssembly bundle that takes over the server-rendered page.

pub mod api;
pub mod app;
pub mod error;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
