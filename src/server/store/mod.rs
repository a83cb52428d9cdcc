//! Persistence. One trait, [`Store`], named for what the billing rules need;
//! one implementation per backend (`sqlite.rs`, `postgres.rs`), both expanded
//! from the single SQL body in `sql.rs` so the two cannot drift apart.
//!
//! Every method that changes a billing group writes the group's event in the
//! same transaction, so a change without its event cannot exist.

mod decimal;
pub mod postgres;
mod sql;
pub mod sqlite;
mod sqlite_bulk;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

pub use decimal::DbDecimal;

use crate::model::Role;

// ---------------------------------------------------------------- errors --

/// A rule the database refused, identified by constraint name (the names are
/// the same in `migrations/sqlite` and `migrations/postgres`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    EmailTaken,
    ProjectNameTaken,
    ServiceNameTaken,
    MemberExists,
    GroupHasProjects,
    GroupIsPrimary,
    GroupDeleted,
    /// A group that is not of the project's (or account's) own account.
    GroupOfOtherAccount,
    EventsInsertOnly,
    /// A move to the group the project is already in.
    AlreadyInGroup,
    /// Power on for a service that runs, or off for one that does not.
    ServiceAlreadyRunning,
    ServiceNotRunning,
    /// A credit code that another group (of any account) has claimed.
    CreditAlreadyClaimed,
    /// A credit code past its expiry.
    CreditExpired,
    /// A credit's remaining value changed while a close was using it.
    CreditBalanceChanged,
    /// A credit code that exists already (issuing).
    CreditCodeTaken,
    /// Another named check; the name tells which.
    Check(String),
    /// A foreign key without a more specific meaning.
    ForeignKey(String),
    Unique(String),
}

