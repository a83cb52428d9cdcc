//! Invoices over the store, on both backends (rules 6–9): month close,
//! lines per project and service, VAT, currencies, idempotency, state
//! changes, files, and property tests over random usage.

use crate::common::{after_october, d, t, user, EventsOfGroup, Fixture};
use billing_console::error::AppError;
use billing_console::model::ids::GroupId;
use billing_console::model::invoices::ESTIMATE;
use billing_console::model::money::Currency;
use billing_console::model::states::{GroupState, InvoiceState, LineType};
use billing_console::model::Role;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::calendar::parse_period;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{group_page, invoices};
use billing_console::server::billing::{groups, invoice_files, services};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, NewService, RunEnd};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

fn october() -> DateTime<Utc> {
    parse_period("2026-10").unwrap()
}

/// Account "Acme" (EUR primary group, a second USD group), projects p1 and
/// p2 in the primary group, each with services, and EUR at 0.9.
async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "EUR", "Second", t(1, 0)).await;
    for name in ["p1", "p2"] {
        f.project(store, name, None, "", t(1, 0)).await;
    }
    store
        .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), d("0.9"))
        .await
        .unwrap();
    f
}

async fn service(store: &DynStore, id: &str, project: &str, name: &str, price: &str) {
    store
        .create_service(
            &NewService {
                service_id: id.into(),
                project_name: project.into(),
                service_name: name.into(),
                service_type: "pg".into(),
                plan: "business-4".into(),
                cloud_name: "google-europe-north1".into(),
                hourly_price_usd: d(price),
            },
            t(1, 0),
        )
        .await
        .unwrap();
}

async fn set_country(store: &DynStore, f: &Fixture, group: &GroupId, country: &str, vat_id: &str) {
    let current = group_page::billing_info_page(store.as_ref(), &f.admin, group)
        .await
        .unwrap()
        .group;
    let form = BillingInfoForm {
        billing_currency: current.billing_currency.to_string(),
        billing_emails: "finance@example.com".into(),
        company: "Acme Oy".into(),
        address: "Street 1".into(),
        city: "Town".into(),
        zip_code: "00100".into(),
        country_code: country.into(),
        vat_id: vat_id.into(),
        payment_method: "email".into(),
        ..BillingInfoForm::default()
    };
    billing_info::save(store.as_ref(), &f.admin, group, &form, t(1, 0))
        .await
        .unwrap();
}

async fn october_invoice(
    store: &DynStore,
    f: &Fixture,
    group: &str,
) -> billing_console::model::invoices::InvoiceDetail {
    let list = store
        .invoices_of_group(&GroupId::from(group))
        .await
        .unwrap();
    let number = &list
        .iter()
        .find(|i| i.period_begin == october())
        .expect("an October invoice")
        .invoice_number;
    invoices::invoice_detail(
        store.as_ref(),
        &Seller::demo(),
        &f.admin,
        &GroupId::from(group),
        number,
        after_october(),
    )
    .await
    .unwrap()
}

on_both_backends!(rule_6_hourly_billing_splits_the_month_at_a_move, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "0.5").await;
    // Runs Oct 5 00:30 – Oct 15 00:30: 240 started hours; moved on Oct 10 00:00.
    let start = t(5, 0) + chrono::Duration::minutes(30);
    db.store
        .record_service_run(
            "s1",
            start,
            Some((t(15, 0) + chrono::Duration::minutes(30), RunEnd::PoweredOff)),
        )
        .await
        .unwrap();
    groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(10, 0))
        .await
        .unwrap();
    close_month(
        db.store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "system",
    )
    .await
    .unwrap();
    let old = october_invoice(&db.store, &f, &f.primary).await;
    let new = october_invoice(&db.store, &f, &f.second).await;
    let hours = |inv: &billing_console::model::invoices::InvoiceDetail| {
        inv.lines
            .iter()
            .filter(|l| l.line_type == LineType::ServiceCharge)
            .map(|l| l.hours.unwrap())
            .sum::<i64>()
    };
    // Hours starting 5th 00:30 … 9th 23:30 (120) stay; the rest (120) move.
    assert_eq!((hours(&old), hours(&new)), (120, 120));
    assert_eq!(old.total_usd.amount, d("60"));
    assert_eq!(new.total_usd.amount, d("60"));
});

