//! The store's interface, one trait per aggregate; [`Store`] is all of
//! them. Methods are named for what the rules need; a change takes the
//! complete records to write (its events included) and writes them in one
//! transaction. Where a rule must hold on the rows as they are when the
//! write happens (not deleted, not already claimed, still in the state the
//! caller saw), the method takes the rule as a closure and runs it inside
//! the transaction on the locked rows: the closure answers the records to
//! write, or refuses (`StoreError::Refused`) and nothing is written.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::cache::Caches;
use super::error::StoreResult;
use super::records::*;
use crate::error::AppResult;
use crate::model::ids::{AccountId, GroupId, UserId};
use crate::model::money::Currency;
use crate::model::states::{BudgetMeasure, InvoiceState, MessageKind};
use crate::model::Role;

/// Which backend a store talks to (for logs and `/healthz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Answers when the database does (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pool: waits for connections in use, refuses new work.
    async fn close(&self);
    /// This build's migrations that the database has not applied (none
    /// after start-up, unless the database was swapped under the server).
    async fn unapplied_migrations(&self) -> StoreResult<Vec<i64>>;
    /// Writes a consistent copy of the whole database to `file` (which must
    /// not exist) while others go on reading and writing. SQLite only.
    async fn back_up_into(&self, file: &std::path::Path) -> StoreResult<()>;
    /// Connections open, idle, and the most there may be.
    fn pool_status(&self) -> PoolStatus;
    /// How long taking a connection from the pool takes right now.
    async fn acquire_time(&self) -> StoreResult<std::time::Duration>;
    /// True when the database holds no user and no account (demo seeding).
    async fn is_empty(&self) -> StoreResult<bool>;
    /// Per-database memory the rules keep (their policy, our lifetime).
    fn caches(&self) -> &Caches;
}

