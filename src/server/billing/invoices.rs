//! Invoices (rules 8 and 9): the running month's estimate, the invoice a
//! month close freezes, VAT, and an admin's state changes. Every amount
//! comes from the cost engine (`costs::charges`); this module only groups
//! and rounds.
//!
//! Rounding rule (one, tested): each line is rounded on its own to the
//! currency's minor unit, half away from zero — USD from the exact charge,
//! local from the exact charge times the rate. `total_vat_zero` is the sum
//! of the rounded non-VAT lines, VAT is that total times the rate, rounded
//! the same way, and `total_inc_vat` is their sum: so both totals equal the
//! sum of their lines to the cent.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::costs::{self, Charge};
use super::credits::{self, Allocation};
use super::groups::authorized_group;
use super::store_error;
use crate::error::{AppError, AppResult};
use crate::model::countries::{country_name, EU_COUNTRIES};
use crate::model::invoices::{
    InvoiceDetail, InvoiceLine, InvoiceParty, InvoiceSummary, ESTIMATE, SETTABLE_STATES,
};
use crate::model::{CurrentUser, Role};
use crate::server::auth::internal;
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, CreditRecord, CreditUse, DbDecimal, GroupMembershipRecord,
    InvoiceLineRecord, InvoiceRecord, NewInvoice, PricedRunRecord, Store,
};

pub const REVERSE_CHARGE_NOTE: &str = "Reverse charge: VAT to be accounted for by the recipient \
     (Article 196, Council Directive 2006/112/EC).";

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
            note: "Export of services outside the EU: no VAT charged.".into(),
        }
    }
}

/// Decimal places of a currency's minor unit.
pub fn minor_units(currency: &str) -> u32 {
    if currency == "JPY" {
        0
    } else {
        2
    }
}

/// Rounds to the currency's minor unit, half away from zero.
pub fn round_in(amount: Decimal, currency: &str) -> Decimal {
    amount.round_dp_with_strategy(
        minor_units(currency),
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    )
}

/// What an invoice of one group for one period says, before it is numbered:
/// a line per project and service, a line per credit it uses (never taking
/// the invoice below zero), and VAT on what remains.
pub fn draft_invoice(
    group: &BillingGroupRecord,
    charges: &[&Charge],
    period: (DateTime<Utc>, DateTime<Utc>),
    exchange_rate: Decimal,
    vat: &Vat,
    credits: &[Allocation],
) -> NewInvoice {
    let currency = group.billing_currency.clone();
    let mut charges: Vec<&&Charge> = charges.iter().collect();
    charges.sort_by(|a, b| {
        (&a.project_name, &a.service_name).cmp(&(&b.project_name, &b.service_name))
    });
    let mut lines = Vec::with_capacity(charges.len() + 1);
    for charge in charges {
        lines.push(InvoiceLineRecord {
            line_no: lines.len() as i64 + 1,
            line_type: "service_charge".into(),
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
            line_total_usd: DbDecimal(round_in(charge.amount_usd, "USD")),
            line_total_local: DbDecimal(round_in(charge.amount_usd * exchange_rate, &currency)),
            local_currency: currency.clone(),
            credit_code: None,
        });
    }
    let credit_uses = credit_lines(&mut lines, credits, period, exchange_rate, &currency);
    let total_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let total_vat_zero: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let hundred = Decimal::from(100);
    let vat_local = round_in(total_vat_zero * vat.rate / hundred, &currency);
    lines.push(InvoiceLineRecord {
        line_no: lines.len() as i64 + 1,
        line_type: "vat".into(),
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
        line_total_usd: DbDecimal(round_in(total_usd * vat.rate / hundred, "USD")),
        line_total_local: DbDecimal(vat_local),
        local_currency: currency.clone(),
        credit_code: None,
    });
    let total_inc_vat = total_vat_zero + vat_local;
    let state = if total_inc_vat.is_zero() {
        "paid"
    } else {
        match group.payment_method.as_str() {
            // The card is charged at issue (recorded; there is no processor).
            "card" => "paid",
            "email" => "mailed",
            // No payment method on file yet: owed, nothing sent or charged.
            _ => "due",
        }
    };
    NewInvoice {
        billing_group_id: group.billing_group_id.clone(),
        account_id: group.account_id.clone(),
        period_begin: period.0,
        period_end: period.1,
        state: state.into(),
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
        payment_method: group.payment_method.clone(),
        customer: customer_of(group).to_json(),
        lines,
        credit_uses,
    }
}

