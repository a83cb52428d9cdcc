//! Credits over the store, on both backends (rule 10): issuing, claiming
//! (once across all accounts, earmarks, bad input, the rate limit),
//! consumption at month close, the estimate's expected use, the Credits
//! tab and its burn-down.

use crate::common::{after_october, d, running_service, t, user, Fixture};
use billing_console::error::AppError;
use billing_console::model::credits::display_code;
use billing_console::model::ids::GroupId;
use billing_console::model::invoices::ESTIMATE;
use billing_console::model::states::{InvoiceState, LineType};
use billing_console::model::{CurrentUser, Role};
use billing_console::server::billing::calendar::parse_period;
use billing_console::server::billing::credits::{
    claim_credit, credits_page, issue_credits, IssueRequest, CLAIM_FAILURES_ALLOWED,
};
use billing_console::server::billing::invoices::invoice_detail;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{accounts, group_page, groups, projects};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, EventFilter};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

/// Account "Acme" (USD groups "Primary" and "Second"); p1 runs a 1 USD/h
/// service and p2 a 2 USD/h one, all of October, in the primary group.
async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "USD", "Second", t(1, 0)).await;
    for (name, price) in [("p1", "1"), ("p2", "2")] {
        f.project(store, name, None, "", t(1, 0)).await;
        running_service(store, &format!("{name}-svc"), name, price, t(1, 0)).await;
    }
    f
}

/// Issues one code (value USD, last valid day) and returns it as printed.
async fn issue(store: &DynStore, value: &str, expires: Option<&str>, starts: &str) -> String {
    issue_credits(
        store.as_ref(),
        &IssueRequest {
            value: value.into(),
            credit_type: "trial".into(),
            expires: expires.map(String::from),
            starts: Some(starts.into()),
            count: 1,
        },
        t(1, 0),
    )
    .await
    .unwrap()
    .remove(0)
}

/// Claims a code that must be accepted.
async fn claim(
    store: &DynStore,
    user: &CurrentUser,
    group: &str,
    code: &str,
    earmark: Option<&str>,
    at: DateTime<Utc>,
) -> billing_console::model::credits::Credit {
    claim_credit(
        store.as_ref(),
        user,
        &GroupId::from(group),
        code,
        earmark,
        at,
    )
    .await
    .unwrap()
}

async fn close_october(store: &DynStore) {
    close_month(
        store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        parse_period("2026-10").unwrap(),
        after_october(),
        "system",
    )
    .await
    .unwrap();
}

/// (line description, USD) of the credit lines of the group's October invoice.
async fn credit_lines(store: &DynStore, f: &Fixture, group: &GroupId) -> Vec<(String, Decimal)> {
    let invoice = store.invoices_of_group(group).await.unwrap().remove(0);
    let detail = invoice_detail(
        store.as_ref(),
        &Seller::demo(),
        &f.admin,
        group,
        &invoice.invoice_number,
        after_october(),
    )
    .await
    .unwrap();
    detail
        .lines
        .into_iter()
        .filter(|l| l.line_type == LineType::CreditConsumption)
        .map(|l| (l.description, l.line_total_usd.amount))
        .collect()
}

async fn remaining(store: &DynStore, code: &str) -> Decimal {
    let code = billing_console::model::credits::normalize_code(code).unwrap();
    store
        .credit(&code)
        .await
        .unwrap()
        .unwrap()
        .remaining_value_usd
        .0
}