on_both_backends!(
    rule_7_accumulated_costs_are_the_month_so_far_before_tax,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1.25").await;
        db.store
            .record_service_run("s1", t(2, 0), None)
            .await
            .unwrap();
        // Oct 3 00:00: 24 hours have started.
        let page = group_page::header(db.store.as_ref(), &f.admin, &f.primary, t(3, 0))
            .await
            .unwrap();
        assert_eq!(page.costs.usd.amount, d("30"));
        assert_eq!(page.costs.local.unwrap().amount, d("27"), "EUR at 0.9");
        let overview = group_page::overview(
            db.store.as_ref(),
            &Seller::demo(),
            &f.admin,
            &f.primary,
            t(3, 0),
        )
        .await
        .unwrap();
        let estimate = &overview.invoices[0];
        assert_eq!(estimate.invoice_number, ESTIMATE);
        assert_eq!(
            estimate.total_vat_zero.amount,
            d("27"),
            "the estimate is before tax"
        );
        // 25.5 % Finnish VAT on a group without a country: domestic.
        assert_eq!(estimate.total_inc_vat.amount, d("33.89"));
        // One hour later another hour has started.
        let later = group_page::header(
            db.store.as_ref(),
            &f.admin,
            &f.primary,
            t(3, 0) + chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
        assert_eq!(later.costs.usd.amount, d("31.25"));
    }
);

