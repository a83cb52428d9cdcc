//! What the store reads and writes: rows as the rules see them, and the
//! complete records the rules hand over to be written (`New…`). Nothing
//! here decides or words anything; text columns with a closed set of
//! values decode into their enums, JSON columns into their types, and a
//! value that does not decode fails the read with the column named.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::decimal::DbDecimal;
use crate::model::ids::{AccountId, GroupId, UserId};
use crate::model::invoices::{FrozenSeller, InvoiceParty};
use crate::model::money::Currency;
use crate::model::states::{
    AccountEventType, CreditNoteKind, DeliveryState, EventType, GroupState, InvoiceState, LineType,
    MessageKind, PaymentMethod, ServiceState, WebhookEvent,
};
use crate::model::Role;

/// A JSON text column, decoded once, here (`#[sqlx(try_from = "String")]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonText<T>(pub T);

impl<T: DeserializeOwned> TryFrom<String> for JsonText<T> {
    type Error = serde_json::Error;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(JsonText)
    }
}

impl<T: Serialize> JsonText<T> {
    /// The text to store.
    pub fn encode(value: &T) -> String {
        // Lists of strings and plain structs always serialize.
        serde_json::to_string(value).unwrap_or_else(|_| "null".into())
    }
}

impl<T> std::ops::Deref for JsonText<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

// ------------------------------------------------------- users, sessions --

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub user_id: UserId,
    pub email: String,
    pub real_name: String,
    pub password_hash: String,
    pub create_time: DateTime<Utc>,
    /// An instance administrator: sees every account, creates accounts.
    pub is_operator: bool,
    pub last_sign_in_time: Option<DateTime<Utc>>,
}

impl UserRecord {
    /// The user as the pages and rules see them.
    pub fn current(&self) -> crate::model::CurrentUser {
        crate::model::CurrentUser {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            real_name: self.real_name.clone(),
            is_operator: self.is_operator,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: UserId,
    pub email: String,
    pub real_name: String,
    pub password_hash: String,
    pub is_operator: bool,
}

/// A signed-in browser as its user sees it in the profile: identified by
/// the first characters of its cookie's hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub session_hash: String,
    pub create_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub last_used_time: Option<DateTime<Utc>>,
    pub client_address: String,
}

/// What a password change ended besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordChanged {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
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

/// Failed sign-ins counted in one scope (`server::sign_in` names them).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInFailureRecord {
    pub scope: String,
    pub failures: i64,
    pub window_start: DateTime<Utc>,
    pub last_failure_time: DateTime<Utc>,
}

// -------------------------------------------------------------- accounts --

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRecord {
    pub account_id: AccountId,
    pub account_name: String,
    pub primary_billing_group_id: GroupId,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// An account with the caller's role and its number of active groups.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberAccountRecord {
    pub account_id: AccountId,
    pub account_name: String,
    pub primary_billing_group_id: GroupId,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub billing_group_count: i64,
}

/// An account with its first billing group, which becomes its primary one
/// (rule 1); both ids come from the rules.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account_id: AccountId,
    pub account_name: String,
    pub first_group: NewBillingGroup,
    /// The account's first admin, a member from the start.
    pub admin_user_id: UserId,
}

/// An account as operators list them: every account, with its number of
/// active groups (admins come separately, `account_admins`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountOverviewRecord {
    pub account_id: AccountId,
    pub account_name: String,
    pub billing_group_count: i64,
    pub member_count: i64,
    pub create_time: DateTime<Utc>,
}

/// A member of an account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRecord {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub email: String,
    pub real_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// When they joined the account.
    pub create_time: DateTime<Utc>,
    pub last_sign_in_time: Option<DateTime<Utc>>,
}

/// An invitation as stored, with its account's name and the inviter's email.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvitationRecord {
    pub invitation_id: String,
    pub account_id: AccountId,
    pub account_name: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub invited_by_email: String,
    pub create_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub accept_time: Option<DateTime<Utc>>,
    pub revoke_time: Option<DateTime<Utc>>,
}