async fn event_types(store: &DynStore, group: &GroupId) -> Vec<String> {
    store
        .events(
            group,
            &EventFilter {
                limit: 100,
                ..EventFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

// October: p1 744 h × 1 USD = 744, p2 744 h × 2 USD = 1488; 2232 in all.

on_both_backends!(
    rule_10_a_claimed_credit_pays_at_month_close_and_writes_its_events,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let code = issue(store, "300", Some("2026-12-31"), "2026-10-01").await;
        let claimed = claim(store, &f.admin, &f.primary, &code, None, t(2, 0)).await;
        assert_eq!(
            (claimed.code.clone(), claimed.state.as_str()),
            (code.clone(), "active")
        );
        close_october(store).await;
        let lines = credit_lines(store, &f, &f.primary).await;
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].1, d("-300"));
        assert!(
            lines[0].0.contains(&code),
            "the line names the credit: {}",
            lines[0].0
        );
        assert_eq!(remaining(store, &code).await, Decimal::ZERO);
        let invoice = store.invoices_of_group(&f.primary).await.unwrap().remove(0);
        // 2232 − 300, then domestic VAT (no country on file) on the rest.
        assert_eq!(invoice.total_vat_zero.0, d("1932"));
        let types = event_types(store, &f.primary).await;
        assert!(types.contains(&"credit_claimed".to_string()));
        assert!(types.contains(&"credit_consumed".to_string()));
        // Closing again uses nothing twice.
        close_october(store).await;
        assert_eq!(store.invoices_of_group(&f.primary).await.unwrap().len(), 1);
        assert_eq!(
            event_types(store, &f.primary)
                .await
                .iter()
                .filter(|t| *t == "credit_consumed")
                .count(),
            1
        );
    }
);

on_both_backends!(
    rule_10_each_code_is_claimed_once_across_all_accounts,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let other = user(store, "other@example.com").await;
        let (_, other_group) =
            accounts::create_account(store.as_ref(), &other, "Other", "EUR", t(1, 0))
                .await
                .unwrap();
        let code = issue(store, "50", None, "2026-10-01").await;
        // Two claims at the same moment, from two accounts: exactly one wins.
        let (a, b) = tokio::join!(
            claim_credit(store.as_ref(), &f.admin, &f.primary, &code, None, t(2, 0)),
            claim_credit(
                store.as_ref(),
                &other,
                &other_group.billing_group_id,
                &code,
                None,
                t(2, 0)
            ),
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert_eq!(
            loser.unwrap_err().field_message("code").as_deref(),
            Some("This code has already been claimed; each code can be claimed once.")
        );
        // And later, into the other group of the same account: refused too.
        let again = claim_credit(store.as_ref(), &f.admin, &f.second, &code, None, t(3, 0)).await;
        assert!(again.is_err());
    }
);

on_both_backends!(rule_10_an_earmarked_credit_pays_only_its_project, |db| {
    let store = &db.store;
    let f = fixture(store).await;
    let code = issue(store, "5000", None, "2026-10-01").await;
    claim(store, &f.admin, &f.primary, &code, Some("p1"), t(2, 0)).await;
    close_october(store).await;
    let lines = credit_lines(store, &f, &f.primary).await;
    // p1 cost 744 USD; p2's 1488 stay to pay.
    assert_eq!(
        lines,
        [(
            format!("Credit {code} (trial), earmarked for p1"),
            d("-744")
        )]
    );
    assert_eq!(remaining(store, &code).await, d("4256"));
});

on_both_backends!(rule_10_credits_are_consumed_soonest_expiring_first, |db| {
    let store = &db.store;
    let f = fixture(store).await;
    let late = issue(store, "2000", Some("2027-06-30"), "2026-10-01").await;
    let never = issue(store, "2000", None, "2026-10-01").await;
    let soon = issue(store, "2000", Some("2026-12-31"), "2026-10-01").await;
    for code in [&late, &never, &soon] {
        claim(store, &f.admin, &f.primary, code, None, t(2, 0)).await;
    }
    close_october(store).await;
    // 2232 USD: the soonest takes 2000, the next 232, the one without expiry nothing.
    assert_eq!(remaining(store, &soon).await, Decimal::ZERO);
    assert_eq!(remaining(store, &late).await, d("1768"));
    assert_eq!(remaining(store, &never).await, d("2000"));
    let invoice = store.invoices_of_group(&f.primary).await.unwrap().remove(0);
    assert_eq!(invoice.total_inc_vat.0, Decimal::ZERO, "never below zero");
    assert_eq!(invoice.state, InvoiceState::Paid, "nothing left to pay");
});