on_both_backends!(
    rule_8_invoices_one_per_group_and_month_with_a_line_per_project_and_service,
    |db| {
        let f = fixture(&db.store).await;
        set_country(&db.store, &f, &f.primary, "FI", "FI12345671").await;
        service(&db.store, "s1", "p1", "pg", "0.333").await;
        service(&db.store, "s2", "p1", "kafka", "1.111").await;
        service(&db.store, "s3", "p2", "pg", "0.777").await;
        for id in ["s1", "s2", "s3"] {
            db.store
                .record_service_run(id, t(3, 7), Some((t(4, 8), RunEnd::Terminated)))
                .await
                .unwrap();
        }
        let seller = Seller::demo();
        let first = close_month(
            db.store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        assert_eq!(first.issued.len(), 2, "one invoice per active group");
        let again = close_month(
            db.store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        assert!(again.issued.is_empty(), "closing twice issues nothing");
        assert_eq!(
            db.store.invoices_of_group(&f.primary).await.unwrap().len(),
            1
        );

        let invoice = october_invoice(&db.store, &f, &f.primary).await;
        let charges: Vec<_> = invoice
            .lines
            .iter()
            .filter(|l| l.line_type == LineType::ServiceCharge)
            .map(|l| {
                (
                    l.project_name.clone().unwrap(),
                    l.service_name.clone().unwrap(),
                    l.hours.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            charges,
            [
                ("p1".to_string(), "kafka".to_string(), 25),
                ("p1".into(), "pg".into(), 25),
                ("p2".into(), "pg".into(), 25),
            ]
        );
        // Totals equal the sum of the lines to the cent.
        let sum_without_vat: Decimal = invoice
            .lines
            .iter()
            .filter(|l| l.line_type != LineType::Vat)
            .map(|l| l.line_total_local.amount)
            .sum();
        let sum_all: Decimal = invoice
            .lines
            .iter()
            .map(|l| l.line_total_local.amount)
            .sum();
        assert_eq!(invoice.summary.total_vat_zero.amount, sum_without_vat);
        assert_eq!(invoice.summary.total_inc_vat.amount, sum_all);
        // p1 kafka: 25 × 1.111 = 27.775 USD → 27.78 USD; × 0.9 = 24.9975 → 25.00 EUR.
        let kafka = &invoice.lines[0];
        assert_eq!(
            (kafka.line_total_usd.plain(), kafka.line_total_local.plain()),
            ("27.78".to_string(), "25.00".to_string())
        );
        assert_eq!(invoice.summary.currency, Currency::EUR);
        assert_eq!(invoice.exchange_rate, d("0.9"));
        assert_eq!(
            invoice.summary.state,
            InvoiceState::Issued,
            "pay by invoice: issued until its mail is delivered"
        );
        assert_eq!(
            invoice.summary.issue_date,
            Some(after_october().date_naive())
        );
        assert_eq!(
            invoice.summary.due_date,
            Some(after_october().date_naive() + chrono::Duration::days(14))
        );
        let events = db.store.events_of_group(&f.primary, 10).await.unwrap();
        assert_eq!(
            events
                .iter()
                .filter(|e| e.event_type == "invoice_issued")
                .count(),
            1
        );

        // Numbers are sequential per group.
        let november = parse_period("2026-11").unwrap();
        let december_first = Utc.with_ymd_and_hms(2026, 12, 1, 0, 5, 0).unwrap();
        close_month(
            db.store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            november,
            december_first,
            "system",
        )
        .await
        .unwrap();
        let numbers: Vec<i64> = db
            .store
            .invoices_of_group(&f.primary)
            .await
            .unwrap()
            .iter()
            .map(|i| i.sequence_number)
            .collect();
        assert_eq!(numbers, [2, 1], "newest first, numbered 1 then 2");

        // The files: the CSV rows sum to the total; the PDF parses and shows it.
        let csv = invoice_files::invoice_csv(&invoice);
        let local_column = 12;
        let csv_sum: Decimal = csv
            .lines()
            .skip(1)
            .map(|row| {
                row.split(',')
                    .nth(local_column)
                    .unwrap()
                    .parse::<Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(csv_sum, invoice.summary.total_inc_vat.amount);
        let pdf = invoice_files::invoice_pdf(&invoice).unwrap();
        let document = lopdf::Document::load_mem(&pdf).expect("a PDF that parses");
        let text = document.extract_text(&[1]).unwrap();
        assert!(
            text.contains(&invoice.summary.total_inc_vat.grouped()),
            "the total is in the PDF's text: {text}"
        );
    }
);

on_both_backends!(no_invoice_is_issued_while_the_seller_is_incomplete, |db| {
    let f = fixture(&db.store).await;
    let incomplete = Seller {
        iban: String::new(),
        bic: String::new(),
        ..Seller::demo()
    };
    let err = close_month(
        db.store.as_ref(),
        &incomplete,
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "system",
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("SELLER_IBAN, SELLER_BIC") && message.contains("No invoices are issued"),
        "{message}"
    );
    assert!(db
        .store
        .invoices_of_group(&f.primary)
        .await
        .unwrap()
        .is_empty());
    assert!(!db.store.month_closed(october()).await.unwrap());
    // Completed, the same close issues the month.
    close_month(
        db.store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "system",
    )
    .await
    .unwrap();
    assert_eq!(
        db.store.invoices_of_group(&f.primary).await.unwrap().len(),
        1
    );
});

on_both_backends!(
    rule_8_closing_is_refused_for_a_running_month_or_a_missing_rate,
    |db| {
        let f = fixture(&db.store).await;
        let seller = Seller::demo();
        let err = close_month(
            db.store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october(),
            t(20, 0),
            "system",
        )
        .await
        .unwrap_err();
        assert!(err
            .field_message("period")
            .unwrap()
            .contains("has not ended"));
        assert!(matches!(
            parse_period("2026-13").unwrap_err(),
            AppError::Invalid { .. }
        ));
        assert!(parse_period("October").is_err());
        // A group in SEK with no SEK rate: nothing is written for anyone.
        let form = BillingInfoForm {
            billing_currency: "SEK".into(),
            billing_emails: "ap@example.com".into(),
            payment_method: "email".into(),
            ..BillingInfoForm::default()
        };
        billing_info::save(db.store.as_ref(), &f.admin, &f.second, &form, t(1, 0))
            .await
            .unwrap();
        let err = close_month(
            db.store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap_err();
        assert!(
            err.field_message("exchange_rate").unwrap().contains("SEK"),
            "{err}"
        );
        assert!(db
            .store
            .invoices_of_group(&f.primary)
            .await
            .unwrap()
            .is_empty());
        assert!(!db.store.month_closed(october()).await.unwrap());
    }
);

on_both_backends!(
    rule_8_invoice_states_change_by_an_admin_with_an_event,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        db.store
            .record_service_run("s1", t(3, 0), Some((t(4, 0), RunEnd::PoweredOff)))
            .await
            .unwrap();
        close_month(
            db.store.as_ref(),
            &Seller::demo(),
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        let invoice = october_invoice(&db.store, &f, &f.primary).await;
        let number = invoice.summary.invoice_number.clone();
        assert_eq!(
            invoice.summary.state,
            InvoiceState::Due,
            "no payment method on file yet"
        );
        let billing = user(&db.store, "billing@example.com").await;
        crate::common::join(db.store.as_ref(), &f.account_id, &billing, Role::Billing).await;
        let err = invoices::set_invoice_state(
            db.store.as_ref(),
            &billing,
            &f.primary,
            &number,
            "paid",
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }));
        let err = invoices::set_invoice_state(
            db.store.as_ref(),
            &f.admin,
            &f.primary,
            &number,
            "refunded",
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(err.field_message("state").is_some());
        // An invoice of another group answers "not found".
        let err = invoices::set_invoice_state(
            db.store.as_ref(),
            &f.admin,
            &f.second,
            &number,
            "paid",
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }));
        let paid = invoices::set_invoice_state(
            db.store.as_ref(),
            &f.admin,
            &f.primary,
            &number,
            "paid",
            after_october(),
        )
        .await
        .unwrap();
        assert_eq!(paid.state, InvoiceState::Paid);
        assert_eq!(
            paid.paid_date,
            Some(after_october().date_naive()),
            "the day it was marked paid"
        );
        let err = invoices::set_invoice_state(
            db.store.as_ref(),
            &f.admin,
            &f.primary,
            &number,
            "uncollectible",
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, AppError::Conflict { .. }),
            "a settled invoice stays settled"
        );
        let events = db.store.events_of_group(&f.primary, 10).await.unwrap();
        assert_eq!(events[0].event_type, "invoice_state_changed");
        assert!(events[0].details.as_deref().unwrap().contains("\"paid\""));
    }
);

on_both_backends!(
    two_admins_settling_one_invoice_at_once_settle_it_once,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        db.store
            .record_service_run("s1", t(3, 0), Some((t(4, 0), RunEnd::PoweredOff)))
            .await
            .unwrap();
        close_month(
            db.store.as_ref(),
            &Seller::demo(),
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        let number = october_invoice(&db.store, &f, &f.primary)
            .await
            .summary
            .invoice_number;
        let other = user(&db.store, "other-admin@example.com").await;
        crate::common::join(db.store.as_ref(), &f.account_id, &other, Role::Admin).await;
        // Several rounds of two admins at once: one marks it paid, the other
        // waived. The check "a settled invoice does not change" holds on the
        // row as the write locks it, so exactly one of them wins.
        let tasks: Vec<_> = [(&f.admin, "paid"), (&other, "waived")]
            .into_iter()
            .map(|(admin, state)| {
                let store = db.store.clone();
                let admin = admin.clone();
                let group = f.primary.clone();
                let number = number.clone();
                tokio::spawn(async move {
                    invoices::set_invoice_state(
                        store.as_ref(),
                        &admin,
                        &group,
                        &number,
                        state,
                        after_october(),
                    )
                    .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let won: Vec<_> = outcomes.iter().filter(|o| o.is_ok()).collect();
        assert_eq!(won.len(), 1, "{outcomes:?}");
        assert!(outcomes
            .iter()
            .any(|o| matches!(o, Err(AppError::Conflict { .. }))));
        let final_state = db.store.invoice(&number).await.unwrap().unwrap().state;
        assert_eq!(Some(final_state), won[0].as_ref().ok().map(|s| s.state));
        let changes = db
            .store
            .events_of_group(&f.primary, 20)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "invoice_state_changed")
            .count();
        assert_eq!(changes, 1, "one change, one event");
    }
);

on_both_backends!(rule_9_vat_domestic_reverse_charge_and_export, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "10").await;
    db.store
        .record_service_run("s1", t(3, 0), Some((t(3, 10), RunEnd::PoweredOff)))
        .await
        .unwrap();
    // 10 hours × 10 USD = 100 USD = 90 EUR.
    let cases = [
        ("FI", "FI12345671", "25.5", "112.95", false),
        ("DE", "DE123456789", "0", "90.00", true),
        ("DE", "", "25.5", "112.95", false),
        ("US", "", "0", "90.00", false),
    ];
    for (country, vat_id, rate, total, reverse) in cases {
        set_country(&db.store, &f, &f.primary, country, vat_id).await;
        let estimate = invoices::invoice_detail(
            db.store.as_ref(),
            &Seller::demo(),
            &f.admin,
            &f.primary,
            ESTIMATE,
            t(20, 0),
        )
        .await
        .unwrap();
        assert_eq!(estimate.vat_rate, d(rate), "{country} {vat_id}");
        assert_eq!(
            estimate.summary.total_inc_vat.amount,
            d(total),
            "{country} {vat_id}"
        );
        assert_eq!(
            estimate.vat_note.contains("Reverse charge"),
            reverse,
            "{country} {vat_id}"
        );
    }
    let err = billing_info::save(
        db.store.as_ref(),
        &f.admin,
        &f.primary,
        &BillingInfoForm {
            billing_currency: "EUR".into(),
            country_code: "DE".into(),
            vat_id: "DE12".into(),
            payment_method: "email".into(),
            billing_emails: "a@example.com".into(),
            ..BillingInfoForm::default()
        },
        t(1, 0),
    )
    .await
    .unwrap_err();
    assert!(
        err.field_message("vat_id").is_some(),
        "an invalid VAT ID is refused"
    );
});

on_both_backends!(
    deleted_groups_keep_their_invoices_and_foreign_invoices_are_not_found,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        db.store
            .record_service_run("s1", t(3, 0), Some((t(4, 0), RunEnd::PoweredOff)))
            .await
            .unwrap();
        groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(2, 0))
            .await
            .unwrap();
        groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.primary, t(10, 0))
            .await
            .unwrap();
        groups::delete_group(db.store.as_ref(), &f.admin, &f.second, t(11, 0))
            .await
            .unwrap();
        close_month(
            db.store.as_ref(),
            &Seller::demo(),
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        // The deleted group had October usage: it still gets its invoice.
        let invoice = october_invoice(&db.store, &f, &f.second).await;
        assert_eq!(invoice.billing_group_state, GroupState::Deleted);
        assert_eq!(invoice.total_usd.amount, d("24"));
        let stranger = user(&db.store, "stranger@example.com").await;
        let err = invoices::invoice_detail(
            db.store.as_ref(),
            &Seller::demo(),
            &stranger,
            &f.second,
            &invoice.summary.invoice_number,
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }));
    }
);