/// Users, sessions, sign-in failures and personal API tokens.
#[async_trait]
pub trait People: Send + Sync {
    /// Creates a user; the first-run token goes with the first one.
    async fn create_user(&self, new: &NewUser, at: DateTime<Utc>) -> StoreResult<UserRecord>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user(&self, user_id: &UserId) -> StoreResult<Option<UserRecord>>;
    async fn user_count(&self) -> StoreResult<i64>;
    /// Stores the first-run token's hash in place of any earlier one;
    /// false (and nothing stored) once a user exists.
    async fn replace_setup_token(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn setup_token_is(&self, token_hash: &str) -> StoreResult<bool>;
    /// First run, in one transaction: takes the token (None when it does
    /// not match or a user exists already; nothing written), then writes
    /// the operator, the account with its first group and admin, and the
    /// events.
    async fn complete_setup(
        &self,
        token_hash: &str,
        operator: &NewUser,
        account: &NewAccount,
        events: &[NewEvent],
        account_event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Opens a session and notes the user's sign-in.
    async fn create_session(
        &self,
        session_hash: &str,
        user_id: &UserId,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
        client_address: &str,
    ) -> StoreResult<()>;
    /// The user of an unexpired session; its last use (and address) is
    /// written when the one stored is older than `note_use_before`.
    async fn session_user(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
        note_use_before: DateTime<Utc>,
        client_address: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// The user's unexpired sessions, most recently used first.
    async fn sessions_of_user(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>>;
    /// Ends the user's sessions but `keep_session_hash`; how many ended.
    async fn end_sessions_of_user(
        &self,
        user_id: &UserId,
        keep_session_hash: Option<&str>,
    ) -> StoreResult<u64>;
    /// Sets the password hash, ends the user's other sessions and revokes
    /// their API tokens, in one transaction. `rotate_session` (current
    /// hash, new hash) keeps the asking browser's session under a new
    /// secret; without it every session ends.
    async fn change_password(
        &self,
        user_id: &UserId,
        password_hash: &str,
        rotate_session: Option<(&str, &str)>,
        at: DateTime<Utc>,
    ) -> StoreResult<PasswordChanged>;
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// The failure counts of these scopes (missing scopes have none).
    async fn sign_in_failures(&self, scopes: &[String]) -> StoreResult<Vec<SignInFailureRecord>>;
    /// Counts a failure in each scope; a scope whose last failure is older
    /// than its `window_start_after` starts over at one.
    async fn record_sign_in_failure(
        &self,
        scopes: &[(String, DateTime<Utc>)],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn clear_sign_in_failures(&self, scopes: &[String]) -> StoreResult<()>;
    /// The secret stored under `name`, storing `candidate` if there is none
    /// yet (every instance ends up with the same one).
    async fn server_secret(
        &self,
        name: &str,
        candidate: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<String>;

    async fn create_api_token(
        &self,
        token_hash: &str,
        token_prefix: &str,
        user_id: &UserId,
        description: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's tokens that are not revoked, newest first.
    async fn api_tokens_of_user(&self, user_id: &UserId) -> StoreResult<Vec<ApiTokenRecord>>;
    /// Revokes one of the user's tokens; false when there was none to revoke.
    async fn revoke_api_token(
        &self,
        user_id: &UserId,
        token_prefix: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The user of a token that is not revoked; its last use is set to
    /// `now` when the one stored is older than `note_use_before`.
    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        note_use_before: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
}

/// Accounts and their members.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates the account with its first billing group as the primary one
    /// (rule 1) and its first admin, with `events` and the account's own
    /// first event, in one transaction.
    async fn create_account(
        &self,
        new: &NewAccount,
        events: &[NewEvent],
        account_event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<(AccountRecord, BillingGroupRecord)>;
    /// Adds a member with its event.
    async fn add_member(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        role: Role,
        event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Renames the account once `change` accepts it as locked.
    async fn rename_account(
        &self,
        account_id: &AccountId,
        new_name: &str,
        at: DateTime<Utc>,
        change: AccountChange<'_>,
    ) -> StoreResult<AccountRecord>;
    /// Every account (operators' list), by name.
    async fn all_accounts(&self) -> StoreResult<Vec<AccountOverviewRecord>>;
    /// (account id, email) of every account's admins.
    async fn account_admins(&self) -> StoreResult<Vec<(String, String)>>;
    /// The user's role on the account, or None when not a member.
    async fn member_role(
        &self,
        user_id: &UserId,
        account_id: &AccountId,
    ) -> StoreResult<Option<Role>>;
    async fn accounts_of_user(&self, user_id: &UserId) -> StoreResult<Vec<MemberAccountRecord>>;
    async fn account(&self, account_id: &AccountId) -> StoreResult<Option<AccountRecord>>;
}

/// A change of an account as locked → its event, or a refusal.
pub type AccountChange<'a> =
    &'a (dyn Fn(&AccountRecord) -> AppResult<NewAccountEvent> + Send + Sync);

/// A change of a membership as locked → its event, or a refusal.
pub type MemberChange<'a> = &'a (dyn Fn(&MemberRecord) -> AppResult<NewAccountEvent> + Send + Sync);

/// A change of an invitation as locked → its event, or a refusal.
pub type InvitationChange<'a> =
    &'a (dyn Fn(&InvitationRecord) -> AppResult<NewAccountEvent> + Send + Sync);

/// An account's members and invitations. The schema keeps one admin per
/// account whatever runs at once (`memberships_last_admin`).
#[async_trait]
pub trait Members: Send + Sync {
    /// The account's members, by email.
    async fn members(&self, account_id: &AccountId) -> StoreResult<Vec<MemberRecord>>;
    /// Sets a member's role once `change` accepts the membership as locked.
    async fn change_member_role(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        role: Role,
        change: MemberChange<'_>,
    ) -> StoreResult<MemberRecord>;
    /// Removes a member once `change` accepts the membership as locked.
    async fn remove_member(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        change: MemberChange<'_>,
    ) -> StoreResult<()>;
    /// Stores an invitation with its event; an expired open invitation of
    /// the same account and email is closed first (the schema allows one
    /// open invitation per account and email).
    async fn create_invitation(
        &self,
        new: &NewInvitation,
        event: &NewAccountEvent,
        message: Option<&NewMessage>,
        at: DateTime<Utc>,
    ) -> StoreResult<InvitationRecord>;
    /// Invitations neither accepted nor revoked (expired ones included), newest first.
    async fn open_invitations(&self, account_id: &AccountId) -> StoreResult<Vec<InvitationRecord>>;
    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>>;
    /// Revokes an invitation of the account once `change` accepts it as locked.
    async fn revoke_invitation(
        &self,
        account_id: &AccountId,
        invitation_id: &str,
        at: DateTime<Utc>,
        change: InvitationChange<'_>,
    ) -> StoreResult<()>;
    /// Accepts the invitation with this token once `change` accepts it as
    /// locked: creates the user if new, the membership with the invited
    /// role, and marks the invitation used, in one transaction.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        joiner: &Joiner,
        at: DateTime<Utc>,
        change: InvitationChange<'_>,
    ) -> StoreResult<(UserRecord, InvitationRecord)>;
}

/// A service lifecycle change on the service as locked → what to do, or a refusal.
pub type ServiceChange<'a> =
    &'a (dyn Fn(&ServiceStateRecord) -> AppResult<ServiceOp> + Send + Sync);

/// A change's check on a locked group: the event to write, or a refusal.
/// A budget threshold crossed: (measure, percent) and its event.
pub type BudgetAlert = ((BudgetMeasure, i64), NewEvent);
/// Words the one mail of an evaluation from the thresholds it claimed.
pub type BudgetAlertMail<'a> =
    &'a (dyn Fn(&[(BudgetMeasure, i64)]) -> Vec<NewMessage> + Send + Sync);
pub type GroupChange<'a> = &'a (dyn Fn(&BillingGroupRecord) -> AppResult<NewEvent> + Send + Sync);

/// A change of the primary group: the previous primary's id and the new
/// group as locked → the events (none: nothing to change).
pub type PrimaryChange<'a> =
    &'a (dyn Fn(&str, &BillingGroupRecord) -> AppResult<Vec<NewEvent>> + Send + Sync);

/// A billing-information save: the group before and after → the event.
pub type BillingInfoChange<'a> =
    &'a (dyn Fn(&BillingGroupRecord, &BillingGroupRecord) -> AppResult<NewEvent> + Send + Sync);

/// An invoice's state change on the invoice as locked → state, paid date
/// (None unless paid) and event.
pub type InvoiceStateChange<'a> =
    &'a (dyn Fn(&InvoiceRecord) -> AppResult<InvoiceStateUpdate> + Send + Sync);

/// What an invoice's state change writes: the new state, the paid date
/// (None unless paid), the event and the webhook deliveries it causes.
pub struct InvoiceStateUpdate {
    pub state: InvoiceState,
    pub paid_date: Option<NaiveDate>,
    pub event: NewEvent,
    pub notices: Vec<NewMessage>,
}

/// Which outbox messages a sender claims: mail (every kind but webhooks)
/// or webhook deliveries, each sent by its own sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Mail,
    Webhook,
}

/// A claim on the credit and the group as locked → what to write.
pub type ClaimChange<'a> =
    &'a (dyn Fn(&CreditRecord, &BillingGroupRecord) -> AppResult<CreditClaim> + Send + Sync);

/// The outbox, budgets and job leases.
#[async_trait]
pub trait Mail: Send + Sync {
    /// Claims up to `limit` due messages (queued and due, or claimed by a
    /// sender whose lease lapsed) for `claim_id` until `lease_until`,
    /// counting the attempt. Instances never claim the same message.
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        claim_id: &str,
        channel: Channel,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// Marks a claimed message delivered, with what that changes
    /// (`Delivered`), in one transaction; false when the claim was lost.
    async fn message_delivered(
        &self,
        message: &MessageRecord,
        at: DateTime<Utc>,
        delivered: &Delivered,
    ) -> StoreResult<bool>;
    /// Records a failed attempt: due again at `retry_at`, or failed for
    /// good (None).
    async fn message_attempt_failed(
        &self,
        message: &MessageRecord,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// Every try of these messages, oldest first.
    async fn attempts_of(&self, message_ids: &[String]) -> StoreResult<Vec<AttemptRecord>>;
    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRecord>>;
    /// Waiting and failed messages of each kind, and the oldest waiting.
    async fn outbox_summary(&self) -> StoreResult<Vec<OutboxSummary>>;
    /// The group's emails (invoices, budget alerts; not webhooks), newest first.
    async fn messages_of_group(
        &self,
        billing_group_id: &GroupId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// The account's messages of one kind (invitations, webhook
    /// deliveries), newest first.
    async fn account_messages(
        &self,
        account_id: &AccountId,
        kind: MessageKind,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// Queues a failed (or sent) message again, with its event; false when
    /// it is being sent or its body is gone.
    async fn requeue_message(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool>;
}

/// Monthly budgets and their once-only alerts.
#[async_trait]
pub trait Budgets: Send + Sync {
    async fn budget(&self, billing_group_id: &GroupId) -> StoreResult<Option<BudgetRecord>>;
    /// The budgets of active groups.
    async fn budgets(&self) -> StoreResult<Vec<BudgetRecord>>;
    /// Sets (or, with None, removes) the group's budget, with its event.
    async fn set_budget(
        &self,
        budget: Option<&BudgetRecord>,
        billing_group_id: &GroupId,
        event: &NewEvent,
    ) -> StoreResult<()>;
    /// The alerts already sent for the group's month: (measure, threshold).
    async fn budget_alerts_sent(
        &self,
        billing_group_id: &GroupId,
        period_begin: DateTime<Utc>,
    ) -> StoreResult<Vec<(BudgetMeasure, i64)>>;
    /// Records the thresholds an evaluation found crossed, each once per
    /// group, month and measure (the insert is the claim), each with its
    /// event; `message` words one mail for those this call claimed. Returns
    /// how many it claimed (0: another instance had them all).
    async fn record_budget_alerts(
        &self,
        billing_group_id: &GroupId,
        period_begin: DateTime<Utc>,
        alerts: &[BudgetAlert],
        at: DateTime<Utc>,
        message: BudgetAlertMail<'_>,
    ) -> StoreResult<usize>;
}

/// Leases of the periodic jobs that one instance at a time runs.
#[async_trait]
pub trait JobLeases: Send + Sync {
    /// Takes the job's lease when it is free or lapsed.
    async fn take_job_lease(
        &self,
        job_name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// When the job's current lease ends (its next run), if it has one.
    async fn job_lease_expiry(&self, job_name: &str) -> StoreResult<Option<DateTime<Utc>>>;
}

/// An account's webhook endpoints; their deliveries are outbox messages.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Stores a new endpoint with its account event.
    async fn insert_webhook(
        &self,
        webhook: &WebhookRecord,
        event: &NewAccountEvent,
    ) -> StoreResult<()>;
    /// Removes an endpoint of the account (its history stays; its queued
    /// deliveries fail), with its event; NotFound when it is not there.
    async fn remove_webhook(
        &self,
        account_id: &AccountId,
        webhook_id: &str,
        event: &NewAccountEvent,
    ) -> StoreResult<()>;
    /// Queues a sent or failed webhook delivery again, with its account
    /// event; false when it is queued or being sent.
    async fn requeue_webhook_message(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
        event: &NewAccountEvent,
    ) -> StoreResult<bool>;
    /// An endpoint, removed or not.
    async fn webhook(&self, webhook_id: &str) -> StoreResult<Option<WebhookRecord>>;
    /// The account's endpoints that are not removed, oldest first.
    async fn webhooks_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<WebhookRecord>>;
    /// Every endpoint that is not removed, by account.
    async fn active_webhooks(&self) -> StoreResult<Vec<WebhookRecord>>;
    /// Open invoices whose due date is before `today` and whose overdue
    /// notice was not decided yet.
    async fn invoices_past_due_unnoticed(
        &self,
        today: NaiveDate,
        limit: i64,
    ) -> StoreResult<Vec<InvoiceRecord>>;
    /// Claims the invoice's overdue notice and writes its deliveries; false
    /// when it was claimed before.
    async fn record_overdue_notice(
        &self,
        invoice_number: &str,
        at: DateTime<Utc>,
        notices: &[NewMessage],
    ) -> StoreResult<bool>;
}

/// The guided Create billing group flow's answers between steps.
#[async_trait]
pub trait Drafts: Send + Sync {
    async fn save_group_draft(&self, draft: &GroupDraftRecord) -> StoreResult<()>;
    /// A draft, expired or not.
    async fn group_draft(&self, draft_id: &str) -> StoreResult<Option<GroupDraftRecord>>;
    /// Removes drafts whose time is up; how many.
    async fn delete_expired_group_drafts(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

/// Billing groups.
#[async_trait]
pub trait Groups: Send + Sync {
    /// Creates an active group with its event.
    async fn create_billing_group(
        &self,
        new: &NewBillingGroup,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord>;
    async fn billing_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Option<BillingGroupRecord>>;
    /// The group with the user's role on its account (None when they are
    /// not a member), in one statement: every group page begins here.
    async fn billing_group_of_member(
        &self,
        user_id: &UserId,
        billing_group_id: &GroupId,
    ) -> StoreResult<Option<(BillingGroupRecord, Option<Role>)>>;
    /// Active groups of the account, by name.
    async fn billing_groups_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Active groups of every account the user belongs to, in one query.
    async fn groups_of_user(&self, user_id: &UserId) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Deleted groups of the account, newest deletion first.
    async fn deleted_groups_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Active groups of the account with their number of projects, by name.
    async fn group_summaries(&self, account_id: &AccountId)
        -> StoreResult<Vec<GroupSummaryRecord>>;
    /// Renames the group once `change` accepts it as locked.
    async fn rename_billing_group(
        &self,
        billing_group_id: &GroupId,
        new_name: &str,
        at: DateTime<Utc>,
        change: GroupChange<'_>,
    ) -> StoreResult<BillingGroupRecord>;
    /// Marks the group deleted once `change` accepts it as locked (the
    /// schema refuses a group with projects or the primary one).
    async fn delete_billing_group(
        &self,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: GroupChange<'_>,
    ) -> StoreResult<()>;
    /// Makes the group the account's primary group; `change` gets the
    /// previous primary group's id and the new group as locked, and answers
    /// the events (none: nothing to change).
    async fn set_primary_billing_group(
        &self,
        account_id: &AccountId,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: PrimaryChange<'_>,
    ) -> StoreResult<()>;
    /// Saves billing details and payment method all at once; `change` gets
    /// the group before and after and answers the event.
    async fn update_billing_info(
        &self,
        billing_group_id: &GroupId,
        update: &BillingInfoUpdate,
        at: DateTime<Utc>,
        change: BillingInfoChange<'_>,
    ) -> StoreResult<BillingGroupRecord>;
    /// Creates a group with its event, then sets its billing details (if
    /// given) and moves the projects into it, all in one transaction: the
    /// group exists complete or not at all.
    async fn create_billing_group_with(
        &self,
        new: &NewBillingGroup,
        event: &NewEvent,
        details: Option<(&BillingInfoUpdate, BillingInfoChange<'_>)>,
        projects: &[String],
        move_change: MoveChange<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord>;
}

/// A move's check on a locked project and both its groups: the events.
pub type MoveChange<'a> = &'a (dyn Fn(&ProjectRecord, &BillingGroupRecord, &BillingGroupRecord) -> AppResult<Vec<NewEvent>>
         + Send
         + Sync);

/// Projects and which group they were in when.
#[async_trait]
pub trait Projects: Send + Sync {
    /// Moves the projects to another group of their account at `at`, all
    /// in one transaction: each history splits there, and `change` (called
    /// per project with it and its two groups as locked) answers the
    /// events. A project already in the group is left alone.
    async fn move_projects(
        &self,
        project_names: &[String],
        to_group_id: &GroupId,
        at: DateTime<Utc>,
        change: MoveChange<'_>,
    ) -> StoreResult<Vec<ProjectRecord>>;
    /// The group's projects, by name.
    async fn projects_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<ProjectRecord>>;
    /// How many projects the group has.
    async fn project_count_of_group(&self, billing_group_id: &GroupId) -> StoreResult<i64>;
    /// The account's projects with their groups, by name.
    async fn projects_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<ProjectRecord>>;
    /// Creates the project with its history row and event.
    async fn create_project(
        &self,
        new: &NewProject,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<ProjectRecord>;
    async fn project(&self, project_name: &str) -> StoreResult<Option<ProjectRecord>>;
    /// The first `limit` project names of the user's accounts (accounts by
    /// name, then projects by name) and how many projects there are in all.
    async fn project_names_of_user(
        &self,
        user_id: &UserId,
        limit: i64,
    ) -> StoreResult<(Vec<String>, i64)>;
    /// Every project of every account the user belongs to, in one query.
    async fn projects_of_user(&self, user_id: &UserId) -> StoreResult<Vec<ProjectRecord>>;
    async fn project_group_history(
        &self,
        project_name: &str,
    ) -> StoreResult<Vec<GroupMembershipRecord>>;
}

/// Services and their runs.
#[async_trait]
pub trait Services: Send + Sync {
    async fn create_service(
        &self,
        new: &NewService,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRecord>;
    /// Records a run interval; `end` None leaves the service running.
    async fn record_service_run(
        &self,
        service_id: &str,
        started_at: DateTime<Utc>,
        end: Option<(DateTime<Utc>, RunEnd)>,
    ) -> StoreResult<()>;
    async fn service_runs(&self, service_id: &str) -> StoreResult<Vec<ServiceRunRecord>>;
    /// The project's services with their current state, in one query.
    async fn services_of_project(&self, project_name: &str)
        -> StoreResult<Vec<ServiceStateRecord>>;
    /// Creates a service with its first run (started at `at`) and its event.
    async fn create_running_service(
        &self,
        new: &NewService,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceStateRecord>;
    /// A lifecycle change decided by `change` on the service as locked:
    /// power on (a second open run is refused: `ServiceAlreadyRunning`),
    /// power off (`ServiceNotRunning` when nothing runs), plan change, or
    /// termination; with its event, in one transaction.
    async fn change_service(
        &self,
        service_id: &str,
        at: DateTime<Utc>,
        change: ServiceChange<'_>,
    ) -> StoreResult<ServiceStateRecord>;
    /// Every open run, with its service, account and group.
    async fn open_runs(&self) -> StoreResult<Vec<OpenRunRecord>>;
    /// Continues an open run at another price from `at` (grid and price in
    /// `next`), with its event — only if the run is still open at the price
    /// it was read with (false: someone else did it).
    async fn reprice_run(
        &self,
        run: &OpenRunRecord,
        at: DateTime<Utc>,
        next: (Decimal, DateTime<Utc>),
        event: &NewEvent,
    ) -> StoreResult<bool>;
}

/// The price list.
#[async_trait]
pub trait PriceList: Send + Sync {
    /// The whole price list, by type, plan, cloud and date.
    async fn prices(&self) -> StoreResult<Vec<PriceRecord>>;
    /// Adds or replaces price-list rows, all in one transaction.
    async fn save_prices(&self, rows: &[PriceRecord]) -> StoreResult<()>;
}

/// The usage the cost engine reads.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The group memberships and priced runs of the account's projects that
    /// overlap [from, to). Two queries, whatever the number of projects.
    async fn account_usage(
        &self,
        account_id: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Usage>;
    /// Like `account_usage`, for the projects that were in one group during
    /// [from, to): only that group's memberships, and those projects' runs.
    async fn group_usage(
        &self,
        billing_group_id: &GroupId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Usage>;
    /// The usage version of the group's account, bumped in every
    /// transaction that changes usage (None: no such group), and the
    /// stored rate of `currency` in force on `day`: what every
    /// month-to-date load reads first, in one statement.
    async fn usage_version_and_rate(
        &self,
        billing_group_id: &GroupId,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<(Option<i64>, Option<Decimal>)>;
    /// Memberships and priced runs of every project overlapping [from, to)
    /// (month close: two queries for the whole database).
    async fn usage_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Usage>;
}

/// Exchange rates.
#[async_trait]
pub trait ExchangeRates: Send + Sync {
    async fn set_exchange_rate(
        &self,
        currency: Currency,
        valid_from: NaiveDate,
        usd_rate: Decimal,
    ) -> StoreResult<()>;
    /// The rate in force on `day`: the latest set on or before it.
    async fn exchange_rate_on(
        &self,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<Option<Decimal>>;
    /// The rate in force on `day` with the day it was set for.
    async fn exchange_rate_in_force(
        &self,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<Option<ExchangeRateRecord>>;
    /// Every stored rate, by currency and day.
    async fn exchange_rates(&self) -> StoreResult<Vec<ExchangeRateRecord>>;
    /// Adds or replaces rates, all in one transaction.
    async fn save_exchange_rates(&self, rates: &[ExchangeRateRecord]) -> StoreResult<()>;
}

/// Invoices and the month close's bookkeeping.
#[async_trait]
pub trait Invoices: Send + Sync {
    /// Active groups created before `period_end`, and deleted ones deleted
    /// after `period_begin`, that have no invoice for the month yet.
    async fn groups_to_invoice(
        &self,
        period_begin: DateTime<Utc>,
        period_end: DateTime<Utc>,
    ) -> StoreResult<Vec<BillingGroupRecord>>;
    /// How many of a month close's transactions this backend writes at
    /// once: SQLite has one writer; PostgreSQL writes two batches on two
    /// connections while the next is drafted.
    fn close_batches_at_once(&self) -> usize;
    /// Issues the invoices in one transaction: each is numbered by
    /// `issuing` from its group's next sequence number, written with its
    /// lines, credit uses and events, or skipped when its group's month
    /// already has an invoice. Returns the numbers issued.
    async fn issue_invoices(
        &self,
        invoices: &[NewInvoice],
        at: DateTime<Utc>,
        issuing: &dyn InvoiceIssuing,
    ) -> StoreResult<Vec<String>>;
    async fn record_month_close(
        &self,
        period_begin: DateTime<Utc>,
        invoices_issued: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// How many groups have their invoice for the month starting at
    /// `period_begin` (reissues not counted twice).
    async fn invoiced_groups(&self, period_begin: DateTime<Utc>) -> StoreResult<i64>;
    async fn month_closed(&self, period_begin: DateTime<Utc>) -> StoreResult<bool>;
    /// Takes the month's close lease for `holder` until `until`, unless
    /// another holder's lease is still running at `now`. True when taken
    /// (or renewed: the same holder may take it again).
    async fn acquire_close_lease(
        &self,
        period_begin: DateTime<Utc>,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives the lease back (only the holder's own).
    async fn release_close_lease(
        &self,
        period_begin: DateTime<Utc>,
        holder: &str,
    ) -> StoreResult<()>;
    /// The group's invoices, newest period first.
    async fn invoices_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<InvoiceRecord>>;
    /// Every invoice of the account's groups, deleted groups included,
    /// newest period first.
    async fn invoices_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<InvoiceRecord>>;
    async fn invoice(&self, invoice_number: &str) -> StoreResult<Option<InvoiceRecord>>;
    async fn invoice_lines(&self, invoice_number: &str) -> StoreResult<Vec<InvoiceLineRecord>>;
    /// Changes an invoice's state: `change` gets the invoice as locked and
    /// answers the new state and the event.
    async fn set_invoice_state(
        &self,
        invoice_number: &str,
        change: InvoiceStateChange<'_>,
    ) -> StoreResult<InvoiceRecord>;
}

/// A correction's rule: the invoice as locked → what to write (or a
/// refusal, and nothing is written).
pub type CorrectionRule<'a> = &'a (dyn Fn(&LockedInvoice) -> AppResult<Correction> + Send + Sync);

/// Credit notes (and the invoices that replace voided ones).
#[async_trait]
pub trait CreditNotes: Send + Sync {
    /// Locks the invoice's group and the invoice, reads what was already
    /// credited on it and the next numbers, and writes what `rule` answers
    /// (credit note, lines, reissue, events, mails) in the same
    /// transaction; two corrections of one invoice never see the same
    /// credited amount.
    async fn correct_invoice(
        &self,
        invoice_number: &str,
        rule: CorrectionRule<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<Correction>;
    /// The group's credit notes, newest first.
    async fn credit_notes_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<CreditNoteRecord>>;
    /// Every credit note of the account's groups.
    async fn credit_notes_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<CreditNoteRecord>>;
    async fn credit_note(&self, credit_note_number: &str) -> StoreResult<Option<CreditNoteRecord>>;
    async fn credit_note_lines(
        &self,
        credit_note_number: &str,
    ) -> StoreResult<Vec<CreditNoteLineRecord>>;
}

/// Credit codes and their claims.
#[async_trait]
pub trait Credits: Send + Sync {
    /// Stores newly issued, unclaimed credit codes (all or none).
    async fn insert_credits(&self, credits: &[NewCredit], at: DateTime<Utc>) -> StoreResult<()>;
    async fn credit(&self, code: &str) -> StoreResult<Option<CreditRecord>>;
    /// Claims a code into a group: `change` gets the credit and the group
    /// as locked and answers the claim (earmark, claimer, event). The write
    /// is guarded on the code being unclaimed, so a code is claimed once
    /// across all accounts (`CreditAlreadyClaimed` for the second).
    async fn claim_credit(
        &self,
        code: &str,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: ClaimChange<'_>,
    ) -> StoreResult<CreditRecord>;
    /// The group's credits, soonest expiry first.
    async fn credits_of_group(&self, billing_group_id: &GroupId) -> StoreResult<Vec<CreditRecord>>;
    /// Every claimed credit (month close: one query for all groups).
    async fn claimed_credits(&self) -> StoreResult<Vec<CreditRecord>>;
    /// Credit lines of the group's issued invoices, newest period first.
    async fn applied_credits_of_group(
        &self,
        billing_group_id: &GroupId,
        limit: i64,
    ) -> StoreResult<Vec<AppliedCreditRecord>>;
    /// Counts a failed claim; failures before `forget_before` are dropped.
    async fn record_claim_failure(
        &self,
        user_id: &UserId,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn claim_failures_since(
        &self,
        user_id: &UserId,
        since: DateTime<Utc>,
    ) -> StoreResult<i64>;
}

/// The events logs (insert-only; events are written with their changes).
#[async_trait]
pub trait Events: Send + Sync {
    /// The group's events, newest first, filtered and paged by keyset.
    async fn events(
        &self,
        billing_group_id: &GroupId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<EventRecord>>;
    /// Every event of the group matching `filter`, newest first, in pages
    /// of `filter.limit`: read by a task on one connection that waits while
    /// the receiver is a page behind, so neither memory nor the database's
    /// page caches grow with the log. Dropping the receiver stops it.
    fn event_pages(
        &self,
        billing_group_id: &GroupId,
        filter: EventFilter,
    ) -> tokio::sync::mpsc::Receiver<StoreResult<Vec<EventRecord>>>;
    /// The account's own events, newest first.
    async fn account_events(
        &self,
        account_id: &AccountId,
        limit: i64,
    ) -> StoreResult<Vec<AccountEventRecord>>;
    /// The projects the group's log mentions (for the filter).
    async fn event_projects_of_group(&self, billing_group_id: &GroupId)
        -> StoreResult<Vec<String>>;
    /// The event types the group's log holds (for the filter).
    async fn event_types_of_group(&self, billing_group_id: &GroupId) -> StoreResult<Vec<String>>;
}

/// Everything the rules can ask of the database.
pub trait Store:
    Database
    + People
    + Accounts
    + Members
    + Groups
    + Projects
    + Services
    + PriceList
    + UsageStore
    + ExchangeRates
    + Invoices
    + CreditNotes
    + Credits
    + Events
    + Mail
    + Budgets
    + JobLeases
    + Webhooks
    + Drafts
{
}

impl<T> Store for T where
    T: Database
        + People
        + Accounts
        + Members
        + Groups
        + Projects
        + Services
        + PriceList
        + UsageStore
        + ExchangeRates
        + Invoices
        + CreditNotes
        + Credits
        + Events
        + Mail
        + Budgets
        + JobLeases
        + Webhooks
        + Drafts
{
}

pub type DynStore = Arc<dyn Store>;
