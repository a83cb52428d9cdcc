//! One test per rule of PRODUCT.md §2, named after it, run on both backends.
//! Rules whose features have not landed yet (5–10, 12) get theirs with them.

use crate::common::{t, user, EventsOfGroup};
use billing_console::error::AppError;
use billing_console::model::money::Currency;
use billing_console::model::Role;
use billing_console::server::billing::{accounts, groups, projects};

on_both_backends!(rule_1_accounts_are_the_entry_point, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let (account, group) =
        accounts::create_account(db.store.as_ref(), &ann, "  Acme  ", "EUR", t(1, 0))
            .await
            .unwrap();
    assert_eq!(account.account_name, "Acme", "names are trimmed");
    assert!(account.account_id.starts_with('a') && !account.account_id.starts_with("org"));
    assert_eq!(
        account.primary_billing_group_id, group.billing_group_id,
        "first group is primary"
    );
    assert_eq!(group.billing_currency, Currency::EUR);
    assert_eq!(
        db.store
            .member_role(&ann.user_id, &account.account_id)
            .await
            .unwrap(),
        Some(Role::Admin)
    );

    // Bad input: a clear field error and nothing created.
    let empty = accounts::create_account(db.store.as_ref(), &ann, "   ", "EUR", t(1, 0)).await;
    assert_eq!(
        empty.unwrap_err().field_message("account_name").as_deref(),
        Some("Account name cannot be empty.")
    );
    let currency = accounts::create_account(db.store.as_ref(), &ann, "Beta", "XYZ", t(1, 0)).await;
    assert!(currency
        .unwrap_err()
        .field_message("billing_currency")
        .is_some());
    assert_eq!(
        db.store.accounts_of_user(&ann.user_id).await.unwrap().len(),
        1
    );
});

on_both_backends!(
    rule_2_a_project_is_in_exactly_one_group_of_its_own_account,
    |db| {
        let ann = user(&db.store, "ann@example.com").await;
        let (acme, acme_group) =
            accounts::create_account(db.store.as_ref(), &ann, "Acme", "EUR", t(1, 0))
                .await
                .unwrap();
        let (_, beta_group) =
            accounts::create_account(db.store.as_ref(), &ann, "Beta", "EUR", t(1, 0))
                .await
                .unwrap();
        let created = projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "prod",
            Some(&acme_group.billing_group_id),
            "",
            t(2, 0),
        )
        .await
        .unwrap();
        assert_eq!(created.billing_group_id, acme_group.billing_group_id);
        let history = db.store.project_group_history("prod").await.unwrap();
        assert_eq!(history.len(), 1, "exactly one group");

        // A group of another account is refused with a clear error.
        let refused = projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "stray",
            Some(&beta_group.billing_group_id),
            "",
            t(2, 0),
        )
        .await;
        let error = refused.unwrap_err();
        assert!(
            error.field_message("billing_group_id").is_some(),
            "{error:?}"
        );
        assert!(db.store.project("stray").await.unwrap().is_none());
    }
);

on_both_backends!(
    rule_3_new_projects_go_to_the_primary_group_unless_named,
    |db| {
        let ann = user(&db.store, "ann@example.com").await;
        let (acme, primary) =
            accounts::create_account(db.store.as_ref(), &ann, "Acme", "EUR", t(1, 0))
                .await
                .unwrap();
        let other = groups::create_group(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "Other",
            None,
            t(1, 1),
        )
        .await
        .unwrap();
        let default = projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "by-default",
            None,
            "",
            t(2, 0),
        )
        .await
        .unwrap();
        assert_eq!(default.billing_group_id, primary.billing_group_id);
        let named = projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "named",
            Some(&other.billing_group_id),
            "",
            t(2, 0),
        )
        .await
        .unwrap();
        assert_eq!(named.billing_group_id, other.billing_group_id);
        // The primary group cannot be deleted (the schema's own guard).
        let deleted = db
            .raw(&format!(
                "UPDATE billing_groups SET group_state = 'deleted' WHERE billing_group_id = '{}'",
                primary.billing_group_id
            ))
            .await;
        assert!(deleted.is_err(), "primary group was deleted");
    }
);