/// Appends a `credit_consumption` line per credit: its exact share rounded
/// like any line, but never more than the charges still unpaid on the
/// invoice in either currency (rounding must not take it below zero).
fn credit_lines(
    lines: &mut Vec<InvoiceLineRecord>,
    credits: &[Allocation],
    period: (DateTime<Utc>, DateTime<Utc>),
    exchange_rate: Decimal,
    currency: &str,
) -> Vec<CreditUse> {
    let mut unpaid_usd: Decimal = lines.iter().map(|l| l.line_total_usd.0).sum();
    let mut unpaid_local: Decimal = lines.iter().map(|l| l.line_total_local.0).sum();
    let mut uses = Vec::new();
    for credit in credits {
        let usd = round_in(credit.total, "USD").min(unpaid_usd);
        if usd <= Decimal::ZERO {
            continue;
        }
        let local = round_in(usd * exchange_rate, currency)
            .min(unpaid_local)
            .max(Decimal::ZERO);
        unpaid_usd -= usd;
        unpaid_local -= local;
        let code = crate::model::credits::display_code(&credit.code);
        lines.push(InvoiceLineRecord {
            line_no: lines.len() as i64 + 1,
            line_type: "credit_consumption".into(),
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
            local_currency: currency.to_string(),
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
    let list = |text: &str| serde_json::from_str::<Vec<String>>(text).unwrap_or_default();
    let mut address_lines = list(&group.address_lines);
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
        emails: list(&group.billing_emails),
        extra_text: group.billing_extra_text.clone(),
    }
}

trait PartyJson {
    fn to_json(&self) -> String;
}

impl PartyJson for InvoiceParty {
    fn to_json(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "address_lines": self.address_lines,
            "country_code": self.country_code,
            "country": self.country,
            "vat_id": self.vat_id,
            "emails": self.emails,
            "extra_text": self.extra_text,
        })
        .to_string()
    }
}

