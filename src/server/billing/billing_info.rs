//! The Billing information tab (rules 9 and 12): payment method and billing
//! details, checked field by field; a save is all-or-nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::authorized_group;
use super::card_and_vat::{check_card, normalize_vat_id};
use super::present::to_model;
use crate::error::{AppError, AppResult, FieldError};
use crate::model::countries::country_name;
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Currency;
use crate::model::new_group::NewGroupDraft;
use crate::model::states::{EventType, PaymentMethod};
use crate::model::{validation, CurrentUser, Role};
use crate::server::store::{BillingGroupRecord, BillingInfoUpdate, NewEvent, Store, StoredCard};

/// The form as submitted. The card number is only ever held here, in
/// memory, long enough to check it and keep its last four digits.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingInfoForm {
    pub payment_method: String,
    #[serde(default)]
    pub card_number: String,
    #[serde(default)]
    pub card_expiry: String,
    #[serde(default)]
    pub card_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub zip_code: String,
    #[serde(default)]
    pub country_code: String,
    #[serde(default)]
    pub vat_id: String,
    #[serde(default)]
    pub billing_emails: String,
    #[serde(default)]
    pub billing_contact_emails: String,
    #[serde(default)]
    pub billing_currency: String,
    #[serde(default)]
    pub billing_extra_text: String,
}

impl BillingInfoForm {
    /// The billing details of the guided create flow's answers: pay by
    /// invoice or nothing to pay (a card is added once the group exists).
    pub fn of_draft(draft: &NewGroupDraft) -> AppResult<BillingInfoForm> {
        let payment_method = match draft.payment_method.trim() {
            "" => PaymentMethod::NoPaymentExpected.as_str().to_string(),
            "card" => {
                return Err(AppError::invalid(
                    "payment_method",
                    "Add a card on the group's Billing information tab once it exists; choose pay by invoice or no payment expected here.",
                ))
            }
            other => other.to_string(),
        };
        Ok(BillingInfoForm {
            payment_method,
            card_number: String::new(),
            card_expiry: String::new(),
            card_name: String::new(),
            company: draft.company.clone(),
            address: draft.address.clone(),
            city: draft.city.clone(),
            state: draft.state.clone(),
            zip_code: draft.zip_code.clone(),
            country_code: draft.country_code.clone(),
            vat_id: draft.vat_id.clone(),
            billing_emails: draft.billing_emails.clone(),
            billing_contact_emails: draft.billing_contact_emails.clone(),
            billing_currency: match draft.billing_currency.trim() {
                "" => "USD".to_string(),
                code => code.to_string(),
            },
            billing_extra_text: draft.billing_extra_text.clone(),
        })
    }
}

// Never print a card number, not even in debug logs.
impl std::fmt::Debug for BillingInfoForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingInfoForm")
            .field("payment_method", &self.payment_method)
            .field("card_number", &"<redacted>")
            .field("company", &self.company)
            .field("country_code", &self.country_code)
            .finish_non_exhaustive()
    }
}

pub async fn save(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    form: &BillingInfoForm,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    let update = validate(form, &group, now)?;
    save_update(store, user, &group.billing_group_id, &update, now).await
}

/// The group's billing details for a caller who may change them (the
/// API lays its fields over these before the one validation).
pub async fn editable_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
) -> AppResult<crate::model::billing::BillingGroup> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    Ok(to_model(group))
}

/// Checks a form against the group's current details (a card on file is
/// kept without its number) without saving anything.
pub async fn check(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    form: &BillingInfoForm,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    validate(form, &group, now).map(|_| ())
}

/// Checks a form for a group about to be created in `account_id`.
pub fn check_new(
    form: &BillingInfoForm,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    validate(
        form,
        &BillingGroupRecord::new_defaults(account_id, now),
        now,
    )
    .map(|_| ())
}

/// Writes a checked update with its `billing_info_changed` event, which
/// names the fields that changed with their values before and after. The
/// group must still be active when the write locks it.
async fn save_update(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    update: &BillingInfoUpdate,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let change = info_changed_event(user, now);
    Ok(store
        .update_billing_info(billing_group_id, update, now, &change)
        .await?)
}

