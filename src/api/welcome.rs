//! The two pages reached by a link rather than a sign-in: the first-run
//! setup and an invitation. The token in the link is the key.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::people::InvitationView;
#[cfg(feature = "ssr")]
use crate::paths::app_url;

/// Whether this setup link still works (the page shows its form only then).
#[server(endpoint = "setup_status")]
pub async fn check_setup_token(token: String) -> Result<(), AppError> {
    let state = super::context::state()?;
    crate::server::billing::setup::check_token(state.store.as_ref(), &token).await
}

/// Creates the first operator and account, signs in and opens the account.
#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    real_name: String,
    email: String,
    password: String,
    account_name: String,
    billing_currency: String,
) -> Result<(), AppError> {
    use super::context;
    use crate::server::billing::setup::{self, SetupForm};
    let state = context::state()?;
    let form = SetupForm {
        token,
        real_name,
        email,
        password,
        account_name,
        billing_currency,
    };
    let user = setup::complete_setup(state.store.as_ref(), &form, context::now()?).await?;
    super::auth::start_session(&user.user_id, None).await?;
    leptos_axum::redirect(&app_url("/projects"));
    Ok(())
}

/// What the invitation link's page shows.
#[server(endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationView, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user().ok();
    crate::server::billing::members::invitation_view(
        state.store.as_ref(),
        &token,
        user.as_ref(),
        context::now()?,
    )
    .await
}

/// The signed-in user accepts an invitation to their email.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let invitation = crate::server::billing::members::accept_as_member(
        state.store.as_ref(),
        &user,
        &token,
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!(
        "/account/{}/billing",
        invitation.account_id
    )));
    Ok(())
}

/// A new person accepts: their user is created, signed in, and joins.
#[server(endpoint = "join_with_invitation")]
pub async fn join_with_invitation(
    token: String,
    real_name: String,
    password: String,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let (user, invitation) = crate::server::billing::members::accept_as_new_user(
        state.store.as_ref(),
        &token,
        &real_name,
        &password,
        context::now()?,
    )
    .await?;
    super::auth::start_session(&user.user_id, None).await?;
    leptos_axum::redirect(&app_url(format!(
        "/account/{}/billing",
        invitation.account_id
    )));
    Ok(())
}
