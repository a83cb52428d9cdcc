//! People: an account's members, invitations and log (Members and
//! Settings tabs), and the operators' list of every account.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::ids::{AccountId, UserId};
use crate::model::people::{AccountEvent, AccountOverview, CreatedInvitation, Member, MembersPage};
#[cfg(feature = "ssr")]
use crate::paths::app_url;

#[server(endpoint = "account_members")]
pub async fn get_members(account_id: String) -> Result<MembersPage, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::members::members_page(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        state.config.mail.configured(),
        context::now()?,
    )
    .await
}

/// Invites someone; the answer carries the link, shown once.
#[server(endpoint = "invite_member")]
pub async fn invite_member(
    account_id: String,
    email: String,
    role: String,
) -> Result<CreatedInvitation, AppError> {
    use super::context;
    use crate::server::links;
    let state = context::state()?;
    let user = context::user()?;
    let base = links::public_base(&state.config, Some(&context::parts()?));
    let invited = crate::server::billing::members::invite(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &email,
        &role,
        state.config.mail.configured().then_some(base.as_str()),
        context::now()?,
    )
    .await?;
    Ok(CreatedInvitation {
        invitation: invited.invitation,
        link: links::invitation_link(&base, &invited.token),
    })
}

#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(account_id: String, invitation_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::members::revoke_invitation(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &invitation_id,
        context::now()?,
    )
    .await
}

#[server(endpoint = "change_member_role")]
pub async fn change_member_role(
    account_id: String,
    user_id: String,
    role: String,
) -> Result<Member, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::members::change_role(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &UserId::from(&user_id),
        &role,
        context::now()?,
    )
    .await
}

/// Removes a member, or the caller leaves (then they go to their projects).
#[server(endpoint = "remove_member")]
pub async fn remove_member(account_id: String, user_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::members::remove_member(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &UserId::from(&user_id),
        context::now()?,
    )
    .await?;
    if user_id.trim() == user.user_id {
        leptos_axum::redirect(&app_url("/projects"));
    }
    Ok(())
}

#[server(endpoint = "rename_account")]
pub async fn rename_account(account_id: String, account_name: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::accounts::rename_account(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &account_name,
        context::now()?,
    )
    .await
    .map(|_| ())
}

/// The account's own log (created, renamed, members).
#[server(endpoint = "account_events")]
pub async fn get_account_events(account_id: String) -> Result<Vec<AccountEvent>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::members::account_events(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
    )
    .await
}

/// Every account (operators).
#[server(endpoint = "all_accounts")]
pub async fn get_all_accounts() -> Result<Vec<AccountOverview>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::accounts::all_accounts(state.store.as_ref(), &user).await
}

/// Why this instance issues no invoices, if it issues none (operators).
#[server(endpoint = "instance_issuing_paused")]
pub async fn get_instance_issuing_paused() -> Result<Option<String>, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::accounts::issuing_paused(&state.config.seller, &user)
}

/// Creates an account (operators) and opens its Billing tab.
#[server(endpoint = "create_account")]
pub async fn create_account(
    account_name: String,
    billing_currency: String,
) -> Result<String, AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    let (account, _) = crate::server::billing::accounts::create_account_as_operator(
        state.store.as_ref(),
        &user,
        &account_name,
        &billing_currency,
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!("/account/{}/billing", account.account_id)));
    Ok(account.account_id)
}

/// An operator joins an account as admin (an account event) and opens it.
#[server(endpoint = "join_account")]
pub async fn join_account(account_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = context::user()?;
    crate::server::billing::accounts::operator_join(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        context::now()?,
    )
    .await?;
    leptos_axum::redirect(&app_url(format!("/account/{}/members", account_id.trim())));
    Ok(())
}
