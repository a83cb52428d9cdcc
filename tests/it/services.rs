//! Usage in (issue 17), on both backends: the service lifecycle and its
//! bad input, plan changes on the hour grid (property-tested with power
//! changes and moves against a brute-force count), the price list and its
//! rule for a price that changes mid-month, and exchange-rate imports.

use std::collections::BTreeMap;

use crate::common::{d, join, t, user, EventsOfGroup, Fixture};
use billing_console::error::AppError;
use billing_console::model::ids::{AccountId, GroupId};
use billing_console::model::money::Currency;
use billing_console::model::states::ServiceState;
use billing_console::model::Role;
use billing_console::server::billing::services::{self, NewServiceRequest};
use billing_console::server::billing::{accounts, costs, groups, prices, projects, rate_import};
use billing_console::server::store::DynStore;
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;

const PRICES: &str = "service_type,plan,cloud,hourly_price_usd,valid_from\n\
                      pg,small,,1,2026-01-01\n\
                      pg,medium,,2,2026-01-01\n\
                      pg,large,,4,2026-01-01\n\
                      pg,large,aws-eu-west-1,5,2026-01-01\n";

/// A USD account with project p1 in its primary group, a second group, and
/// the price list above (imported before October).
async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "USD", "Second", t(1, 0)).await;
    f.project(store, "p1", None, "google-europe-north1", t(1, 0))
        .await;
    prices::import_prices(
        store.as_ref(),
        PRICES,
        Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
    )
    .await
    .unwrap();
    f
}

fn request(name: &str, plan: &str, cloud: &str) -> NewServiceRequest {
    NewServiceRequest {
        service_name: name.into(),
        service_type: "pg".into(),
        plan: plan.into(),
        cloud: cloud.into(),
    }
}

/// (plan, hours, USD) of each charge of `service` in October up to `to`.
async fn lines(
    store: &DynStore,
    account_id: &str,
    service: &str,
    to: DateTime<Utc>,
) -> Vec<(String, i64, Decimal)> {
    let from = t(1, 0);
    let (memberships, runs) = store
        .account_usage(&AccountId::from(account_id), from, to)
        .await
        .unwrap();
    let mut out: Vec<_> = costs::charges(&memberships, &runs, from, to)
        .into_iter()
        .filter(|c| c.service_name == service)
        .map(|c| (c.plan, c.hours, c.amount_usd))
        .collect();
    out.sort();
    out
}

fn field(error: &AppError, name: &str) -> String {
    error
        .field_message(name)
        .unwrap_or_else(|| panic!("no message for {name}: {error:?}"))
}

