//! Projects on the wire, with their group's billing details as Aiven
//! prints them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{amount, Email};
use super::groups::{billing_address, CardInfoWire};
use crate::model::countries::country_name;
use crate::server::billing::projects::ProjectDetail;

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
            account_id: detail.project.account_id.into_string(),
            billing_group_id: detail.project.billing_group_id.into_string(),
            default_cloud: detail.project.default_cloud,
            create_time: detail.project.create_time,
        }
    }
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