on_both_backends!(rule_10_a_credit_pays_only_the_hours_it_is_valid_for, |db| {
    let store = &db.store;
    let f = fixture(store).await;
    // Valid from October 11th through the 20th: 10 days × 24 h × 3 USD.
    let code = issue(store, "5000", Some("2026-10-20"), "2026-10-11").await;
    claim(store, &f.admin, &f.primary, &code, None, t(2, 0)).await;
    close_october(store).await;
    assert_eq!(remaining(store, &code).await, d("4280"));
});

on_both_backends!(
    rule_10_expired_credits_are_shown_as_expired_with_the_value_used,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let code = issue(store, "5000", Some("2026-10-20"), "2026-10-01").await;
        claim(store, &f.admin, &f.primary, &code, None, t(2, 0)).await;
        close_october(store).await;
        let page = credits_page(store.as_ref(), &f.admin, &f.primary, after_october())
            .await
            .unwrap();
        let credit = &page.credits[0];
        assert_eq!(
            credit.state,
            billing_console::model::states::CreditState::Expired
        );
        // October 1st–20th: 20 × 24 × 3 USD.
        assert_eq!(credit.consumed_usd.amount, d("1440"));
        assert!(
            page.forecast.is_empty(),
            "an expired credit has nothing to forecast"
        );
        // An expired code cannot be claimed.
        let stale = issue(store, "10", Some("2026-10-05"), "2026-10-01").await;
        let error = claim_credit(
            store.as_ref(),
            &f.admin,
            &f.second,
            &stale,
            None,
            after_october(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            error.field_message("code").as_deref(),
            Some("This code expired on 2026-10-05.")
        );
    }
);

on_both_backends!(
    rule_10_the_estimate_and_the_overview_show_the_credit_expected,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let code = issue(store, "100", None, "2026-10-01").await;
        claim(store, &f.admin, &f.primary, &code, None, t(2, 0)).await;
        let now = t(3, 0); // 48 hours in: 144 USD so far.
        let estimate = invoice_detail(
            store.as_ref(),
            &Seller::demo(),
            &f.admin,
            &f.primary,
            ESTIMATE,
            now,
        )
        .await
        .unwrap();
        let credit_line = estimate
            .lines
            .iter()
            .find(|l| l.line_type == LineType::CreditConsumption)
            .expect("the estimate shows the credit");
        assert_eq!(credit_line.line_total_usd.amount, d("-100"));
        assert_eq!(estimate.summary.total_vat_zero.amount, d("44"));
        let page = group_page::overview(store.as_ref(), &Seller::demo(), &f.admin, &f.primary, now)
            .await
            .unwrap();
        assert_eq!(page.applied_credits.len(), 1);
        assert_eq!(page.applied_credits[0].invoice_number, ESTIMATE);
        assert_eq!(page.applied_credits[0].amount_usd.amount, d("100"));
        // The Credits tab: 100 expected this month, so it runs out now.
        let credits = credits_page(store.as_ref(), &f.admin, &f.primary, now)
            .await
            .unwrap();
        assert_eq!(credits.credits[0].expected_this_month_usd.amount, d("100"));
        assert_eq!(credits.run_rate_usd, d("3"));
    }
);