impl Violation {
    /// Maps a constraint name from either backend to its meaning.
    pub fn from_constraint_name(name: &str) -> Violation {
        match name {
            "users_email_key" => Violation::EmailTaken,
            "projects_pkey" => Violation::ProjectNameTaken,
            "services_project_name_key" => Violation::ServiceNameTaken,
            "memberships_pkey" => Violation::MemberExists,
            "billing_group_has_projects" => Violation::GroupHasProjects,
            "billing_group_is_primary" => Violation::GroupIsPrimary,
            "billing_group_deleted" => Violation::GroupDeleted,
            "projects_group_same_account_fkey" | "accounts_primary_group_fkey" => {
                Violation::GroupOfOtherAccount
            }
            "events_insert_only" => Violation::EventsInsertOnly,
            "service_runs_one_open" => Violation::ServiceAlreadyRunning,
            "credits_pkey" => Violation::CreditCodeTaken,
            other if other.ends_with("_fkey") || other == "foreign_key" => {
                Violation::ForeignKey(other.to_string())
            }
            other if other.ends_with("_key") || other.ends_with("_pkey") => {
                Violation::Unique(other.to_string())
            }
            other => Violation::Check(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("constraint violated: {0:?}")]
    Violation(Violation),
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// An error of SQLite's own API on the month close's bulk path.
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("{0}")]
    Migration(String),
    #[error("{0}")]
    Config(String),
    #[error("stored value is malformed: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

// --------------------------------------------------------------- records --

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub user_id: String,
    pub email: String,
    pub real_name: String,
    pub password_hash: String,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub real_name: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRecord {
    pub account_id: String,
    pub account_name: String,
    pub primary_billing_group_id: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// An account with the caller's role and its number of active groups.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberAccountRecord {
    pub account_id: String,
    pub account_name: String,
    pub primary_billing_group_id: String,
    pub role: String,
    pub billing_group_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BillingGroupRecord {
    pub billing_group_id: String,
    pub account_id: String,
    pub billing_group_name: String,
    pub billing_currency: String,
    pub billing_emails: String,
    pub billing_extra_text: String,
    pub company: String,
    pub address_lines: String,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    pub payment_method: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub card_exp_month: Option<i64>,
    pub card_exp_year: Option<i64>,
    pub card_name: Option<String>,
    pub group_state: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl BillingGroupRecord {
    /// What a group just created holds (the schema's defaults), before it
    /// exists: lets a request be checked in full before anything is written.
    pub fn new_defaults(account_id: &str, now: DateTime<Utc>) -> Self {
        BillingGroupRecord {
            billing_group_id: String::new(),
            account_id: account_id.to_string(),
            billing_group_name: String::new(),
            billing_currency: "USD".into(),
            billing_emails: "[]".into(),
            billing_extra_text: String::new(),
            company: String::new(),
            address_lines: "[]".into(),
            city: String::new(),
            state: String::new(),
            zip_code: String::new(),
            country_code: String::new(),
            vat_id: String::new(),
            payment_method: "no_payment_expected".into(),
            card_brand: None,
            card_last4: None,
            card_exp_month: None,
            card_exp_year: None,
            card_name: None,
            group_state: "active".into(),
            create_time: now,
            update_time: now,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewBillingGroup {
    pub account_id: String,
    pub billing_group_name: String,
    pub billing_currency: String,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account_id: String,
    pub account_name: String,
    /// The account's first billing group, which becomes its primary group.
    pub first_group_id: String,
    pub first_group_name: String,
    pub billing_currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectRecord {
    pub project_name: String,
    pub account_id: String,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub default_cloud: String,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub project_name: String,
    pub account_id: String,
    pub billing_group_id: String,
    pub default_cloud: String,
}

/// One interval of a project's membership in a group (`valid_to` None: now).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupMembershipRecord {
    pub project_name: String,
    pub billing_group_id: String,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRecord {
    pub service_id: String,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: DbDecimal,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewService {
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: Decimal,
}

/// A service with the state of its latest run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceStateRecord {
    pub service_id: String,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: DbDecimal,
    /// `running`, `powered_off`, `terminated` or `never_started`.
    pub state: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    PoweredOff,
    Terminated,
}

impl RunEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            RunEnd::PoweredOff => "powered_off",
            RunEnd::Terminated => "terminated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRunRecord {
    pub service_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub log_entry_id: i64,
    pub billing_group_id: String,
    pub account_id: String,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub project_name: Option<String>,
    pub details: Option<String>,
    pub create_time: DateTime<Utc>,
}

/// Which events to list: newest first, before `before_id` (keyset paging).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub before_id: Option<i64>,
    pub event_type: Option<String>,
    pub project_name: Option<String>,
    pub limit: i64,
}

/// An active group with its number of projects.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupSummaryRecord {
    #[sqlx(flatten)]
    pub group: BillingGroupRecord,
    pub project_count: i64,
}

/// One run of a service with what the cost engine needs to price it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PricedRunRecord {
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: DbDecimal,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A card as stored: never the number, only what identifies it to a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredCard {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub name: String,
}

/// Everything the Billing information tab saves, in one write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BillingInfoUpdate {
    pub billing_currency: String,
    pub billing_emails: Vec<String>,
    pub billing_extra_text: String,
    pub company: String,
    pub address_lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    pub payment_method: String,
    pub card: Option<StoredCard>,
}

/// A personal API token as stored: its SHA-256 and the first characters
/// (to tell tokens apart in the list and revoke one), never the token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub token_prefix: String,
    pub description: String,
    pub create_time: DateTime<Utc>,
    pub last_used_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientFailureRecord {
    pub client_ip: String,
    pub failures: i64,
    pub window_start: DateTime<Utc>,
    pub last_failure_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginFailureRecord {
    pub email: String,
    pub failures: i64,
    pub last_failure_time: DateTime<Utc>,
}

/// An issued invoice as stored (the running month's estimate is never
/// stored: it is computed on read).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceRecord {
    pub invoice_number: String,
    pub billing_group_id: String,
    pub sequence_number: i64,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub state: String,
    pub currency: String,
    pub exchange_rate: DbDecimal,
    pub vat_rate: DbDecimal,
    pub vat_note: String,
    pub total_usd: DbDecimal,
    pub total_vat_zero: DbDecimal,
    pub total_inc_vat: DbDecimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub download_cookie: String,
    pub payment_method: String,
    /// The customer's billing details on the issue date (JSON).
    pub customer: String,
    pub create_time: DateTime<Utc>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceLineRecord {
    pub line_no: i64,
    pub line_type: String,
    pub description: String,
    pub project_name: Option<String>,
    pub service_name: Option<String>,
    pub service_type: Option<String>,
    pub service_plan: Option<String>,
    pub cloud_name: Option<String>,
    pub hours: Option<i64>,
    pub timestamp_begin: Option<DateTime<Utc>>,
    pub timestamp_end: Option<DateTime<Utc>>,
    pub line_total_usd: DbDecimal,
    pub line_total_local: DbDecimal,
    pub local_currency: String,
    /// The credit a `credit_consumption` line used.
    pub credit_code: Option<String>,
}

/// An invoice to issue: the store numbers it (sequential per group) and
/// writes it with its lines and its event, or skips it when the group's
/// month already has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub billing_group_id: String,
    pub account_id: String,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub state: String,
    pub currency: String,
    pub exchange_rate: Decimal,
    pub vat_rate: Decimal,
    pub vat_note: String,
    pub total_usd: Decimal,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub download_cookie: String,
    pub payment_method: String,
    pub customer: String,
    pub lines: Vec<InvoiceLineRecord>,
    /// Credits this invoice consumes: written with it, or not at all.
    pub credit_uses: Vec<CreditUse>,
}

/// A credit as stored. Values are USD; `code` is the normalized code (16
/// characters, no separators).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditRecord {
    pub code: String,
    pub credit_type: String,
    pub value_usd: DbDecimal,
    pub remaining_value_usd: DbDecimal,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
    pub issue_time: DateTime<Utc>,
    pub billing_group_id: Option<String>,
    pub earmarked_project_name: Option<String>,
    pub claim_time: Option<DateTime<Utc>>,
}

/// A credit code an operator issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredit {
    pub code: String,
    pub credit_type: String,
    pub value_usd: Decimal,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
}

/// What an issued invoice takes from one credit. `remaining_before` guards
/// against a second writer: the store refuses the invoice when the credit's
/// remaining value is no longer that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditUse {
    pub code: String,
    pub amount_usd: Decimal,
    pub remaining_before: Decimal,
    pub earmarked_project_name: Option<String>,
}

/// A credit line of an issued invoice (the Overview's applied credits).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppliedCreditRecord {
    pub invoice_number: String,
    pub period_begin: DateTime<Utc>,
    pub credit_code: String,
    pub project_name: Option<String>,
    pub line_total_usd: DbDecimal,
    pub line_total_local: DbDecimal,
    pub local_currency: String,
}

