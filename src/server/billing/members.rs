//! An account's members (PRODUCT.md §6 and issue 16): who may see and do
//! what, invitations bound to an email, role changes and removals, each
//! with its entry in the account's own log. The schema keeps an admin on
//! every account whatever runs at once; these rules say why in words.

use chrono::{DateTime, Duration, Utc};

use super::access::authorize;
use super::webhooks::{member_data, Subscribers};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::ids::{AccountId, UserId};
use crate::model::people::{
    AccountEvent, InvitationState, InvitationView, Member, MembersPage, PendingInvitation,
};
use crate::model::states::{AccountEventType, MessageKind, WebhookEvent};
use crate::model::{validation, CurrentUser, Role};
use crate::server::store::{
    InvitationRecord, Joiner, MemberRecord, NewAccountEvent, NewInvitation, NewUser, Store,
    UserRecord,
};

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// How many entries of the account's log the Settings tab shows.
pub const ACCOUNT_EVENTS_SHOWN: i64 = 100;

fn pending(record: InvitationRecord, now: DateTime<Utc>) -> PendingInvitation {
    PendingInvitation {
        mail: None,
        expired: record.expire_time <= now,
        invitation_id: record.invitation_id,
        email: record.email,
        role: record.role,
        invited_by: record.invited_by_email,
        create_time: record.create_time,
        expire_time: record.expire_time,
    }
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role.trim()).ok_or_else(|| {
        AppError::invalid(
            "role",
            format!(
                "'{}' is not a role; use admin, developer, billing or viewer.",
                role.trim()
            ),
        )
    })
}

fn account_event(
    account_id: &AccountId,
    actor: &str,
    event_type: AccountEventType,
    event_desc: String,
    details: serde_json::Value,
    at: DateTime<Utc>,
) -> NewAccountEvent {
    NewAccountEvent {
        account_id: account_id.clone(),
        actor: actor.to_string(),
        event_type,
        event_desc,
        details: Some(details),
        create_time: at,
        notices: Vec::new(),
    }
}

/// The log entry of a member added directly (an operator joining, demo
/// data), not through an invitation.
pub fn added_event(
    account_id: &AccountId,
    actor: &str,
    email: &str,
    role: Role,
    at: DateTime<Utc>,
) -> NewAccountEvent {
    account_event(
        account_id,
        actor,
        AccountEventType::MemberAdded,
        format!("{email} added as {role}"),
        serde_json::json!({"after": {"email": email, "role": role.as_str()}}),
        at,
    )
}

