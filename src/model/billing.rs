//! Billing-group types shared by the pages and the server.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::states::PaymentMethod;
use super::{ProjectSummary, Role};

/// Month-to-date charges before tax: in USD, and in the group's currency
/// when an exchange rate is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccumulatedCosts {
    pub usd: Money,
    pub local: Option<Money>,
}

/// A billing group as listed on the account's Billing tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub billing_currency: Currency,
    pub project_count: i64,
    pub is_primary: bool,
    pub costs: AccumulatedCosts,
}

/// The account page: its groups and projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBilling {
    pub account_id: String,
    pub account_name: String,
    pub role: Role,
    pub primary_billing_group_id: String,
    pub groups: Vec<GroupSummary>,
    /// Deleted groups, (id, name): their events and invoices stay readable.
    pub deleted_groups: Vec<(String, String)>,
    /// The newest issued invoices of all its groups (the account's
    /// Invoices tab lists them all).
    pub latest_invoices: Vec<crate::model::invoices::AccountInvoice>,
    pub projects: Vec<ProjectSummary>,
    /// Per currency of the account's groups (not USD): the exchange rate in
    /// force today (local units per USD) and the day it is from, or None.
    pub rates: Vec<(Currency, Option<(Decimal, chrono::NaiveDate)>)>,
    /// The month to date of all its active groups: USD, and in the
    /// currency asked for (`local` None without a rate for it).
    pub total: AccumulatedCosts,
    /// The currency `total.local` is in.
    pub total_currency: Currency,
}

/// A project of a group with its month-to-date cost in the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectCost {
    pub project_name: String,
    /// Moved to another group this month: its hours so far stay here.
    pub moved_out: bool,
    pub cost_usd: Money,
    /// The same in the group's currency (the sum of the project's service
    /// lines there); None for a USD group or while no rate is in force.
    pub cost_local: Option<Money>,
    /// USD per hour of the services running now (the move preview's
    /// projection).
    pub run_rate_usd: Decimal,
    /// Of `cost_usd`, what this group's credits are expected to pay at
    /// close (Projects tab only; zero elsewhere).
    pub credits_usd: Money,
    /// Remaining USD of this group's credits earmarked for the project
    /// (Projects tab only): they stay with the group if the project moves.
    pub earmarked_usd: Money,
}

/// A card as shown: never the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub name: String,
}

/// A billing group with every field of PRODUCT.md §1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingGroup {
    pub billing_group_id: String,
    pub account_id: String,
    pub billing_group_name: String,
    pub billing_currency: Currency,
    /// Who receive the invoices.
    pub billing_emails: Vec<String>,
    /// Who hear about billing problems and budget alerts.
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
    pub card_info: Option<CardInfo>,
    pub group_state: super::states::GroupState,
    pub create_time: DateTime<Utc>,
}

impl BillingGroup {
    pub fn is_active(&self) -> bool {
        self.group_state == super::states::GroupState::Active
    }
}

/// The billing group page's header, above every tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHeader {
    pub group: BillingGroup,
    pub account_name: String,
    pub role: Role,
    pub is_primary: bool,
    pub costs: AccumulatedCosts,
    pub project_count: i64,
}

/// The Overview tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOverview {
    pub billing_group_id: String,
    pub projects: Vec<ProjectCost>,
    /// The running month's estimate and the latest issued invoices.
    pub invoices: Vec<crate::model::invoices::InvoiceSummary>,
    /// How many of the group's invoices are overdue, and the most days
    /// any of them is past due.
    pub overdue: Option<(usize, i64)>,
    pub chart: crate::model::invoices::CostChart,
    /// Credits the running month's estimate expects to use, then credit
    /// lines of issued invoices, newest first.
    pub applied_credits: Vec<crate::model::credits::AppliedCredit>,
    /// The group's monthly budget and where the month stands against it.
    pub budget: Option<BudgetStatus>,
    /// The caller may set the budget (billing or admin, active group).
    pub can_set_budget: bool,
}

/// The Projects tab: the group's projects with the move preview's figures,
/// and what can be moved or assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupProjects {
    pub billing_group_id: String,
    pub billing_group_name: String,
    /// The caller may move and assign (billing or admin, active group).
    pub can_change: bool,
    pub projects: Vec<ProjectCost>,
    /// The account's other active groups (move targets), (id, name).
    pub other_groups: Vec<(String, String)>,
    /// The account's projects in other groups (assign candidates), (project, group name).
    pub assignable_projects: Vec<(String, String)>,
    /// Whole hours left in the running month (the move preview).
    pub hours_to_month_end: i64,
}

/// The Billing information tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingInfoPage {
    pub group: BillingGroup,
    /// The caller may change it (billing or admin, active group).
    pub editable: bool,
}

/// One line of the Events tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEvent {
    pub log_entry_id: i64,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub project_name: Option<String>,
    /// JSON `{"before": …, "after": …}` where the change has one.
    pub details: Option<String>,
    pub create_time: DateTime<Utc>,
}

/// A page of events and what the filter can offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<GroupEvent>,
    /// Pass as `before` to get the next (older) page; None at the end.
    pub next_before: Option<i64>,
    pub event_types: Vec<String>,
    pub project_names: Vec<String>,
}

impl BillingGroup {
    /// What a group just created holds (the schema's defaults), before it
    /// exists: lets a request be checked in full before anything is written.
    pub fn new_defaults(account_id: &str, now: DateTime<Utc>) -> BillingGroup {
        BillingGroup {
            billing_group_id: String::new(),
            account_id: account_id.to_string(),
            billing_group_name: String::new(),
            billing_currency: Currency::USD,
            billing_emails: Vec::new(),
            billing_contact_emails: Vec::new(),
            billing_extra_text: String::new(),
            company: String::new(),
            address_lines: Vec::new(),
            city: String::new(),
            state: String::new(),
            zip_code: String::new(),
            country_code: String::new(),
            vat_id: String::new(),
            payment_method: PaymentMethod::NoPaymentExpected,
            card_info: None,
            group_state: super::states::GroupState::Active,
            create_time: now,
        }
    }
}

/// An email of a group (an invoice, a budget alert) as its Deliveries list
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub kind: super::states::MessageKind,
    pub invoice_number: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub state: super::states::DeliveryState,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// What the receiving mail server answered when it took the message
    /// (its queue ID, for tracing a mail with its operator).
    pub server_response: Option<String>,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
    pub next_attempt_time: DateTime<Utc>,
    /// Failed or sent, and its content still kept.
    pub can_resend: bool,
}

/// The group's Deliveries tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliveries {
    /// SMTP is set up (otherwise messages wait in the queue).
    pub mail_configured: bool,
    pub deliveries: Vec<Delivery>,
}

/// A group's monthly budget and where the month stands against it, in the
/// group's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetStatus {
    pub amount: Money,
    /// Percentages, ascending.
    pub thresholds: Vec<u32>,
    /// The month so far, before credits and VAT (the header's figure);
    /// None without an exchange rate.
    pub actual: Option<Money>,
    /// The month's end at the current run rate.
    pub forecast: Option<Money>,
    /// Thresholds already alerted this month: (measure, percent).
    pub alerted: Vec<(super::states::BudgetMeasure, u32)>,
    /// When the thresholds are next checked (the budget job's next run).
    #[serde(default)]
    pub next_evaluation: Option<chrono::DateTime<chrono::Utc>>,
}
