//! Property tests of billing (issue 4), on both backends: random usage,
//! moves, rates and VAT cases. Checked against a brute-force hour count
//! written here, independent of the cost engine:
//! - every started hour of October is billed exactly once across groups;
//! - every invoice's totals equal the sum of its lines;
//! - the estimate at the month's end equals the invoice the close issues.
//!
//! With random credits (issue 5): the credit lines of each credit sum to the
//! value it lost; no remaining value is negative; an earmarked credit pays
//! only its project, never more than its charges; credits are used
//! soonest-expiring first; a credit pays nothing outside its validity; no
//! invoice goes below zero.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use billing_console::model::ids::GroupId;
use billing_console::model::invoices::{InvoiceDetail, ESTIMATE};
use billing_console::model::money::Currency;
use billing_console::model::states::LineType;
use billing_console::model::CurrentUser;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::calendar::parse_period;
use billing_console::server::billing::invoices::invoice_detail;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{accounts, credits, groups, invoice_files, projects};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, NewCredit, NewService, RunEnd};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;

/// A service: price in thousandths of a USD, and its runs as (gap before
/// it, length) in minutes; `open_last` leaves the last run running.
#[derive(Debug, Clone)]
struct ServicePlan {
    price_millis: u32,
    runs: Vec<(i64, i64)>,
    open_last: bool,
}

#[derive(Debug, Clone)]
struct Scenario {
    /// Per project, its services.
    projects: Vec<Vec<ServicePlan>>,
    /// (minute of October, project index, to group 0 or 1).
    moves: Vec<(i64, usize, usize)>,
    currencies: [usize; 2],
    rate_millis: u32,
    vat_cases: [usize; 2],
    credits: Vec<CreditPlan>,
}

/// A credit: value in cents; start as minutes from October 1st (may be
/// before it); validity in minutes (None: no expiry); group; earmark
/// (a project index, when it names one).
#[derive(Debug, Clone)]
struct CreditPlan {
    value_cents: i64,
    start_minute: i64,
    valid_minutes: Option<i64>,
    group: usize,
    earmark: Option<usize>,
}

const CURRENCIES: [&str; 4] = ["EUR", "USD", "JPY", "SEK"];
const VAT_CASES: [(&str, &str); 4] = [
    ("FI", "FI12345671"),
    ("DE", "DE123456789"),
    ("DE", ""),
    ("US", ""),
];
const OCTOBER_MINUTES: i64 = 31 * 24 * 60;

fn scenario() -> impl Strategy<Value = Scenario> {
    let service = (
        1u32..5000,
        prop::collection::vec((0i64..6000, 1i64..20000), 1..4),
        any::<bool>(),
    )
        .prop_map(|(price_millis, runs, open_last)| ServicePlan {
            price_millis,
            runs,
            open_last,
        });
    let credit = (
        1i64..200_000,
        -10 * 24 * 60i64..OCTOBER_MINUTES,
        prop::option::weighted(0.8, 60i64..60 * 24 * 60),
        0usize..2,
        prop::option::of(0usize..4),
    )
        .prop_map(
            |(value_cents, start_minute, valid_minutes, group, earmark)| CreditPlan {
                value_cents,
                start_minute,
                valid_minutes,
                group,
                earmark,
            },
        );
    (
        prop::collection::vec(prop::collection::vec(service, 1..3), 1..4),
        prop::collection::vec((0i64..OCTOBER_MINUTES, 0usize..3, 0usize..2), 0..5),
        [0usize..4, 0usize..4],
        500u32..20000,
        [0usize..4, 0usize..4],
        prop::collection::vec(credit, 0..5),
    )
        .prop_map(
            |(projects, moves, currencies, rate_millis, vat_cases, credits)| Scenario {
                projects,
                moves,
                currencies,
                rate_millis,
                vat_cases,
                credits,
            },
        )
}

fn october_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

/// Runs begin from here (late September), so some cross into October.
fn runs_origin() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 28, 0, 0, 0).unwrap()
}