on_both_backends!(two_closes_at_once_issue_each_invoice_once, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "1").await;
    db.store
        .record_service_run("s1", t(3, 0), None)
        .await
        .unwrap();
    let store_a = db.store.clone();
    let store_b = db.store.clone();
    let seller = Seller::demo();
    let seller_b = seller.clone();
    let a = tokio::spawn(async move {
        close_month(
            store_a.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "a",
        )
        .await
    });
    let b = tokio::spawn(async move {
        close_month(
            store_b.as_ref(),
            &seller_b,
            crate::common::TEST_LINKS,
            october(),
            after_october(),
            "b",
        )
        .await
    });
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    // One holds the month's lease; the other either finds it held (and
    // does nothing) or comes after and finds nothing left to issue.
    assert_eq!(a.issued.len() + b.issued.len(), 2);
    assert!(!(a.another_instance_closing && b.another_instance_closing));
    assert_eq!(
        db.store.invoices_of_group(&f.primary).await.unwrap().len(),
        1
    );
    assert_eq!(
        db.store.invoices_of_group(&f.second).await.unwrap().len(),
        1
    );
});

on_both_backends!(powering_a_service_on_moves_the_estimate, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "2").await;
    let before = invoices::invoice_detail(
        db.store.as_ref(),
        &Seller::demo(),
        &f.admin,
        &f.primary,
        ESTIMATE,
        t(5, 0),
    )
    .await
    .unwrap();
    assert_eq!(before.total_usd.amount, Decimal::ZERO);
    services::power(db.store.as_ref(), &f.admin, "p1", "pg", true, t(5, 0))
        .await
        .unwrap();
    let err = services::power(db.store.as_ref(), &f.admin, "p1", "pg", true, t(5, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "already running");
    let after = invoices::invoice_detail(
        db.store.as_ref(),
        &Seller::demo(),
        &f.admin,
        &f.primary,
        ESTIMATE,
        t(5, 3),
    )
    .await
    .unwrap();
    assert_eq!(
        after.total_usd.amount,
        d("6"),
        "three started hours at 2 USD"
    );
    services::power(db.store.as_ref(), &f.admin, "p1", "pg", false, t(5, 3))
        .await
        .unwrap();
    let stopped = invoices::invoice_detail(
        db.store.as_ref(),
        &Seller::demo(),
        &f.admin,
        &f.primary,
        ESTIMATE,
        t(9, 0),
    )
    .await
    .unwrap();
    assert_eq!(
        stopped.total_usd.amount,
        d("6"),
        "powered off: no more charges"
    );
    let viewer = user(&db.store, "viewer@example.com").await;
    crate::common::join(db.store.as_ref(), &f.account_id, &viewer, Role::Viewer).await;
    let err = services::power(db.store.as_ref(), &viewer, "p1", "pg", true, t(9, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden { .. }));
});

