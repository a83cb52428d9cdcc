//! Billing-group rules over the store, on both backends: rename, delete,
//! primary group, moves and assignments, billing information, events, and
//! concurrent changes.

use std::sync::Arc;

use crate::common::{t, user, EventsOfGroup, Fixture};
use billing_console::error::AppError;
use billing_console::model::ids::GroupId;
use billing_console::model::money::Currency;
use billing_console::model::new_group::NewGroupDraft;
use billing_console::model::states::{GroupState, PaymentMethod};
use billing_console::model::{CurrentUser, Role};
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::{accounts, events, group_page, groups, new_group, projects};
use billing_console::server::store::{
    BillingGroupRecord, DynStore, EventFilter, NewBillingGroup, NewService, ProjectRecord, RunEnd,
};
use chrono::{Duration, TimeZone, Utc};

/// Service s1 ("pg", 0.5 USD an hour) in project p1, created Oct 1.
async fn pg_service_in_p1(store: &DynStore) {
    store
        .create_service(
            &NewService {
                service_id: "s1".into(),
                project_name: "p1".into(),
                service_name: "pg".into(),
                service_type: "pg".into(),
                plan: "b-4".into(),
                cloud_name: "c".into(),
                hourly_price_usd: "0.5".parse().unwrap(),
            },
            t(1, 2),
        )
        .await
        .unwrap();
}

/// An account with two groups and projects p1, p2 in the primary group.
async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "EUR", "Second", t(1, 1)).await;
    for name in ["p1", "p2"] {
        f.project(store, name, None, "", t(1, 2)).await;
    }
    f
}

async fn member(store: &DynStore, f: &Fixture, email: &str, role: Role) -> CurrentUser {
    let u = user(store, email).await;
    crate::common::join(store.as_ref(), &f.account_id, &u, role).await;
    u
}

async fn event_types(store: &DynStore, group: &GroupId) -> Vec<String> {
    store
        .events_of_group(group, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

on_both_backends!(rule_5_rename_at_any_time_records_old_and_new_name, |db| {
    let f = fixture(&db.store).await;
    let renamed = groups::rename_group(
        db.store.as_ref(),
        &f.admin,
        &f.second,
        "  Research  ",
        t(2, 0),
    )
    .await
    .unwrap();
    assert_eq!(renamed.billing_group_name, "Research");
    let event = &db.store.events_of_group(&f.second, 1).await.unwrap()[0];
    assert_eq!(event.event_type, "billing_group_renamed");
    let details: serde_json::Value =
        serde_json::from_str(event.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["before"]["billing_group_name"], "Second");
    assert_eq!(details["after"]["billing_group_name"], "Research");
    // Bad names: a field message, nothing changed, no event.
    for bad in ["   ", &"x".repeat(129)] {
        let err = groups::rename_group(db.store.as_ref(), &f.admin, &f.second, bad, t(2, 0))
            .await
            .unwrap_err();
        assert!(err.field_message("billing_group_name").is_some(), "{err:?}");
    }
    assert_eq!(
        db.store
            .billing_group(&f.second)
            .await
            .unwrap()
            .unwrap()
            .billing_group_name,
        "Research"
    );
    assert_eq!(event_types(&db.store, &f.second).await.len(), 2);
});

on_both_backends!(
    rule_4_delete_refused_with_projects_or_primary_then_accepted_when_empty,
    |db| {
        let f = fixture(&db.store).await;
        groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(2, 0))
            .await
            .unwrap();
        let refused = groups::delete_group(db.store.as_ref(), &f.admin, &f.second, t(3, 0))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("Projects tab"), "{refused}");
        let primary = groups::delete_group(db.store.as_ref(), &f.admin, &f.primary, t(3, 0))
            .await
            .unwrap_err();
        assert!(primary.to_string().contains("primary"), "{primary}");
        groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.primary, t(4, 0))
            .await
            .unwrap();
        groups::delete_group(db.store.as_ref(), &f.admin, &f.second, t(5, 0))
            .await
            .unwrap();
        // Gone from the lists, events still readable, further actions "not found".
        let listed = db.store.group_summaries(&f.account_id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            event_types(&db.store, &f.second).await[0],
            "billing_group_deleted"
        );
        let again = groups::rename_group(db.store.as_ref(), &f.admin, &f.second, "Back", t(6, 0))
            .await
            .unwrap_err();
        assert!(matches!(again, AppError::NotFound { .. }));
        // Its page and events stay readable, marked deleted, and it is listed as deleted.
        let page = group_page::header(db.store.as_ref(), &f.admin, &f.second, t(6, 0))
            .await
            .unwrap();
        assert!(!page.group.is_active());
        let log = events::events_page(db.store.as_ref(), &f.admin, &f.second, None, None, None)
            .await
            .unwrap();
        assert_eq!(log.events[0].event_type, "billing_group_deleted");
        let billing =
            groups::account_billing(db.store.as_ref(), &f.admin, &f.account_id, None, t(6, 0))
                .await
                .unwrap();
        assert_eq!(
            billing.deleted_groups,
            [(f.second.to_string(), "Second".to_string())]
        );
        let moved_in = groups::move_project(db.store.as_ref(), &f.admin, "p2", &f.second, t(7, 0))
            .await
            .unwrap_err();
        assert!(
            moved_in.field_message("billing_group_id").is_some(),
            "no project may enter a deleted group"
        );
    }
);