on_both_backends!(
    a_service_is_created_powered_replanned_and_terminated,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let at = t(2, 10) + Duration::minutes(30);

        // Bad input: named, nothing written.
        let bad = services::create(
            store,
            &f.admin,
            "p1",
            &NewServiceRequest {
                service_name: "Bad Name".into(),
                service_type: "mongo".into(),
                plan: "small".into(),
                cloud: "mars-1".into(),
            },
            at,
        )
        .await
        .unwrap_err();
        field(&bad, "service_name");
        field(&bad, "service_type");
        let bad = services::create(
            store,
            &f.admin,
            "p1",
            &request("db", "huge", "google-europe-north1"),
            at,
        )
        .await
        .unwrap_err();
        assert!(field(&bad, "plan").contains("small"));
        let bad = services::create(store, &f.admin, "p1", &request("db", "small", "mars-1"), at)
            .await
            .unwrap_err();
        field(&bad, "cloud");
        assert!(store.services_of_project("p1").await.unwrap().is_empty());
        let viewer = user(&db.store, "vic@example.com").await;
        join(store, &f.account_id, &viewer, Role::Viewer).await;
        let forbidden = services::create(
            store,
            &viewer,
            "p1",
            &request("db", "small", "google-europe-north1"),
            at,
        )
        .await
        .unwrap_err();
        assert!(matches!(forbidden, AppError::Forbidden { .. }));
        let stranger = user(&db.store, "eve@example.com").await;
        let foreign = services::create(
            store,
            &stranger,
            "p1",
            &request("db", "small", "google-europe-north1"),
            at,
        )
        .await
        .unwrap_err();
        assert_eq!(foreign.status().as_u16(), 404);

        // Created at 10:30: running, priced from the list (a cloud's own price
        // beats the every-cloud one).
        let db1 = services::create(
            store,
            &f.admin,
            "p1",
            &request("db", "large", "aws-eu-west-1"),
            at,
        )
        .await
        .unwrap();
        assert_eq!(db1.state, ServiceState::Running);
        assert_eq!(db1.hourly_price_usd.0, d("5"));
        let taken = services::create(
            store,
            &f.admin,
            "p1",
            &request("db", "small", "google-europe-north1"),
            at,
        )
        .await
        .unwrap_err();
        assert_eq!(taken.status().as_u16(), 409);

        // Powering: twice is refused.
        let on_twice = services::power(store, &f.admin, "p1", "db", true, at)
            .await
            .unwrap_err();
        assert_eq!(on_twice.status().as_u16(), 409);
        services::power(store, &f.admin, "p1", "db", false, t(2, 12))
            .await
            .unwrap();
        let off_twice = services::power(store, &f.admin, "p1", "db", false, t(2, 13))
            .await
            .unwrap_err();
        assert_eq!(off_twice.status().as_u16(), 409);
        // 10:30–12:00: two started hours at 5.
        assert_eq!(
            lines(&db.store, &f.account_id, "db", t(3, 0)).await,
            vec![("large".into(), 2, d("10"))]
        );

        // On again at 14:00, plan change at 15:20: the hour 15:00–16:00 stays
        // on the old plan; the new one is billed from 16:00.
        services::power(store, &f.admin, "p1", "db", true, t(2, 14))
            .await
            .unwrap();
        let same = services::change_plan(store, &f.admin, "p1", "db", "large", t(2, 15))
            .await
            .unwrap_err();
        field(&same, "plan");
        let changed = services::change_plan(
            store,
            &f.admin,
            "p1",
            "db",
            "medium",
            t(2, 15) + Duration::minutes(20),
        )
        .await
        .unwrap();
        assert_eq!(changed.plan, "medium");
        assert_eq!(
            lines(&db.store, &f.account_id, "db", t(2, 18)).await,
            vec![("large".into(), 4, d("20")), ("medium".into(), 2, d("4"))],
            "10:30, 11:30, 14:00, 15:00 on large; 16:00 and 17:00 on medium"
        );
        // A second change inside the same hour: nothing billed twice or lost.
        services::change_plan(
            store,
            &f.admin,
            "p1",
            "db",
            "small",
            t(2, 16) + Duration::minutes(10),
        )
        .await
        .unwrap();
        services::change_plan(
            store,
            &f.admin,
            "p1",
            "db",
            "large",
            t(2, 16) + Duration::minutes(20),
        )
        .await
        .unwrap();
        let mut hours: i64 = lines(&db.store, &f.account_id, "db", t(2, 19))
            .await
            .iter()
            .map(|l| l.1)
            .sum();
        assert_eq!(
            hours,
            2 + 5,
            "10:30, 11:30, then 14:00 to 18:00 started five hours"
        );

        // Terminate; then it is gone, and terminating again finds nothing.
        services::terminate(store, &f.admin, "p1", "db", t(2, 19) + Duration::minutes(5))
            .await
            .unwrap();
        let again = services::terminate(store, &f.admin, "p1", "db", t(2, 20))
            .await
            .unwrap_err();
        assert_eq!(again.status().as_u16(), 404);
        assert!(services::list(store, &f.admin, "p1")
            .await
            .unwrap()
            .is_empty());
        hours = lines(&db.store, &f.account_id, "db", t(5, 0))
            .await
            .iter()
            .map(|l| l.1)
            .sum();
        assert_eq!(hours, 8, "the hour from 19:00 started before it ended");

        // Every change is in the group's log.
        let types: Vec<String> = store
            .events_of_group(&f.primary, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        for expected in [
            "service_created",
            "service_powered_off",
            "service_powered_on",
            "service_plan_changed",
            "service_terminated",
        ] {
            assert!(
                types.iter().any(|t| t == expected),
                "{expected} in {types:?}"
            );
        }
        let _ = f.second;
    }
);

