//! The Billing information tab's save.
// The server function's arguments are the form's fields, flat, so that the
// form posts as plain HTML before hydration; clippy counts them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::ids::GroupId;

/// Saves the Billing information tab all at once. The arguments are the
/// form's fields, flat, so the form posts without JavaScript too.
#[server(endpoint = "save_billing_info")]
pub async fn save_billing_info(
    billing_group_id: String,
    payment_method: String,
    #[server(default)] card_number: String,
    #[server(default)] card_expiry: String,
    #[server(default)] card_name: String,
    #[server(default)] company: String,
    #[server(default)] address: String,
    #[server(default)] city: String,
    #[server(default)] state: String,
    #[server(default)] zip_code: String,
    #[server(default)] country_code: String,
    #[server(default)] vat_id: String,
    #[server(default)] billing_emails: String,
    #[server(default)] billing_contact_emails: String,
    #[server(default)] billing_currency: String,
    #[server(default)] billing_extra_text: String,
) -> Result<(), AppError> {
    use super::context;
    use crate::server::billing::billing_info::{save, BillingInfoForm};
    let app = context::state()?;
    let user = context::user()?;
    let form = BillingInfoForm {
        payment_method,
        card_number,
        card_expiry,
        card_name,
        company,
        address,
        city,
        state,
        zip_code,
        country_code,
        vat_id,
        billing_emails,
        billing_contact_emails,
        billing_currency,
        billing_extra_text,
    };
    save(
        app.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &form,
        context::now()?,
    )
    .await
    .map(|_| ())
}