on_both_backends!(
    rule_3_primary_group_is_set_by_admins_and_new_projects_land_in_it,
    |db| {
        let f = fixture(&db.store).await;
        let billing = member(&db.store, &f, "bea@example.com", Role::Billing).await;
        let refused = groups::set_primary(
            db.store.as_ref(),
            &billing,
            &f.account_id,
            &f.second,
            t(2, 0),
        )
        .await
        .unwrap_err();
        assert!(matches!(refused, AppError::Forbidden { .. }));
        groups::set_primary(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            &f.second,
            t(2, 0),
        )
        .await
        .unwrap();
        assert_eq!(
            db.store
                .account(&f.account_id)
                .await
                .unwrap()
                .unwrap()
                .primary_billing_group_id,
            f.second
        );
        assert_eq!(
            event_types(&db.store, &f.second).await[0],
            "primary_billing_group_changed"
        );
        assert_eq!(
            event_types(&db.store, &f.primary).await[0],
            "primary_billing_group_changed"
        );
        let p = projects::create_project(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            "p3",
            None,
            "",
            t(3, 0),
        )
        .await
        .unwrap();
        assert_eq!(p.billing_group_id, f.second);
        // A group of another account is refused with a message.
        let other = user(&db.store, "other@example.com").await;
        let (_, foreign) =
            accounts::create_account(db.store.as_ref(), &other, "Other", "USD", t(1, 0))
                .await
                .unwrap();
        let err = groups::set_primary(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            &foreign.billing_group_id,
            t(3, 0),
        )
        .await
        .unwrap_err();
        assert!(err.field_message("billing_group_id").is_some());
    }
);

on_both_backends!(
    moving_a_project_twice_in_one_instant_keeps_one_row_per_start,
    |db| {
        // Created and moved at t(1, 2), moved back and again at t(10, 5):
        // each membership that lasted no time is replaced, not an error.
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        groups::move_project(store, &f.admin, "p1", &f.second, t(1, 2))
            .await
            .unwrap();
        groups::move_project(store, &f.admin, "p1", &f.primary, t(10, 5))
            .await
            .unwrap();
        groups::move_project(store, &f.admin, "p1", &f.second, t(10, 5))
            .await
            .unwrap();
        let history = db.store.project_group_history("p1").await.unwrap();
        let rows: Vec<_> = history
            .iter()
            .map(|h| (h.billing_group_id.as_str(), h.valid_from, h.valid_to))
            .collect();
        assert_eq!(
            rows,
            vec![
                (f.second.as_str(), t(1, 2), Some(t(10, 5))),
                (f.second.as_str(), t(10, 5), None),
            ]
        );
        // Both moves are in the logs all the same.
        let events = db.store.events_of_group(&f.primary, 10).await.unwrap();
        assert!(
            events
                .iter()
                .filter(|e| e.event_type.as_str() == "project_moved_in")
                .count()
                >= 1
        );
    }
);

