//! People as the pages see them: members, invitations, the account's own
//! log, sessions, and what operators see of every account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Role;

/// An account as created or renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub account_id: String,
    pub account_name: String,
    pub primary_billing_group_id: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// A member of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub real_name: String,
    pub role: Role,
    pub joined: DateTime<Utc>,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// The member is the caller.
    pub is_you: bool,
}

/// An invitation not yet accepted or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub invitation_id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub create_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub expired: bool,
    /// Its email, when one was queued: where it stands and its last error.
    pub mail: Option<(super::states::DeliveryState, Option<String>)>,
}

/// A new invitation and its link, shown once to the inviter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvitation {
    pub invitation: PendingInvitation,
    pub link: String,
}

/// An entry of the account's own log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvent {
    pub log_entry_id: i64,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub create_time: DateTime<Utc>,
}

/// The Members tab: who is in the account; admins also see the pending
/// invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersPage {
    pub account_id: String,
    pub account_name: String,
    /// The caller's role.
    pub role: Role,
    pub members: Vec<Member>,
    pub invitations: Vec<PendingInvitation>,
    /// SMTP is set up (invitations are emailed as well as shown).
    pub mail_configured: bool,
}

/// An account as operators list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub account_id: String,
    pub account_name: String,
    pub admins: Vec<String>,
    pub billing_group_count: i64,
    pub member_count: i64,
    pub create_time: DateTime<Utc>,
    /// The operator's own role there, when they are a member.
    pub your_role: Option<Role>,
}

/// Where an invitation stands, as its link shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Open,
    Expired,
    Accepted,
    Revoked,
}

/// What the invitation link's page shows, and what it may offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub account_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub expire_time: DateTime<Utc>,
    pub state: InvitationState,
    /// A user with the invited email exists (so they sign in to accept).
    pub user_exists: bool,
    /// The email of whoever is signed in on this browser.
    pub signed_in_as: Option<String>,
}

/// A signed-in browser of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub create_time: DateTime<Utc>,
    pub last_used_time: Option<DateTime<Utc>>,
    pub expire_time: DateTime<Utc>,
    pub client_address: String,
    /// The browser asking.
    pub current: bool,
}

/// What a password change ended besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeReport {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
}

impl PasswordChangeReport {
    /// What the profile page says after the change.
    pub fn message(&self) -> String {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        format!(
            "Password changed. {} signed out and {} revoked; this browser stays signed in.",
            plural(
                self.sessions_ended,
                "other session was",
                "other sessions were"
            ),
            plural(self.tokens_revoked, "API token was", "API tokens were"),
        )
    }
}
