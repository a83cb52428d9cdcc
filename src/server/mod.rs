//! The server (feature `ssr`): `startup` wires the pieces together; the
//! rules live in `billing`, persistence in `store`.

pub mod auth;
pub mod billing;
pub mod bundle;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod downloads;
pub mod jobs;
pub mod links;
pub mod mailer;
pub mod metrics;
pub mod middleware;
pub mod rest;
pub mod security;
pub mod shell;
pub mod sign_in;
pub mod startup;
pub mod state;
pub mod store;
pub mod tokens;
pub mod webhook_sender;

pub use startup::{bundle, leptos_options, router, run};
pub use state::{AppState, SessionUser};