on_both_backends!(
    moving_a_project_splits_its_history_and_logs_both_groups,
    |db| {
        let f = fixture(&db.store).await;
        let moved = groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(10, 5))
            .await
            .unwrap();
        assert_eq!(moved.billing_group_id, f.second);
        let history = db.store.project_group_history("p1").await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(
            (history[0].billing_group_id.as_str(), history[0].valid_to),
            (f.primary.as_str(), Some(t(10, 5)))
        );
        assert_eq!(
            (
                history[1].billing_group_id.as_str(),
                history[1].valid_from,
                history[1].valid_to
            ),
            (f.second.as_str(), t(10, 5), None)
        );
        let out = &db.store.events_of_group(&f.primary, 1).await.unwrap()[0];
        let into = &db.store.events_of_group(&f.second, 1).await.unwrap()[0];
        assert_eq!(
            (out.event_type.as_str(), out.project_name.as_deref()),
            ("project_moved_out", Some("p1"))
        );
        assert_eq!(
            (into.event_type.as_str(), into.project_name.as_deref()),
            ("project_moved_in", Some("p1"))
        );
        // Same group again, another account's group, a foreign project: refused, nothing written.
        let same = groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(11, 0))
            .await
            .unwrap_err();
        assert!(same.field_message("billing_group_id").is_some());
        let other = user(&db.store, "other@example.com").await;
        let (other_account, foreign) =
            accounts::create_account(db.store.as_ref(), &other, "Other", "USD", t(1, 0))
                .await
                .unwrap();
        let err = groups::move_project(
            db.store.as_ref(),
            &f.admin,
            "p1",
            &foreign.billing_group_id,
            t(11, 0),
        )
        .await
        .unwrap_err();
        assert!(err.field_message("billing_group_id").is_some());
        projects::create_project(
            db.store.as_ref(),
            &other,
            &other_account.account_id,
            "theirs",
            None,
            "",
            t(1, 2),
        )
        .await
        .unwrap();
        let err = groups::move_project(db.store.as_ref(), &f.admin, "theirs", &f.second, t(11, 0))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::NotFound { .. }),
            "a foreign project is not found: {err:?}"
        );
        assert_eq!(db.store.project_group_history("p1").await.unwrap().len(), 2);
    }
);

on_both_backends!(assigning_projects_checks_every_name_first, |db| {
    let f = fixture(&db.store).await;
    let names = vec!["p1".to_string(), "nope".to_string()];
    let err = groups::assign_projects(db.store.as_ref(), &f.admin, &f.second, &names, t(2, 0))
        .await
        .unwrap_err();
    assert!(err
        .field_message("projects_names")
        .unwrap()
        .contains("nope"));
    assert_eq!(
        db.store
            .project("p1")
            .await
            .unwrap()
            .unwrap()
            .billing_group_id,
        f.primary,
        "nothing moved"
    );
    // A repeated name is refused before anything moves (it used to move
    // the first copy and then fail).
    let names = vec!["p1".to_string(), "p2".to_string(), "p1".to_string()];
    let err = groups::assign_projects(db.store.as_ref(), &f.admin, &f.second, &names, t(2, 0))
        .await
        .unwrap_err();
    assert_eq!(err.status().as_u16(), 400, "{err:?}");
    assert!(err.field_message("projects_names").unwrap().contains("p1"));
    for project in ["p1", "p2"] {
        assert_eq!(
            db.store
                .project(project)
                .await
                .unwrap()
                .unwrap()
                .billing_group_id,
            f.primary,
            "{project} moved although the request was refused"
        );
    }
    assert!(!event_types(&db.store, &f.second)
        .await
        .contains(&"project_moved_in".to_string()));
    let names = vec!["p1".to_string(), "p2".to_string()];
    let moved = groups::assign_projects(db.store.as_ref(), &f.admin, &f.second, &names, t(2, 0))
        .await
        .unwrap();
    assert_eq!(moved.len(), 2);
    let viewer = member(&db.store, &f, "vic@example.com", Role::Viewer).await;
    let err = groups::assign_projects(db.store.as_ref(), &viewer, &f.primary, &names, t(3, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden { .. }));
});

on_both_backends!(
    creating_a_group_can_copy_billing_information_but_not_the_card,
    |db| {
        let f = fixture(&db.store).await;
        let form = BillingInfoForm {
            payment_method: "card".into(),
            card_number: "4242 4242 4242 4242".into(),
            card_expiry: "12/39".into(),
            card_name: "Ann".into(),
            company: "Acme Oy".into(),
            address: "Street 1\nFloor 2".into(),
            city: "Helsinki".into(),
            country_code: "FI".into(),
            vat_id: "FI12345678".into(),
            billing_emails: "ap@acme.example, cfo@acme.example".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        };
        billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &form, t(2, 0))
            .await
            .unwrap();
        let copy = groups::create_group(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            "Copy",
            Some(&f.primary),
            t(3, 0),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                copy.company.as_str(),
                copy.vat_id.as_str(),
                copy.billing_currency.code()
            ),
            ("Acme Oy", "FI12345678", "EUR")
        );
        assert_eq!(
            copy.payment_method,
            PaymentMethod::Email,
            "a card stays with its group"
        );
        assert_eq!(copy.card_last4, None);
        let err = groups::create_group(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            "",
            None,
            t(3, 0),
        )
        .await
        .unwrap_err();
        assert!(err.field_message("billing_group_name").is_some());
    }
);

