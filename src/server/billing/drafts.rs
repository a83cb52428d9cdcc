//! What an invoice says (rules 8 and 9), before it is numbered: a line per
//! project and service, a line per credit it uses, VAT, totals. A pure
//! function of the charges, the rate and the group's billing details; the
//! month close, the running estimate and the header's accumulated costs
//! all draft through here.
//!
//! Rounding (one rule, `Currency::round`): each line is rounded on its own
//! to the currency's minor unit, half away from zero — USD from the exact
//! charge, local from the exact charge times the rate. `total_vat_zero` is
//! the sum of the rounded non-VAT lines, VAT is that total times the rate,
//! rounded the same way, and `total_inc_vat` is their sum: so both totals
//! equal the sum of their lines to the cent.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::costs::Charge;
use super::credit_rule::Allocation;
use crate::model::billing::AccumulatedCosts;
use crate::model::countries::{country_name, EU_COUNTRIES};
use crate::model::credits::display_code;
use crate::model::invoices::{
    overdue_days, FrozenSeller, InvoiceLine, InvoiceParty, InvoiceSummary, ESTIMATE,
};
use crate::model::money::{Currency, Money};
use crate::model::states::{InvoiceState, LineType, PaymentMethod};
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, CreditNoteRecord, CreditUse, DbDecimal, InvoiceLineRecord, InvoiceRecord,
    NewInvoice,
};

pub const REVERSE_CHARGE_NOTE: &str = "Reverse charge: VAT to be accounted for by the recipient \
     (Article 196, Council Directive 2006/112/EC).";

pub const EXPORT_NOTE: &str = "Export of services outside the EU: no VAT charged.";

/// The VAT of an invoice: rate in percent and the note printed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vat {
    pub rate: Decimal,
    pub note: String,
}

/// Rule 9. Customer in the seller's country (or no country given yet):
/// domestic VAT. EU business with a VAT ID: reverse charge at 0 %. EU
/// customer without a VAT ID (a consumer): the seller's VAT. Outside the
/// EU: 0 %, no VAT charged.
pub fn vat_for(seller: &Seller, country_code: &str, vat_id: &str) -> Vat {
    let country = country_code.trim().to_ascii_uppercase();
    let in_eu = EU_COUNTRIES.contains(&country.as_str());
    let domestic = Vat {
        rate: seller.vat_rate,
        note: String::new(),
    };
    if country.is_empty() || country == seller.country_code {
        domestic
    } else if in_eu && !vat_id.trim().is_empty() {
        Vat {
            rate: Decimal::ZERO,
            note: REVERSE_CHARGE_NOTE.into(),
        }
    } else if in_eu {
        domestic
    } else {
        Vat {
            rate: Decimal::ZERO,
            note: EXPORT_NOTE.into(),
        }
    }
}

/// A line per project and service, by project then service: each charge
/// rounded on its own in USD and, at `exchange_rate`, in `currency`.
pub fn service_lines(
    charges: &[&Charge],
    period: (DateTime<Utc>, DateTime<Utc>),
    exchange_rate: Decimal,
    currency: Currency,
) -> Vec<InvoiceLineRecord> {
    let mut charges: Vec<&&Charge> = charges.iter().collect();
    charges.sort_by(|a, b| {
        (&a.project_name, &a.service_name).cmp(&(&b.project_name, &b.service_name))
    });
    charges
        .into_iter()
        .enumerate()
        .map(|(index, charge)| {
            let (usd, local) = line_totals(charge, exchange_rate, currency);
            InvoiceLineRecord {
                line_no: index as i64 + 1,
                line_type: LineType::ServiceCharge,
                description: format!(
                    "{} {} in {}: {} h at {} USD/h",
                    charge.service_type,
                    charge.plan,
                    charge.cloud_name,
                    charge.hours,
                    charge.hourly_price_usd.normalize()
                ),
                project_name: Some(charge.project_name.clone()),
                service_name: Some(charge.service_name.clone()),
                service_type: Some(charge.service_type.clone()),
                service_plan: Some(charge.plan.clone()),
                cloud_name: Some(charge.cloud_name.clone()),
                hours: Some(charge.hours),
                timestamp_begin: Some(period.0),
                timestamp_end: Some(period.1),
                line_total_usd: DbDecimal(usd),
                line_total_local: DbDecimal(local),
                local_currency: currency,
                credit_code: None,
            }
        })
        .collect()
}