on_both_backends!(only_one_instance_closes_a_month_at_a_time, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "1").await;
    db.store
        .record_service_run("s1", t(3, 0), None)
        .await
        .unwrap();
    let seller = Seller::demo();
    // Another instance is closing October: its lease runs for ten minutes.
    assert!(db
        .store
        .acquire_close_lease(
            october(),
            "other",
            after_october(),
            after_october() + chrono::Duration::minutes(10)
        )
        .await
        .unwrap());
    let skipped = close_month(
        db.store.as_ref(),
        &seller,
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "here",
    )
    .await
    .unwrap();
    assert!(skipped.another_instance_closing);
    assert!(skipped.issued.is_empty());
    assert!(db
        .store
        .invoices_of_group(&f.primary)
        .await
        .unwrap()
        .is_empty());
    assert!(!db.store.month_closed(october()).await.unwrap());
    // It crashed: once its lease has lapsed, this instance closes the month.
    let later = after_october() + chrono::Duration::minutes(11);
    let closed = close_month(
        db.store.as_ref(),
        &seller,
        crate::common::TEST_LINKS,
        october(),
        later,
        "here",
    )
    .await
    .unwrap();
    assert!(!closed.another_instance_closing);
    assert_eq!(closed.issued.len(), 2);
    assert!(db.store.month_closed(october()).await.unwrap());
    // The lease was given back: a later run is not blocked (and issues nothing).
    let again = close_month(
        db.store.as_ref(),
        &seller,
        crate::common::TEST_LINKS,
        october(),
        later,
        "there",
    )
    .await
    .unwrap();
    assert!(!again.another_instance_closing);
    assert!(again.issued.is_empty());
});

