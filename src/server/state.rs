//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::model::CurrentUser;
use crate::server::bundle::Bundle;
use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::store::DynStore;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The site's bundle files, as found at start-up.
    pub bundle: Arc<Bundle>,
    pub store: DynStore,
    pub config: Arc<Config>,
    /// The one clock: every "now" of a request or job.
    pub clock: Clock,
    /// Set by SIGTERM: `/readyz` answers 503 from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Where webhook deliveries go out, and endpoints are checked.
    pub webhooks: Arc<dyn crate::server::billing::webhooks::WebhookTransport>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The signed-in user of this request (None: signed out), put into the
/// request's extensions once by the session layer (`middleware.rs`).
#[derive(Debug, Clone)]
pub struct SessionUser(pub Option<CurrentUser>);

/// Why start-up (or a command) failed: one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);