impl InvitationRecord {
    /// Neither accepted nor revoked (it may still have expired).
    pub fn is_open(&self) -> bool {
        self.accept_time.is_none() && self.revoke_time.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub invitation_id: String,
    pub account_id: AccountId,
    pub email: String,
    pub role: Role,
    /// SHA-256 of the token in the link.
    pub token_hash: String,
    pub invited_by: String,
    pub expire_time: DateTime<Utc>,
}

/// Who accepts an invitation: a user who exists, or one created with it.
#[derive(Debug, Clone)]
pub enum Joiner {
    Existing { user_id: UserId },
    New(NewUser),
}

/// An entry of an account's own log (created, renamed, members changed).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccountEvent {
    pub account_id: AccountId,
    pub actor: String,
    pub event_type: AccountEventType,
    pub event_desc: String,
    pub details: Option<serde_json::Value>,
    pub create_time: DateTime<Utc>,
    /// Webhook deliveries the change causes, written with the event.
    pub notices: Vec<NewMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountEventRecord {
    pub log_entry_id: i64,
    pub account_id: AccountId,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub details: Option<String>,
    pub create_time: DateTime<Utc>,
}

// -------------------------------------------------------- billing groups --

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BillingGroupRecord {
    pub billing_group_id: GroupId,
    pub account_id: AccountId,
    pub billing_group_name: String,
    #[sqlx(try_from = "String")]
    pub billing_currency: Currency,
    /// Who receive the invoices (Aiven's name).
    #[sqlx(try_from = "String")]
    pub billing_emails: JsonText<Vec<String>>,
    /// Who hear about billing problems and budget alerts.
    #[sqlx(try_from = "String")]
    pub billing_contact_emails: JsonText<Vec<String>>,
    pub billing_extra_text: String,
    pub company: String,
    #[sqlx(try_from = "String")]
    pub address_lines: JsonText<Vec<String>>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    #[sqlx(try_from = "String")]
    pub payment_method: PaymentMethod,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub card_exp_month: Option<i64>,
    pub card_exp_year: Option<i64>,
    pub card_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub group_state: GroupState,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// The guided Create billing group flow's answers, kept between steps.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupDraftRecord {
    pub draft_id: String,
    pub account_id: AccountId,
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub draft: JsonText<crate::model::new_group::NewGroupDraft>,
    pub expire_time: DateTime<Utc>,
}

/// A group with one user's role on its account (None: not a member).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupOfMemberRow {
    #[sqlx(flatten)]
    pub group: BillingGroupRecord,
    pub member_role: Option<String>,
}

impl BillingGroupRecord {
    pub fn is_active(&self) -> bool {
        self.group_state == GroupState::Active
    }

    /// What a group just created holds (the schema's defaults), before it
    /// exists: lets a request be checked in full before anything is written.
    pub fn new_defaults(account_id: &AccountId, now: DateTime<Utc>) -> Self {
        BillingGroupRecord {
            billing_group_id: GroupId::default(),
            account_id: account_id.clone(),
            billing_group_name: String::new(),
            billing_currency: Currency::USD,
            billing_emails: JsonText::default(),
            billing_contact_emails: JsonText::default(),
            billing_extra_text: String::new(),
            company: String::new(),
            address_lines: JsonText::default(),
            city: String::new(),
            state: String::new(),
            zip_code: String::new(),
            country_code: String::new(),
            vat_id: String::new(),
            payment_method: PaymentMethod::NoPaymentExpected,
            card_brand: None,
            card_last4: None,
            card_exp_month: None,
            card_exp_year: None,
            card_name: None,
            group_state: GroupState::Active,
            create_time: now,
            update_time: now,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewBillingGroup {
    pub billing_group_id: GroupId,
    pub account_id: AccountId,
    pub billing_group_name: String,
    pub billing_currency: Currency,
}

/// An active group with its number of projects.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupSummaryRecord {
    #[sqlx(flatten)]
    pub group: BillingGroupRecord,
    pub project_count: i64,
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
    pub billing_currency: Currency,
    pub billing_emails: Vec<String>,
    pub billing_contact_emails: Vec<String>,
    pub billing_extra_text: String,
    pub company: String,
    pub address_lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    pub payment_method: PaymentMethod,
    pub card: Option<StoredCard>,
}

// -------------------------------------------------------------- projects --

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectRecord {
    pub project_name: String,
    pub account_id: AccountId,
    pub billing_group_id: GroupId,
    pub billing_group_name: String,
    pub default_cloud: String,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub project_name: String,
    pub account_id: AccountId,
    pub billing_group_id: GroupId,
    pub default_cloud: String,
}

/// One interval of a project's membership in a group (`valid_to` None: now).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupMembershipRecord {
    pub project_name: String,
    pub billing_group_id: GroupId,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

// ------------------------------------------------------ services, usage --

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
    pub service_id: String,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: Decimal,
}

/// A service with the state of its latest run, its project's account and
/// group, and the open run (when it runs).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceStateRecord {
    pub service_id: String,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    /// The current plan and its price (the open run's, or the next run's).
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: DbDecimal,
    #[sqlx(try_from = "String")]
    pub state: ServiceState,
    pub create_time: DateTime<Utc>,
    /// The latest change of its runs (start or end), or its creation.
    pub update_time: DateTime<Utc>,
    pub account_id: AccountId,
    pub billing_group_id: GroupId,
    /// The open run's start and hour grid, when it runs.
    pub run_started_at: Option<DateTime<Utc>>,
    pub run_billed_from: Option<DateTime<Utc>>,
}