/// The check and event of a billing-information save: the group must
/// still be active when the write locks it; the `billing_info_changed`
/// event names the fields that changed with their values before and after.
pub(super) fn info_changed_event<'a>(
    user: &'a CurrentUser,
    now: DateTime<Utc>,
) -> impl Fn(&BillingGroupRecord, &BillingGroupRecord) -> AppResult<NewEvent> + Send + Sync + 'a {
    move |before: &BillingGroupRecord, after: &BillingGroupRecord| {
        if !before.is_active() {
            return Err(AppError::not_found("Billing group"));
        }
        let details = changes(before, after);
        Ok(NewEvent {
            billing_group_id: after.billing_group_id.clone(),
            account_id: after.account_id.clone(),
            actor: user.email.clone(),
            event_type: EventType::BillingInfoChanged,
            event_desc: describe_changes(&details),
            project_name: None,
            details: Some(details),
            create_time: now,
        })
    }
}

/// Another group's billing details, as a new group copies them: a card
/// stays with its group (pay by invoice when the source paid by card).
pub(super) fn update_copied_from(source: &BillingGroupRecord) -> BillingInfoUpdate {
    BillingInfoUpdate {
        billing_currency: source.billing_currency,
        billing_emails: source.billing_emails.0.clone(),
        billing_contact_emails: source.billing_contact_emails.0.clone(),
        billing_extra_text: source.billing_extra_text.clone(),
        company: source.company.clone(),
        address_lines: source.address_lines.0.clone(),
        city: source.city.clone(),
        state: source.state.clone(),
        zip_code: source.zip_code.clone(),
        country_code: source.country_code.clone(),
        vat_id: source.vat_id.clone(),
        payment_method: match source.payment_method {
            PaymentMethod::Card => PaymentMethod::Email,
            other => other,
        },
        card: None,
    }
}