on_both_backends!(
    rule_12_only_brand_last_four_and_expiry_of_a_card_are_stored,
    |db| {
        let f = fixture(&db.store).await;
        let form = BillingInfoForm {
            payment_method: "card".into(),
            card_number: "5555 5555 5555 4444".into(),
            card_expiry: "08/40".into(),
            card_name: "Ann Smith".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        };
        let saved = billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &form, t(2, 0))
            .await
            .unwrap();
        assert_eq!(
            (
                saved.card_brand.as_deref(),
                saved.card_last4.as_deref(),
                saved.card_exp_month,
                saved.card_exp_year
            ),
            (Some("Mastercard"), Some("4444"), Some(8), Some(2040))
        );
        let row = format!("{saved:?}");
        assert!(
            !row.contains("5555555555554444") && !row.contains("5555 5555"),
            "card number stored: {row}"
        );
        let event = &db.store.events_of_group(&f.primary, 1).await.unwrap()[0];
        assert_eq!(event.event_type, "billing_info_changed");
        let details = event.details.clone().unwrap();
        assert!(
            !details.contains("5555555555554444"),
            "card number in the event log"
        );
        assert!(details.contains("\"card_last4\":\"4444\""), "{details}");
        // A bad card changes nothing and writes no event.
        let before = event_types(&db.store, &f.primary).await.len();
        let bad = BillingInfoForm {
            card_number: "5555 5555 5555 4445".into(),
            card_expiry: "01/20".into(),
            ..form.clone()
        };
        let err = billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &bad, t(3, 0))
            .await
            .unwrap_err();
        assert!(
            err.field_message("card_number").is_some()
                && err.field_message("card_expiry").is_some()
        );
        assert_eq!(event_types(&db.store, &f.primary).await.len(), before);
        assert_eq!(
            db.store
                .billing_group(&f.primary)
                .await
                .unwrap()
                .unwrap()
                .card_last4
                .as_deref(),
            Some("4444")
        );
    }
);

on_both_backends!(
    billing_information_reports_every_bad_field_and_saves_nothing,
    |db| {
        let f = fixture(&db.store).await;
        let form = BillingInfoForm {
            payment_method: "email".into(),
            billing_emails: "ok@example.com, not-an-email".into(),
            country_code: "XX".into(),
            vat_id: "DE123".into(),
            billing_currency: "BTC".into(),
            zip_code: "1".repeat(33),
            ..Default::default()
        };
        let err = billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &form, t(2, 0))
            .await
            .unwrap_err();
        for field in [
            "billing_emails",
            "country_code",
            "vat_id",
            "billing_currency",
            "zip_code",
        ] {
            assert!(
                err.field_message(field).is_some(),
                "no message for {field}: {err:?}"
            );
        }
        let group = db.store.billing_group(&f.primary).await.unwrap().unwrap();
        assert_eq!(
            (group.payment_method.as_str(), group.billing_emails.len()),
            ("no_payment_expected", 0)
        );
        // Pay by invoice needs an email; a good save records before and after.
        let no_email = BillingInfoForm {
            payment_method: "email".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        };
        let err = billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &no_email, t(2, 0))
            .await
            .unwrap_err();
        assert!(err.field_message("billing_emails").is_some());
        let good = BillingInfoForm {
            payment_method: "email".into(),
            billing_emails: "AP@Example.com".into(),
            country_code: "de".into(),
            vat_id: "de 123456789".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        };
        let saved = billing_info::save(db.store.as_ref(), &f.admin, &f.primary, &good, t(3, 0))
            .await
            .unwrap();
        assert_eq!(
            (
                saved.billing_emails.0.clone(),
                saved.vat_id.as_str(),
                saved.country_code.as_str()
            ),
            (vec!["ap@example.com".to_string()], "DE123456789", "DE")
        );
        let details: serde_json::Value = serde_json::from_str(
            &db.store.events_of_group(&f.primary, 1).await.unwrap()[0]
                .details
                .clone()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(details["before"]["payment_method"], "no_payment_expected");
        assert_eq!(details["after"]["payment_method"], "email");
        assert_eq!(details["after"]["country_code"], "DE");
        assert!(
            details["after"].get("billing_currency").is_none(),
            "unchanged fields are left out"
        );
    }
);

