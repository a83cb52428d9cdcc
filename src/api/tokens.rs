//! Personal API tokens of the signed-in user (user menu → API tokens).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::tokens::{ApiToken, CreatedApiToken};

#[server(endpoint = "api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::tokens::list(state.store.as_ref(), &user).await
}

/// Creates a token; the answer is the only place the token ever appears.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(description: String) -> Result<CreatedApiToken, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::tokens::create(state.store.as_ref(), &user, &description, context::now()?).await
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(token_prefix: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::tokens::revoke(state.store.as_ref(), &user, &token_prefix, context::now()?).await
}
