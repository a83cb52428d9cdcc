//! Records as the pages and the API see them.

use crate::model::billing::{BillingGroup, CardInfo};
use crate::model::people::AccountInfo;
use crate::model::ProjectSummary;
use crate::server::store::{AccountRecord, BillingGroupRecord, ProjectRecord};

pub fn account_info(a: AccountRecord) -> AccountInfo {
    AccountInfo {
        account_id: a.account_id.into_string(),
        account_name: a.account_name,
        primary_billing_group_id: a.primary_billing_group_id.into_string(),
        create_time: a.create_time,
        update_time: a.update_time,
    }
}

pub fn to_model(g: BillingGroupRecord) -> BillingGroup {
    let card_info = match (
        g.card_brand,
        g.card_last4,
        g.card_exp_month,
        g.card_exp_year,
    ) {
        (Some(brand), Some(last4), Some(exp_month), Some(exp_year)) => Some(CardInfo {
            brand,
            last4,
            exp_month,
            exp_year,
            name: g.card_name.unwrap_or_default(),
        }),
        _ => None,
    };
    BillingGroup {
        billing_emails: g.billing_emails.0,
        billing_contact_emails: g.billing_contact_emails.0,
        address_lines: g.address_lines.0,
        group_state: g.group_state,
        billing_group_id: g.billing_group_id.into_string(),
        account_id: g.account_id.into_string(),
        billing_group_name: g.billing_group_name,
        billing_currency: g.billing_currency,
        billing_extra_text: g.billing_extra_text,
        company: g.company,
        city: g.city,
        state: g.state,
        zip_code: g.zip_code,
        country_code: g.country_code,
        vat_id: g.vat_id,
        payment_method: g.payment_method,
        card_info,
        create_time: g.create_time,
    }
}

pub fn project_summary(project: &ProjectRecord) -> ProjectSummary {
    ProjectSummary {
        project_name: project.project_name.clone(),
        account_id: project.account_id.to_string(),
        billing_group_id: project.billing_group_id.to_string(),
        billing_group_name: project.billing_group_name.clone(),
        default_cloud: project.default_cloud.clone(),
        create_time: project.create_time,
    }
}