fn party_from_json(text: &str) -> InvoiceParty {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let s = |key: &str| value[key].as_str().unwrap_or_default().to_string();
    let list = |key: &str| {
        value[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    InvoiceParty {
        name: s("name"),
        address_lines: list("address_lines"),
        country_code: s("country_code"),
        country: s("country"),
        vat_id: s("vat_id"),
        emails: list("emails"),
        extra_text: s("extra_text"),
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
        emails: Vec::new(),
        extra_text: String::new(),
    }
}

/// Local units per USD on `day`; USD is always 1.
pub(crate) async fn rate_on(
    store: &dyn Store,
    currency: &str,
    day: NaiveDate,
) -> AppResult<Option<Decimal>> {
    if currency == "USD" {
        return Ok(Some(Decimal::ONE));
    }
    store
        .exchange_rate_on(currency, day)
        .await
        .map_err(internal)
}

// ------------------------------------------------------------ month close --

/// `YYYY-MM` → the month's first instant (UTC).
pub fn parse_period(text: &str) -> AppResult<DateTime<Utc>> {
    let invalid = || {
        AppError::invalid(
            "period",
            format!("'{text}' is not a month; write it as YYYY-MM, like 2026-10."),
        )
    };
    let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
    let (year, month) = (
        year.parse::<i32>().map_err(|_| invalid())?,
        month.parse::<u32>().map_err(|_| invalid())?,
    );
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .filter(|_| (2000..=2999).contains(&year))
        .ok_or_else(invalid)?;
    Ok(costs::month_of(first.and_hms_opt(0, 0, 0).ok_or_else(invalid)?.and_utc()).0)
}

/// What a month close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseSummary {
    pub period: String,
    /// Numbers of the invoices this run issued.
    pub issued: Vec<String>,
    /// Groups another run invoiced while this one was working (a parallel
    /// close on another instance); earlier runs' groups are not counted.
    pub already_invoiced: usize,
    /// Wall time of each phase, for the log and the benchmark.
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Another instance holds the month's close lease: nothing was done.
    pub another_instance_closing: bool,
}

/// Groups per transaction: each invoice is all-or-nothing (its lines and
/// event commit with it), and a crash loses at most an uncommitted batch.
const GROUPS_PER_TRANSACTION: usize = 250;

/// How long a close's lease lasts without renewal: far longer than one
/// batch takes, short enough that a crashed instance's close is retried
/// within the hour.
const CLOSE_LEASE_MINUTES: i64 = 10;

/// Freezes every group's invoice for the month starting at `period_begin`.
/// One instance at a time: the close takes the month's lease in the
/// database (renewed per batch); while another instance holds it, this one
/// does nothing and says so. Idempotent besides: a group whose month
/// already has an invoice is skipped, so a second run issues nothing twice.
/// Refused before anything is written when the month has not ended or an
/// exchange rate is missing.
pub async fn close_month(
    store: &dyn Store,
    seller: &Seller,
    period_begin: DateTime<Utc>,
    now: DateTime<Utc>,
    actor: &str,
) -> AppResult<CloseSummary> {
    let (from, _) = costs::month_of(period_begin);
    let holder = format!("{actor}/{}", uuid::Uuid::new_v4().simple());
    let lease = Lease {
        store,
        period: from,
        holder: &holder,
        started: std::time::Instant::now(),
        now,
    };
    if !lease.renew().await? {
        return Ok(CloseSummary {
            period: from.format("%Y-%m").to_string(),
            issued: Vec::new(),
            already_invoiced: 0,
            phases: Vec::new(),
            another_instance_closing: true,
        });
    }
    let result = close_month_holding(store, seller, from, now, actor, &lease).await;
    // A failed release only leaves the lease to lapse.
    if let Err(error) = store.release_close_lease(from, &holder).await {
        tracing::warn!(%error, "month close lease not released; it lapses by itself");
    }
    result
}

/// The month's close lease as one close holds it.
struct Lease<'a> {
    store: &'a dyn Store,
    period: DateTime<Utc>,
    holder: &'a str,
    started: std::time::Instant,
    /// The close's clock at `started` (tests pass a fixed one).
    now: DateTime<Utc>,
}

impl Lease<'_> {
    /// Takes or extends the lease; false when another holder has it.
    async fn renew(&self) -> AppResult<bool> {
        let elapsed = Duration::from_std(self.started.elapsed()).unwrap_or_default();
        let now = self.now + elapsed;
        self.store
            .acquire_close_lease(
                self.period,
                self.holder,
                now,
                now + Duration::minutes(CLOSE_LEASE_MINUTES),
            )
            .await
            .map_err(internal)
    }
}

