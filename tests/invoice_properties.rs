//! Property tests of billing (issue 4), on both backends: random usage,
//! moves, rates and VAT cases. Checked against a brute-force hour count
//! written here, independent of the cost engine:
//! - every started hour of October is billed exactly once across groups;
//! - every invoice's totals equal the sum of its lines;
//! - the estimate at the month's end equals the invoice the close issues.
#![cfg(feature = "ssr")]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use billing_console::model::invoices::{InvoiceDetail, ESTIMATE};
use billing_console::model::CurrentUser;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::invoices::{close_month, invoice_detail, parse_period};
use billing_console::server::billing::{accounts, groups, projects};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, NewService, RunEnd};
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
    (
        prop::collection::vec(prop::collection::vec(service, 1..3), 1..4),
        prop::collection::vec((0i64..OCTOBER_MINUTES, 0usize..3, 0usize..2), 0..5),
        [0usize..4, 0usize..4],
        500u32..20000,
        [0usize..4, 0usize..4],
    )
        .prop_map(
            |(projects, moves, currencies, rate_millis, vat_cases)| Scenario {
                projects,
                moves,
                currencies,
                rate_millis,
                vat_cases,
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
    for currency in ["EUR", "JPY", "SEK"] {
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
                    &service_id,
                    &NewService {
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

    let seller = Seller::default();
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
            .filter(|l| l.line_type == "service_charge")
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
            .filter(|l| l.line_type != "vat")
            .map(|l| l.line_total_local)
            .sum();
        let all: Decimal = invoice.lines.iter().map(|l| l.line_total_local).sum();
        if invoice.summary.total_vat_zero != without_vat || invoice.summary.total_inc_vat != all {
            return Err(format!("totals differ from the sum of lines: {invoice:?}"));
        }
        let line_tuples = |d: &InvoiceDetail| {
            d.lines
                .iter()
                .map(|l| {
                    (
                        l.line_type.clone(),
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
    expected.retain(|_, hours| *hours > 0);
    if billed != expected {
        return Err(format!("hours billed {billed:?}, expected {expected:?}"));
    }
    Ok(())
}

on_both_backends!(
    billing_properties_hold_for_random_usage_moves_rates_and_vat,
    |db| {
        let admin = common::user(&db.store, "admin@example.com").await;
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