/// What a service lifecycle change does, as the rules decided it on the
/// service as locked.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceAction {
    /// A new run at this price.
    PowerOn { hourly_price_usd: Decimal },
    /// The open run ends.
    PowerOff,
    /// The service's plan becomes `plan`; a running service's open run ends
    /// and the next starts at once, billed from `billed_from` (the next hour
    /// of the old run's grid).
    ChangePlan {
        plan: String,
        hourly_price_usd: Decimal,
        billed_from: Option<DateTime<Utc>>,
    },
    /// The open run (if any) ends and the service is closed for good.
    Terminate,
}

/// A lifecycle change and its event.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceOp {
    pub action: ServiceAction,
    pub event: NewEvent,
}

/// A stored exchange rate: local units per USD from `valid_from` on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExchangeRateRecord {
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    pub valid_from: NaiveDate,
    pub usd_rate: DbDecimal,
}

/// A price-list row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PriceRecord {
    pub service_type: String,
    pub plan: String,
    /// Empty: every cloud.
    pub cloud_name: String,
    pub valid_from: DateTime<Utc>,
    pub hourly_price_usd: DbDecimal,
    pub node_count: i64,
    pub cpu_count: i64,
    pub memory_mb: i64,
    pub disk_mb: i64,
    pub imported_at: DateTime<Utc>,
}

/// An open run as the price list's changes reach it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenRunRecord {
    pub service_id: String,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub cloud_name: String,
    pub plan: String,
    pub hourly_price_usd: DbDecimal,
    pub started_at: DateTime<Utc>,
    pub billed_from: DateTime<Utc>,
    pub account_id: AccountId,
    pub billing_group_id: GroupId,
}

pub use crate::model::states::{CreditType, RunEnd};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRunRecord {
    pub service_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<RunEnd>,
    pub plan: String,
    pub hourly_price_usd: DbDecimal,
    pub billed_from: DateTime<Utc>,
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
    /// Where its hour grid starts: its start, or (continuing a run after a
    /// plan or price change) the next hour of that run's grid.
    pub billed_from: DateTime<Utc>,
}

/// Memberships and priced runs over a period: what the cost engine reads.
pub type Usage = (Vec<GroupMembershipRecord>, Vec<PricedRunRecord>);

// ---------------------------------------------------------------- events --

/// An event as the rules word it; the store writes it in the transaction
/// of the change it describes (rule 11).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub billing_group_id: GroupId,
    pub account_id: AccountId,
    pub actor: String,
    pub event_type: EventType,
    pub event_desc: String,
    pub project_name: Option<String>,
    /// `{"before": …, "after": …}` where the change has one.
    pub details: Option<serde_json::Value>,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub log_entry_id: i64,
    pub billing_group_id: GroupId,
    pub account_id: AccountId,
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

// -------------------------------------------------------------- invoices --