on_both_backends!(an_issued_invoice_keeps_the_seller_it_was_issued_by, |db| {
    let f = fixture(&db.store).await;
    service(&db.store, "s1", "p1", "pg", "0.5").await;
    db.store
        .record_service_run("s1", t(2, 0), None)
        .await
        .unwrap();
    set_country(&db.store, &f, &f.primary, "FI", "").await;
    close_month(
        db.store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "system",
    )
    .await
    .unwrap();
    // The seller moves bank and renames itself after the invoice went out.
    let later = Seller {
        name: "Renamed Seller Ltd".into(),
        iban: "DE89 3704 0044 0532 0130 00".into(),
        bic: "COBADEFFXXX".into(),
        ..Seller::demo()
    };
    let number = db.store.invoices_of_group(&f.primary).await.unwrap()[0]
        .invoice_number
        .clone();
    let shown = invoices::invoice_detail(
        db.store.as_ref(),
        &later,
        &f.admin,
        &f.primary,
        &number,
        after_october(),
    )
    .await
    .unwrap();
    assert_eq!(
        shown.seller.name,
        Seller::demo().name,
        "as on the issue date"
    );
    let payment = shown.payment.clone().expect("still to be paid");
    assert_eq!(payment.iban, Seller::demo().iban);
    assert_eq!(payment.bic, Seller::demo().bic);
    let xml = billing_console::server::billing::einvoice::cii_xml(&shown).unwrap();
    assert!(xml.contains(&Seller::demo().iban.replace(' ', "")));
    assert!(!xml.contains("Renamed"));
    // The estimate is the running month's: it names the seller as it is now.
    let estimate = invoices::invoice_detail(
        db.store.as_ref(),
        &later,
        &f.admin,
        &f.primary,
        ESTIMATE,
        after_october(),
    )
    .await
    .unwrap();
    assert_eq!(estimate.seller.name, "Renamed Seller Ltd");
});

