//! One Money, one rounding rule (issue 14), on both backends: for random
//! usage, moves, currencies and rates, at a random instant of the month,
//! a group's accumulated cost as its page's header shows it, the sum of its
//! estimate's service lines, the account's Billing tab and the REST API's
//! figures (one group, and the list) are equal to the cent, in USD and in
//! the group's currency.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{header, Request};
use billing_console::model::invoices::ESTIMATE;
use billing_console::model::money::{Currency, Money};
use billing_console::model::states::LineType;
use billing_console::model::CurrentUser;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::{accounts, group_page, groups, invoices, projects};
use billing_console::server::clock::Clock;
use billing_console::server::config::Seller;
use billing_console::server::store::{NewService, RunEnd};
use billing_console::server::tokens;
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use serde_json::Value;
use tower::ServiceExt;

/// A service: price in thousandths of a USD, runs as (minutes after the
/// month starts, length in minutes), and whether the last one is open.
type ServicePlan = (u32, Vec<(i64, i64)>, bool);

#[derive(Debug, Clone)]
struct Scenario {
    /// Per project, its services.
    projects: Vec<Vec<ServicePlan>>,
    /// (minute of the month, project, to group 0 or 1).
    moves: Vec<(i64, usize, usize)>,
    currencies: [Currency; 2],
    rate_millis: u32,
    /// The instant the figures are read at, in minutes into the month.
    now_minute: i64,
}

const MONTH_MINUTES: i64 = 31 * 24 * 60;
const CURRENCIES: [Currency; 4] = [Currency::EUR, Currency::JPY, Currency::SEK, Currency::USD];

fn scenario() -> impl Strategy<Value = Scenario> {
    let service = (
        1u32..9999,
        prop::collection::vec((-3000i64..MONTH_MINUTES, 1i64..30000), 1..3),
        any::<bool>(),
    );
    (
        prop::collection::vec(prop::collection::vec(service, 1..3), 1..4),
        prop::collection::vec((0i64..MONTH_MINUTES, 0usize..3, 0usize..2), 0..4),
        [0usize..4, 0usize..4],
        1u32..200_000,
        60i64..MONTH_MINUTES,
    )
        .prop_map(
            |(projects, moves, currencies, rate_millis, now_minute)| Scenario {
                projects,
                moves,
                currencies: currencies.map(|c| CURRENCIES[c]),
                rate_millis,
                now_minute,
            },
        )
}

fn month_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

static CASE: AtomicUsize = AtomicUsize::new(0);