on_both_backends!(
    rule_10_the_burn_down_says_when_a_credit_runs_out_and_what_expires,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        // p1 runs at 1 USD/h and p2 at 2 USD/h; it is Oct 3rd 00:00, 48 h in.
        // The p1 credit (soonest expiry) has paid p1's 48 so far and pays 72
        // more until it expires at the end of the 5th: 380 of 500 expire
        // unused. The general one has paid p2's 96 (904 left), pays p2's 144
        // until the 6th (760 left), then 72 a day: it runs out on the 16th.
        let lasting = issue(store, "1000", None, "2026-10-01").await;
        let unused = issue(store, "500", Some("2026-10-05"), "2026-10-01").await;
        claim(store, &f.admin, &f.primary, &lasting, None, t(2, 0)).await;
        claim(store, &f.admin, &f.primary, &unused, Some("p1"), t(2, 0)).await;
        let page = credits_page(store.as_ref(), &f.admin, &f.primary, t(3, 0))
            .await
            .unwrap();
        let of = |code: &str| {
            page.forecast
                .iter()
                .find(|c| c.code == code)
                .unwrap()
                .clone()
        };
        // The p1 credit (sooner expiry) pays p1 first: 48 so far, 72 more by the 5th.
        assert_eq!(of(&unused).runs_out_on, None);
        assert_eq!(of(&unused).expires_unused.amount, d("380"));
        assert_eq!(page.total_expiring_unused.amount, d("380"));
        // The general one pays p2 only until the 6th, then both: (1000 − 96)
        // USD: 3 days × 48 = 144 to the 6th, then 760 / 72 = 10.6 days.
        assert_eq!(
            of(&lasting).runs_out_on,
            Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 16).unwrap())
        );
        assert_eq!(of(&lasting).expires_unused.amount, Decimal::ZERO);
    }
);

on_both_backends!(
    rule_10_bad_claims_get_a_clear_message_and_change_nothing,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let other = user(store, "other@example.com").await;
        let (_, other_group) =
            accounts::create_account(store.as_ref(), &other, "Other", "EUR", t(1, 0))
                .await
                .unwrap();
        projects::create_project(
            store.as_ref(),
            &other,
            &other_group.account_id,
            "foreign",
            None,
            "",
            t(1, 0),
        )
        .await
        .unwrap();
        let code = issue(store, "50", None, "2026-10-01").await;
        let events_before = event_types(store, &f.primary).await.len();
        let attempt = |typed: &'static str, earmark: Option<&'static str>| {
            let store = store.clone();
            let admin = f.admin.clone();
            let group = f.primary.clone();
            async move { claim_credit(store.as_ref(), &admin, &group, typed, earmark, t(2, 0)).await }
        };
        let cases: [(&str, Option<&str>, &str, &str); 4] = [
            ("", None, "code", "Enter a credit code."),
            (
                "not a code!",
                None,
                "code",
                "A credit code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.",
            ),
            (
                "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
                None,
                "code",
                "No credit has this code. Check it and try again.",
            ),
            (
                "ABCD",
                Some("foreign"),
                "earmarked_project_name",
                "Choose a project of this account, or all projects of the group.",
            ),
        ];
        for (typed, earmark, field, message) in cases {
            let error = attempt(typed, earmark).await.unwrap_err();
            assert_eq!(
                error.field_message(field).as_deref(),
                Some(message),
                "{typed:?}"
            );
        }
        // Nothing changed: the code is unclaimed, no event was written.
        let stored = store
            .credit(&billing_console::model::credits::normalize_code(&code).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.billing_group_id, None);
        assert_eq!(event_types(store, &f.primary).await.len(), events_before);
        // A viewer may not claim; a deleted group cannot receive a claim.
        let viewer = user(store, "viewer@example.com").await;
        crate::common::join(store.as_ref(), &f.account_id, &viewer, Role::Viewer).await;
        let error = claim_credit(store.as_ref(), &viewer, &f.primary, &code, None, t(2, 0))
            .await
            .unwrap_err();
        assert!(matches!(error, AppError::Forbidden { .. }), "{error:?}");
        groups::delete_group(store.as_ref(), &f.admin, &f.second, t(2, 0))
            .await
            .unwrap();
        let error = claim_credit(store.as_ref(), &f.admin, &f.second, &code, None, t(2, 0))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("deleted"), "{error}");
        // Lower case with spaces is the same code.
        let typed = code.to_lowercase().replace('-', " ");
        let claimed = claim(store, &f.admin, &f.primary, &typed, None, t(2, 0)).await;
        assert_eq!(claimed.code, code);
    }
);