on_both_backends!(
    an_accounts_invoice_list_holds_every_group_and_nothing_of_other_accounts,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        db.store
            .record_service_run("s1", t(3, 0), None)
            .await
            .unwrap();
        let stranger = user(&db.store, "stranger@example.com").await;
        let (other, _) = billing_console::server::billing::accounts::create_account(
            db.store.as_ref(),
            &stranger,
            "Other",
            "USD",
            t(1, 0),
        )
        .await
        .unwrap();
        let closed = close_october(&db.store).await;
        assert_eq!(closed.issued.len(), 3, "two Acme groups and Other's group");

        let list = invoices::invoices_of_account(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            after_october(),
        )
        .await
        .unwrap();
        assert_eq!(list.account_name, "Acme");
        let mut groups: Vec<(&str, Currency)> = list
            .invoices
            .iter()
            .map(|i| (i.billing_group_id.as_str(), i.summary.currency))
            .collect();
        groups.sort();
        let mut expected = vec![
            (f.primary.as_str(), Currency::EUR),
            (f.second.as_str(), Currency::USD),
        ];
        expected.sort();
        assert_eq!(groups, expected);
        assert!(list
            .invoices
            .iter()
            .any(|i| i.billing_group_name == "Second"));
        // The group's own list says the same of its invoice.
        let own = store_numbers(&db.store, &f.primary).await;
        assert!(list
            .invoices
            .iter()
            .any(|i| own.contains(&i.summary.invoice_number)));

        // Someone of another account reads nothing of this one, and this
        // list shows nothing of theirs.
        let err = invoices::invoices_of_account(
            db.store.as_ref(),
            &stranger,
            &f.account_id,
            after_october(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
        let theirs = invoices::invoices_of_account(
            db.store.as_ref(),
            &stranger,
            &other.account_id,
            after_october(),
        )
        .await
        .unwrap();
        assert_eq!(theirs.invoices.len(), 1);
        assert!(list
            .invoices
            .iter()
            .all(|i| i.summary.invoice_number != theirs.invoices[0].summary.invoice_number));
    }
);

async fn store_numbers(store: &DynStore, group: &GroupId) -> Vec<String> {
    store
        .invoices_of_group(group)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.invoice_number)
        .collect()
}