on_both_backends!(events_page_by_keyset_and_filter_and_export_as_csv, |db| {
    let f = fixture(&db.store).await;
    for i in 0..60u32 {
        let to = if i % 2 == 0 { &f.second } else { &f.primary };
        groups::move_project(
            db.store.as_ref(),
            &f.admin,
            "p1",
            to,
            t(2, 0) + Duration::minutes(i as i64),
        )
        .await
        .unwrap();
    }
    let first = events::events_page(db.store.as_ref(), &f.admin, &f.primary, None, None, None)
        .await
        .unwrap();
    assert_eq!(first.events.len() as i64, events::PAGE_SIZE);
    assert!(
        first
            .events
            .windows(2)
            .all(|w| w[0].log_entry_id > w[1].log_entry_id),
        "newest first"
    );
    let second = events::events_page(
        db.store.as_ref(),
        &f.admin,
        &f.primary,
        first.next_before,
        None,
        None,
    )
    .await
    .unwrap();
    assert!(second.next_before.is_none());
    let total = first.events.len() + second.events.len();
    assert_eq!(
        total,
        db.store
            .events(
                &f.primary,
                &EventFilter {
                    limit: 1000,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len()
    );
    let moved_out = events::events_page(
        db.store.as_ref(),
        &f.admin,
        &f.primary,
        None,
        Some("project_moved_out"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(moved_out.events.len(), 30);
    assert!(first.event_types.contains(&"project_moved_in".to_string()));
    let p2 = events::events_page(
        db.store.as_ref(),
        &f.admin,
        &f.primary,
        None,
        None,
        Some("p2"),
    )
    .await
    .unwrap();
    assert_eq!(p2.events.len(), 1, "only p2's creation");
    let stream = events::events_csv(db.store.clone(), &f.admin, &f.primary, None, None)
        .await
        .unwrap();
    let csv: String = futures::StreamExt::collect::<Vec<_>>(stream)
        .await
        .into_iter()
        .map(|chunk| chunk.unwrap())
        .collect();
    assert_eq!(
        csv.lines().count(),
        total + 1,
        "header plus one row per event"
    );
    let stranger = user(&db.store, "eve@example.com").await;
    let err = events::events_page(db.store.as_ref(), &stranger, &f.primary, None, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }));
});

on_both_backends!(accumulated_costs_follow_the_project_across_a_move, |db| {
    let f = fixture(&db.store).await;
    let now = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    pg_service_in_p1(&db.store).await;
    // Runs from Oct 5 00:00 to Oct 15 00:00 (240 hours), powered off.
    db.store
        .record_service_run("s1", t(5, 0), Some((t(15, 0), RunEnd::PoweredOff)))
        .await
        .unwrap();
    groups::move_project(db.store.as_ref(), &f.admin, "p1", &f.second, t(10, 0))
        .await
        .unwrap();
    db.store
        .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), "0.9".parse().unwrap())
        .await
        .unwrap();
    let billing =
        groups::account_billing(db.store.as_ref(), &f.admin, &f.account_id, Some("eur"), now)
            .await
            .unwrap();
    // The account's month to date, in the currency asked for: both sides
    // of the move, each hour at 0.5 USD and EUR at 0.9.
    assert_eq!(billing.total.usd.amount, "120".parse().unwrap());
    assert_eq!(billing.total_currency, Currency::EUR);
    assert_eq!(billing.total.local.unwrap().amount, "108".parse().unwrap());
    let cost = |id: &str| {
        billing
            .groups
            .iter()
            .find(|g| g.billing_group_id == id)
            .unwrap()
            .costs
            .clone()
    };
    // 120 hours each side of the move at 0.5 USD.
    assert_eq!(cost(&f.primary).usd.amount, "60".parse().unwrap());
    assert_eq!(cost(&f.second).usd.amount, "60".parse().unwrap());
    assert_eq!(
        cost(&f.primary).local.unwrap().amount,
        "54".parse().unwrap(),
        "EUR at 0.9"
    );
    assert_eq!(
        cost(&f.second).local.unwrap().amount,
        "60".parse().unwrap(),
        "USD is 1 USD, whatever the rates table says"
    );
    let page = group_page::projects_tab(db.store.as_ref(), &f.admin, &f.second, now)
        .await
        .unwrap();
    assert_eq!(
        page.projects
            .iter()
            .find(|p| p.project_name == "p1")
            .unwrap()
            .cost_usd
            .amount,
        "60".parse::<rust_decimal::Decimal>().unwrap()
    );
});