/// The Members tab: every member sees who is in the account; admins also
/// see the pending invitations.
pub async fn members_page(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    mail_configured: bool,
    now: DateTime<Utc>,
) -> AppResult<MembersPage> {
    let role = authorize(store, caller, account_id, Role::Viewer).await?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let members = store
        .members(&account.account_id)
        .await?
        .into_iter()
        .map(|m| Member {
            is_you: m.user_id == caller.user_id,
            user_id: m.user_id.into_string(),
            email: m.email,
            real_name: m.real_name,
            role: m.role,
            joined: m.create_time,
            last_sign_in: m.last_sign_in_time,
        })
        .collect();
    let invitations = if role.allows(Role::Admin) {
        let messages = store
            .account_messages(&account.account_id, MessageKind::Invitation, 200)
            .await?;
        store
            .open_invitations(&account.account_id)
            .await?
            .into_iter()
            .map(|i| {
                // Its email: the newest to that address since it was made.
                let mail = messages
                    .iter()
                    .find(|m| m.recipients.0.contains(&i.email) && m.create_time >= i.create_time)
                    .map(|m| (m.state, m.last_error.clone()));
                PendingInvitation {
                    mail,
                    ..pending(i, now)
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(MembersPage {
        mail_configured,
        account_id: account.account_id.into_string(),
        account_name: account.account_name,
        role,
        members,
        invitations,
    })
}

/// The account's pending invitations (admins).
pub async fn pending_invitations(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<Vec<PendingInvitation>> {
    authorize(store, caller, account_id, Role::Admin).await?;
    Ok(store
        .open_invitations(account_id)
        .await?
        .into_iter()
        .map(|i| pending(i, now))
        .collect())
}

/// An invitation created, with the token for its link (shown, or mailed,
/// once; only its hash is kept).
#[derive(Debug, Clone)]
pub struct Invited {
    pub invitation: PendingInvitation,
    pub token: String,
}

/// Invites `email` with `role` (admins). Refused for a member and for an
/// address with an open invitation. With `mail_link_base` (mail is set up:
/// where links start), the invitation's email goes to the outbox with it.
pub async fn invite(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    email: &str,
    role: &str,
    mail_link_base: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Invited> {
    authorize(store, caller, account_id, Role::Admin).await?;
    let mut errors = Vec::new();
    let email = validation::email(email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let role = parse_role(role)
        .map_err(|e| errors.extend(field_errors(e)))
        .ok();
    let (Some(email), Some(role)) = (email, role) else {
        return Err(AppError::Invalid { errors });
    };
    if store
        .members(account_id)
        .await?
        .iter()
        .any(|m| m.email == email)
    {
        return Err(AppError::invalid(
            "email",
            format!("{email} is already a member of this account."),
        ));
    }
    let token = crate::server::auth::new_secret();
    let new = NewInvitation {
        invitation_id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.clone(),
        email: email.clone(),
        role,
        token_hash: crate::server::auth::secret_hash(&token),
        invited_by: caller.user_id.to_string(),
        expire_time: now + Duration::days(INVITATION_DAYS),
    };
    let event = account_event(
        account_id,
        &caller.email,
        AccountEventType::MemberInvited,
        format!("{email} invited as {role}"),
        serde_json::json!({"after": {"email": email, "role": role.as_str()}}),
        now,
    );
    let message = match mail_link_base {
        Some(base) => {
            let account = store
                .account(account_id)
                .await?
                .ok_or_else(|| AppError::not_found("Account"))?;
            Some(super::mail::invitation_message(
                account_id,
                &account.account_name,
                &email,
                role,
                caller,
                &crate::paths::invitation_link(base, &token),
                new.expire_time,
            ))
        }
        None => None,
    };
    let record = store
        .create_invitation(&new, &event, message.as_ref(), now)
        .await?;
    Ok(Invited {
        invitation: pending(record, now),
        token,
    })
}

fn field_errors(error: AppError) -> Vec<FieldError> {
    match error {
        AppError::Invalid { errors } => errors,
        other => vec![FieldError::new("", other.to_string())],
    }
}

/// Revokes a pending invitation (admins).
pub async fn revoke_invitation(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    invitation_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    authorize(store, caller, account_id, Role::Admin).await?;
    let change = |locked: &InvitationRecord| {
        if !locked.is_open() {
            return Err(AppError::invalid(
                "invitation_id",
                "This invitation was already used or revoked.",
            ));
        }
        Ok(account_event(
            &locked.account_id,
            &caller.email,
            AccountEventType::InvitationRevoked,
            format!("Invitation of {} as {} revoked", locked.email, locked.role),
            serde_json::json!({"before": {"email": locked.email, "role": locked.role.as_str()}}),
            now,
        ))
    };
    store
        .revoke_invitation(account_id, invitation_id.trim(), now, &change)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::NotFound { .. } => AppError::not_found("Invitation"),
            other => other,
        })
}

/// Changes a member's role (admins). The last admin keeps their role.
pub async fn change_role(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    user_id: &UserId,
    role: &str,
    now: DateTime<Utc>,
) -> AppResult<Member> {
    authorize(store, caller, account_id, Role::Admin).await?;
    let role = parse_role(role)?;
    let change = |locked: &MemberRecord| {
        if locked.role == role {
            return Err(AppError::invalid(
                "role",
                format!("{} is already {role}.", locked.email),
            ));
        }
        Ok(account_event(
            &locked.account_id,
            &caller.email,
            AccountEventType::MemberRoleChanged,
            format!("{} changed from {} to {role}", locked.email, locked.role),
            serde_json::json!({
                "before": {"email": locked.email, "role": locked.role.as_str()},
                "after": {"email": locked.email, "role": role.as_str()},
            }),
            now,
        ))
    };
    let member = store
        .change_member_role(account_id, user_id, role, &change)
        .await
        .map_err(member_not_found)?;
    Ok(Member {
        is_you: member.user_id == caller.user_id,
        user_id: member.user_id.into_string(),
        email: member.email,
        real_name: member.real_name,
        role: member.role,
        joined: member.create_time,
        last_sign_in: member.last_sign_in_time,
    })
}

fn member_not_found(error: crate::server::store::StoreError) -> AppError {
    match AppError::from(error) {
        AppError::NotFound { .. } => AppError::not_found("Member"),
        other => other,
    }
}

/// Removes a member: admins remove anyone, any member may leave. The last
/// admin cannot go.
pub async fn remove_member(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let leaving = *user_id == caller.user_id;
    let needed = if leaving { Role::Viewer } else { Role::Admin };
    authorize(store, caller, account_id, needed).await?;
    let subscribers = Subscribers::of_account(store, account_id).await?;
    let change = |locked: &MemberRecord| {
        let (event_type, desc) = if leaving {
            (
                AccountEventType::MemberLeft,
                format!("{} ({}) left the account", locked.email, locked.role),
            )
        } else {
            (
                AccountEventType::MemberRemoved,
                format!("{} ({}) removed", locked.email, locked.role),
            )
        };
        let mut event = account_event(
            &locked.account_id,
            &caller.email,
            event_type,
            desc,
            serde_json::json!({"before": {"email": locked.email, "role": locked.role.as_str()}}),
            now,
        );
        event.notices = subscribers.notices(
            WebhookEvent::MemberRemoved,
            None,
            member_data(&locked.account_id, &locked.email, locked.role),
            now,
        );
        Ok(event)
    };
    store
        .remove_member(account_id, user_id, &change)
        .await
        .map_err(member_not_found)
}

/// The account's own log (members).
pub async fn account_events(
    store: &dyn Store,
    caller: &CurrentUser,
    account_id: &AccountId,
) -> AppResult<Vec<AccountEvent>> {
    authorize(store, caller, account_id, Role::Viewer).await?;
    Ok(store
        .account_events(account_id, ACCOUNT_EVENTS_SHOWN)
        .await?
        .into_iter()
        .map(|e| AccountEvent {
            log_entry_id: e.log_entry_id,
            actor: e.actor,
            event_type: e.event_type,
            event_desc: e.event_desc,
            create_time: e.create_time,
        })
        .collect())
}

// ------------------------------------------------------ the invitation link --

fn invalid_link() -> AppError {
    AppError::invalid(
        "token",
        "This invitation link is not valid. Check that it was copied whole, or ask an account admin for a new one.",
    )
}

fn state_of(invitation: &InvitationRecord, now: DateTime<Utc>) -> InvitationState {
    if invitation.accept_time.is_some() {
        InvitationState::Accepted
    } else if invitation.revoke_time.is_some() {
        InvitationState::Revoked
    } else if invitation.expire_time <= now {
        InvitationState::Expired
    } else {
        InvitationState::Open
    }
}

/// Why an invitation can no longer be used, in words.
fn closed_message(invitation: &InvitationRecord, state: InvitationState) -> Option<String> {
    match state {
        InvitationState::Open => None,
        InvitationState::Accepted => Some("This invitation has already been used.".into()),
        InvitationState::Revoked => {
            Some("This invitation was revoked by an account admin; ask them for a new one.".into())
        }
        InvitationState::Expired => Some(format!(
            "This invitation expired on {}; ask an account admin for a new one.",
            invitation.expire_time.format("%Y-%m-%d %H:%M UTC")
        )),
    }
}

/// What the invitation link's page shows (no sign-in needed: the token is
/// the key).
pub async fn invitation_view(
    store: &dyn Store,
    token: &str,
    signed_in: Option<&CurrentUser>,
    now: DateTime<Utc>,
) -> AppResult<InvitationView> {
    let invitation = store
        .invitation_by_token(&crate::server::auth::secret_hash(token.trim()))
        .await?
        .ok_or_else(invalid_link)?;
    let user_exists = store.user_by_email(&invitation.email).await?.is_some();
    Ok(InvitationView {
        state: state_of(&invitation, now),
        account_name: invitation.account_name,
        email: invitation.email,
        role: invitation.role,
        invited_by: invitation.invited_by_email,
        expire_time: invitation.expire_time,
        user_exists,
        signed_in_as: signed_in.map(|u| u.email.clone()),
    })
}

/// The rule every acceptance runs on the invitation as locked: open, not
/// expired, and for the email of whoever accepts it.
fn acceptance<'a>(
    email: &'a str,
    subscribers: &'a Subscribers,
    now: DateTime<Utc>,
) -> impl Fn(&InvitationRecord) -> AppResult<NewAccountEvent> + Send + Sync + 'a {
    move |locked: &InvitationRecord| {
        if let Some(message) = closed_message(locked, state_of(locked, now)) {
            return Err(AppError::invalid("token", message));
        }
        if locked.email != email {
            return Err(AppError::invalid(
                "token",
                format!(
                    "This invitation is for {}; you are signed in as {email}. Sign out, then open the link again.",
                    locked.email
                ),
            ));
        }
        let mut event = account_event(
            &locked.account_id,
            email,
            AccountEventType::MemberJoined,
            format!(
                "{email} joined as {} (invited by {})",
                locked.role, locked.invited_by_email
            ),
            serde_json::json!({"after": {"email": email, "role": locked.role.as_str()}}),
            now,
        );
        event.notices = subscribers.notices(
            WebhookEvent::MemberAdded,
            None,
            member_data(&locked.account_id, email, locked.role),
            now,
        );
        Ok(event)
    }
}

/// A signed-in user accepts an invitation to their own email.
pub async fn accept_as_member(
    store: &dyn Store,
    caller: &CurrentUser,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<InvitationRecord> {
    let hash = crate::server::auth::secret_hash(token.trim());
    let subscribers = match store.invitation_by_token(&hash).await? {
        Some(invitation) => Subscribers::of_account(store, &invitation.account_id).await?,
        None => Subscribers::default(),
    };
    let change = acceptance(&caller.email, &subscribers, now);
    let (_, invitation) = store
        .accept_invitation(
            &hash,
            &Joiner::Existing {
                user_id: caller.user_id.clone(),
            },
            now,
            &change,
        )
        .await
        .map_err(accept_error)?;
    Ok(invitation)
}

fn accept_error(error: crate::server::store::StoreError) -> AppError {
    match AppError::from(error) {
        AppError::NotFound { .. } => invalid_link(),
        AppError::Conflict { .. } => {
            AppError::invalid("token", "You are already a member of this account.")
        }
        other => other,
    }
}

/// A new person accepts: their user is created with the invited email,
/// the name and password they chose, and joins the account.
pub async fn accept_as_new_user(
    store: &dyn Store,
    token: &str,
    real_name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<(UserRecord, InvitationRecord)> {
    let hash = crate::server::auth::secret_hash(token.trim());
    let invitation = store
        .invitation_by_token(&hash)
        .await?
        .ok_or_else(invalid_link)?;
    if let Some(message) = closed_message(&invitation, state_of(&invitation, now)) {
        return Err(AppError::invalid("token", message));
    }
    if store.user_by_email(&invitation.email).await?.is_some() {
        return Err(AppError::invalid(
            "token",
            format!(
                "{} already has a user here: sign in with it, then open the link again.",
                invitation.email
            ),
        ));
    }
    let mut errors = Vec::new();
    let real_name = validation::display_name(real_name, "Name", 128)
        .map_err(|m| errors.push(FieldError::new("real_name", m)))
        .ok();
    if let Err(m) = validation::password(password, &invitation.email) {
        errors.push(FieldError::new("password", m));
    }
    let Some(real_name) = real_name.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid { errors });
    };
    let password_hash =
        crate::server::auth::hash_password_off_runtime(password.to_string()).await?;
    let joiner = Joiner::New(NewUser {
        user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
        email: invitation.email.clone(),
        real_name,
        password_hash,
        is_operator: false,
    });
    let subscribers = Subscribers::of_account(store, &invitation.account_id).await?;
    let change = acceptance(&invitation.email, &subscribers, now);
    store
        .accept_invitation(&hash, &joiner, now, &change)
        .await
        .map_err(accept_error)
}
