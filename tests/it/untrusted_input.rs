//! What people and files send in (issue 26), on both backends: amounts of
//! any size and form through every path that takes one (budgets, credit
//! values, prices, exchange rates) and any text through billing
//! information. Each is stored as read or refused with a field error;
//! nothing panics, and the pages and the job that read a stored amount
//! still work.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing_console::error::AppError;
use billing_console::model::ids::GroupId;
use billing_console::model::CurrentUser;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::credits::{self, IssueRequest};
use billing_console::server::billing::{budgets, prices, rate_import};
use billing_console::server::demo;
use billing_console::server::store::DynStore;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tower::ServiceExt;

use crate::common::{d, t, Fixture};

/// Amounts as people and files type them, and as attackers do.
fn typed_amount() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,40}(\\.[0-9]{0,30})?",
        "-?[0-9,.]{1,30}",
        "[0-9]{1,3}(,[0-9]{3}){0,12}(\\.[0-9]{1,4})?",
        "[0-9eE+_ .,-]{0,20}",
        "\\PC{0,24}",
        prop::sample::select(vec![
            "800000000000000000000000000",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "1e30",
            "NaN",
            "-0",
            "12,50",
            ",5",
            "1.234,56",
            "１２",
            "1_000",
        ])
        .prop_map(String::from),
    ]
}

/// A CSV cell holding `text` as it is (quoted, without line breaks).
fn csv_cell(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace(['\n', '\r'], " ").replace('"', "\"\"")
    )
}

fn refused_or_done<T>(what: &str, text: &str, result: Result<T, AppError>) -> Result<(), String> {
    match result {
        Ok(_) | Err(AppError::Invalid { .. }) => Ok(()),
        Err(other) => Err(format!("{what} {text:?}: {other:?}")),
    }
}

async fn check(
    store: &DynStore,
    admin: &CurrentUser,
    group: &str,
    text: String,
) -> Result<(), String> {
    let store = store.as_ref();
    let now = t(20, 12);
    let budget = budgets::set_budget(store, admin, &GroupId::from(group), &text, "", now).await;
    if let Ok(Some(stored)) = &budget {
        if stored.amount.0 > d("1000000000000") || stored.amount.0 <= d("0") {
            return Err(format!("budget {text:?} stored as {}", stored.amount.0));
        }
    }
    refused_or_done("budget", &text, budget)?;
    refused_or_done(
        "budget shown",
        &text,
        budgets::budget_of_group(store, admin, &GroupId::from(group), now).await,
    )?;
    refused_or_done(
        "budget job",
        &text,
        budgets::evaluate(store, now, crate::common::TEST_LINKS).await,
    )?;
    let issued = credits::issue_credits(
        store,
        &IssueRequest {
            value: text.clone(),
            credit_type: "purchase".into(),
            expires: Some("2030-12-31".into()),
            starts: None,
            count: 1,
        },
        now,
    )
    .await;
    refused_or_done("credit value", &text, issued)?;
    // A file either imports or lists its errors; a panic fails the case.
    let _ = prices::import_prices(
        store,
        &format!(
            "service_type,plan,cloud,hourly_price_usd,valid_from\npg,fuzz,,{},2026-01-01\n",
            csv_cell(&text)
        ),
        now,
    )
    .await;
    let _ = rate_import::import_rates(
        store,
        &format!("date,currency,rate\n2026-10-01,EUR,{}\n", csv_cell(&text)),
    )
    .await;
    let saved = billing_info::save(
        store,
        admin,
        &GroupId::from(group),
        &BillingInfoForm {
            payment_method: "email".into(),
            company: text.clone(),
            address: text.clone(),
            city: text.clone(),
            state: text.clone(),
            zip_code: text.clone(),
            country_code: "FI".into(),
            vat_id: text.clone(),
            billing_emails: "ap@example.com".into(),
            billing_currency: "EUR".into(),
            billing_extra_text: text.clone(),
            ..Default::default()
        },
        now,
    )
    .await;
    refused_or_done("billing information", &text, saved)?;
    Ok(())
}

on_both_backends!(no_typed_amount_or_text_panics_or_changes_silently, |db| {
    let f = Fixture::acme(&db.store, "EUR", "Second", t(1, 0)).await;
    let handle = tokio::runtime::Handle::current();
    let store = db.store.clone();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(Config {
            cases: 96,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&typed_amount(), |text| {
            handle
                .block_on(check(&store, &f.admin, &f.primary, text))
                .map_err(TestCaseError::fail)
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    });
});

on_both_backends!(
    a_budget_beyond_its_range_is_refused_and_a_decimal_comma_is_read,
    |db| {
        let f = Fixture::acme(&db.store, "EUR", "Second", t(1, 0)).await;
        let store = db.store.as_ref();
        let set = |amount: &'static str| {
            budgets::set_budget(store, &f.admin, &f.primary, amount, "", t(2, 0))
        };
        let refused = set("800000000000000000000000000").await.unwrap_err();
        assert!(
            matches!(&refused, AppError::Invalid { errors } if errors[0].field == "amount"),
            "{refused:?}"
        );
        assert!(
            store.budget(&f.primary).await.unwrap().is_none(),
            "nothing stored"
        );
        let read = set("12,50").await.unwrap().unwrap();
        assert_eq!(read.amount.0, d("12.50"), "a decimal comma, never 1250");
        let read = set("1,234.50").await.unwrap().unwrap();
        assert_eq!(read.amount.0, d("1234.50"));
        let refused = set("1.234,50").await.unwrap_err();
        assert!(refused.to_string().contains("1234.56"), "{refused}");
    }
);

on_both_backends!(
    a_stored_budget_beyond_any_range_panics_neither_the_page_nor_the_job,
    |db| {
        let app = crate::common::app(db, "").await;
        let demo_user = db
            .store
            .user_by_email(demo::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap();
        let group = db.store.groups_of_user(&demo_user.user_id).await.unwrap()[0]
            .billing_group_id
            .clone();
        // A budget the rules accepted, then made huge as an older version
        // (or a hand edit) could have left it: as large as the column holds.
        let user = demo_user.current();
        budgets::set_budget(
            db.store.as_ref(),
            &user,
            &group,
            "100",
            "",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let huge = if db.url.starts_with("sqlite:") {
            "800000000000000000000000000"
        } else {
            "999999999999999999.999999"
        };
        db.raw(&format!("UPDATE budgets SET amount = '{huge}'"))
            .await
            .unwrap();

        let cookie = crate::common::signed_in_cookie(&app, demo::DEMO_EMAIL).await;
        let page = app
            .clone()
            .oneshot(
                Request::get(format!("/billing-group/{group}"))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = crate::common::body_text(page).await;
        assert!(html.contains("Budget"), "the budget panel renders");
        budgets::evaluate(
            db.store.as_ref(),
            chrono::Utc::now(),
            crate::common::TEST_LINKS,
        )
        .await
        .expect("the budget job goes on");
    }
);