/// Independent of the engine: count hour starts in October one by one.
fn october_hours(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> i64 {
    let (from, to) = (october_start(), october_start() + Duration::days(31));
    let end = end.unwrap_or(to).min(to);
    let mut count = 0;
    let mut hour = start;
    while hour < end {
        if hour >= from {
            count += 1;
        }
        hour += Duration::hours(1);
    }
    count
}

static CASE: AtomicUsize = AtomicUsize::new(0);

async fn check(store: &DynStore, admin: &CurrentUser, s: Scenario) -> Result<(), String> {
    let case = CASE.fetch_add(1, Ordering::SeqCst);
    let created = Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap();
    let e = |e: billing_console::error::AppError| format!("{e:?}");
    let (account, primary) = accounts::create_account(
        store.as_ref(),
        admin,
        &format!("Case {case}"),
        CURRENCIES[s.currencies[0]],
        created,
    )
    .await
    .map_err(e)?;
    let second = groups::create_group(
        store.as_ref(),
        admin,
        &account.account_id,
        "Second",
        None,
        created,
    )
    .await
    .map_err(e)?;
    let group_ids = [
        primary.billing_group_id.clone(),
        second.billing_group_id.clone(),
    ];
    for (index, group) in group_ids.iter().enumerate() {
        let (country, vat_id) = VAT_CASES[s.vat_cases[index]];
        let form = BillingInfoForm {
            billing_currency: CURRENCIES[s.currencies[index]].into(),
            billing_emails: "ap@example.com".into(),
            country_code: country.into(),
            vat_id: vat_id.into(),
            payment_method: "email".into(),
            ..BillingInfoForm::default()
        };
        billing_info::save(store.as_ref(), admin, group, &form, created)
            .await
            .map_err(e)?;
    }
    let rate = Decimal::new(s.rate_millis as i64, 3);
    for currency in [Currency::EUR, Currency::JPY, Currency::SEK] {
        store
            .set_exchange_rate(currency, october_start().date_naive(), rate)
            .await
            .map_err(|e| e.to_string())?;
    }
    // Expected hours per (project, service), by brute force.
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (p, services) in s.projects.iter().enumerate() {
        let project = format!("case{case}-p{p}");
        projects::create_project(
            store.as_ref(),
            admin,
            &account.account_id,
            &project,
            None,
            "",
            created,
        )
        .await
        .map_err(e)?;
        for (k, plan) in services.iter().enumerate() {
            let service_id = format!("case{case}-p{p}-s{k}");
            let service_name = format!("svc{k}");
            store
                .create_service(
                    &NewService {
                        service_id: service_id.clone(),
                        project_name: project.clone(),
                        service_name: service_name.clone(),
                        service_type: "pg".into(),
                        plan: "business-4".into(),
                        cloud_name: "c".into(),
                        hourly_price_usd: Decimal::new(plan.price_millis as i64, 3),
                    },
                    created,
                )
                .await
                .map_err(|e| e.to_string())?;
            let mut cursor = runs_origin();
            for (index, (gap, length)) in plan.runs.iter().enumerate() {
                let start = cursor + Duration::minutes(*gap);
                let open = plan.open_last && index + 1 == plan.runs.len();
                let end = (!open).then(|| start + Duration::minutes(*length));
                store
                    .record_service_run(
                        &service_id,
                        start,
                        end.map(|end| (end, RunEnd::PoweredOff)),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                *expected
                    .entry((project.clone(), service_name.clone()))
                    .or_default() += october_hours(start, end);
                cursor = end.unwrap_or(start) + Duration::minutes(1);
            }
        }
    }
    let mut moves = s.moves.clone();
    moves.sort();
    for (minute, p, to) in moves {
        if p >= s.projects.len() {
            continue;
        }
        let project = format!("case{case}-p{p}");
        // A move to the group the project is already in is refused; skip it.
        let _ = groups::move_project(
            store.as_ref(),
            admin,
            &project,
            &group_ids[to],
            october_start() + Duration::minutes(minute),
        )
        .await;
    }

    // Credits, claimed before October (an earmark past the last project
    // means none).
    let mut credit_plans: Vec<(String, CreditPlan)> = Vec::new();
    for plan in &s.credits {
        let code = credits::generate_code();
        let start = october_start() + Duration::minutes(plan.start_minute);
        store
            .insert_credits(
                &[NewCredit {
                    code: code.clone(),
                    credit_type: billing_console::model::states::CreditType::Trial,
                    value_usd: Decimal::new(plan.value_cents, 2),
                    start_time: start,
                    expire_time: plan.valid_minutes.map(|m| start + Duration::minutes(m)),
                }],
                created,
            )
            .await
            .map_err(|e| e.to_string())?;
        let earmark = plan
            .earmark
            .filter(|p| *p < s.projects.len())
            .map(|p| format!("case{case}-p{p}"));
        credits::claim_credit(
            store.as_ref(),
            admin,
            &group_ids[plan.group],
            &code,
            earmark.as_deref(),
            created,
        )
        .await
        .map_err(e)?;
        let mut plan = plan.clone();
        plan.earmark = plan.earmark.filter(|p| *p < s.projects.len());
        credit_plans.push((code, plan));
    }

    let seller = Seller::demo();
    let month_end = october_start() + Duration::days(31);
    let mut estimates: Vec<InvoiceDetail> = Vec::new();
    for group in &group_ids {
        let estimate = invoice_detail(
            store.as_ref(),
            &seller,
            admin,
            group,
            ESTIMATE,
            month_end - Duration::milliseconds(1),
        )
        .await
        .map_err(e)?;
        estimates.push(estimate);
    }
    close_month(
        store.as_ref(),
        &seller,
        crate::common::TEST_LINKS,
        parse_period("2026-10").map_err(e)?,
        month_end + Duration::minutes(5),
        "system",
    )
    .await
    .map_err(e)?;

    let mut billed: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (group, estimate) in group_ids.iter().zip(estimates) {
        let issued = store
            .invoices_of_group(group)
            .await
            .map_err(|e| e.to_string())?;
        if issued.len() != 1 {
            return Err(format!(
                "expected one October invoice, got {}",
                issued.len()
            ));
        }
        let invoice = invoice_detail(
            store.as_ref(),
            &seller,
            admin,
            group,
            &issued[0].invoice_number,
            month_end + Duration::minutes(5),
        )
        .await
        .map_err(e)?;
        for line in invoice
            .lines
            .iter()
            .filter(|l| l.line_type == LineType::ServiceCharge)
        {
            *billed
                .entry((
                    line.project_name.clone().unwrap_or_default(),
                    line.service_name.clone().unwrap_or_default(),
                ))
                .or_default() += line.hours.unwrap_or_default();
        }
        let without_vat: Decimal = invoice
            .lines
            .iter()
            .filter(|l| l.line_type != LineType::Vat)
            .map(|l| l.line_total_local.amount)
            .sum();
        let all: Decimal = invoice
            .lines
            .iter()
            .map(|l| l.line_total_local.amount)
            .sum();
        if invoice.summary.total_vat_zero.amount != without_vat
            || invoice.summary.total_inc_vat.amount != all
        {
            return Err(format!("totals differ from the sum of lines: {invoice:?}"));
        }
        csv_sums_to_total(&invoice)?;
        documents_agree(&invoice)?;
        let line_tuples = |d: &InvoiceDetail| {
            d.lines
                .iter()
                .map(|l| {
                    (
                        l.line_type,
                        l.project_name.clone(),
                        l.service_name.clone(),
                        l.hours,
                        l.line_total_usd,
                        l.line_total_local,
                    )
                })
                .collect::<Vec<_>>()
        };
        if line_tuples(&estimate) != line_tuples(&invoice)
            || estimate.summary.total_inc_vat != invoice.summary.total_inc_vat
        {
            return Err(format!(
                "the estimate at month end differs from the invoice:\n{:?}\n{:?}",
                line_tuples(&estimate),
                line_tuples(&invoice)
            ));
        }
    }
    check_credits(store, &credit_plans, &group_ids, case).await?;
    expected.retain(|_, hours| *hours > 0);
    if billed != expected {
        return Err(format!("hours billed {billed:?}, expected {expected:?}"));
    }
    Ok(())
}

/// The PDF and its e-invoice say what the page and the API say: the PDF
/// shows the total incl. VAT, and the XML's sums are the invoice's, with
/// LineTotal − Allowances = TaxBasis and TaxBasis + Tax = GrandTotal.
fn documents_agree(invoice: &InvoiceDetail) -> Result<(), String> {
    use billing_console::server::billing::einvoice;
    let s = &invoice.summary;
    let pdf = invoice_files::invoice_pdf(invoice).map_err(|e| e.to_string())?;
    let document = lopdf::Document::load_mem(&pdf).map_err(|e| e.to_string())?;
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document.extract_text(&pages).map_err(|e| e.to_string())?;
    if !text.contains(&s.total_inc_vat.grouped()) {
        return Err(format!(
            "the PDF does not show {}:\n{text}",
            s.total_inc_vat.grouped()
        ));
    }
    let xml = einvoice::cii_xml(invoice).ok_or("no e-invoice for an issued invoice")?;
    // The document's sums, not a line's (lines have a LineTotalAmount too).
    let header = xml
        .find("<ram:SpecifiedTradeSettlementHeaderMonetarySummation>")
        .map(|at| &xml[at..])
        .ok_or("no header sums")?;
    let value = |tag: &str| -> Result<Decimal, String> {
        let xml = header;
        let open = format!("<ram:{tag}");
        let start = xml.find(&open).ok_or(format!("no {tag}"))?;
        let start = start + xml[start..].find('>').ok_or("bad XML")? + 1;
        let end = start + xml[start..].find('<').ok_or("bad XML")?;
        xml[start..end]
            .parse::<Decimal>()
            .map_err(|e| format!("{tag}: {e}"))
    };
    let sums = einvoice::sums(invoice);
    let (line_total, allowances) = (value("LineTotalAmount")?, value("AllowanceTotalAmount")?);
    let (basis, tax, grand) = (
        value("TaxBasisTotalAmount")?,
        value("TaxTotalAmount")?,
        value("GrandTotalAmount")?,
    );
    if grand != s.total_inc_vat.amount
        || basis != s.total_vat_zero.amount
        || line_total - allowances != basis
        || basis + tax != grand
        || line_total != sums.line_total.amount
    {
        return Err(format!(
            "XML sums {line_total} - {allowances} = {basis}, + {tax} = {grand}; the invoice says {} and {}",
            s.total_vat_zero.amount, s.total_inc_vat.amount
        ));
    }
    Ok(())
}

/// What a finance import does with the CSV download: read it with a real
/// CSV parser and sum the local column. Credit lines are negative and must
/// stay numbers (a formula guard once turned them into text).
fn csv_sums_to_total(invoice: &InvoiceDetail) -> Result<(), String> {
    let text = invoice_files::invoice_csv(invoice);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let local = headers
        .iter()
        .position(|h| h == "line_total_local")
        .ok_or("no line_total_local column")?;
    let mut sum = Decimal::ZERO;
    for row in reader.records() {
        let row = row.map_err(|e| e.to_string())?;
        let cell = &row[local];
        sum += cell
            .parse::<Decimal>()
            .map_err(|_| format!("line_total_local {cell:?} is not a number:\n{text}"))?;
    }
    if sum != invoice.summary.total_inc_vat.amount {
        return Err(format!(
            "the CSV sums to {sum}, the invoice says {}:\n{text}",
            invoice.summary.total_inc_vat.amount
        ));
    }
    Ok(())
}

/// The credit properties, read back from the store after the close.
async fn check_credits(
    store: &DynStore,
    plans: &[(String, CreditPlan)],
    group_ids: &[GroupId; 2],
    case: usize,
) -> Result<(), String> {
    let se = |e: billing_console::server::store::StoreError| e.to_string();
    let mut consumed: BTreeMap<String, Decimal> = BTreeMap::new();
    for (index, group) in group_ids.iter().enumerate() {
        let issued = store.invoices_of_group(group).await.map_err(se)?;
        let invoice = &issued[0];
        if invoice.total_vat_zero.0 < Decimal::ZERO || invoice.total_usd.0 < Decimal::ZERO {
            return Err(format!("group {index}: invoice below zero: {invoice:?}"));
        }
        let lines = store
            .invoice_lines(&invoice.invoice_number)
            .await
            .map_err(se)?;
        let mut per_project_usd: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in lines
            .iter()
            .filter(|l| l.line_type == LineType::ServiceCharge)
        {
            *per_project_usd
                .entry(line.project_name.clone().unwrap_or_default())
                .or_default() += line.line_total_usd.0;
        }
        for line in lines
            .iter()
            .filter(|l| l.line_type == LineType::CreditConsumption)
        {
            let code = line
                .credit_code
                .clone()
                .ok_or("credit line without a code")?;
            let (_, plan) = plans
                .iter()
                .find(|(c, _)| *c == code)
                .ok_or("credit line of an unknown credit")?;
            if plan.group != index {
                return Err(format!("credit {code} paid another group's invoice"));
            }
            let paid = -line.line_total_usd.0;
            if let Some(p) = plan.earmark {
                let project = format!("case{case}-p{p}");
                let charges = per_project_usd.get(&project).copied().unwrap_or_default();
                if line.project_name.as_deref() != Some(project.as_str()) || paid > charges {
                    return Err(format!(
                        "earmarked credit {code} paid {paid} on {:?}; {project} had {charges}",
                        line.project_name
                    ));
                }
            }
            *consumed.entry(code).or_default() += paid;
        }
    }
    let october_end = october_start() + Duration::days(31);
    let mut states = Vec::new();
    for (code, plan) in plans {
        let credit = store.credit(code).await.map_err(se)?.ok_or("credit gone")?;
        let remaining = credit.remaining_value_usd.0;
        let used = consumed.get(code).copied().unwrap_or_default();
        if remaining < Decimal::ZERO {
            return Err(format!("credit {code} is below zero: {remaining}"));
        }
        if credit.value_usd.0 - remaining != used {
            return Err(format!(
                "credit {code}: value {} − remaining {remaining} ≠ lines {used}",
                credit.value_usd.0
            ));
        }
        let overlaps = credit.start_time < october_end
            && credit.expire_time.is_none_or(|e| e > october_start());
        if !overlaps && !used.is_zero() {
            return Err(format!("credit {code} paid outside its validity"));
        }
        states.push((plan, credit, used));
    }
    // Soonest expiry first: of two credits of a group that are both general
    // and valid all month, the later one pays only when the earlier is
    // used up.
    for (a_plan, a, _) in &states {
        for (b_plan, b, b_used) in &states {
            let all_month = |c: &billing_console::server::store::CreditRecord| {
                c.start_time <= october_start() && c.expire_time.is_none_or(|e| e >= october_end)
            };
            let sooner = match (a.expire_time, b.expire_time) {
                (Some(x), Some(y)) => x < y,
                (Some(_), None) => true,
                _ => false,
            };
            if a_plan.group == b_plan.group
                && a_plan.earmark.is_none()
                && b_plan.earmark.is_none()
                && all_month(a)
                && all_month(b)
                && sooner
                && !b_used.is_zero()
                && !a.remaining_value_usd.0.is_zero()
            {
                return Err(format!(
                    "credit {} paid while the sooner-expiring {} kept {}",
                    b.code, a.code, a.remaining_value_usd.0
                ));
            }
        }
    }
    Ok(())
}

on_both_backends!(
    billing_properties_hold_for_random_usage_moves_rates_and_vat,
    |db| {
        let admin = crate::common::user(&db.store, "admin@example.com").await;
        let handle = tokio::runtime::Handle::current();
        let store = db.store.clone();
        // The runner is synchronous; each case runs on this test's runtime.
        tokio::task::block_in_place(|| {
            let mut runner = TestRunner::new(Config {
                cases: 24,
                failure_persistence: None,
                ..Config::default()
            });
            let result = runner.run(&scenario(), |s| {
                handle
                    .block_on(check(&store, &admin, s))
                    .map_err(TestCaseError::fail)
            });
            if let Err(failure) = result {
                panic!("{failure}");
            }
        });
    }
);