async fn close_month_holding(
    store: &dyn Store,
    seller: &Seller,
    period_begin: DateTime<Utc>,
    now: DateTime<Utc>,
    actor: &str,
    lease: &Lease<'_>,
) -> AppResult<CloseSummary> {
    let (from, to) = costs::month_of(period_begin);
    let period = from.format("%Y-%m").to_string();
    if to > now {
        return Err(AppError::invalid(
            "period",
            format!(
                "{period} has not ended yet; it can be closed from {} UTC.",
                to.format("%Y-%m-%d %H:%M")
            ),
        ));
    }
    let mut clock = std::time::Instant::now();
    let mut phases = Vec::new();
    let mut lap = |name: &'static str, phases: &mut Vec<_>| {
        phases.push((name, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let groups = store.groups_to_invoice(from, to).await.map_err(internal)?;
    lap("groups", &mut phases);
    let issue_date = now.date_naive();
    let mut rates: BTreeMap<String, Decimal> = BTreeMap::new();
    for group in &groups {
        if rates.contains_key(&group.billing_currency) {
            continue;
        }
        let rate = rate_on(store, &group.billing_currency, issue_date)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "exchange_rate",
                    format!(
                        "No exchange rate for {} is in force on {issue_date}; add one to the exchange_rates table, then close {period} again.",
                        group.billing_currency
                    ),
                )
            })?;
        rates.insert(group.billing_currency.clone(), rate);
    }
    if groups.is_empty() {
        // Every group's month is invoiced already: nothing to read.
        store
            .record_month_close(from, 0, now)
            .await
            .map_err(internal)?;
        return Ok(CloseSummary {
            period,
            issued: Vec::new(),
            already_invoiced: 0,
            phases,
            another_instance_closing: false,
        });
    }
    let (memberships, runs) = store.usage_between(from, to).await.map_err(internal)?;
    lap("read usage", &mut phases);
    let charges = costs::charges(&memberships, &runs, from, to);
    lap("charges", &mut phases);
    let mut by_group: BTreeMap<&str, Vec<&Charge>> = BTreeMap::new();
    for charge in &charges {
        by_group
            .entry(charge.billing_group_id.as_str())
            .or_default()
            .push(charge);
    }
    let claimed = store.claimed_credits().await.map_err(internal)?;
    let mut credits_by_group: BTreeMap<&str, Vec<&CreditRecord>> = BTreeMap::new();
    for credit in &claimed {
        if let Some(group) = credit.billing_group_id.as_deref() {
            credits_by_group.entry(group).or_default().push(credit);
        }
    }
    // What each group's credits pay, before the usage is let go.
    let mut credits_of: BTreeMap<&str, Vec<Allocation>> = BTreeMap::new();
    if !credits_by_group.is_empty() {
        let usage_index = UsageIndex::new(&memberships, &runs);
        for (group, credits) in &credits_by_group {
            let Some(group_charges) = by_group.get(group) else {
                continue;
            };
            let (group_memberships, group_runs) = usage_index.of_group(group);
            credits_of.insert(
                group,
                credits::credits_for_period(
                    group,
                    credits,
                    &group_memberships,
                    &group_runs,
                    group_charges,
                    (from, to),
                ),
            );
        }
    }
    drop(runs);
    lap("credits", &mut phases);
    let mut issued = Vec::new();
    let mut already_invoiced = 0;
    let mut drafting = std::time::Duration::ZERO;
    for batch in groups.chunks(GROUPS_PER_TRANSACTION) {
        // Still ours? (A lease that lapsed while this instance stalled may
        // have passed to another; then that one carries on.)
        if !lease.renew().await? {
            return Err(AppError::Conflict {
                message: format!(
                    "The close of {period} passed to another instance after this one stalled; that instance finishes it."
                ),
            });
        }
        let draft_started = std::time::Instant::now();
        let drafts: Vec<NewInvoice> = batch
            .iter()
            .map(|group| {
                let rate = rates
                    .get(&group.billing_currency)
                    .copied()
                    .unwrap_or(Decimal::ONE);
                let vat = vat_for(seller, &group.country_code, &group.vat_id);
                let group_charges = by_group
                    .get(group.billing_group_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let group_credits = credits_of
                    .get(group.billing_group_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut draft =
                    draft_invoice(group, group_charges, (from, to), rate, &vat, group_credits);
                draft.issue_date = issue_date;
                draft.due_date = issue_date + Duration::days(seller.net_days);
                draft.download_cookie = download_cookie();
                draft
            })
            .collect();
        drafting += draft_started.elapsed();
        let numbers = store
            .issue_invoices(&drafts, actor, now)
            .await
            .map_err(store_error)?;
        already_invoiced += drafts.len() - numbers.len();
        issued.extend(numbers);
    }
    lap("draft and write", &mut phases);
    phases.push(("(of which drafting)", drafting));
    store
        .record_month_close(from, issued.len() as i64, now)
        .await
        .map_err(internal)?;
    Ok(CloseSummary {
        period,
        issued,
        already_invoiced,
        phases,
        another_instance_closing: false,
    })
}

/// The month's usage by project, so a group with credits gets its own
/// share without a scan of everything (stretches shorter than the month
/// need the engine run again on it).
struct UsageIndex<'a> {
    memberships: &'a [GroupMembershipRecord],
    projects_of_group: std::collections::HashMap<&'a str, std::collections::BTreeSet<&'a str>>,
    groups_of_project: std::collections::HashMap<&'a str, Vec<usize>>,
    runs_of_project: std::collections::HashMap<&'a str, Vec<&'a PricedRunRecord>>,
}