/// A charge's service line total in USD and in the local currency, each
/// rounded on its own (the one place that rounds a service line).
pub fn line_totals(
    charge: &Charge,
    exchange_rate: Decimal,
    currency: Currency,
) -> (Decimal, Decimal) {
    (
        Currency::USD.round(charge.amount_usd),
        currency.round(charge.amount_usd * exchange_rate),
    )
}

/// Rule 7: the month's charges before credits and VAT, as the sum of the
/// invoice's service lines — so the header, the estimate and the API
/// agree to the cent. Without a rate (`None`), only in USD.
pub fn accumulated(
    charges: &[&Charge],
    exchange_rate: Option<Decimal>,
    currency: Currency,
) -> AccumulatedCosts {
    // The sums of the lines' totals, without building the lines.
    let rate = exchange_rate.unwrap_or(Decimal::ONE);
    let (usd, local) = charges
        .iter()
        .map(|charge| line_totals(charge, rate, currency))
        .fold((Decimal::ZERO, Decimal::ZERO), |(usd, local), (u, l)| {
            (usd + u, local + l)
        });
    AccumulatedCosts {
        usd: Money::usd(usd),
        local: exchange_rate.map(|_| Money::of(local, currency)),
    }
}

/// The invoice of one group for one period: service lines, a line per
/// credit it uses (never taking the invoice below zero), and VAT on what
/// remains.
pub fn draft_invoice(
    group: &BillingGroupRecord,
    charges: &[&Charge],
    period: (DateTime<Utc>, DateTime<Utc>),
    exchange_rate: Decimal,
    vat: &Vat,
    credits: &[Allocation],
) -> NewInvoice {
    let currency = group.billing_currency;
    let mut lines = service_lines(charges, period, exchange_rate, currency);
    let credit_uses = credit_lines(&mut lines, credits, period, exchange_rate, currency);
    let total_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let total_vat_zero: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let vat_line = vat_line(&lines, vat, currency, period);
    let total_inc_vat = total_vat_zero + vat_line.line_total_local.0;
    lines.push(vat_line);
    NewInvoice {
        billing_group_id: group.billing_group_id.clone(),
        account_id: group.account_id.clone(),
        period_begin: period.0,
        period_end: period.1,
        state: state_at_issue(group.payment_method, total_inc_vat),
        currency,
        exchange_rate,
        vat_rate: vat.rate,
        vat_note: vat.note.clone(),
        total_usd,
        total_vat_zero,
        total_inc_vat,
        issue_date: period.1.date_naive(),
        due_date: period.1.date_naive(),
        download_cookie: String::new(),
        payment_method: group.payment_method,
        customer: customer_of(group),
        // Stamped at issue (`month_close`), with the dates.
        seller: FrozenSeller::default(),
        lines,
        credit_uses,
    }
}

/// The VAT line of an invoice whose other lines are `lines`: their total
/// times the rate, rounded like any line, in both currencies.
pub fn vat_line(
    lines: &[InvoiceLineRecord],
    vat: &Vat,
    currency: Currency,
    period: (DateTime<Utc>, DateTime<Utc>),
) -> InvoiceLineRecord {
    let total_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let total_vat_zero: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let hundred = Decimal::from(100);
    InvoiceLineRecord {
        line_no: lines.len() as i64 + 1,
        line_type: LineType::Vat,
        description: if vat.note.is_empty() {
            format!("VAT {} %", vat.rate.normalize())
        } else {
            format!("VAT {} % — {}", vat.rate.normalize(), vat.note)
        },
        project_name: None,
        service_name: None,
        service_type: None,
        service_plan: None,
        cloud_name: None,
        hours: None,
        timestamp_begin: Some(period.0),
        timestamp_end: Some(period.1),
        line_total_usd: DbDecimal(Currency::USD.round(total_usd * vat.rate / hundred)),
        line_total_local: DbDecimal(currency.round(total_vat_zero * vat.rate / hundred)),
        local_currency: currency,
        credit_code: None,
    }
}