on_both_backends!(
    concurrent_moves_assignments_and_deletes_keep_one_group_per_project,
    |db| {
        let f = fixture(&db.store).await;
        let third = groups::create_group(
            db.store.as_ref(),
            &f.admin,
            &f.account_id,
            "Third",
            None,
            t(1, 3),
        )
        .await
        .unwrap()
        .billing_group_id;
        let store: DynStore = db.store.clone();
        let admin = Arc::new(f.admin.clone());
        let mut tasks = Vec::new();
        for i in 0..24i64 {
            let (store, admin) = (store.clone(), admin.clone());
            let targets = [f.primary.clone(), f.second.clone(), third.clone()];
            tasks.push(tokio::spawn(async move {
                // Real time, as in production: the history must stay ordered.
                let at = Utc::now();
                let target = &targets[(i % 3) as usize];
                match i % 4 {
                    0 => groups::delete_group(store.as_ref(), &admin, &targets[2], at)
                        .await
                        .map(|_| ()),
                    1 => groups::assign_projects(
                        store.as_ref(),
                        &admin,
                        target,
                        &["p1".into(), "p2".into()],
                        at,
                    )
                    .await
                    .map(|_| ()),
                    _ => groups::move_project(
                        store.as_ref(),
                        &admin,
                        if i % 2 == 0 { "p1" } else { "p2" },
                        target,
                        at,
                    )
                    .await
                    .map(|_| ()),
                }
            }));
        }
        for task in tasks {
            // Individual operations may be refused (deleted group, already
            // there, group has projects); none may panic or corrupt.
            let _ = task.await.unwrap();
        }
        for project in ["p1", "p2"] {
            let history = db.store.project_group_history(project).await.unwrap();
            let open: Vec<_> = history.iter().filter(|h| h.valid_to.is_none()).collect();
            assert_eq!(open.len(), 1, "{project} must be in exactly one group");
            let current = db.store.project(project).await.unwrap().unwrap();
            assert_eq!(open[0].billing_group_id, current.billing_group_id);
            let group = db
                .store
                .billing_group(&current.billing_group_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                group.group_state,
                GroupState::Active,
                "{project} sits in a deleted group"
            );
            assert!(
                history
                    .windows(2)
                    .all(|w| w[0].valid_to == Some(w[1].valid_from)),
                "history has gaps or overlaps"
            );
        }
        let third_group = db.store.billing_group(&third).await.unwrap().unwrap();
        if third_group.group_state == GroupState::Deleted {
            let summaries = db.store.group_summaries(&f.account_id).await.unwrap();
            assert!(summaries.iter().all(|s| s.group.billing_group_id != third));
        }
    }
);

on_both_backends!(
    renaming_and_deleting_a_group_at_once_never_renames_a_deleted_group,
    |db| {
        let f = fixture(&db.store).await;
        let store: DynStore = db.store.clone();
        for round in 0..8 {
            let group = groups::create_group(
                store.as_ref(),
                &f.admin,
                &f.account_id,
                &format!("Doomed {round}"),
                None,
                t(1, 4),
            )
            .await
            .unwrap()
            .billing_group_id;
            let (renamed, deleted) = tokio::join!(
                {
                    let (store, admin, group) = (store.clone(), f.admin.clone(), group.clone());
                    tokio::spawn(async move {
                        groups::rename_group(store.as_ref(), &admin, &group, "Renamed", Utc::now())
                            .await
                    })
                },
                {
                    let (store, admin, group) = (store.clone(), f.admin.clone(), group.clone());
                    tokio::spawn(async move {
                        groups::delete_group(store.as_ref(), &admin, &group, Utc::now()).await
                    })
                }
            );
            let (renamed, deleted) = (renamed.unwrap(), deleted.unwrap());
            assert!(deleted.is_ok(), "an empty group can always be deleted");
            let events = event_types(&store, &group).await;
            let deleted_at = events
                .iter()
                .position(|e| e == "billing_group_deleted")
                .expect("deletion event");
            match renamed {
                // Renamed first: the rename event is older than the deletion.
                Ok(_) => {
                    let renamed_at = events
                        .iter()
                        .position(|e| e == "billing_group_renamed")
                        .expect("rename event");
                    // Newest first: the rename comes after the deletion in the list.
                    assert!(
                        renamed_at > deleted_at,
                        "renamed after deletion: {events:?}"
                    );
                }
                // Deleted first: the rename is refused and leaves no trace.
                Err(err) => {
                    assert_eq!(err.status().as_u16(), 404, "{err:?}");
                    assert!(!events.contains(&"billing_group_renamed".to_string()));
                    let stored = store.billing_group(&group).await.unwrap().unwrap();
                    assert_eq!(stored.billing_group_name, format!("Doomed {round}"));
                }
            }
        }
    }
);

