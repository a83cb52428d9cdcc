//! The guided **Create billing group** flow: name → billing details →
//! projects → summary → create. Its answers travel in the page's query
//! and, at the last step, in hidden fields of one form, so the flow works
//! without JavaScript and nothing is written before the last step.

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

    /// The draft from a page's query: `get` reads one value, `projects`
    /// are the repeated `projects` values.
    pub fn from_query(get: impl Fn(&str) -> Option<String>, projects: Vec<String>) -> Self {
        let mut draft = NewGroupDraft {
            projects,
            ..NewGroupDraft::default()
        };
        for name in fields() {
            if let (Some(value), Some(field)) = (get(name), draft.field_mut(name)) {
                *field = value;
            }
        }
        draft
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

    /// The query of this draft at `step` (for Back and Edit links).
    pub fn query(&self, step: u8) -> String {
        let mut parts: Vec<String> = self
            .hidden_fields(&[])
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", crate::paths::encode_query_value(&value)))
            .collect();
        parts.extend(
            self.projects
                .iter()
                .map(|p| format!("projects={}", crate::paths::encode_query_value(p))),
        );
        parts.push(format!("step={step}"));
        parts.join("&")
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_survives_its_query() {
        let draft = NewGroupDraft {
            billing_group_name: "Research & data".into(),
            address: "Street 1\nFloor 2".into(),
            country_code: "FI".into(),
            projects: vec!["p1".into(), "p 2".into()],
            ..NewGroupDraft::default()
        };
        let query = draft.query(3);
        assert!(query.ends_with("step=3"));
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').expect("name=value");
                (name.to_string(), decode(value))
            })
            .collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let projects = pairs
            .iter()
            .filter(|(n, _)| n == "projects")
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(NewGroupDraft::from_query(get, projects), draft);
    }

    fn decode(value: &str) -> String {
        let bytes = value.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }
}