/// An invoice's state when issued: nothing to pay, or paid by card at
/// issue (recorded; there is no processor) → paid; pay by invoice →
/// issued (mailed once its email is delivered); no payment method on file
/// yet → due.
pub fn state_at_issue(payment_method: PaymentMethod, total_inc_vat: Decimal) -> InvoiceState {
    if total_inc_vat.is_zero() {
        return InvoiceState::Paid;
    }
    match payment_method {
        PaymentMethod::Card => InvoiceState::Paid,
        PaymentMethod::Email => InvoiceState::Issued,
        PaymentMethod::NoPaymentExpected => InvoiceState::Due,
    }
}

/// Appends a `credit_consumption` line per credit: its exact share rounded
/// like any line, but never more than the charges still unpaid on the
/// invoice in either currency (rounding must not take it below zero), and
/// an earmarked credit never more than its project's lines still unpaid by
/// earmarked credits (each line is rounded on its own, so the project's
/// rounded lines can sum to a cent less than its rounded exact charge).
fn credit_lines(
    lines: &mut Vec<InvoiceLineRecord>,
    credits: &[Allocation],
    period: (DateTime<Utc>, DateTime<Utc>),
    exchange_rate: Decimal,
    currency: Currency,
) -> Vec<CreditUse> {
    let mut unpaid_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let mut unpaid_local: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let mut project_unpaid: std::collections::BTreeMap<String, (Decimal, Decimal)> =
        std::collections::BTreeMap::new();
    for line in lines.iter() {
        if let Some(project) = &line.project_name {
            let unpaid = project_unpaid.entry(project.clone()).or_default();
            unpaid.0 += line.line_total_usd.0;
            unpaid.1 += line.line_total_local.0;
        }
    }
    let mut uses = Vec::new();
    for credit in credits {
        let project = credit
            .earmarked_project_name
            .as_ref()
            .map(|name| project_unpaid.get(name).copied().unwrap_or_default());
        let usd = Currency::USD
            .round(credit.total)
            .min(unpaid_usd)
            .min(project.map_or(unpaid_usd, |p| p.0));
        if usd <= Decimal::ZERO {
            continue;
        }
        let local = currency
            .round(usd * exchange_rate)
            .min(unpaid_local)
            .min(project.map_or(unpaid_local, |p| p.1))
            .max(Decimal::ZERO);
        unpaid_usd -= usd;
        unpaid_local -= local;
        if let Some(name) = &credit.earmarked_project_name {
            if let Some(unpaid) = project_unpaid.get_mut(name) {
                unpaid.0 -= usd;
                unpaid.1 -= local;
            }
        }
        let code = display_code(&credit.code);
        lines.push(InvoiceLineRecord {
            line_no: lines.len() as i64 + 1,
            line_type: LineType::CreditConsumption,
            description: match &credit.earmarked_project_name {
                Some(project) => format!(
                    "Credit {code} ({}), earmarked for {project}",
                    credit.credit_type
                ),
                None => format!("Credit {code} ({})", credit.credit_type),
            },
            project_name: credit.earmarked_project_name.clone(),
            service_name: None,
            service_type: None,
            service_plan: None,
            cloud_name: None,
            hours: None,
            timestamp_begin: Some(period.0),
            timestamp_end: Some(period.1),
            line_total_usd: DbDecimal(-usd),
            line_total_local: DbDecimal(-local),
            local_currency: currency,
            credit_code: Some(credit.code.clone()),
        });
        uses.push(CreditUse {
            code: credit.code.clone(),
            amount_usd: usd,
            remaining_before: credit.remaining_before,
            earmarked_project_name: credit.earmarked_project_name.clone(),
        });
    }
    uses
}