on_both_backends!(rule_10_claims_are_rate_limited_per_user, |db| {
    let store = &db.store;
    let f = fixture(store).await;
    let code = issue(store, "50", None, "2026-10-01").await;
    for _ in 0..CLAIM_FAILURES_ALLOWED {
        claim_credit(
            store.as_ref(),
            &f.admin,
            &f.primary,
            "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
            None,
            t(2, 0),
        )
        .await
        .unwrap_err();
    }
    let error = claim_credit(store.as_ref(), &f.admin, &f.primary, &code, None, t(2, 0))
        .await
        .unwrap_err();
    assert!(error.to_string().starts_with("Too many codes"), "{error}");
    // After the window the right code works.
    claim_credit(
        store.as_ref(),
        &f.admin,
        &f.primary,
        &code,
        None,
        t(2, 0) + Duration::minutes(16),
    )
    .await
    .unwrap();
});

on_both_backends!(issuing_refuses_bad_values_and_makes_distinct_codes, |db| {
    let store = &db.store;
    let bad = issue_credits(
        store.as_ref(),
        &IssueRequest {
            value: "-5".into(),
            credit_type: "gift".into(),
            expires: Some("2026-09-30".into()),
            starts: None,
            count: 0,
        },
        t(1, 0),
    )
    .await
    .unwrap_err();
    for field in ["value", "type", "expires", "count"] {
        assert!(bad.field_message(field).is_some(), "{field}: {bad:?}");
    }
    for value in ["abc", "0", "1.001", "1000001"] {
        let error = issue_credits(
            store.as_ref(),
            &IssueRequest {
                value: value.into(),
                credit_type: "trial".into(),
                count: 1,
                ..IssueRequest::default()
            },
            t(1, 0),
        )
        .await
        .unwrap_err();
        assert!(error.field_message("value").is_some(), "{value}");
    }
    let codes = issue_credits(
        store.as_ref(),
        &IssueRequest {
            value: "25".into(),
            credit_type: "Promotion".into(),
            expires: Some("2027-03-31".into()),
            starts: None,
            count: 50,
        },
        t(1, 0),
    )
    .await
    .unwrap();
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 50);
    let stored = store
        .credit(&billing_console::model::credits::normalize_code(&codes[0]).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.credit_type,
        billing_console::model::states::CreditType::Promotion
    );
    // Valid through March 31st: expires when that day ends.
    assert_eq!(
        stored.expire_time,
        Some(Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap())
    );
    assert_eq!(display_code(&stored.code), codes[0]);
});

on_both_backends!(
    the_move_preview_shows_what_credits_pay_and_what_stays_earmarked,
    |db| {
        let store = &db.store;
        let f = fixture(store).await;
        let general = issue(store, "100", None, "2026-10-01").await;
        let earmarked = issue(store, "500", Some("2026-12-31"), "2026-10-01").await;
        claim(store, &f.admin, &f.primary, &general, None, t(2, 0)).await;
        claim(store, &f.admin, &f.primary, &earmarked, Some("p2"), t(2, 0)).await;
        // 48 hours in: p1 48 USD, p2 96 USD. The earmarked credit (sooner
        // expiry) pays p2's 96; the general one p1's 48.
        let page = group_page::projects_tab(store.as_ref(), &f.admin, &f.primary, t(3, 0))
            .await
            .unwrap();
        let of = |name: &str| {
            page.projects
                .iter()
                .find(|p| p.project_name == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (of("p1").credits_usd.amount, of("p1").earmarked_usd.amount),
            (d("48"), d("0"))
        );
        assert_eq!(
            (of("p2").credits_usd.amount, of("p2").earmarked_usd.amount),
            (d("96"), d("500"))
        );
    }
);
