//! Accounts, members, invitations and the account's log on the wire.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountWire {
    pub account_id: String,
    pub account_name: String,
    pub primary_billing_group_id: String,
    /// Your role on the account: `admin`, `developer`, `billing` or `viewer`.
    pub role: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountResponse {
    pub account: AccountWire,
}

/// `avn account create --name …` (operators): the account starts with
/// one billing group, its primary one, and the caller as its admin.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub account_name: String,
    /// The first billing group's currency (default USD).
    #[serde(default)]
    pub billing_currency: Option<String>,
}

/// `avn account update ACCOUNT_ID --name …` (admins).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    pub account_name: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemberWire {
    pub user_id: String,
    pub user_email: String,
    pub real_name: String,
    /// `admin`, `developer`, `billing` or `viewer`.
    pub role: String,
    /// When they joined the account.
    pub create_time: DateTime<Utc>,
    pub last_sign_in_time: Option<DateTime<Utc>>,
}

impl MemberWire {
    pub fn of(member: crate::model::people::Member) -> MemberWire {
        MemberWire {
            user_id: member.user_id,
            user_email: member.email,
            real_name: member.real_name,
            role: member.role.to_string(),
            create_time: member.joined,
            last_sign_in_time: member.last_sign_in,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MembersResponse {
    pub members: Vec<MemberWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemberResponse {
    pub member: MemberWire,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// `admin`, `developer`, `billing` or `viewer`.
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    /// `admin`, `developer`, `billing` or `viewer`.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvitationWire {
    pub invitation_id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub create_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub expired: bool,
}

impl InvitationWire {
    pub fn of(invitation: crate::model::people::PendingInvitation) -> InvitationWire {
        InvitationWire {
            invitation_id: invitation.invitation_id,
            email: invitation.email,
            role: invitation.role.to_string(),
            invited_by: invitation.invited_by,
            create_time: invitation.create_time,
            expire_time: invitation.expire_time,
            expired: invitation.expired,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvitationsResponse {
    pub invitations: Vec<InvitationWire>,
}

/// A new invitation: its link carries a single-use token, shown only here
/// (and mailed when mail is configured).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvitationResponse {
    pub invitation: InvitationWire,
    pub invite_url: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountEventWire {
    pub log_entry_id: i64,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountEventsResponse {
    pub events: Vec<AccountEventWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountsResponse {
    pub accounts: Vec<AccountWire>,
}