on_both_backends!(
    the_guided_create_writes_the_group_its_details_and_projects_at_once,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let draft = NewGroupDraft {
            billing_group_name: "Research".into(),
            payment_method: "email".into(),
            company: "Acme Oy".into(),
            address: "Street 1".into(),
            city: "Helsinki".into(),
            country_code: "FI".into(),
            billing_emails: "ap@acme.example".into(),
            billing_currency: "EUR".into(),
            projects: vec!["p1".into(), "p2".into()],
            ..NewGroupDraft::default()
        };
        // Bad input: a message on its field, and nothing written.
        let bad = [
            (
                "billing_group_name",
                NewGroupDraft {
                    billing_group_name: " ".into(),
                    ..draft.clone()
                },
            ),
            (
                "billing_emails",
                NewGroupDraft {
                    billing_emails: "not an email".into(),
                    ..draft.clone()
                },
            ),
            (
                "projects",
                NewGroupDraft {
                    projects: vec!["p1".into(), "elsewhere".into()],
                    ..draft.clone()
                },
            ),
            (
                "copy_from",
                NewGroupDraft {
                    copy_from: "no-such-group".into(),
                    ..draft.clone()
                },
            ),
            (
                "payment_method",
                NewGroupDraft {
                    payment_method: "card".into(),
                    ..draft.clone()
                },
            ),
        ];
        for (field, bad) in &bad {
            let err =
                new_group::create_group_from_draft(store, &f.admin, &f.account_id, bad, t(2, 0))
                    .await
                    .unwrap_err();
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        assert_eq!(
            store
                .billing_groups_of_account(&f.account_id)
                .await
                .unwrap()
                .len(),
            2,
            "a refused create wrote a group"
        );
        // The page shows the first step whose answers need fixing.
        let wrong_email = NewGroupDraft {
            billing_emails: "x".into(),
            ..draft.clone()
        };
        let page =
            new_group::new_group_page(store, &f.admin, &f.account_id, &wrong_email, 4, t(2, 0))
                .await
                .unwrap();
        assert_eq!(page.step, 2);
        assert!(page
            .error
            .unwrap()
            .field_message("billing_emails")
            .is_some());
        let page = new_group::new_group_page(store, &f.admin, &f.account_id, &draft, 4, t(2, 0))
            .await
            .unwrap();
        assert_eq!((page.step, page.error), (4, None));
        assert_eq!(page.projects.len(), 2);

        let group =
            new_group::create_group_from_draft(store, &f.admin, &f.account_id, &draft, t(2, 0))
                .await
                .unwrap();
        assert_eq!(group.company, "Acme Oy");
        assert_eq!(group.billing_currency, Currency::EUR);
        assert_eq!(group.payment_method, PaymentMethod::Email);
        for project in ["p1", "p2"] {
            let moved = store.project(project).await.unwrap().unwrap();
            assert_eq!(moved.billing_group_id, group.billing_group_id);
        }
        let types = event_types(&db.store, &group.billing_group_id).await;
        for kind in [
            "billing_group_created",
            "billing_info_changed",
            "project_moved_in",
        ] {
            assert!(types.contains(&kind.to_string()), "{kind} in {types:?}");
        }
        assert!(event_types(&db.store, &f.primary)
            .await
            .contains(&"project_moved_out".to_string()));
        let viewer = member(&db.store, &f, "vic@example.com", Role::Viewer).await;
        let err =
            new_group::create_group_from_draft(store, &viewer, &f.account_id, &draft, t(3, 0))
                .await
                .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }));
    }
);

on_both_backends!(a_group_created_with_its_projects_is_all_or_nothing, |db| {
    let f = fixture(&db.store).await;
    let new = NewBillingGroup {
        billing_group_id: "g-new".into(),
        account_id: f.account_id.clone(),
        billing_group_name: "New".into(),
        billing_currency: Currency::USD,
    };
    let event = groups::created_event(&new, "admin@example.com", t(2, 0));
    // The second project's move is refused inside the transaction.
    let refuse_p2 = |p: &ProjectRecord, _: &BillingGroupRecord, _: &BillingGroupRecord| {
        if p.project_name == "p2" {
            Err(AppError::invalid("projects", "refused"))
        } else {
            Ok(Vec::new())
        }
    };
    let names = vec!["p1".to_string(), "p2".to_string()];
    db.store
        .create_billing_group_with(&new, &event, None, &names, &refuse_p2, t(2, 0))
        .await
        .unwrap_err();
    assert!(db
        .store
        .billing_group(&GroupId::from("g-new"))
        .await
        .unwrap()
        .is_none());
    assert!(event_types(&db.store, &GroupId::from("g-new"))
        .await
        .is_empty());
    let p1 = db.store.project("p1").await.unwrap().unwrap();
    assert_eq!(p1.billing_group_id, f.primary, "p1's move was rolled back");
});