on_both_backends!(
    a_new_price_reaches_a_running_service_from_the_next_hour_of_its_grid,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        services::create(
            store,
            &f.admin,
            "p1",
            &request("db", "small", "google-europe-north1"),
            t(2, 10) + Duration::minutes(15),
        )
        .await
        .unwrap();
        // Importing the same list again changes nothing.
        let again = prices::import_prices(store, PRICES, t(2, 11))
            .await
            .unwrap();
        assert_eq!(
            (again.added.len(), again.changed.len(), again.unchanged),
            (0, 0, 4)
        );
        // A bad file is refused whole.
        let bad = prices::import_prices(
            store,
            "service_type,plan,cloud,hourly_price_usd,valid_from\npg,small,,3,2026-10-05\npg,medium,,-1,2026-10-05\n",
            t(2, 11),
        )
        .await
        .unwrap_err();
        assert!(
            bad.iter()
                .any(|e| e.starts_with("line 3, column hourly_price_usd")),
            "{bad:?}"
        );
        assert_eq!(store.prices().await.unwrap().len(), 4);

        // Small costs 3 from the 3rd; imported on the 2nd, it waits.
        let dated = "service_type,plan,cloud,hourly_price_usd,valid_from\npg,small,,3,2026-10-03\n";
        let report = prices::import_prices(store, dated, t(2, 12)).await.unwrap();
        assert_eq!((report.added.len(), report.repriced), (1, 0));
        // The applier runs late (12:40): the hour that started at 23:15 on
        // the 2nd keeps 1; from 00:15 on the 3rd the service costs 3.
        let at = t(3, 12) + Duration::minutes(40);
        let (first, second) = tokio::join!(
            prices::apply_due_prices(store, at),
            prices::apply_due_prices(store, at)
        );
        assert_eq!(first.unwrap() + second.unwrap(), 1, "one instance moves it");
        assert_eq!(prices::apply_due_prices(store, at).await.unwrap(), 0);
        assert_eq!(
            lines(&db.store, &f.account_id, "db", t(3, 2)).await,
            vec![("small".into(), 2, d("6")), ("small".into(), 14, d("14"))],
            "10:15 to 23:15 on the 2nd at 1; 00:15 and 01:15 on the 3rd at 3"
        );
        let events = store.events_of_group(&f.primary, 5).await.unwrap();
        assert_eq!(events[0].event_type, "service_repriced");
        assert!(
            events[0]
                .event_desc
                .contains("3 USD/h from 2026-10-03 00:15"),
            "{}",
            events[0].event_desc
        );
    }
);