/// The billing fields that differ between two versions of a group, as
/// `{"before": {...}, "after": {...}}` for the event log.
pub fn changes(before: &BillingGroupRecord, after: &BillingGroupRecord) -> serde_json::Value {
    let fields = |g: &BillingGroupRecord| -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("billing_currency", g.billing_currency.code().into()),
            ("billing_emails", g.billing_emails.0.clone().into()),
            (
                "billing_contact_emails",
                g.billing_contact_emails.0.clone().into(),
            ),
            ("billing_extra_text", g.billing_extra_text.clone().into()),
            ("company", g.company.clone().into()),
            ("address_lines", g.address_lines.0.clone().into()),
            ("city", g.city.clone().into()),
            ("state", g.state.clone().into()),
            ("zip_code", g.zip_code.clone().into()),
            ("country_code", g.country_code.clone().into()),
            ("vat_id", g.vat_id.clone().into()),
            ("payment_method", g.payment_method.as_str().into()),
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

/// The billing fields as people name them, in the order the form shows
/// them (the event's details keep the field names).
const FIELD_LABELS: [(&str, &str); 17] = [
    ("payment_method", "payment method"),
    ("card_brand", "card"),
    ("card_last4", "card"),
    ("card_exp_month", "card expiry"),
    ("card_exp_year", "card expiry"),
    ("card_name", "name on card"),
    ("company", "company"),
    ("address_lines", "address"),
    ("city", "city"),
    ("state", "state or region"),
    ("zip_code", "postal code"),
    ("country_code", "country"),
    ("vat_id", "VAT ID"),
    ("billing_emails", "invoice emails"),
    ("billing_contact_emails", "billing contact emails"),
    ("billing_currency", "billing currency"),
    ("billing_extra_text", "extra text on invoices"),
];

/// "Billing information changed: company, VAT ID" (or "saved without
/// changes"), in words, not field names.
pub fn describe_changes(details: &serde_json::Value) -> String {
    let changed = details["after"].as_object();
    let mut labels: Vec<&str> = Vec::new();
    for (key, label) in FIELD_LABELS {
        if changed.is_some_and(|m| m.contains_key(key)) && !labels.contains(&label) {
            labels.push(label);
        }
    }
    if labels.is_empty() {
        "Billing information saved without changes".to_string()
    } else {
        format!("Billing information changed: {}", labels.join(", "))
    }
}

/// Checks every field and reports every problem at once.
pub fn validate(
    form: &BillingInfoForm,
    current: &BillingGroupRecord,
    now: DateTime<Utc>,
) -> AppResult<BillingInfoUpdate> {
    let mut errors = Vec::new();
    let mut field = |name: &str, message: String| errors.push(FieldError::new(name, message));

    let text = |value: &str,
                name: &str,
                label: &str,
                max: usize,
                errors: &mut dyn FnMut(&str, String)|
     -> String {
        let value = value.trim().to_string();
        if value.chars().count() > max {
            errors(name, format!("{label} can be at most {max} characters."));
        }
        // Only the extra invoice text has several lines.
        if let Err(message) = validation::plain_text(&value, label, name == "billing_extra_text") {
            errors(name, message);
        }
        value
    };

    let company = text(&form.company, "company", "Company", 128, &mut field);
    let city = text(&form.city, "city", "City", 128, &mut field);
    let state = text(&form.state, "state", "State", 128, &mut field);
    let zip_code = text(&form.zip_code, "zip_code", "Zip code", 32, &mut field);
    let billing_extra_text = text(
        &form.billing_extra_text,
        "billing_extra_text",
        "Extra invoice text",
        1000,
        &mut field,
    );

    let address_lines: Vec<String> = form
        .address
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if address_lines.len() > 4 {
        field("address", "Use at most 4 address lines.".into());
    }
    if address_lines
        .iter()
        .any(|l| validation::plain_text(l, "Address", false).is_err())
    {
        field(
            "address",
            "The address cannot contain control characters.".into(),
        );
    }
    if address_lines.iter().any(|l| l.chars().count() > 128) {
        field(
            "address",
            "Each address line can be at most 128 characters.".into(),
        );
    }

    let country_code = form.country_code.trim().to_uppercase();
    let known_country = country_code.is_empty() || country_name(&country_code).is_some();
    if !known_country {
        field(
            "country_code",
            format!("'{country_code}' is not an ISO 3166 country code."),
        );
    }

    // A VAT ID is checked against a known country's format only.
    let vat_country = if known_country {
        country_code.as_str()
    } else {
        ""
    };
    let vat_id = match normalize_vat_id(&form.vat_id, vat_country) {
        Ok(v) => v,
        Err(message) => {
            field("vat_id", message);
            String::new()
        }
    };

    let billing_currency = Currency::parse(&form.billing_currency.trim().to_uppercase());
    if billing_currency.is_none() {
        let codes: Vec<&str> = Currency::ALL.iter().map(|c| c.code()).collect();
        field(
            "billing_currency",
            format!(
                "Choose one of the billing currencies: {}.",
                codes.join(", ")
            ),
        );
    }

    let mut email_list = |raw: &str, name: &'static str| {
        let mut list = Vec::new();
        for raw in raw
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            match validation::email(raw) {
                Ok(email) if !list.contains(&email) => list.push(email),
                Ok(_) => {}
                Err(message) => field(name, message),
            }
        }
        if list.len() > 10 {
            field(name, "Use at most 10 addresses.".into());
        }
        list
    };
    let billing_emails = email_list(&form.billing_emails, "billing_emails");
    let billing_contact_emails = email_list(&form.billing_contact_emails, "billing_contact_emails");

    let payment_method = PaymentMethod::parse(form.payment_method.trim());
    let mut card = None;
    match payment_method {
        Some(PaymentMethod::Card) => {
            let keep_existing = form.card_number.trim().is_empty() && current.card_last4.is_some();
            if keep_existing {
                card = Some(StoredCard {
                    brand: current.card_brand.clone().unwrap_or_default(),
                    last4: current.card_last4.clone().unwrap_or_default(),
                    exp_month: current.card_exp_month.unwrap_or_default(),
                    exp_year: current.card_exp_year.unwrap_or_default(),
                    name: current.card_name.clone().unwrap_or_default(),
                });
            } else {
                match check_card(&form.card_number, &form.card_expiry, &form.card_name, now) {
                    Ok(c) => card = Some(c),
                    Err(problems) => {
                        for (name, message) in problems {
                            field(name, message);
                        }
                    }
                }
            }
        }
        Some(PaymentMethod::Email) => {
            if billing_emails.is_empty() {
                field(
                    "billing_emails",
                    "Pay by invoice needs at least one billing email to send invoices to.".into(),
                );
            }
        }
        Some(PaymentMethod::NoPaymentExpected) => {}
        None => field(
            "payment_method",
            "Choose a payment method: card or pay by invoice.".into(),
        ),
    }

    let (Some(billing_currency), Some(payment_method)) = (billing_currency, payment_method) else {
        return Err(AppError::Invalid { errors });
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid { errors });
    }
    Ok(BillingInfoUpdate {
        billing_currency,
        billing_emails,
        billing_contact_emails,
        billing_extra_text,
        company,
        address_lines,
        city,
        state,
        zip_code,
        country_code,
        vat_id,
        payment_method,
        card,
    })
}
