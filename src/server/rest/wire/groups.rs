//! Billing groups on the wire: the group with its figures, the billing
//! fields requests send, the group's events and the account's overview.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{amount, Email};
use crate::model::billing::{BillingGroup, CardInfo, GroupEvent};
use crate::model::countries::country_name;
use crate::model::money::Money;
use crate::server::billing::groups::GroupDetail;

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

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingGroupResponse {
    pub billing_group: BillingGroupWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BillingGroupsResponse {
    pub billing_groups: Vec<BillingGroupWire>,
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
