//! `/v1/account…` people endpoints (our own, not Aiven's team model):
//! creating and renaming accounts, members, roles, invitations and the
//! account's log. The rules are `server::billing`'s, as on the pages.

use axum::extract::{Path, State};
use axum::Json;

use super::error::ApiResult;
use super::extract::{ApiJson, ApiUser};
use super::wire::{
    AccountEventWire, AccountEventsResponse, AccountResponse, AccountWire, ChangeRoleRequest,
    CreateAccountRequest, InvitationResponse, InvitationWire, InvitationsResponse, InviteRequest,
    MemberResponse, MemberWire, MembersResponse, MessageResponse, UpdateAccountRequest,
};
use crate::model::ids::{AccountId, UserId};
use crate::model::people::AccountInfo;
use crate::model::Role;
use crate::server::billing::{accounts, members};
use crate::server::links;
use crate::server::state::AppState;

fn account_wire(account: AccountInfo, role: Role) -> AccountWire {
    AccountWire {
        account_id: account.account_id,
        account_name: account.account_name,
        primary_billing_group_id: account.primary_billing_group_id,
        role: role.to_string(),
        create_time: account.create_time,
        update_time: account.update_time,
    }
}

pub async fn create_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<CreateAccountRequest>,
) -> ApiResult<Json<AccountResponse>> {
    let (account, _) = accounts::create_account_as_operator(
        state.store.as_ref(),
        &user,
        &body.account_name,
        body.billing_currency.as_deref().unwrap_or_default(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(AccountResponse {
        account: account_wire(account, Role::Admin),
    }))
}

pub async fn update_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
    ApiJson(body): ApiJson<UpdateAccountRequest>,
) -> ApiResult<Json<AccountResponse>> {
    let account = accounts::rename_account(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &body.account_name,
        state.clock.now(),
    )
    .await?;
    Ok(Json(AccountResponse {
        account: account_wire(account, Role::Admin),
    }))
}

pub async fn list_members(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<MembersResponse>> {
    let page = members::members_page(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        state.config.mail.configured(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(MembersResponse {
        members: page.members.into_iter().map(MemberWire::of).collect(),
    }))
}

pub async fn change_role(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((account_id, user_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeRoleRequest>,
) -> ApiResult<Json<MemberResponse>> {
    let member = members::change_role(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &UserId::from(&user_id),
        &body.role,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MemberResponse {
        member: MemberWire::of(member),
    }))
}

pub async fn remove_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((account_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    members::remove_member(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &UserId::from(&user_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "Member removed.".into(),
    }))
}

pub async fn list_invitations(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<InvitationsResponse>> {
    let invitations = members::pending_invitations(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        state.clock.now(),
    )
    .await?;
    Ok(Json(InvitationsResponse {
        invitations: invitations.into_iter().map(InvitationWire::of).collect(),
    }))
}

pub async fn invite(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
    request: axum::http::request::Parts,
    ApiJson(body): ApiJson<InviteRequest>,
) -> ApiResult<Json<InvitationResponse>> {
    let base = links::public_base(&state.config, Some(&request));
    let invited = members::invite(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &body.email,
        &body.role,
        state.config.mail.configured().then_some(base.as_str()),
        state.clock.now(),
    )
    .await?;
    Ok(Json(InvitationResponse {
        invitation: InvitationWire::of(invited.invitation),
        invite_url: links::invitation_link(&base, &invited.token),
    }))
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((account_id, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    members::revoke_invitation(
        state.store.as_ref(),
        &user,
        &AccountId::from(&account_id),
        &invitation_id,
        state.clock.now(),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "Invitation revoked.".into(),
    }))
}

pub async fn account_events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
) -> ApiResult<Json<AccountEventsResponse>> {
    let events =
        members::account_events(state.store.as_ref(), &user, &AccountId::from(&account_id)).await?;
    Ok(Json(AccountEventsResponse {
        events: events
            .into_iter()
            .map(|e| AccountEventWire {
                log_entry_id: e.log_entry_id,
                actor: e.actor,
                event_type: e.event_type,
                event_desc: e.event_desc,
                create_time: e.create_time,
            })
            .collect(),
    }))
}