impl<'a> UsageIndex<'a> {
    fn new(memberships: &'a [GroupMembershipRecord], runs: &'a [PricedRunRecord]) -> Self {
        let mut groups_of_project: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        let mut projects_of_group: std::collections::HashMap<
            &str,
            std::collections::BTreeSet<&str>,
        > = Default::default();
        for (index, membership) in memberships.iter().enumerate() {
            projects_of_group
                .entry(membership.billing_group_id.as_str())
                .or_default()
                .insert(membership.project_name.as_str());
            groups_of_project
                .entry(membership.project_name.as_str())
                .or_default()
                .push(index);
        }
        let mut runs_of_project: std::collections::HashMap<&str, Vec<&PricedRunRecord>> =
            Default::default();
        for run in runs {
            runs_of_project
                .entry(run.project_name.as_str())
                .or_default()
                .push(run);
        }
        UsageIndex {
            memberships,
            projects_of_group,
            groups_of_project,
            runs_of_project,
        }
    }

    /// Memberships and runs of the projects that were in the group.
    fn of_group(
        &self,
        billing_group_id: &str,
    ) -> (Vec<GroupMembershipRecord>, Vec<PricedRunRecord>) {
        let mut memberships = Vec::new();
        let mut runs = Vec::new();
        for project in self
            .projects_of_group
            .get(billing_group_id)
            .into_iter()
            .flatten()
            .copied()
        {
            for index in self.groups_of_project.get(project).into_iter().flatten() {
                memberships.push(self.memberships[*index].clone());
            }
            for run in self.runs_of_project.get(project).into_iter().flatten() {
                runs.push((*run).clone());
            }
        }
        (memberships, runs)
    }
}

/// Unguessable (128 random bits): the key of the invoice's download link.
fn download_cookie() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The month before the one containing `now`.
pub fn previous_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (this_month, _) = costs::month_of(now);
    costs::month_of(this_month - Duration::hours(1)).0
}

// ---------------------------------------------------------------- reading --

pub fn summary_of(record: &InvoiceRecord) -> InvoiceSummary {
    InvoiceSummary {
        invoice_number: record.invoice_number.clone(),
        period_begin: record.period_begin,
        period_end: record.period_end,
        state: record.state.clone(),
        currency: record.currency.clone(),
        total_vat_zero: record.total_vat_zero.0,
        total_inc_vat: record.total_inc_vat.0,
        issue_date: Some(record.issue_date),
        due_date: Some(record.due_date),
        download_cookie: Some(record.download_cookie.clone()),
    }
}

