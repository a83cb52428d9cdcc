//! The guided **Create billing group** flow: name → billing details →
//! projects → summary → create. Each step posts every answer so far (the
//! other steps' in hidden fields), the server keeps them as a draft, and
//! the next page's URL names the draft, never an answer; the flow works
//! without JavaScript.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The flow's steps, in order (query value `step`).
pub const STEPS: [(u8, &str); 4] = [
    (1, "Name"),
    (2, "Billing details"),
    (3, "Projects"),
    (4, "Summary"),
];

/// The answers so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewGroupDraft {
    pub billing_group_name: String,
    /// Copy the billing details of this group of the account (its id);
    /// empty: the details below.
    pub copy_from: String,
    pub payment_method: String,
    pub company: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country_code: String,
    pub vat_id: String,
    pub billing_emails: String,
    pub billing_contact_emails: String,
    pub billing_currency: String,
    pub billing_extra_text: String,
    /// Projects of the account to move into the new group.
    pub projects: Vec<String>,
}

/// The inputs of the billing-details step, by their form names.
pub const DETAIL_FIELDS: [&str; 13] = [
    "copy_from",
    "payment_method",
    "company",
    "address",
    "city",
    "state",
    "zip_code",
    "country_code",
    "vat_id",
    "billing_emails",
    "billing_contact_emails",
    "billing_currency",
    "billing_extra_text",
];

/// Every single-valued answer's form name.
fn fields() -> impl Iterator<Item = &'static str> {
    std::iter::once("billing_group_name").chain(DETAIL_FIELDS)
}

impl NewGroupDraft {
    fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "billing_group_name" => &mut self.billing_group_name,
            "copy_from" => &mut self.copy_from,
            "payment_method" => &mut self.payment_method,
            "company" => &mut self.company,
            "address" => &mut self.address,
            "city" => &mut self.city,
            "state" => &mut self.state,
            "zip_code" => &mut self.zip_code,
            "country_code" => &mut self.country_code,
            "vat_id" => &mut self.vat_id,
            "billing_emails" => &mut self.billing_emails,
            "billing_contact_emails" => &mut self.billing_contact_emails,
            "billing_currency" => &mut self.billing_currency,
            "billing_extra_text" => &mut self.billing_extra_text,
            _ => return None,
        })
    }

    /// Every single-valued answer as (form name, value), for hidden
    /// fields, except those named in `except` (the step's own inputs).
    pub fn hidden_fields(&self, except: &[&str]) -> Vec<(&'static str, String)> {
        let mut copy = self.clone();
        fields()
            .filter(|name| !except.contains(name))
            .filter_map(|name| Some((name, copy.field_mut(name)?.clone())))
            .collect()
    }
}

/// What the flow's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGroupPage {
    pub account_id: String,
    pub account_name: String,
    /// The step shown: the one asked for, or the first whose answers need
    /// fixing (with `error`).
    pub step: u8,
    pub error: Option<AppError>,
    /// Active groups of the account to copy details from: (id, name).
    pub groups: Vec<(String, String)>,
    /// The account's projects: (name, its group's name now).
    pub projects: Vec<(String, String)>,
    /// The currency a new group starts with: the primary group's.
    pub default_currency: crate::model::money::Currency,
    /// The answers so far.
    pub draft: NewGroupDraft,
    /// The id under which they are kept (empty: nothing kept yet), which
    /// the page's links and forms carry instead of the answers.
    pub draft_id: String,
}