/// USD charged per closed month (the cost chart's history).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthlyUsdRecord {
    pub period_begin: DateTime<Utc>,
    pub total_usd: DbDecimal,
}

/// A month of usage per group, reused while its account's usage version
/// (bumped with every change to usage) is unchanged. Bounded: when full it
/// starts over.
#[derive(Default)]
pub struct UsageCache {
    entries: std::sync::Mutex<HashMap<UsageKey, (i64, Arc<GroupUsage>)>>,
}

/// (billing group, first instant of the month).
type UsageKey = (String, DateTime<Utc>);

pub type GroupUsage = (Vec<GroupMembershipRecord>, Vec<PricedRunRecord>);

impl UsageCache {
    const CAPACITY: usize = 4096;

    pub fn get(&self, group: &str, month: DateTime<Utc>, version: i64) -> Option<Arc<GroupUsage>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&(group.to_string(), month))
            .filter(|(v, _)| *v == version)
            .map(|(_, usage)| usage.clone())
    }

    pub fn put(&self, group: &str, month: DateTime<Utc>, version: i64, usage: Arc<GroupUsage>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
            entries.insert((group.to_string(), month), (version, usage));
        }
    }
}

/// Which backend a store talks to (for logs and `/healthz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

// ----------------------------------------------------------------- trait --

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Answers when the database does (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pool: waits for connections in use, refuses new work.
    async fn close(&self);
    /// True when the database holds no user and no account (demo seeding).
    async fn is_empty(&self) -> StoreResult<bool>;

    // users and sign-in
    async fn create_user(&self, new: &NewUser, at: DateTime<Utc>) -> StoreResult<UserRecord>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn create_session(
        &self,
        session_hash: &str,
        user_id: &str,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user of an unexpired session.
    async fn session_user(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    async fn login_failures(&self, email: &str) -> StoreResult<Option<LoginFailureRecord>>;
    async fn record_login_failure(
        &self,
        email: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<LoginFailureRecord>;
    async fn clear_login_failures(&self, email: &str) -> StoreResult<()>;
    /// Failed sign-ins from one client address in its current window.
    async fn client_login_failures(
        &self,
        client_ip: &str,
    ) -> StoreResult<Option<ClientFailureRecord>>;
    /// Counts a failure; a window older than `window_start_after` starts over.
    async fn record_client_login_failure(
        &self,
        client_ip: &str,
        at: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<ClientFailureRecord>;

    // personal API tokens
    async fn create_api_token(
        &self,
        token_hash: &str,
        token_prefix: &str,
        user_id: &str,
        description: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's tokens that are not revoked, newest first.
    async fn api_tokens_of_user(&self, user_id: &str) -> StoreResult<Vec<ApiTokenRecord>>;
    /// Revokes one of the user's tokens; false when there was none to revoke.
    async fn revoke_api_token(
        &self,
        user_id: &str,
        token_prefix: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The user of a token that is not revoked; notes the use (at most once
    /// a minute per token, so reads do not turn into a write each).
    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;

    // accounts and members
    /// Creates the account with its first billing group as the primary one
    /// (rule 1), and the group's `billing_group_created` event.
    async fn create_account(
        &self,
        new: &NewAccount,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<(AccountRecord, BillingGroupRecord)>;
    async fn add_member(
        &self,
        account_id: &str,
        user_id: &str,
        role: Role,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's role on the account, or None when not a member.
    async fn member_role(&self, user_id: &str, account_id: &str) -> StoreResult<Option<Role>>;
    async fn accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<MemberAccountRecord>>;
    async fn account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>>;

    // billing groups
    /// Creates an active group and its `billing_group_created` event.
    async fn create_billing_group(
        &self,
        id: &str,
        new: &NewBillingGroup,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord>;
    async fn billing_group(
        &self,
        billing_group_id: &str,
    ) -> StoreResult<Option<BillingGroupRecord>>;
    /// Active groups of the account, by name.
    async fn billing_groups_of_account(
        &self,
        account_id: &str,
    ) -> StoreResult<Vec<BillingGroupRecord>>;

    /// Active groups of every account the user belongs to, in one query.
    async fn groups_of_user(&self, user_id: &str) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Deleted groups of the account, newest deletion first.
    async fn deleted_groups_of_account(
        &self,
        account_id: &str,
    ) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Active groups of the account with their number of projects, by name.
    async fn group_summaries(&self, account_id: &str) -> StoreResult<Vec<GroupSummaryRecord>>;
    /// Renames the group; its event records the old and new name.
    async fn rename_billing_group(
        &self,
        billing_group_id: &str,
        new_name: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord>;
    /// Marks the group deleted (the schema refuses a group with projects or
    /// the primary one); its invoices and events stay readable.
    async fn delete_billing_group(
        &self,
        billing_group_id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Makes the group the account's primary group; both groups get an event.
    async fn set_primary_billing_group(
        &self,
        account_id: &str,
        billing_group_id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Saves billing details and payment method all at once; the event
    /// records the changed fields before and after.
    async fn update_billing_info(
        &self,
        billing_group_id: &str,
        update: &BillingInfoUpdate,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord>;

    // projects
    /// Moves a project to another group of its account at `at`: the history
    /// splits there, and both groups get their event, in one transaction.
    async fn move_project(
        &self,
        project_name: &str,
        to_group_id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<ProjectRecord>;
    /// The group's projects, by name.
    async fn projects_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<ProjectRecord>>;
    /// The account's projects with their groups, by name.
    async fn projects_of_account(&self, account_id: &str) -> StoreResult<Vec<ProjectRecord>>;
    /// Creates the project in the given group: its history row and the
    /// group's `project_added` event, in one transaction.
    async fn create_project(
        &self,
        new: &NewProject,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<ProjectRecord>;
    async fn project(&self, project_name: &str) -> StoreResult<Option<ProjectRecord>>;
    /// The first `limit` project names of the user's accounts (accounts by
    /// name, then projects by name) and how many projects there are in all.
    async fn project_names_of_user(
        &self,
        user_id: &str,
        limit: i64,
    ) -> StoreResult<(Vec<String>, i64)>;
    /// Every project of every account the user belongs to, in one query.
    async fn projects_of_user(&self, user_id: &str) -> StoreResult<Vec<ProjectRecord>>;
    async fn project_group_history(
        &self,
        project_name: &str,
    ) -> StoreResult<Vec<GroupMembershipRecord>>;

    // services and usage
    async fn create_service(
        &self,
        id: &str,
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
    /// For the cost engine: the group memberships and priced runs of the
    /// account's projects that overlap [from, to). Two queries, whatever the
    /// number of projects.
    async fn account_usage(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)>;
    /// The project's services with their current state, in one query.
    async fn services_of_project(&self, project_name: &str)
        -> StoreResult<Vec<ServiceStateRecord>>;

    // exchange rates
    /// Like `account_usage`, for the projects that were in one group during
    /// [from, to): only that group's memberships, and those projects' runs.
    async fn group_usage(
        &self,
        billing_group_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)>;

    async fn set_exchange_rate(
        &self,
        currency: &str,
        valid_from: NaiveDate,
        usd_rate: Decimal,
    ) -> StoreResult<()>;
    /// The rate in force on `day`: the latest set on or before it.
    async fn exchange_rate_on(
        &self,
        currency: &str,
        day: NaiveDate,
    ) -> StoreResult<Option<Decimal>>;

    // invoices
    /// Active groups created before `period_end`, and deleted ones deleted
    /// after `period_begin`, that have no invoice for the month yet.
    async fn groups_to_invoice(
        &self,
        period_begin: DateTime<Utc>,
        period_end: DateTime<Utc>,
    ) -> StoreResult<Vec<BillingGroupRecord>>;
    /// Memberships and priced runs of every project overlapping [from, to)
    /// (month close: two queries for the whole database).
    async fn usage_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)>;
    /// Issues the invoices in one transaction: each is numbered, written
    /// with its lines and an `invoice_issued` event, or skipped when its
    /// group's month already has an invoice. Returns the numbers issued.
    async fn issue_invoices(
        &self,
        invoices: &[NewInvoice],
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;
    async fn record_month_close(
        &self,
        period_begin: DateTime<Utc>,
        invoices_issued: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
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
    async fn invoices_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<InvoiceRecord>>;
    async fn invoice(&self, invoice_number: &str) -> StoreResult<Option<InvoiceRecord>>;
    async fn invoice_lines(&self, invoice_number: &str) -> StoreResult<Vec<InvoiceLineRecord>>;
    /// Changes an invoice's state and writes the event, in one transaction.
    async fn set_invoice_state(
        &self,
        invoice_number: &str,
        state: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<InvoiceRecord>;
    /// USD charged per issued invoice of the group since `from`.
    async fn monthly_usd_of_group(
        &self,
        billing_group_id: &str,
        from: DateTime<Utc>,
    ) -> StoreResult<Vec<MonthlyUsdRecord>>;
    /// Powers a service on (a new open run) or off (closes the open run).
    /// Refused when it already is in that state.
    async fn power_service(&self, service_id: &str, on: bool, at: DateTime<Utc>)
        -> StoreResult<()>;

    // credits
    /// Stores newly issued, unclaimed credit codes (all or none).
    async fn insert_credits(&self, credits: &[NewCredit], at: DateTime<Utc>) -> StoreResult<()>;
    async fn credit(&self, code: &str) -> StoreResult<Option<CreditRecord>>;
    /// Claims an unclaimed, unexpired code into an active group (optionally
    /// earmarked for a project) and writes `credit_claimed`, in one
    /// transaction. A code is claimed once across all accounts.
    async fn claim_credit(
        &self,
        code: &str,
        billing_group_id: &str,
        earmarked_project_name: Option<&str>,
        user_id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CreditRecord>;
    /// The group's credits, soonest expiry first.
    async fn credits_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<CreditRecord>>;
    /// Every claimed credit (month close: one query for all groups).
    async fn claimed_credits(&self) -> StoreResult<Vec<CreditRecord>>;
    /// Credit lines of the group's issued invoices, newest period first.
    async fn applied_credits_of_group(
        &self,
        billing_group_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<AppliedCreditRecord>>;
    async fn record_claim_failure(&self, user_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn claim_failures_since(&self, user_id: &str, since: DateTime<Utc>) -> StoreResult<i64>;

    // events
    /// The group's events, newest first, filtered and paged by keyset.
    async fn events(
        &self,
        billing_group_id: &str,
        filter: &EventFilter,
    ) -> StoreResult<Vec<EventRecord>>;
    /// The projects the group's log mentions (for the filter).
    async fn event_projects_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<String>>;
    /// The event types the group's log holds (for the filter).
    async fn event_types_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<String>>;
    /// The group's events, newest first.
    async fn events_of_group(
        &self,
        billing_group_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store named by a `sqlite:` or `postgres:` URL and applies its
/// migrations.
pub async fn connect(database_url: &str, max_connections: u32) -> StoreResult<DynStore> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::connect(database_url, max_connections).await?,
        ))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Ok(Arc::new(
            postgres::PostgresStore::connect(database_url, max_connections).await?,
        ))
    } else {
        Err(StoreError::Config(format!(
            "DATABASE_URL must start with sqlite: or postgres: (got '{}')",
            database_url.split(':').next().unwrap_or_default()
        )))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = error {
            return StoreError::NotFound;
        }
        if let Some(name) = error.as_database_error().and_then(constraint_name) {
            return StoreError::Violation(Violation::from_constraint_name(&name));
        }
        StoreError::Database(error)
    }
}

/// The name of the constraint a database error reports, on either backend.
fn constraint_name(error: &dyn sqlx::error::DatabaseError) -> Option<String> {
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.constraint().map(str::to_string);
    }
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        return sqlite::constraint_name(error);
    }
    None
}

/// Applies the backend's migrations; a failure names the migration.
pub(crate) async fn migrate<'a, A>(migrator: &sqlx::migrate::Migrator, pool: A) -> StoreResult<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    migrator.run(pool).await.map_err(|error| {
        let named = |version: i64| {
            migrator
                .iter()
                .find(|m| m.version == version)
                .map(|m| format!("{version}_{}", m.description.replace(' ', "_")))
                .unwrap_or_else(|| version.to_string())
        };
        let message = match &error {
            sqlx::migrate::MigrateError::ExecuteMigration(cause, version) => {
                format!("migration {} failed: {cause}", named(*version))
            }
            sqlx::migrate::MigrateError::VersionMismatch(version) => {
                format!(
                    "migration {} was changed after it was applied",
                    named(*version)
                )
            }
            other => format!("migrations could not be applied: {other}"),
        };
        StoreError::Migration(message)
    })
}

/// The billing fields that differ between two versions of a group, as
/// `{"before": {...}, "after": {...}}` for the event log.
pub fn billing_info_changes(
    before: &BillingGroupRecord,
    after: &BillingGroupRecord,
) -> serde_json::Value {
    let fields = |g: &BillingGroupRecord| -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("billing_currency", g.billing_currency.clone().into()),
            (
                "billing_emails",
                serde_json::from_str(&g.billing_emails).unwrap_or_default(),
            ),
            ("billing_extra_text", g.billing_extra_text.clone().into()),
            ("company", g.company.clone().into()),
            (
                "address_lines",
                serde_json::from_str(&g.address_lines).unwrap_or_default(),
            ),
            ("city", g.city.clone().into()),
            ("state", g.state.clone().into()),
            ("zip_code", g.zip_code.clone().into()),
            ("country_code", g.country_code.clone().into()),
            ("vat_id", g.vat_id.clone().into()),
            ("payment_method", g.payment_method.clone().into()),
            ("card_brand", g.card_brand.clone().into()),
            ("card_last4", g.card_last4.clone().into()),
            ("card_exp_month", g.card_exp_month.into()),
            ("card_exp_year", g.card_exp_year.into()),
            ("card_name", g.card_name.clone().into()),
        ]
    };
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    for ((key, a), (_, b)) in fields(before).into_iter().zip(fields(after)) {
        if a != b {
            old.insert(key.to_string(), a);
            new.insert(key.to_string(), b);
        }
    }
    serde_json::json!({"before": old, "after": new})
}

/// "Billing information changed: company, vat_id" (or "saved without changes").
pub fn describe_changes(details: &serde_json::Value) -> String {
    let keys: Vec<&str> = details["after"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        "Billing information saved without changes".to_string()
    } else {
        format!("Billing information changed: {}", keys.join(", "))
    }
}