fn line_of(line: InvoiceLineRecord) -> InvoiceLine {
    InvoiceLine {
        line_type: line.line_type,
        description: line.description,
        project_name: line.project_name,
        service_name: line.service_name,
        service_type: line.service_type,
        service_plan: line.service_plan,
        cloud_name: line.cloud_name,
        hours: line.hours,
        timestamp_begin: line.timestamp_begin,
        timestamp_end: line.timestamp_end,
        line_total_usd: line.line_total_usd.0,
        line_total_local: line.line_total_local.0,
        local_currency: line.local_currency,
        credit_code: line
            .credit_code
            .map(|c| crate::model::credits::display_code(&c)),
    }
}

/// The running month's invoice of a group, computed now from the same
/// engine and rules a close uses. Without a rate for today it is shown in
/// USD with a notice.
pub async fn estimate(
    store: &dyn Store,
    seller: &Seller,
    group: &BillingGroupRecord,
    now: DateTime<Utc>,
) -> AppResult<(NewInvoice, Option<String>)> {
    let (from, to) = costs::month_of(now);
    let (memberships, runs) = store
        .group_usage(&group.billing_group_id, from, now)
        .await
        .map_err(internal)?;
    let charges = costs::charges(&memberships, &runs, from, now);
    let own: Vec<&Charge> = charges
        .iter()
        .filter(|c| c.billing_group_id == group.billing_group_id)
        .collect();
    let rate = rate_on(store, &group.billing_currency, now.date_naive()).await?;
    let claimed = store
        .credits_of_group(&group.billing_group_id)
        .await
        .map_err(internal)?;
    let claimed: Vec<&CreditRecord> = claimed.iter().collect();
    let credits = credits::credits_for_period(
        &group.billing_group_id,
        &claimed,
        &memberships,
        &runs,
        &own,
        (from, now),
    );
    Ok(estimate_draft(
        seller,
        group,
        &own,
        (from, to),
        rate,
        &credits,
    ))
}

/// The running month's draft from charges already computed. Without a rate
/// for today (`rate` None) it is in USD, with a notice saying so.
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
            in_usd.billing_currency = "USD".into();
            (
                draft_invoice(&in_usd, own, month, Decimal::ONE, &vat, credits),
                Some(format!(
                    "No exchange rate for {} is in force today, so this estimate is in USD.",
                    group.billing_currency
                )),
            )
        }
    };
    draft.state = ESTIMATE.into();
    (draft, notice)
}

pub fn estimate_summary(draft: &NewInvoice) -> InvoiceSummary {
    InvoiceSummary {
        invoice_number: ESTIMATE.into(),
        period_begin: draft.period_begin,
        period_end: draft.period_end,
        state: ESTIMATE.into(),
        currency: draft.currency.clone(),
        total_vat_zero: draft.total_vat_zero,
        total_inc_vat: draft.total_inc_vat,
        issue_date: None,
        due_date: None,
        download_cookie: None,
    }
}

/// The group's invoices, the running month's estimate first.
pub async fn invoices_of_group(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<InvoiceSummary>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let mut list = Vec::new();
    if group.group_state == "active" {
        let (draft, _) = estimate(store, seller, &group, now).await?;
        list.push(estimate_summary(&draft));
    }
    let issued = store
        .invoices_of_group(&group.billing_group_id)
        .await
        .map_err(internal)?;
    list.extend(issued.iter().map(summary_of));
    Ok(list)
}

