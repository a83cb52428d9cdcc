//! The API's JSON, in Aiven's field names (PRODUCT.md §1 and §7). Money is
//! a string with two decimals; times are RFC 3339 in UTC. Request bodies
//! refuse unknown fields, so a typo is a 400, not silently ignored.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::billing::{BillingGroup, CardInfo, GroupEvent};
use crate::model::countries::country_name;
use crate::model::credits::Credit;
use crate::model::invoices::{CreditNoteSummary, InvoiceLine, InvoiceSummary};
use crate::model::money::Money;
use crate::model::states::GroupState;
use crate::server::billing::groups::GroupDetail;
use crate::server::billing::projects::ProjectDetail;

/// An amount as the API writes it: a string with the currency's decimals
/// (`"568.00"`, `"1234"` for JPY), rounded by the one rule.
pub fn amount(money: Money) -> Decimal {
    let mut rounded = money.currency.round(money.amount);
    rounded.rescale(money.currency.minor_units());
    rounded
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub email: String,
}

impl Email {
    /// Addresses as Aiven lists them: `[{"email": …}]`, always a list.
    pub fn list(addresses: &[String]) -> Vec<Email> {
        addresses
            .iter()
            .map(|e| Email { email: e.clone() })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CardInfoWire {
    pub brand: String,
    /// Cards are kept per billing group; this names the group's card.
    pub card_id: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub last4: String,
    pub name: String,
    /// The group's first billing email (who gets card receipts).
    pub user_email: String,
}

impl CardInfoWire {
    pub fn of(card: &CardInfo, group: &BillingGroup) -> Self {
        CardInfoWire {
            brand: card.brand.clone(),
            card_id: format!("{}-card", group.billing_group_id),
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            last4: card.last4.clone(),
            name: card.name.clone(),
            user_email: group.billing_emails.first().cloned().unwrap_or_default(),
        }
    }
}

/// The old single-text address Aiven clients still print.
pub fn billing_address(group: &BillingGroup) -> String {
    let mut lines = group.address_lines.clone();
    let town = [group.zip_code.as_str(), group.city.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    for part in [
        town.as_str(),
        group.state.as_str(),
        country_name(&group.country_code).unwrap_or_default(),
    ] {
        if !part.is_empty() {
            lines.push(part.to_string());
        }
    }
    lines.join("\n")
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingGroupWire {
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub account_id: String,
    pub account_name: String,
    /// `active`, or `deleted` (its events and invoices stay readable).
    pub billing_group_state: String,
    pub billing_currency: String,
    /// Who receive the invoices.
    pub billing_emails: Vec<Email>,
    /// Who hear about billing problems and budget alerts.
    pub billing_contact_emails: Vec<Email>,
    pub billing_extra_text: String,
    pub company: String,
    pub address_lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub country: String,
    pub billing_address: String,
    pub vat_id: String,
    /// `card`, `email` (pay by invoice) or `no_payment_expected`.
    pub payment_method: String,
    pub card_info: Option<CardInfoWire>,
    /// Month-to-date charges before tax, in USD.
    pub estimated_balance_usd: Decimal,
    /// The same in the billing currency; null without an exchange rate.
    pub estimated_balance_local: Option<Decimal>,
    pub is_primary: bool,
    pub create_time: DateTime<Utc>,
}

/// What a billing group's figures are, besides its own record.
pub struct GroupFigures {
    pub account_name: String,
    pub is_primary: bool,
    pub usd: Money,
    pub local: Option<Money>,
}

impl BillingGroupWire {
    pub fn of(group: &BillingGroup, figures: GroupFigures) -> Self {
        BillingGroupWire {
            billing_group_id: group.billing_group_id.clone(),
            billing_group_name: group.billing_group_name.clone(),
            account_id: group.account_id.clone(),
            account_name: figures.account_name,
            billing_group_state: group.group_state.to_string(),
            billing_currency: group.billing_currency.to_string(),
            billing_emails: Email::list(&group.billing_emails),
            billing_contact_emails: Email::list(&group.billing_contact_emails),
            billing_extra_text: group.billing_extra_text.clone(),
            company: group.company.clone(),
            address_lines: group.address_lines.clone(),
            city: group.city.clone(),
            state: group.state.clone(),
            zip_code: group.zip_code.clone(),
            country_code: group.country_code.clone(),
            country: country_name(&group.country_code)
                .unwrap_or_default()
                .to_string(),
            billing_address: billing_address(group),
            vat_id: group.vat_id.clone(),
            payment_method: group.payment_method.to_string(),
            card_info: group.card_info.as_ref().map(|c| CardInfoWire::of(c, group)),
            estimated_balance_usd: amount(figures.usd),
            estimated_balance_local: figures.local.map(amount),
            is_primary: figures.is_primary,
            create_time: group.create_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingGroupResponse {
    pub billing_group: BillingGroupWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingGroupsResponse {
    pub billing_groups: Vec<BillingGroupWire>,
}

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

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectWire {
    pub project_name: String,
    pub account_id: String,
    pub account_name: String,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub default_cloud: String,
    pub billing_currency: String,
    pub billing_emails: Vec<Email>,
    pub billing_extra_text: String,
    pub billing_address: String,
    pub company: String,
    pub country_code: String,
    pub country: String,
    pub vat_id: String,
    pub payment_method: String,
    pub card_info: Option<CardInfoWire>,
    /// The project's month-to-date charges in its group, before tax, USD.
    pub estimated_balance: Decimal,
    /// Remaining value of the group's credits that can pay for this project, USD.
    pub available_credits: Decimal,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectResponse {
    pub project: ProjectWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectWire>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    pub project: String,
    pub account_id: Option<String>,
    pub billing_group_id: Option<String>,
    /// Default cloud of the project's services.
    pub cloud: Option<String>,
    /// Take the account (and cloud) of this project of yours.
    pub copy_from_project: Option<String>,
    /// With `copy_from_project`: put the new project in the same billing group.
    pub use_source_project_billing_group: Option<bool>,
    /// Not kept by this console: sending any is refused rather than dropped.
    pub tech_emails: Option<Vec<Email>>,
}

/// Billing information fields shared by create and update.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingFields {
    pub billing_group_name: Option<String>,
    pub account_id: Option<String>,
    /// Saved cards are not kept by ID here: add a card in the console.
    pub card_id: Option<String>,
    pub vat_id: Option<String>,
    pub billing_currency: Option<String>,
    pub billing_extra_text: Option<String>,
    /// Who receive the invoices.
    pub billing_emails: Option<Vec<Email>>,
    /// Who hear about billing problems and budget alerts.
    pub billing_contact_emails: Option<Vec<Email>>,
    pub company: Option<String>,
    pub address_lines: Option<Vec<String>>,
    pub country_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip_code: Option<String>,
    /// `email` (pay by invoice), `no_payment_expected`, or `card` when the
    /// group already has one.
    pub payment_method: Option<String>,
}

/// `POST /v1/billing-group`: `billing_group_name` and `account_id` are needed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct CreateBillingGroupRequest(pub BillingFields);

/// `PUT /v1/billing-group/{id}`: only the fields sent change.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct UpdateBillingGroupRequest(pub BillingFields);

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignProjectsRequest {
    pub projects_names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MessageResponse {
    pub message: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventWire {
    pub log_entry_id: i64,
    pub billing_group_id: String,
    pub actor: String,
    pub event_type: String,
    pub event_desc: String,
    pub project_name: Option<String>,
    pub create_time: DateTime<Utc>,
}

impl EventWire {
    pub fn of(billing_group_id: &str, e: GroupEvent) -> Self {
        EventWire {
            log_entry_id: e.log_entry_id,
            billing_group_id: billing_group_id.to_string(),
            actor: e.actor,
            event_type: e.event_type,
            event_desc: e.event_desc,
            project_name: e.project_name,
            create_time: e.create_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventsResponse {
    pub events: Vec<EventWire>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditWire {
    /// Grouped for reading: `ABCD-EFGH-JKMN-PQRS`.
    pub code: String,
    #[serde(rename = "type")]
    pub credit_type: String,
    /// USD.
    pub value: Decimal,
    /// USD.
    pub remaining_value: Decimal,
    /// `active`, `not started`, `used up` or `expired`.
    pub state: String,
    pub start_time: DateTime<Utc>,
    pub expire_time: Option<DateTime<Utc>>,
    /// The project the credit is earmarked for, if any.
    pub project_name: Option<String>,
    pub claim_time: Option<DateTime<Utc>>,
}

impl From<Credit> for CreditWire {
    fn from(c: Credit) -> Self {
        CreditWire {
            code: c.code,
            credit_type: c.credit_type,
            value: amount(c.value_usd),
            remaining_value: amount(c.remaining_value_usd),
            state: c.state.to_string(),
            start_time: c.start_time,
            expire_time: c.expire_time,
            project_name: c.earmarked_project_name,
            claim_time: c.claim_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditsResponse {
    pub credits: Vec<CreditWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditResponse {
    pub credit: CreditWire,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCreditRequest {
    pub code: String,
    /// Earmark the credit for this project of the account.
    pub project_name: Option<String>,
}

/// Fields `?sort=` accepts (as `avn billing-group invoice-list --sort`).
pub const INVOICE_SORTS: [&str; 7] = [
    "invoice_number",
    "period_begin",
    "period_end",
    "state",
    "currency",
    "total_inc_vat",
    "total_vat_zero",
];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingOverviewQuery {
    /// The currency of the account's total (default: its primary group's).
    pub currency: Option<String>,
}

/// One group's month to date on the account's overview.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupCostWire {
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub billing_currency: String,
    pub is_primary: bool,
    pub project_count: i64,
    /// This month so far, before tax.
    pub month_to_date_usd: Decimal,
    /// The same in the group's currency; null without a rate.
    pub month_to_date_local: Option<Decimal>,
}

/// An account's billing overview: each group's month to date and the
/// account's total.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingOverviewResponse {
    pub account_id: String,
    pub billing_groups: Vec<GroupCostWire>,
    pub total_usd: Decimal,
    pub total_currency: String,
    /// Null without a rate for `total_currency`.
    pub total_local: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicesQuery {
    pub sort: Option<String>,
    /// An RF payment reference (spaces allowed), or part of an invoice number.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceWire {
    /// `estimate` for the running month.
    pub invoice_number: String,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub billing_group_state: String,
    pub period_begin: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `estimate`, `issued` (pay by invoice, not yet delivered), `mailed`
    /// (its email delivered), `due`, `paid`, `waived` or `uncollectible`.
    pub state: String,
    pub currency: String,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Key of the PDF link `…/invoice/{invoice_number}/{download_cookie}`;
    /// null for the estimate.
    pub download_cookie: Option<String>,
    /// What credit notes took off it, VAT included; null when none did.
    pub total_credited: Option<Decimal>,
    /// `total_inc_vat` less `total_credited`: what remains to be paid.
    pub total_remaining: Decimal,
    /// The voided invoice this one was issued in place of.
    pub replaces: Option<String>,
    /// The invoice issued in place of this one, voided.
    pub reissued_as: Option<String>,
}

/// The group an invoice belongs to, as invoices show it.
pub struct InvoiceGroup<'a> {
    pub billing_group_id: &'a str,
    pub billing_group_name: &'a str,
    pub billing_group_state: GroupState,
}

impl InvoiceWire {
    pub fn of(summary: InvoiceSummary, group: &InvoiceGroup<'_>) -> Self {
        let remaining = summary.remaining_due();
        InvoiceWire {
            invoice_number: summary.invoice_number,
            billing_group_id: group.billing_group_id.to_string(),
            billing_group_name: group.billing_group_name.to_string(),
            billing_group_state: group.billing_group_state.to_string(),
            period_begin: summary.period_begin,
            period_end: summary.period_end,
            state: summary.state.to_string(),
            currency: summary.currency.to_string(),
            total_vat_zero: amount(summary.total_vat_zero),
            total_inc_vat: amount(summary.total_inc_vat),
            issue_date: summary.issue_date,
            due_date: summary.due_date,
            total_credited: summary.credited.map(amount),
            total_remaining: amount(remaining),
            download_cookie: summary.download_cookie,
            replaces: summary.replaces,
            reissued_as: summary.reissued_as,
        }
    }
}

/// A credit note: negative amounts, the invoice it credits.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNoteWire {
    pub credit_note_number: String,
    pub invoice_number: String,
    /// `credit` (part or all of the invoice) or `void` (all of it, the
    /// invoice reissued as `reissued_as`).
    pub kind: String,
    pub reason: String,
    pub reissued_as: Option<String>,
    pub currency: String,
    pub total_vat_zero: Decimal,
    pub total_inc_vat: Decimal,
    pub issue_date: NaiveDate,
    pub created_by: String,
    pub create_time: DateTime<Utc>,
}

impl From<CreditNoteSummary> for CreditNoteWire {
    fn from(n: CreditNoteSummary) -> Self {
        CreditNoteWire {
            credit_note_number: n.credit_note_number,
            invoice_number: n.invoice_number,
            kind: n.kind.to_string(),
            reason: n.reason,
            reissued_as: n.reissued_as,
            currency: n.currency.to_string(),
            total_vat_zero: amount(n.total_vat_zero),
            total_inc_vat: amount(n.total_inc_vat),
            issue_date: n.issue_date,
            created_by: n.created_by,
            create_time: n.create_time,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNotesResponse {
    pub credit_notes: Vec<CreditNoteWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreditNoteResponse {
    pub credit_note: CreditNoteWire,
    pub lines: Vec<InvoiceLineWire>,
}

/// An amount to take off one line of the invoice, before VAT, in its
/// currency.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLineRequest {
    pub line_no: i64,
    /// A string, like `"12.50"`.
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// Printed on the credit note (1–500 characters).
    pub reason: String,
    /// Amounts per line (`line_no` as in `…/lines`, from 1); omitted or
    /// empty: everything that remains.
    #[serde(default)]
    pub lines: Vec<CreditLineRequest>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInvoiceRequest {
    /// Printed on the credit note (1–500 characters).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VoidInvoiceResponse {
    pub credit_note: CreditNoteWire,
    /// The invoice issued in its place.
    pub invoice: InvoiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoicesResponse {
    pub invoices: Vec<InvoiceWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceResponse {
    pub invoice: InvoiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceLineWire {
    /// From 1; what a credit note's `lines` refer to.
    pub line_no: i64,
    /// `service_charge`, `credit_consumption`, `extra_charge`, `vat`, …
    pub line_type: String,
    pub description: String,
    pub project_name: Option<String>,
    pub service_name: Option<String>,
    pub service_type: Option<String>,
    pub service_plan: Option<String>,
    pub cloud_name: Option<String>,
    pub timestamp_begin: Option<DateTime<Utc>>,
    pub timestamp_end: Option<DateTime<Utc>>,
    pub line_total_usd: Decimal,
    pub line_total_local: Decimal,
    pub local_currency: String,
    /// The credit a `credit_consumption` line used.
    pub credit_code: Option<String>,
}

impl From<InvoiceLine> for InvoiceLineWire {
    fn from(l: InvoiceLine) -> Self {
        InvoiceLineWire {
            line_no: l.line_no,
            line_type: l.line_type.to_string(),
            description: l.description,
            project_name: l.project_name,
            service_name: l.service_name,
            service_type: l.service_type,
            service_plan: l.service_plan,
            cloud_name: l.cloud_name,
            timestamp_begin: l.timestamp_begin,
            timestamp_end: l.timestamp_end,
            line_total_usd: amount(l.line_total_usd),
            line_total_local: amount(l.line_total_local),
            local_currency: l.local_currency.to_string(),
            credit_code: l.credit_code,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvoiceLinesResponse {
    pub lines: Vec<InvoiceLineWire>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAuthRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserAuthResponse {
    /// A new personal API token: send it as `authorization: aivenv1 <token>`.
    pub token: String,
    pub state: String,
    pub user_email: String,
}

impl ProjectWire {
    pub fn of(detail: ProjectDetail) -> Self {
        let group = &detail.group;
        ProjectWire {
            account_name: detail.account_name.clone(),
            billing_group_name: group.billing_group_name.clone(),
            billing_currency: group.billing_currency.to_string(),
            billing_emails: Email::list(&group.billing_emails),
            billing_extra_text: group.billing_extra_text.clone(),
            billing_address: billing_address(group),
            company: group.company.clone(),
            country_code: group.country_code.clone(),
            country: country_name(&group.country_code)
                .unwrap_or_default()
                .to_string(),
            vat_id: group.vat_id.clone(),
            payment_method: group.payment_method.to_string(),
            card_info: group.card_info.as_ref().map(|c| CardInfoWire::of(c, group)),
            estimated_balance: amount(detail.estimated_balance),
            available_credits: amount(detail.available_credits),
            project_name: detail.project.project_name,
            account_id: detail.project.account_id,
            billing_group_id: detail.project.billing_group_id,
            default_cloud: detail.project.default_cloud,
            create_time: detail.project.create_time,
        }
    }
}

impl BillingGroupWire {
    pub fn of_detail(detail: GroupDetail) -> Self {
        BillingGroupWire::of(
            &detail.group,
            GroupFigures {
                account_name: detail.account_name,
                is_primary: detail.is_primary,
                usd: detail.costs.usd,
                local: detail.costs.local,
            },
        )
    }
}

// -------------------------------------------------------------- services --

/// A service as `avn service list/get` prints it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceWire {
    pub service_name: String,
    pub service_type: String,
    pub project_name: String,
    /// `RUNNING` or `POWEROFF`.
    pub state: String,
    pub cloud_name: String,
    pub plan: String,
    /// The current run's price (USD per hour).
    pub hourly_price_usd: Decimal,
    pub node_count: i64,
    pub disk_space_mb: i64,
    pub service_uri: String,
    pub user_config: serde_json::Map<String, serde_json::Value>,
    pub databases: Vec<String>,
    pub users: Vec<serde_json::Value>,
    pub termination_protection: bool,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceResponse {
    pub service: ServiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServicesResponse {
    pub services: Vec<ServiceWire>,
}

/// What `avn service create` sends. Options this console does not offer
/// (configuration, integrations, VPCs, static IPs, extra disk, keys) are
/// refused by name when set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    /// Default: the project's default cloud.
    #[serde(default)]
    pub cloud: Option<String>,
    #[serde(default)]
    pub user_config: Option<serde_json::Value>,
    #[serde(default)]
    pub service_integrations: Option<serde_json::Value>,
    #[serde(default)]
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub static_ips: Option<serde_json::Value>,
    #[serde(default)]
    pub disk_space_mb: Option<i64>,
    #[serde(default)]
    pub project_vpc_id: Option<serde_json::Value>,
    #[serde(default)]
    pub cmk_id: Option<String>,
}

/// What `avn service update` sends: a plan (always, the current one when
/// it stays) and `powered`; other options are refused by name when set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequest {
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub powered: Option<bool>,
    #[serde(default)]
    pub cloud: Option<String>,
    #[serde(default)]
    pub user_config: Option<serde_json::Value>,
    #[serde(default)]
    pub maintenance: Option<serde_json::Value>,
    #[serde(default)]
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub project_vpc_id: Option<serde_json::Value>,
    #[serde(default)]
    pub disk_space_mb: Option<i64>,
    #[serde(default)]
    pub karapace: Option<bool>,
    #[serde(default)]
    pub schema_registry_authz: Option<bool>,
    #[serde(default)]
    pub disaster_recovery_role: Option<String>,
    #[serde(default)]
    pub cmk_id: Option<String>,
}

/// A plan's price and size in one cloud.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanRegionWire {
    /// USD per hour, as a string (avn reads it as a decimal).
    pub price_usd: String,
    pub node_memory_mb: i64,
    pub disk_space_mb: i64,
    pub node_cpu_count: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServicePlanWire {
    pub service_type: String,
    pub service_plan: String,
    pub node_count: i64,
    /// Per cloud.
    pub regions: std::collections::BTreeMap<String, PlanRegionWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypeWire {
    pub description: String,
    pub service_plans: Vec<ServicePlanWire>,
    pub user_config_schema: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypesResponse {
    pub service_types: std::collections::BTreeMap<String, ServiceTypeWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypeResponse {
    pub service_type: String,
    pub description: String,
    pub service_plans: Vec<ServicePlanWire>,
    pub user_config_schema: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VpcsResponse {
    pub vpcs: Vec<serde_json::Value>,
}

// ------------------------------------------------------- budgets, mail --

/// `PUT /v1/billing-group/{id}/budget`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// The monthly amount in the group's currency, e.g. "3000.00".
    pub amount: String,
    /// Percentages, ascending (default 50, 90, 100).
    #[serde(default)]
    pub thresholds: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BudgetWire {
    pub currency: String,
    pub amount: Decimal,
    pub thresholds: Vec<u32>,
    /// The month so far, before credits and VAT (null without a rate).
    pub actual: Option<Decimal>,
    /// The month's end at the current run rate.
    pub forecast: Option<Decimal>,
    /// Alerts already sent this month, as `actual:90` or `forecast:100`.
    pub alerts_sent: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BudgetResponse {
    /// Null: no budget.
    // Always present: the schema names it required and spells out the null.
    #[schemars(required, schema_with = "nullable_budget")]
    pub budget: Option<BudgetWire>,
}

fn nullable_budget(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let budget = generator.subschema_for::<BudgetWire>();
    schemars::json_schema!({
        "description": "Null: no budget.",
        "anyOf": [budget, {"type": "null"}],
    })
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveryWire {
    pub message_id: String,
    /// `invoice` or `budget_alert`.
    pub kind: String,
    pub invoice_number: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// What the receiving mail server answered when it took the message.
    pub server_response: Option<String>,
    pub create_time: DateTime<Utc>,
    pub sent_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeliveriesResponse {
    pub mail_configured: bool,
    pub deliveries: Vec<DeliveryWire>,
}