/// The customer's billing details as an invoice freezes them.
pub fn customer_of(group: &BillingGroupRecord) -> InvoiceParty {
    let mut address_lines = group.address_lines.0.clone();
    let city_line = [
        group.zip_code.as_str(),
        group.city.as_str(),
        group.state.as_str(),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    if !city_line.is_empty() {
        address_lines.push(city_line);
    }
    InvoiceParty {
        name: if group.company.is_empty() {
            group.billing_group_name.clone()
        } else {
            group.company.clone()
        },
        address_lines,
        country_code: group.country_code.clone(),
        country: country_name(&group.country_code)
            .unwrap_or_default()
            .to_string(),
        vat_id: group.vat_id.clone(),
        business_id: String::new(),
        emails: group.billing_emails.0.clone(),
        extra_text: group.billing_extra_text.clone(),
    }
}

pub fn seller_party(seller: &Seller) -> InvoiceParty {
    InvoiceParty {
        name: seller.name.clone(),
        address_lines: seller.address_lines.clone(),
        country_code: seller.country_code.clone(),
        country: country_name(&seller.country_code)
            .unwrap_or_default()
            .to_string(),
        vat_id: seller.vat_id.clone(),
        business_id: seller.business_id.clone(),
        emails: (!seller.email.is_empty())
            .then(|| seller.email.clone())
            .into_iter()
            .collect(),
        extra_text: String::new(),
    }
}

/// The seller as an invoice keeps it: who issues it and the account it is
/// paid to, as on the issue date.
pub fn frozen_seller(seller: &Seller) -> FrozenSeller {
    FrozenSeller {
        party: seller_party(seller),
        iban: seller.iban.clone(),
        bic: seller.bic.clone(),
        bank_name: seller.bank_name.clone(),
    }
}

/// The running month's draft. Without a rate for today (`rate` None) it
/// is in USD, with a notice saying so.
pub fn estimate_draft(
    seller: &Seller,
    group: &BillingGroupRecord,
    own: &[&Charge],
    month: (DateTime<Utc>, DateTime<Utc>),
    rate: Option<Decimal>,
    credits: &[Allocation],
) -> (NewInvoice, Option<String>) {
    let vat = vat_for(seller, &group.country_code, &group.vat_id);
    let (mut draft, notice) = match rate {
        Some(rate) => (draft_invoice(group, own, month, rate, &vat, credits), None),
        None => {
            let mut in_usd = group.clone();
            in_usd.billing_currency = Currency::USD;
            (
                draft_invoice(&in_usd, own, month, Decimal::ONE, &vat, credits),
                Some(format!(
                    "No exchange rate for {} is in force today, so this estimate is in USD.",
                    group.billing_currency
                )),
            )
        }
    };
    draft.state = InvoiceState::Estimate;
    (draft, notice)
}

pub fn estimate_summary(draft: &NewInvoice) -> InvoiceSummary {
    InvoiceSummary {
        invoice_number: ESTIMATE.into(),
        period_begin: draft.period_begin,
        period_end: draft.period_end,
        state: InvoiceState::Estimate,
        currency: draft.currency,
        total_vat_zero: Money::of(draft.total_vat_zero, draft.currency),
        total_inc_vat: Money::of(draft.total_inc_vat, draft.currency),
        issue_date: None,
        due_date: None,
        overdue_days: None,
        download_cookie: None,
        credited: None,
        replaces: None,
        reissued_as: None,
        paid_date: None,
    }
}

/// An issued invoice as listed on `today` (which says if it is overdue),
/// with what `credit_notes` (the group's, or the invoice's) took off it.
pub fn summary_of(
    record: &InvoiceRecord,
    credit_notes: &[CreditNoteRecord],
    today: NaiveDate,
) -> InvoiceSummary {
    let own: Vec<&CreditNoteRecord> = credit_notes
        .iter()
        .filter(|note| note.invoice_number == record.invoice_number)
        .collect();
    let credited: Decimal = own.iter().map(|note| -note.total_inc_vat.0).sum();
    let remaining = record.total_inc_vat.0 - credited;
    InvoiceSummary {
        invoice_number: record.invoice_number.clone(),
        period_begin: record.period_begin,
        period_end: record.period_end,
        state: record.state,
        currency: record.currency,
        total_vat_zero: Money::of(record.total_vat_zero.0, record.currency),
        total_inc_vat: Money::of(record.total_inc_vat.0, record.currency),
        issue_date: Some(record.issue_date),
        due_date: Some(record.due_date),
        overdue_days: overdue_days(record.state, Some(record.due_date), remaining, today),
        download_cookie: Some(record.download_cookie.clone()),
        credited: (!own.is_empty()).then(|| Money::of(credited, record.currency)),
        replaces: record.replaces.clone(),
        reissued_as: own.iter().find_map(|note| note.reissued_as.clone()),
        paid_date: match record.state {
            InvoiceState::Paid => record.paid_date.or(Some(record.issue_date)),
            _ => None,
        },
    }
}

pub fn line_of(line: &InvoiceLineRecord) -> InvoiceLine {
    InvoiceLine {
        line_no: line.line_no,
        line_type: line.line_type,
        description: line.description.clone(),
        project_name: line.project_name.clone(),
        service_name: line.service_name.clone(),
        service_type: line.service_type.clone(),
        service_plan: line.service_plan.clone(),
        cloud_name: line.cloud_name.clone(),
        hours: line.hours,
        timestamp_begin: line.timestamp_begin,
        timestamp_end: line.timestamp_end,
        line_total_usd: Money::usd(line.line_total_usd.0),
        line_total_local: Money::of(line.line_total_local.0, line.local_currency),
        local_currency: line.local_currency,
        credit_code: line.credit_code.as_deref().map(display_code),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::model::states::CreditType;

    fn charge(project: &str, service: &str, amount_usd: &str) -> Charge {
        Charge {
            billing_group_id: "g".into(),
            project_name: project.into(),
            service_name: service.into(),
            service_type: "pg".into(),
            plan: "startup-4".into(),
            cloud_name: "aws-eu-west-1".into(),
            hourly_price_usd: Decimal::ONE,
            hours: 1,
            amount_usd: amount_usd.parse().unwrap(),
        }
    }

    #[test]
    fn an_earmarked_credit_never_pays_more_than_its_projects_rounded_lines() {
        // Two lines of 100.004 round to 100.00 each; the credit's exact
        // share, 200.008, would round to 200.01.
        let charges = [
            charge("p", "a", "100.004"),
            charge("p", "b", "100.004"),
            charge("q", "c", "50"),
        ];
        let refs: Vec<&Charge> = charges.iter().collect();
        let period = (
            Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        );
        let rate: Decimal = "0.925".parse().unwrap();
        let mut lines = service_lines(&refs, period, rate, Currency::EUR);
        let credit = Allocation {
            code: "ABCD".into(),
            credit_type: CreditType::Trial,
            earmarked_project_name: Some("p".into()),
            remaining_before: Decimal::from(1000),
            per_project: BTreeMap::from([("p".to_string(), "200.008".parse().unwrap())]),
            per_stretch: vec!["200.008".parse().unwrap()],
            total: "200.008".parse().unwrap(),
            ran_out_in: None,
        };
        let project_lines = |lines: &[InvoiceLineRecord], local: bool| -> Decimal {
            lines
                .iter()
                .filter(|l| l.line_type == LineType::ServiceCharge)
                .filter(|l| l.project_name.as_deref() == Some("p"))
                .map(|l| {
                    if local {
                        l.line_total_local.0
                    } else {
                        l.line_total_usd.0
                    }
                })
                .sum()
        };
        let (usd, local) = (project_lines(&lines, false), project_lines(&lines, true));
        let uses = credit_lines(&mut lines, &[credit], period, rate, Currency::EUR);
        let paid = lines.last().unwrap();
        assert_eq!(paid.line_type, LineType::CreditConsumption);
        assert_eq!(-paid.line_total_usd.0, usd, "USD {usd}");
        assert!(-paid.line_total_local.0 <= local, "EUR {local}");
        assert_eq!(uses[0].amount_usd, usd);
    }
}