on_both_backends!(exchange_rates_import_from_ecb_and_plain_files, |db| {
    let store = db.store.as_ref();
    let ecb = "Date,USD,JPY,BGN,CZK,DKK,GBP,HUF,PLN,RON,SEK,CHF,ISK,NOK,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,\n\
               2026-11-27,1.0500,160.00,1.9558,25.100,7.4600,0.8400,400.00,4.3000,4.9700,11.500,0.9400,145.00,11.800,36.000,1.6200,6.1000,1.4700,7.6000,8.1700,16700.00,3.9000,88.000,1450.00,19.500,4.7000,1.8000,60.000,1.4000,37.000,19.000,\n";
    let report = rate_import::import_rates(store, ecb).await.unwrap();
    assert_eq!(report.added.len(), 11);
    assert!(report.skipped.contains(&"ZAR".to_string()));
    let day = "2026-11-27".parse().unwrap();
    assert_eq!(
        store.exchange_rate_on(Currency::EUR, day).await.unwrap(),
        Some(d("0.952381"))
    );
    // Again: nothing new. A plain file changes one rate and says so.
    let again = rate_import::import_rates(store, ecb).await.unwrap();
    assert_eq!((again.added.len(), again.unchanged), (0, 11));
    let plain = rate_import::import_rates(store, "date,currency,rate\n2026-11-27,EUR,0.95\n")
        .await
        .unwrap();
    assert_eq!(
        plain.changed,
        vec!["EUR 2026-11-27: 0.95 (was 0.952381)".to_string()]
    );
    // A bad file writes nothing.
    let bad = rate_import::import_rates(
        store,
        "date,currency,rate\n2026-11-28,EUR,0.9\n2026-11-28,GBP,zero\n",
    )
    .await
    .unwrap_err();
    assert!(bad[0].starts_with("line 3, column rate"));
    assert_eq!(
        store
            .exchange_rate_on(Currency::EUR, "2026-11-28".parse().unwrap())
            .await
            .unwrap(),
        Some(d("0.95"))
    );
});

/// One step of the property test, at a minute of October.
#[derive(Debug, Clone)]
enum Step {
    Power(bool),
    Plan(usize),
    Move(usize),
}

const PLANS: [&str; 3] = ["small", "medium", "large"];

fn steps() -> impl Strategy<Value = Vec<(i64, Step)>> {
    prop::collection::vec(
        (
            0i64..(30 * 24 * 60),
            prop_oneof![
                any::<bool>().prop_map(Step::Power),
                (0usize..3).prop_map(Step::Plan),
                (0usize..2).prop_map(Step::Move),
            ],
        ),
        0..14,
    )
    .prop_map(|mut steps| {
        steps.sort_by_key(|(minute, _)| *minute);
        steps.dedup_by_key(|(minute, _)| *minute);
        steps
    })
}

/// The rule, counted hour by hour with no run in sight: while the service
/// is on (from power-on to power-off), an hour starts every hour from the
/// power-on; it is billed at the plan in force at its start, to the group
/// the project is in at its start.
fn brute_force(
    created: DateTime<Utc>,
    steps: &[(DateTime<Utc>, Step)],
    end: DateTime<Utc>,
    groups: &[GroupId; 2],
) -> BTreeMap<(GroupId, String), i64> {
    let mut billed = BTreeMap::new();
    let state_at = |at: DateTime<Utc>| {
        let (mut on, mut plan, mut group, mut on_since) = (true, 0usize, 0usize, created);
        for (when, step) in steps.iter().filter(|(when, _)| *when <= at) {
            match step {
                Step::Power(power) if *power != on => {
                    on = *power;
                    if on {
                        on_since = *when;
                    }
                }
                Step::Plan(p) => plan = *p,
                Step::Move(g) => group = *g,
                _ => {}
            }
        }
        (on, plan, group, on_since)
    };
    let mut at = created;
    while at < end {
        let (on, plan, group, on_since) = state_at(at);
        // Hour starts are on the grid of the current power-on.
        if on && (at - on_since).num_minutes() % 60 == 0 {
            *billed
                .entry((groups[group].clone(), PLANS[plan].to_string()))
                .or_insert(0) += 1;
        }
        at += Duration::minutes(1);
    }
    billed
}