on_both_backends!(
    the_year_chart_shows_a_month_not_invoiced_yet_instead_of_skipping_it,
    |db| {
        let f = fixture(&db.store).await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        db.store
            .record_service_run("s1", t(3, 0), None)
            .await
            .unwrap();
        close_october(&db.store).await;
        // In December, November has ended but has not been closed.
        let december = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let page = group_page::overview(
            db.store.as_ref(),
            &Seller::demo(),
            &f.admin,
            &f.primary,
            december,
        )
        .await
        .unwrap();
        use billing_console::model::invoices::MonthBar;
        let months = &page.chart.months;
        assert_eq!(months.len(), 12, "{months:?}");
        assert_eq!(months[0].0, "2026-01");
        let october_total = db
            .store
            .invoices_of_group(&f.primary)
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.period_begin == october())
            .unwrap()
            .total_usd
            .0;
        assert_eq!(
            months[9],
            ("2026-10".to_string(), MonthBar::Invoiced(october_total))
        );
        assert!(october_total > Decimal::ZERO);
        assert_eq!(months[10], ("2026-11".to_string(), MonthBar::NotInvoiced));
        assert!(matches!(months[11], (ref m, MonthBar::Running(_)) if m == "2026-12"));
        assert_eq!(months[8], ("2026-09".to_string(), MonthBar::BeforeGroup));

        // The Invoices tab says so too; not once the month is invoiced,
        // and not for a group that did not exist last month.
        let notice = |group: GroupId, at: DateTime<Utc>| {
            let store = db.store.clone();
            let admin = f.admin.clone();
            async move {
                invoices::issuing_paused(store.as_ref(), &Seller::demo(), &admin, &group, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            notice(f.primary.clone(), december).await.as_deref(),
            Some("November 2026 has ended but is not invoiced yet: its invoice is issued when the month close runs. Until then it is not in this list.")
        );
        assert_eq!(notice(f.primary.clone(), after_october()).await, None);
        let young = groups::create_group(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            "Young",
            None,
            december,
        )
        .await
        .unwrap();
        assert_eq!(notice(young.billing_group_id, december).await, None);
    }
);

on_both_backends!(
    a_close_of_more_groups_than_one_transaction_takes_issues_each_invoice_once,
    |db| {
        // 2 + 598 groups: three batches, two of them in flight at once on
        // PostgreSQL, each its own transaction.
        let f = fixture(&db.store).await;
        let mut created = vec![f.primary.clone(), f.second.clone()];
        for n in 0..598 {
            let group = groups::create_group(
                db.store.as_ref(),
                &f.admin,
                &f.account_id,
                &format!("Team {n}"),
                None,
                t(1, 0),
            )
            .await
            .unwrap();
            created.push(group.billing_group_id);
        }
        // Usage in a group of the last batch too.
        let last = created.last().unwrap().clone();
        f.project(&db.store, "p-last", Some(last.as_str()), "", t(1, 0))
            .await;
        service(&db.store, "s1", "p1", "pg", "1").await;
        service(&db.store, "s2", "p-last", "pg", "2").await;
        for id in ["s1", "s2"] {
            db.store
                .record_service_run(id, t(3, 0), None)
                .await
                .unwrap();
        }
        let closed = close_october(&db.store).await;
        assert_eq!(closed.issued.len(), 600);
        let mut numbers = closed.issued.clone();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 600, "every number once");
        let all = db.store.invoices_of_account(&f.account_id).await.unwrap();
        assert_eq!(all.len(), 600);
        assert!(all.iter().all(|i| i.sequence_number == 1));
        let last_invoice = &db.store.invoices_of_group(&last).await.unwrap()[0];
        let lines = db
            .store
            .invoice_lines(&last_invoice.invoice_number)
            .await
            .unwrap();
        assert!(lines.iter().any(|l| l.service_name.as_deref() == Some("pg")
            && l.project_name.as_deref() == Some("p-last")));
        // Each invoice has its issued event.
        let events = db
            .store
            .events_of_group(&last, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "invoice_issued")
            .count();
        assert_eq!(events, 1);
        // A second close finds nothing left.
        let again = close_october(&db.store).await;
        assert!(again.issued.is_empty());
        assert_eq!(again.invoiced_earlier, 600);
    }
);

/// October closed by "test" just after it ended.
async fn close_october(
    store: &DynStore,
) -> billing_console::server::billing::month_close::CloseSummary {
    close_month(
        store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "test",
    )
    .await
    .unwrap()
}