/// One invoice of a group (or `estimate`), with its lines. An invoice of
/// another group or account answers "not found".
pub async fn invoice_detail(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &str,
    invoice_number: &str,
    now: DateTime<Utc>,
) -> AppResult<InvoiceDetail> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let not_found = || AppError::not_found("Invoice");
    let base = |summary: InvoiceSummary| InvoiceDetail {
        summary,
        billing_group_id: group.billing_group_id.clone(),
        billing_group_name: group.billing_group_name.clone(),
        billing_group_state: group.group_state.clone(),
        role,
        exchange_rate: Decimal::ONE,
        vat_rate: Decimal::ZERO,
        vat_note: String::new(),
        total_usd: Decimal::ZERO,
        payment_method: group.payment_method.clone(),
        seller: seller_party(seller),
        customer: customer_of(&group),
        lines: Vec::new(),
        notice: None,
    };
    if invoice_number == ESTIMATE {
        if group.group_state != "active" {
            return Err(not_found());
        }
        let (draft, notice) = estimate(store, seller, &group, now).await?;
        return Ok(InvoiceDetail {
            exchange_rate: draft.exchange_rate,
            vat_rate: draft.vat_rate,
            vat_note: draft.vat_note.clone(),
            total_usd: draft.total_usd,
            notice,
            lines: draft.lines.iter().cloned().map(line_of).collect(),
            ..base(estimate_summary(&draft))
        });
    }
    let record = store
        .invoice(invoice_number.trim())
        .await
        .map_err(internal)?
        .filter(|i| i.billing_group_id == group.billing_group_id)
        .ok_or_else(not_found)?;
    let lines = store
        .invoice_lines(&record.invoice_number)
        .await
        .map_err(internal)?;
    Ok(InvoiceDetail {
        exchange_rate: record.exchange_rate.0,
        vat_rate: record.vat_rate.0,
        vat_note: record.vat_note.clone(),
        total_usd: record.total_usd.0,
        payment_method: record.payment_method.clone(),
        customer: party_from_json(&record.customer),
        lines: lines.into_iter().map(line_of).collect(),
        ..base(summary_of(&record))
    })
}

/// An issued invoice with its lines, for a caller that proved its right to
/// it otherwise (the REST API's download cookie): no user, read-only.
pub async fn invoice_detail_unchecked(
    store: &dyn Store,
    seller: &Seller,
    record: InvoiceRecord,
) -> AppResult<InvoiceDetail> {
    let group = store
        .billing_group(&record.billing_group_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::Internal)?;
    let lines = store
        .invoice_lines(&record.invoice_number)
        .await
        .map_err(internal)?;
    Ok(InvoiceDetail {
        summary: summary_of(&record),
        billing_group_id: group.billing_group_id.clone(),
        billing_group_name: group.billing_group_name.clone(),
        billing_group_state: group.group_state.clone(),
        role: Role::Viewer,
        exchange_rate: record.exchange_rate.0,
        vat_rate: record.vat_rate.0,
        vat_note: record.vat_note.clone(),
        total_usd: record.total_usd.0,
        payment_method: record.payment_method.clone(),
        seller: seller_party(seller),
        customer: party_from_json(&record.customer),
        lines: lines.into_iter().map(line_of).collect(),
        notice: None,
    })
}

/// An admin marks an issued invoice paid, waived or uncollectible; the
/// change and its event are one write.
pub async fn set_invoice_state(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    invoice_number: &str,
    state: &str,
    now: DateTime<Utc>,
) -> AppResult<InvoiceSummary> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    crate::server::auth::authorize(store, user, &group.account_id, Role::Admin).await?;
    if !SETTABLE_STATES.contains(&state) {
        return Err(AppError::invalid(
            "state",
            "Choose paid, waived or uncollectible.",
        ));
    }
    let record = store
        .invoice(invoice_number.trim())
        .await
        .map_err(internal)?
        .filter(|i| i.billing_group_id == group.billing_group_id)
        .ok_or_else(|| AppError::not_found("Invoice"))?;
    if record.state == state {
        return Err(AppError::invalid(
            "state",
            format!("The invoice is already {state}."),
        ));
    }
    if matches!(record.state.as_str(), "paid" | "waived") {
        return Err(AppError::Conflict {
            message: format!(
                "Invoice {} is {}; a settled invoice cannot change state.",
                record.invoice_number, record.state
            ),
        });
    }
    let updated = store
        .set_invoice_state(&record.invoice_number, state, &user.email, now)
        .await
        .map_err(store_error)?;
    Ok(summary_of(&updated))
}