/// An issued invoice as stored (the running month's estimate is never
/// stored: it is computed on read).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceRecord {
    pub invoice_number: String,
    pub billing_group_id: GroupId,
    pub sequence_number: i64,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub state: InvoiceState,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    pub exchange_rate: DbDecimal,
    pub vat_rate: DbDecimal,
    pub vat_note: String,
    pub total_usd: DbDecimal,
    pub total_vat_zero: DbDecimal,
    pub total_inc_vat: DbDecimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub download_cookie: String,
    #[sqlx(try_from = "String")]
    pub payment_method: PaymentMethod,
    /// The customer's billing details on the issue date.
    #[sqlx(try_from = "String")]
    pub customer: JsonText<InvoiceParty>,
    /// The seller on the issue date (empty for invoices issued before it
    /// was kept).
    #[sqlx(try_from = "String")]
    pub seller: JsonText<FrozenSeller>,
    pub create_time: DateTime<Utc>,
    /// The voided invoice this one was issued in place of.
    pub replaces: Option<String>,
    /// The day an admin marked it paid.
    pub paid_date: Option<NaiveDate>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceLineRecord {
    pub line_no: i64,
    #[sqlx(try_from = "String")]
    pub line_type: LineType,
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
    #[sqlx(try_from = "String")]
    pub local_currency: Currency,
    /// The credit a `credit_consumption` line used.
    pub credit_code: Option<String>,
}

/// An invoice to issue: the store numbers it (by the rules' numbering, see
/// [`InvoiceIssuing`]) and writes it with its lines and its event, or
/// skips it when the group's month already has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub billing_group_id: GroupId,
    pub account_id: AccountId,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub state: InvoiceState,
    pub currency: Currency,
    pub exchange_rate: Decimal,
    pub vat_rate: Decimal,
    pub vat_note: String,
    pub total_usd: Decimal,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub download_cookie: String,
    pub payment_method: PaymentMethod,
    pub customer: InvoiceParty,
    pub seller: FrozenSeller,
    pub lines: Vec<InvoiceLineRecord>,
    /// Credits this invoice consumes: written with it, or not at all.
    pub credit_uses: Vec<CreditUse>,
}

// ---------------------------------------------------------- credit notes --

/// A credit note as stored: the invoice it credits, why, and its amounts
/// (negative); a `void` one credits the invoice in full and names the
/// invoice that replaces it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditNoteRecord {
    pub credit_note_number: String,
    pub billing_group_id: GroupId,
    pub sequence_number: i64,
    pub invoice_number: String,
    #[sqlx(try_from = "String")]
    pub kind: CreditNoteKind,
    pub reason: String,
    pub reissued_as: Option<String>,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    pub exchange_rate: DbDecimal,
    pub vat_rate: DbDecimal,
    pub vat_note: String,
    pub total_usd: DbDecimal,
    pub total_vat_zero: DbDecimal,
    pub total_inc_vat: DbDecimal,
    pub issue_date: NaiveDate,
    pub download_cookie: String,
    #[sqlx(try_from = "String")]
    pub payment_method: PaymentMethod,
    /// The customer and seller as on the credited invoice.
    #[sqlx(try_from = "String")]
    pub customer: JsonText<InvoiceParty>,
    #[sqlx(try_from = "String")]
    pub seller: JsonText<FrozenSeller>,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

/// One line of a credit note: what it takes off which line of the invoice
/// (`None`: its VAT line).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditNoteLineRecord {
    pub credited_line_no: Option<i64>,
    #[sqlx(flatten)]
    pub line: InvoiceLineRecord,
}

/// An invoice as a correction finds it, locked: its lines, the credit
/// notes already written against it, and the next numbers of the group's
/// two series.
#[derive(Debug, Clone)]
pub struct LockedInvoice {
    pub group: BillingGroupRecord,
    pub invoice: InvoiceRecord,
    pub lines: Vec<InvoiceLineRecord>,
    pub credit_notes: Vec<CreditNoteRecord>,
    pub credited_lines: Vec<CreditNoteLineRecord>,
    pub next_credit_note_sequence: i64,
    pub next_invoice_sequence: i64,
}

/// An invoice issued in place of a voided one, numbered by the rules.
#[derive(Debug, Clone)]
pub struct Reissue {
    pub invoice_number: String,
    pub sequence_number: i64,
    pub replaces: String,
    pub invoice: NewInvoice,
}

/// What a correction writes, all or nothing: the credit note with its
/// lines, the reissued invoice of a void, their events and mails.
#[derive(Debug, Clone)]
pub struct Correction {
    pub credit_note: CreditNoteRecord,
    pub lines: Vec<CreditNoteLineRecord>,
    pub reissue: Option<Reissue>,
    pub events: Vec<NewEvent>,
    pub mails: Vec<NewMessage>,
}