on_both_backends!(
    rule_7_accumulated_costs_grow_with_each_started_hour_while_the_month_is_cached,
    |db| {
        let f = fixture(&db.store).await;
        pg_service_in_p1(&db.store).await;
        // Started at 00:20 on Oct 5: its hours start at twenty past.
        let start = t(5, 0) + chrono::Duration::minutes(20);
        db.store
            .record_service_run("s1", start, None)
            .await
            .unwrap();
        let usd = |group: String, at: chrono::DateTime<Utc>| {
            let store = db.store.clone();
            let admin = f.admin.clone();
            async move {
                group_page::header(store.as_ref(), &admin, &GroupId::from(&group), at)
                    .await
                    .unwrap()
                    .costs
                    .usd
                    .amount
            }
        };
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        // 24 hours started by Oct 6 00:00; the figures are now cached.
        assert_eq!(usd(f.primary.to_string(), t(6, 0)).await, d("12"));
        assert_eq!(
            usd(
                f.primary.to_string(),
                t(6, 0) + chrono::Duration::minutes(20)
            )
            .await,
            d("12")
        );
        // The 25th hour starts at 00:20: the cached month no longer holds.
        assert_eq!(
            usd(
                f.primary.to_string(),
                t(6, 0) + chrono::Duration::minutes(21)
            )
            .await,
            d("12.5")
        );
        assert_eq!(
            usd(
                f.primary.to_string(),
                t(6, 0) + chrono::Duration::minutes(22)
            )
            .await,
            d("12.5")
        );
        // A move changes the usage: both groups' figures follow at once.
        groups::move_project(
            db.store.as_ref(),
            &f.admin,
            "p1",
            &f.second,
            t(6, 0) + chrono::Duration::minutes(25),
        )
        .await
        .unwrap();
        assert_eq!(
            usd(
                f.primary.to_string(),
                t(6, 0) + chrono::Duration::minutes(26)
            )
            .await,
            d("12.5")
        );
        assert_eq!(
            usd(
                f.second.to_string(),
                t(6, 0) + chrono::Duration::minutes(26)
            )
            .await,
            d("0")
        );
        assert_eq!(
            usd(
                f.second.to_string(),
                t(6, 1) + chrono::Duration::minutes(21)
            )
            .await,
            d("0.5")
        );
        // A new day is a new bar in the chart, even before an hour starts in it.
        let chart_days = |at: chrono::DateTime<Utc>| {
            let store = db.store.clone();
            let admin = f.admin.clone();
            let group = f.second.clone();
            async move {
                group_page::overview(store.as_ref(), &Default::default(), &admin, &group, at)
                    .await
                    .unwrap()
                    .chart
                    .days
                    .len()
            }
        };
        assert_eq!(
            chart_days(t(6, 23) + chrono::Duration::minutes(30)).await,
            6
        );
        assert_eq!(chart_days(t(7, 0) + chrono::Duration::minutes(10)).await, 7);
        // Time running backwards (a test clock set back) is not served
        // figures computed for a later moment.
        assert_eq!(usd(f.primary.to_string(), t(6, 0)).await, d("12"));
    }
);

on_both_backends!(
    the_guided_flow_keeps_its_answers_server_side_for_their_owner_for_a_day,
    |db| {
        let f = Fixture::acme(&db.store, "EUR", "Card", t(1, 0)).await;
        let store = db.store.as_ref();
        let draft = NewGroupDraft {
            billing_group_name: "Research".into(),
            company: "Acme Oy".into(),
            vat_id: "FI12345671".into(),
            billing_emails: "ap@acme.example".into(),
            ..NewGroupDraft::default()
        };
        let id = new_group::save_draft(store, &f.admin, &f.account_id, &draft, t(2, 0))
            .await
            .unwrap();
        assert!(
            id.len() >= 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        let page = new_group::draft_page(store, &f.admin, &f.account_id, &id, 2, t(2, 1))
            .await
            .unwrap();
        assert_eq!(
            (page.step, page.draft.clone(), page.draft_id.clone()),
            (2, draft.clone(), id.clone())
        );

        // Someone else, another account, or a day later: a new flow, saying so.
        let other = member(&db.store, &f, "bea@example.com", Role::Billing).await;
        let later = t(2, 0) + new_group::DRAFT_LIFETIME;
        for (who, at) in [(&other, t(2, 1)), (&f.admin, later)] {
            let page = new_group::draft_page(store, who, &f.account_id, &id, 2, at)
                .await
                .unwrap();
            assert_eq!(page.step, 1);
            assert_eq!(page.draft, NewGroupDraft::default());
            assert!(page.draft_id.is_empty());
            assert!(page.error.unwrap().to_string().contains("no longer kept"));
        }
        // A viewer keeps nothing; expired drafts are swept.
        let viewer = member(&db.store, &f, "vic@example.com", Role::Viewer).await;
        assert!(matches!(
            new_group::save_draft(store, &viewer, &f.account_id, &draft, t(2, 0)).await,
            Err(AppError::Forbidden { .. })
        ));
        assert_eq!(store.delete_expired_group_drafts(t(2, 1)).await.unwrap(), 0);
        assert_eq!(store.delete_expired_group_drafts(later).await.unwrap(), 1);
        assert!(store.group_draft(&id).await.unwrap().is_none());
    }
);