on_both_backends!(rule_4_delete_only_when_empty, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let (acme, _) = accounts::create_account(db.store.as_ref(), &ann, "Acme", "EUR", t(1, 0))
        .await
        .unwrap();
    let group = groups::create_group(
        db.store.as_ref(),
        &ann,
        &acme.account_id,
        "Full",
        None,
        t(1, 1),
    )
    .await
    .unwrap();
    projects::create_project(
        db.store.as_ref(),
        &ann,
        &acme.account_id,
        "inside",
        Some(&group.billing_group_id),
        "",
        t(2, 0),
    )
    .await
    .unwrap();
    let refused = db
        .raw(&format!(
            "UPDATE billing_groups SET group_state = 'deleted' WHERE billing_group_id = '{}'",
            group.billing_group_id
        ))
        .await;
    let message = AppError::from(refused.unwrap_err()).to_string();
    assert!(message.contains("Projects tab"), "{message}");
});

on_both_backends!(
    rule_11_every_change_writes_its_event_and_events_are_never_edited,
    |db| {
        let ann = user(&db.store, "ann@example.com").await;
        let (acme, primary) =
            accounts::create_account(db.store.as_ref(), &ann, "Acme", "EUR", t(1, 0))
                .await
                .unwrap();
        projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "prod",
            None,
            "",
            t(2, 0),
        )
        .await
        .unwrap();
        let events = db
            .store
            .events_of_group(&primary.billing_group_id, 10)
            .await
            .unwrap();
        let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "project_added",
                "primary_billing_group_changed",
                "billing_group_created"
            ]
        );
        assert!(events.iter().all(|e| e.actor == "ann@example.com"));
        assert!(db
            .raw("UPDATE events SET actor = 'someone else'")
            .await
            .is_err());
        assert!(db.raw("DELETE FROM events").await.is_err());
    }
);

on_both_backends!(
    roles_gate_project_creation_and_foreign_accounts_are_not_found,
    |db| {
        let ann = user(&db.store, "ann@example.com").await;
        let vic = user(&db.store, "vic@example.com").await;
        let eve = user(&db.store, "eve@example.com").await;
        let (acme, _) = accounts::create_account(db.store.as_ref(), &ann, "Acme", "EUR", t(1, 0))
            .await
            .unwrap();
        crate::common::join(db.store.as_ref(), &acme.account_id, &vic, Role::Viewer).await;
        let viewer = projects::create_project(
            db.store.as_ref(),
            &vic,
            &acme.account_id,
            "by-viewer",
            None,
            "",
            t(2, 0),
        )
        .await;
        assert!(
            matches!(viewer, Err(AppError::Forbidden { .. })),
            "{viewer:?}"
        );
        let stranger = projects::create_project(
            db.store.as_ref(),
            &eve,
            &acme.account_id,
            "by-stranger",
            None,
            "",
            t(2, 0),
        )
        .await;
        assert!(
            matches!(stranger, Err(AppError::NotFound { .. })),
            "{stranger:?}"
        );
        // The project page of a foreign project is "not found", as for a missing one.
        projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "prod",
            None,
            "",
            t(2, 0),
        )
        .await
        .unwrap();
        let foreign = projects::project_page(db.store.as_ref(), &eve, "prod", t(2, 0))
            .await
            .unwrap_err();
        let missing = projects::project_page(db.store.as_ref(), &eve, "nope", t(2, 0))
            .await
            .unwrap_err();
        assert_eq!(foreign, missing);
        assert!(
            projects::project_page(db.store.as_ref(), &vic, "prod", t(2, 0))
                .await
                .is_ok()
        );
        // Bad project names get a field message and create nothing.
        let bad = projects::create_project(
            db.store.as_ref(),
            &ann,
            &acme.account_id,
            "Bad_Name",
            None,
            "",
            t(2, 0),
        )
        .await
        .unwrap_err();
        assert!(bad.field_message("project_name").is_some());
    }
);