/// The rules a batch of invoices is issued by, called inside the store's
/// transaction: the number of each (from the group's next sequence number,
/// read under the write lock) and the events to write with it.
pub trait InvoiceIssuing: Send + Sync {
    fn invoice_number(&self, billing_group_id: &GroupId, sequence: i64) -> String;
    fn issued_event(&self, invoice: &NewInvoice, invoice_number: &str) -> NewEvent;
    /// What the outbox gets with the invoice: its email, if it is to be
    /// mailed, and its webhook deliveries.
    fn invoice_messages(&self, invoice: &NewInvoice, invoice_number: &str) -> Vec<NewMessage>;
    fn credit_consumed_event(
        &self,
        invoice: &NewInvoice,
        invoice_number: &str,
        credit_use: &CreditUse,
    ) -> NewEvent;
}

// --------------------------------------------------------------- credits --

/// A credit as stored. Values are USD; `code` is the normalized code (16
/// characters, no separators).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditRecord {
    pub code: String,
    pub credit_type: CreditType,
    pub value_usd: DbDecimal,
    pub remaining_value_usd: DbDecimal,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
    pub issue_time: DateTime<Utc>,
    pub billing_group_id: Option<GroupId>,
    pub earmarked_project_name: Option<String>,
    pub claim_time: Option<DateTime<Utc>>,
}

/// A credit code an operator issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredit {
    pub code: String,
    pub credit_type: CreditType,
    pub value_usd: Decimal,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
}

/// What a claim writes once the rules have accepted it.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditClaim {
    pub earmarked_project_name: Option<String>,
    pub claimed_by: String,
    pub event: NewEvent,
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
    #[sqlx(try_from = "String")]
    pub local_currency: Currency,
}

// ------------------------------------------------------------------ mail --

/// A message for the outbox, written with the change that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub message_id: String,
    pub kind: MessageKind,
    pub account_id: AccountId,
    pub billing_group_id: Option<GroupId>,
    /// An invoice message: the PDF of this invoice goes with it.
    pub invoice_number: Option<String>,
    /// A credit note's message: its PDF goes with it.
    pub credit_note_number: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    /// A webhook delivery: the endpoint it goes to (`recipients` holds its URL).
    pub webhook_id: Option<String>,
}

/// The outbox of one kind of message, for monitoring.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxSummary {
    pub kind: String,
    /// Queued or being sent.
    pub waiting: i64,
    /// Given up on (after the last retry).
    pub failed: i64,
    /// When the oldest waiting message was written.
    pub oldest_waiting: Option<chrono::DateTime<chrono::Utc>>,
}

/// The connection pool as it is right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// A message as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRecord {
    pub message_id: String,
    #[sqlx(try_from = "String")]
    pub kind: MessageKind,
    pub account_id: AccountId,
    pub billing_group_id: Option<GroupId>,
    pub invoice_number: Option<String>,
    #[sqlx(try_from = "String")]
    pub recipients: JsonText<Vec<String>>,
    pub subject: String,
    /// Erased (None) once an invitation is delivered.
    pub body: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_time: DateTime<Utc>,
    pub claim_id: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
    pub credit_note_number: Option<String>,
    pub webhook_id: Option<String>,
}

/// One try of an outbox message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttemptRecord {
    pub message_id: String,
    pub attempt: i64,
    pub attempt_time: DateTime<Utc>,
    pub succeeded: bool,
    /// The other side's answer, or why the try failed.
    pub detail: String,
}

/// A webhook endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRecord {
    pub webhook_id: String,
    pub account_id: AccountId,
    pub url: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub events: JsonText<Vec<WebhookEvent>>,
    /// `whsec_` and the base64 key.
    pub secret: String,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
    pub delete_time: Option<DateTime<Utc>>,
}

/// What a delivered message changes besides itself, as the rules decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// The mail server's answer.
    pub response: String,
    /// An invoice message: the invoice goes from `issued` to `mailed` (only
    /// from `issued`, never over a later change), with this event.
    pub invoice_mailed: Option<NewEvent>,
    /// An invitation: its link's token leaves the outbox.
    pub erase_body: bool,
}

/// A group's monthly budget, in its currency.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BudgetRecord {
    pub billing_group_id: GroupId,
    pub amount: DbDecimal,
    /// Percentages, ascending.
    #[sqlx(try_from = "String")]
    pub thresholds: JsonText<Vec<u32>>,
    pub update_time: DateTime<Utc>,
}