async fn api_json(app: &axum::Router, token: &str, path: &str) -> Value {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("aivenv1 {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn check(db: &crate::common::TestDb, admin: &CurrentUser, s: Scenario) -> Result<(), String> {
    let store = db.store.as_ref();
    let case = CASE.fetch_add(1, Ordering::SeqCst);
    let e = |e: billing_console::error::AppError| format!("{e:?}");
    let created = month_start() - Duration::days(30);
    let (account, primary) = accounts::create_account(
        store,
        admin,
        &format!("Case {case}"),
        s.currencies[0].code(),
        created,
    )
    .await
    .map_err(e)?;
    let second = groups::create_group(store, admin, &account.account_id, "Second", None, created)
        .await
        .map_err(e)?;
    let group_ids = [primary.billing_group_id, second.billing_group_id];
    let form = BillingInfoForm {
        billing_currency: s.currencies[1].code().into(),
        payment_method: "no_payment_expected".into(),
        ..Default::default()
    };
    billing_info::save(store, admin, &group_ids[1], &form, created)
        .await
        .map_err(e)?;
    let rate = Decimal::new(s.rate_millis as i64, 3);
    for currency in s.currencies {
        store
            .set_exchange_rate(currency, created.date_naive(), rate)
            .await
            .map_err(|e| e.to_string())?;
    }
    for (p, services) in s.projects.iter().enumerate() {
        let project = format!("case{case}-p{p}");
        projects::create_project(
            store,
            admin,
            &account.account_id,
            &project,
            None,
            "",
            created,
        )
        .await
        .map_err(e)?;
        for (n, (price, runs, open_last)) in services.iter().enumerate() {
            let service_id = format!("case{case}-p{p}-s{n}");
            store
                .create_service(
                    &NewService {
                        service_id: service_id.clone(),
                        project_name: project.clone(),
                        service_name: format!("svc{n}"),
                        service_type: "pg".into(),
                        plan: "business-4".into(),
                        cloud_name: "c".into(),
                        hourly_price_usd: Decimal::new(*price as i64, 3),
                    },
                    created,
                )
                .await
                .map_err(|e| e.to_string())?;
            let mut cursor = month_start();
            for (i, (start, length)) in runs.iter().enumerate() {
                let begin = cursor.max(month_start() + Duration::minutes(*start));
                let end = begin + Duration::minutes(*length);
                let open = *open_last && i + 1 == runs.len();
                store
                    .record_service_run(
                        &service_id,
                        begin,
                        (!open).then_some((end, RunEnd::PoweredOff)),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if open {
                    break;
                }
                cursor = end + Duration::minutes(1);
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
        let at = month_start() + Duration::minutes(minute);
        match groups::move_project(store, admin, &project, &group_ids[to], at).await {
            Ok(_) => {}
            // Already there: nothing to move.
            Err(billing_console::error::AppError::Invalid { .. }) => {}
            Err(other) => return Err(format!("{other:?}")),
        }
    }

    let now = month_start() + Duration::minutes(s.now_minute);
    let app = crate::common::app_on_clock(db, Clock::fixed(now)).await;
    let token = tokens::create(store, admin, "amounts", now)
        .await
        .map_err(e)?
        .token;
    let listed = api_json(&app, &token, "/v1/billing-group").await;
    let billing = groups::account_billing(store, admin, &account.account_id, None, now)
        .await
        .map_err(e)?;
    // The account's total is its groups' USD figures, to the cent.
    let groups_usd = billing
        .groups
        .iter()
        .fold(Money::zero(Currency::USD), |sum, g| sum + g.costs.usd);
    if billing.total.usd != groups_usd {
        return Err(format!(
            "account total {} but its groups add to {}",
            billing.total.usd, groups_usd
        ));
    }
    for group in &group_ids {
        let header = group_page::header(store, admin, group, now)
            .await
            .map_err(e)?;
        let estimate =
            invoices::invoice_detail(store, &Seller::demo(), admin, group, ESTIMATE, now)
                .await
                .map_err(e)?;
        let lines: Vec<_> = estimate
            .lines
            .iter()
            .filter(|l| l.line_type == LineType::ServiceCharge)
            .collect();
        let currency = header.group.billing_currency;
        let lines_usd = lines
            .iter()
            .fold(Money::zero(Currency::USD), |sum, l| sum + l.line_total_usd);
        let lines_local = lines
            .iter()
            .fold(Money::zero(currency), |sum, l| sum + l.line_total_local);
        let local = header.costs.local.ok_or("a rate is in force")?;
        // The Projects tab's rows (projects that moved out this month
        // included) add up to the header in both currencies.
        let rows = group_page::projects_tab(store, admin, group, now)
            .await
            .map_err(e)?
            .projects;
        let rows_usd = rows
            .iter()
            .fold(Money::zero(Currency::USD), |sum, p| sum + p.cost_usd);
        let rows_local = rows.iter().fold(Money::zero(currency), |sum, p| {
            sum + p.cost_local.unwrap_or(p.cost_usd)
        });
        let one = api_json(&app, &token, &format!("/v1/billing-group/{group}")).await;
        let in_list = listed["billing_groups"]
            .as_array()
            .and_then(|all| all.iter().find(|g| g["billing_group_id"] == group.as_str()))
            .ok_or("the group is listed")?;
        let tab = billing
            .groups
            .iter()
            .find(|g| g.billing_group_id == *group)
            .ok_or("the group is on the Billing tab")?;
        let usd = [
            header.costs.usd.plain(),
            lines_usd.plain(),
            rows_usd.plain(),
            tab.costs.usd.plain(),
            one["billing_group"]["estimated_balance_usd"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            in_list["estimated_balance_usd"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ];
        let in_currency = [
            local.plain(),
            lines_local.plain(),
            rows_local.plain(),
            tab.costs.local.map(|m| m.plain()).unwrap_or_default(),
            one["billing_group"]["estimated_balance_local"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            in_list["estimated_balance_local"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ];
        for figures in [&usd, &in_currency] {
            if figures.iter().any(|f| *f != figures[0]) {
                return Err(format!(
                    "{currency} group at {now}: header, estimate lines, Projects tab rows, Billing tab, API, API list disagree: {figures:?}"
                ));
            }
        }
        if estimate.summary.currency != currency {
            return Err(format!("the estimate is in {}", estimate.summary.currency));
        }
    }
    Ok(())
}

on_both_backends!(header_estimate_and_api_amounts_agree_to_the_cent, |db| {
    let admin = crate::common::user(&db.store, "admin@example.com").await;
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(Config {
            cases: 16,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&scenario(), |s| {
            handle
                .block_on(check(db, &admin, s))
                .map_err(TestCaseError::fail)
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    });
});

/// The figure the issue reported: 0.125 rounds up, in every view.
#[test]
fn half_a_cent_rounds_away_from_zero_everywhere() {
    assert_eq!(Money::usd("0.125".parse().unwrap()).plain(), "0.13");
    assert_eq!(
        Money::of("-0.125".parse().unwrap(), Currency::EUR).plain(),
        "-0.13"
    );
}