on_both_backends!(
    plan_changes_power_and_moves_bill_every_hour_once_at_its_plan,
    |db| {
        let handle = tokio::runtime::Handle::current();
        let store = db.store.clone();
        let counter = std::sync::atomic::AtomicUsize::new(0);
        tokio::task::block_in_place(|| {
            let mut runner = TestRunner::new(Config {
                cases: 20,
                failure_persistence: None,
                ..Config::default()
            });
            let result = runner.run(&steps(), |steps| {
                let case = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                handle
                    .block_on(check_steps(&store, case, steps))
                    .map_err(TestCaseError::fail)
            });
            if let Err(failure) = result {
                panic!("{failure}");
            }
        });
    }
);

async fn check_steps(store: &DynStore, case: usize, steps: Vec<(i64, Step)>) -> Result<(), String> {
    let e = |x: AppError| x.to_string();
    let admin = if case == 0 {
        user(store, "admin@example.com").await
    } else {
        store
            .user_by_email("admin@example.com")
            .await
            .unwrap()
            .unwrap()
            .current()
    };
    if case == 0 {
        prices::import_prices(
            store.as_ref(),
            PRICES,
            Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
        )
        .await
        .map_err(|e| e.join("; "))?;
    }
    let (account, primary) = accounts::create_account(
        store.as_ref(),
        &admin,
        &format!("Case {case}"),
        "USD",
        t(1, 0),
    )
    .await
    .map_err(e)?;
    let second = groups::create_group(
        store.as_ref(),
        &admin,
        &account.account_id,
        "Second",
        None,
        t(1, 0),
    )
    .await
    .map_err(e)?;
    let project = format!("case{case}");
    projects::create_project(
        store.as_ref(),
        &admin,
        &account.account_id,
        &project,
        None,
        "google-europe-north1",
        t(1, 0),
    )
    .await
    .map_err(e)?;
    let groups_of = [
        primary.billing_group_id.clone(),
        second.billing_group_id.clone(),
    ];
    let created = t(1, 0) + Duration::minutes(7);
    services::create(
        store.as_ref(),
        &admin,
        &project,
        &request("svc", "small", "google-europe-north1"),
        created,
    )
    .await
    .map_err(e)?;
    let mut applied = Vec::new();
    let (mut on, mut plan, mut group) = (true, 0usize, 0usize);
    for (minute, step) in steps {
        let at = created + Duration::minutes(minute + 1);
        // Only steps that change something (the refusals are tested above).
        let done = match &step {
            Step::Power(power) if *power != on => {
                services::power(store.as_ref(), &admin, &project, "svc", *power, at)
                    .await
                    .map_err(e)?;
                on = *power;
                true
            }
            Step::Plan(p) if *p != plan => {
                services::change_plan(store.as_ref(), &admin, &project, "svc", PLANS[*p], at)
                    .await
                    .map_err(e)?;
                plan = *p;
                true
            }
            Step::Move(g) if *g != group => {
                groups::move_project(store.as_ref(), &admin, &project, &groups_of[*g], at)
                    .await
                    .map_err(e)?;
                group = *g;
                true
            }
            _ => false,
        };
        if done {
            applied.push((at, step));
        }
    }
    let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let (memberships, runs) = store
        .account_usage(&account.account_id, t(1, 0), end)
        .await
        .map_err(|x| x.to_string())?;
    let mut billed: BTreeMap<(GroupId, String), i64> = BTreeMap::new();
    for charge in costs::charges(&memberships, &runs, t(1, 0), end) {
        let price = match charge.plan.as_str() {
            "small" => d("1"),
            "medium" => d("2"),
            _ => d("4"),
        };
        if charge.hourly_price_usd != price
            || charge.amount_usd != price * Decimal::from(charge.hours)
        {
            return Err(format!("{charge:?} is not at its plan's price"));
        }
        *billed
            .entry((charge.billing_group_id, charge.plan))
            .or_insert(0) += charge.hours;
    }
    let expected = brute_force(created, &applied, end, &groups_of);
    if billed != expected {
        return Err(format!(
            "billed {billed:?}\nexpected {expected:?}\nsteps {applied:?}"
        ));
    }
    Ok(())
}
