//! Every `Store` method, run on SQLite always and on PostgreSQL when
//! TEST_DATABASE_URL is set, each test on a fresh database of its own.

use crate::common::{t, user, EventsOfGroup};
use billing_console::error::AppError;
use billing_console::model::ids::{AccountId, GroupId, UserId};
use billing_console::model::money::Currency;
use billing_console::model::states::{
    AccountEventType, EventType, GroupState, InvoiceState, LineType, PaymentMethod, ServiceState,
};
use billing_console::model::Role;
use billing_console::server::store::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// An event as the rules hand one over (their wording is tested with the
/// rules; here, that the store writes what it is given, with its change).
fn event(group: &str, account: &str, event_type: EventType, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        billing_group_id: group.into(),
        account_id: account.into(),
        actor: "tester@example.com".into(),
        event_type,
        event_desc: format!("{event_type} in {group}"),
        project_name: None,
        details: None,
        create_time: at,
    }
}

fn new_group(id: &str, account_id: &str, name: &str, currency: Currency) -> NewBillingGroup {
    NewBillingGroup {
        billing_group_id: id.into(),
        account_id: account_id.into(),
        billing_group_name: name.into(),
        billing_currency: currency,
    }
}

async fn create_group(
    store: &DynStore,
    new: &NewBillingGroup,
    at: DateTime<Utc>,
) -> StoreResult<BillingGroupRecord> {
    let created = event(
        &new.billing_group_id,
        &new.account_id,
        EventType::BillingGroupCreated,
        at,
    );
    store.create_billing_group(new, &created, at).await
}

async fn create_account(
    store: &DynStore,
    id: &str,
    name: &str,
    group_id: &str,
) -> StoreResult<(AccountRecord, BillingGroupRecord)> {
    // Every account starts with an admin (the schema keeps one).
    let admin = user(
        store,
        &format!("admin-{}@example.com", uuid::Uuid::new_v4()),
    )
    .await;
    let new = NewAccount {
        account_id: id.into(),
        account_name: name.into(),
        first_group: new_group(group_id, id, &format!("{name} billing"), Currency::EUR),
        admin_user_id: admin.user_id.clone(),
    };
    let events = [
        event(group_id, id, EventType::BillingGroupCreated, t(1, 0)),
        event(group_id, id, EventType::PrimaryBillingGroupChanged, t(1, 0)),
    ];
    let created = NewAccountEvent {
        account_id: id.into(),
        actor: admin.email.clone(),
        event_type: AccountEventType::AccountCreated,
        event_desc: format!("Account '{name}' created"),
        details: None,
        create_time: t(1, 0),
        notices: Vec::new(),
    };
    store.create_account(&new, &events, &created, t(1, 0)).await
}

async fn account(store: &DynStore, id: &str, name: &str) -> (AccountRecord, BillingGroupRecord) {
    create_account(store, id, name, &format!("{id}-g1"))
        .await
        .expect("create account")
}

async fn create_project(
    store: &DynStore,
    new: &NewProject,
    at: DateTime<Utc>,
) -> StoreResult<ProjectRecord> {
    let added = NewEvent {
        project_name: Some(new.project_name.clone()),
        ..event(
            &new.billing_group_id,
            &new.account_id,
            EventType::ProjectAdded,
            at,
        )
    };
    store.create_project(new, &added, at).await
}

async fn project(store: &DynStore, name: &str, account_id: &str, group_id: &str) -> ProjectRecord {
    create_project(
        store,
        &NewProject {
            project_name: name.into(),
            account_id: account_id.into(),
            billing_group_id: group_id.into(),
            default_cloud: "google-europe-north1".into(),
        },
        t(2, 0),
    )
    .await
    .expect("create project")
}

/// Moves with both events, as the rules word them elsewhere.
async fn move_project(
    store: &DynStore,
    project_name: &str,
    to: &str,
    at: DateTime<Utc>,
) -> StoreResult<Vec<ProjectRecord>> {
    let change = |p: &ProjectRecord, from: &BillingGroupRecord, to: &BillingGroupRecord| {
        Ok(vec![
            NewEvent {
                project_name: Some(p.project_name.clone()),
                ..event(
                    &from.billing_group_id,
                    &p.account_id,
                    EventType::ProjectMovedOut,
                    at,
                )
            },
            NewEvent {
                project_name: Some(p.project_name.clone()),
                ..event(
                    &to.billing_group_id,
                    &p.account_id,
                    EventType::ProjectMovedIn,
                    at,
                )
            },
        ])
    };
    store
        .move_projects(&[project_name.to_string()], &GroupId::from(to), at, &change)
        .await
}

fn new_service(id: &str, project: &str, name: &str, price: &str) -> NewService {
    NewService {
        service_id: id.into(),
        project_name: project.into(),
        service_name: name.into(),
        service_type: "pg".into(),
        plan: "business-4".into(),
        cloud_name: "google-europe-north1".into(),
        hourly_price_usd: dec(price),
    }
}

/// Numbers invoices `<group>-<n>` and words their events plainly.
struct TestIssuing;

impl InvoiceIssuing for TestIssuing {
    fn invoice_number(&self, billing_group_id: &GroupId, sequence: i64) -> String {
        format!("{billing_group_id}-{sequence:04}")
    }
    /// Every issued invoice is mailed here (whatever its payment method).
    fn invoice_messages(&self, invoice: &NewInvoice, number: &str) -> Vec<NewMessage> {
        vec![NewMessage {
            message_id: format!("mail-{number}"),
            kind: billing_console::model::states::MessageKind::Invoice,
            account_id: invoice.account_id.clone(),
            billing_group_id: Some(invoice.billing_group_id.clone()),
            invoice_number: Some(number.to_string()),
            credit_note_number: None,
            recipients: vec!["ap@example.com".into()],
            subject: format!("Invoice {number}"),
            body: "Hello".into(),
            webhook_id: None,
        }]
    }
    fn issued_event(&self, invoice: &NewInvoice, number: &str) -> NewEvent {
        NewEvent {
            event_desc: format!("Invoice {number} issued"),
            ..event(
                &invoice.billing_group_id,
                &invoice.account_id,
                EventType::InvoiceIssued,
                t(31, 1),
            )
        }
    }
    fn credit_consumed_event(
        &self,
        invoice: &NewInvoice,
        number: &str,
        credit_use: &CreditUse,
    ) -> NewEvent {
        NewEvent {
            event_desc: format!("Credit {} used on {number}", credit_use.code),
            project_name: credit_use.earmarked_project_name.clone(),
            ..event(
                &invoice.billing_group_id,
                &invoice.account_id,
                EventType::CreditConsumed,
                t(31, 1),
            )
        }
    }
}

fn violation<T: std::fmt::Debug>(result: StoreResult<T>) -> Violation {
    match result {
        Err(StoreError::Violation(v)) => v,
        other => panic!("expected a constraint violation, got {other:?}"),
    }
}

on_both_backends!(ping_and_emptiness, |db| {
    db.store.ping().await.unwrap();
    assert!(db.store.is_empty().await.unwrap());
    user(&db.store, "ann@example.com").await;
    assert!(!db.store.is_empty().await.unwrap());
});

on_both_backends!(users_are_unique_by_email, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let found = db
        .store
        .user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, ann.user_id);
    assert_eq!(found.create_time, t(1, 0));
    assert!(db
        .store
        .user_by_email("bob@example.com")
        .await
        .unwrap()
        .is_none());
    let again = db
        .store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email: "ann@example.com".into(),
                real_name: "Other".into(),
                password_hash: "x".into(),
                is_operator: false,
            },
            t(1, 0),
        )
        .await;
    assert_eq!(violation(again), Violation::EmailTaken);
    // Emails are stored lowercased; the schema refuses anything else.
    let upper = db
        .store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email: "Bob@Example.com".into(),
                real_name: "Bob".into(),
                password_hash: "x".into(),
                is_operator: false,
            },
            t(1, 0),
        )
        .await;
    assert_eq!(
        violation(upper),
        Violation::Check("users_email_lower".into())
    );
});

on_both_backends!(sessions_expire_and_can_be_deleted, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    db.store
        .create_session("h1", &ann.user_id, t(1, 0), t(1, 2), "192.0.2.1")
        .await
        .unwrap();
    db.store
        .create_session("h2", &ann.user_id, t(1, 0), t(3, 0), "192.0.2.1")
        .await
        .unwrap();
    let found = db
        .store
        .session_user("h1", t(1, 1), t(1, 1), "192.0.2.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.email, "ann@example.com");
    assert!(
        db.store
            .session_user("h1", t(1, 2), t(1, 2), "192.0.2.1")
            .await
            .unwrap()
            .is_none(),
        "expired session still valid"
    );
    assert!(db
        .store
        .session_user("nope", t(1, 1), t(1, 1), "192.0.2.1")
        .await
        .unwrap()
        .is_none());
    assert_eq!(db.store.delete_expired_sessions(t(2, 0)).await.unwrap(), 1);
    db.store.delete_session("h2").await.unwrap();
    assert!(db
        .store
        .session_user("h2", t(1, 1), t(1, 1), "192.0.2.1")
        .await
        .unwrap()
        .is_none());
});

on_both_backends!(api_tokens_find_their_user_until_revoked, |db| {
    let s = db.store.as_ref();
    let alice = user(&db.store, "alice@example.com").await;
    let bob = user(&db.store, "bob@example.com").await;
    s.create_api_token("hash-a", "aaaaaaaa", &alice.user_id, "ci", t(1, 0))
        .await
        .unwrap();
    s.create_api_token("hash-b", "bbbbbbbb", &bob.user_id, "laptop", t(1, 1))
        .await
        .unwrap();
    let found = s
        .api_token_user("hash-a", t(2, 0), t(2, 0) - Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.email, "alice@example.com");
    assert!(s
        .api_token_user("nope", t(2, 0), t(2, 0) - Duration::minutes(1))
        .await
        .unwrap()
        .is_none());
    // Use is noted, at most once a minute.
    let listed = s.api_tokens_of_user(&alice.user_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_time, Some(t(2, 0)));
    s.api_token_user(
        "hash-a",
        t(2, 0) + Duration::seconds(30),
        t(2, 0) + Duration::seconds(30) - Duration::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(
        s.api_tokens_of_user(&alice.user_id).await.unwrap()[0].last_used_time,
        Some(t(2, 0))
    );
    s.api_token_user(
        "hash-a",
        t(2, 0) + Duration::minutes(5),
        t(2, 0) + Duration::minutes(5) - Duration::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(
        s.api_tokens_of_user(&alice.user_id).await.unwrap()[0].last_used_time,
        Some(t(2, 0) + Duration::minutes(5))
    );
    // Only the owner revokes, once.
    assert!(!s
        .revoke_api_token(&bob.user_id, "aaaaaaaa", t(3, 0))
        .await
        .unwrap());
    assert!(s
        .revoke_api_token(&alice.user_id, "aaaaaaaa", t(3, 0))
        .await
        .unwrap());
    assert!(!s
        .revoke_api_token(&alice.user_id, "aaaaaaaa", t(3, 0))
        .await
        .unwrap());
    assert!(s
        .api_token_user("hash-a", t(4, 0), t(4, 0) - Duration::minutes(1))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .api_tokens_of_user(&alice.user_id)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .api_token_user("hash-b", t(4, 0), t(4, 0) - Duration::minutes(1))
        .await
        .unwrap()
        .is_some());
});

on_both_backends!(sign_in_failures_count_per_scope_and_clear, |db| {
    let s = db.store.as_ref();
    let scopes = [
        "pair:ann|1.2.3.4".to_string(),
        "address:1.2.3.4".to_string(),
    ];
    assert!(s.sign_in_failures(&scopes).await.unwrap().is_empty());
    let both = |window_start_after| {
        scopes
            .iter()
            .map(|scope| (scope.clone(), window_start_after))
            .collect::<Vec<_>>()
    };
    s.record_sign_in_failure(&both(t(1, 0)), t(1, 0))
        .await
        .unwrap();
    s.record_sign_in_failure(&both(t(1, 0)), t(1, 1))
        .await
        .unwrap();
    let found = s.sign_in_failures(&scopes).await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found
        .iter()
        .all(|r| r.failures == 2 && r.window_start == t(1, 0) && r.last_failure_time == t(1, 1)));
    // A failure after the window (the last one older than its start) counts from one.
    s.record_sign_in_failure(&[(scopes[1].clone(), t(2, 0))], t(2, 1))
        .await
        .unwrap();
    let address = s.sign_in_failures(&scopes[1..]).await.unwrap();
    assert_eq!((address[0].failures, address[0].window_start), (1, t(2, 1)));
    s.clear_sign_in_failures(&scopes[..1]).await.unwrap();
    let left = s.sign_in_failures(&scopes).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].scope, "address:1.2.3.4");
});

on_both_backends!(server_secrets_are_created_once_and_shared, |db| {
    let s = db.store.as_ref();
    let first = s
        .server_secret("links", "candidate-a", t(1, 0))
        .await
        .unwrap();
    assert_eq!(first, "candidate-a");
    let second = s
        .server_secret("links", "candidate-b", t(2, 0))
        .await
        .unwrap();
    assert_eq!(second, "candidate-a", "the first one stays");
    assert_eq!(
        s.server_secret("other", "candidate-c", t(2, 0))
            .await
            .unwrap(),
        "candidate-c"
    );
});

on_both_backends!(accounts_start_with_a_primary_group_and_its_events, |db| {
    let (acct, group) = account(&db.store, "a1", "Acme").await;
    assert_eq!(acct.primary_billing_group_id, group.billing_group_id);
    assert_eq!(group.account_id, "a1");
    assert_eq!(group.group_state, GroupState::Active);
    assert!(group.billing_emails.is_empty());
    assert_eq!(
        db.store.account(&AccountId::from("a1")).await.unwrap(),
        Some(acct)
    );
    assert!(db
        .store
        .account(&AccountId::from("a2"))
        .await
        .unwrap()
        .is_none());
    let events = db
        .store
        .events_of_group(&group.billing_group_id, 10)
        .await
        .unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["primary_billing_group_changed", "billing_group_created"],
        "newest first"
    );
    assert!(events
        .iter()
        .all(|e| e.actor == "tester@example.com" && e.account_id == "a1"));
    // Account IDs must not begin with "org" (PRODUCT.md §7).
    let org = create_account(&db.store, "org123", "Org", "g-org").await;
    assert_eq!(
        violation(org),
        Violation::Check("accounts_id_format".into())
    );
    assert!(
        db.store
            .billing_group(&GroupId::from("g-org"))
            .await
            .unwrap()
            .is_none(),
        "half-created account left a group"
    );
});

on_both_backends!(members_have_one_role_per_account, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let bob = user(&db.store, "bob@example.com").await;
    account(&db.store, "a1", "Acme").await;
    account(&db.store, "a2", "Beta").await;
    crate::common::join(db.store.as_ref(), "a1", &ann, Role::Admin).await;
    crate::common::join(db.store.as_ref(), "a2", &ann, Role::Viewer).await;
    crate::common::join(db.store.as_ref(), "a1", &bob, Role::Billing).await;
    assert_eq!(
        db.store
            .member_role(&ann.user_id, &AccountId::from("a1"))
            .await
            .unwrap(),
        Some(Role::Admin)
    );
    assert_eq!(
        db.store
            .member_role(&bob.user_id, &AccountId::from("a1"))
            .await
            .unwrap(),
        Some(Role::Billing)
    );
    assert_eq!(
        db.store
            .member_role(&bob.user_id, &AccountId::from("a2"))
            .await
            .unwrap(),
        None
    );
    let again = db
        .store
        .add_member(
            &AccountId::from("a1"),
            &bob.user_id,
            Role::Viewer,
            &billing_console::server::billing::members::added_event(
                &AccountId::from("a1"),
                "test",
                &bob.email,
                Role::Viewer,
                t(1, 0),
            ),
            t(1, 0),
        )
        .await;
    assert_eq!(violation(again), Violation::MemberExists);
    let accounts = db.store.accounts_of_user(&ann.user_id).await.unwrap();
    let summary: Vec<_> = accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.role, a.billing_group_count))
        .collect();
    assert_eq!(summary, [("a1", Role::Admin, 1), ("a2", Role::Viewer, 1)]);
    assert_eq!(
        db.store.accounts_of_user(&bob.user_id).await.unwrap().len(),
        1
    );
});

on_both_backends!(billing_groups_are_listed_per_account, |db| {
    account(&db.store, "a1", "Acme").await;
    account(&db.store, "a2", "Beta").await;
    let new = new_group("g-research", "a1", "Research", Currency::USD);
    let research = create_group(&db.store, &new, t(1, 5)).await.unwrap();
    assert_eq!(research.billing_group_name, "Research");
    assert_eq!(research.billing_currency, Currency::USD);
    assert_eq!(research.create_time, t(1, 5));
    assert_eq!(
        db.store
            .billing_group(&GroupId::from("g-research"))
            .await
            .unwrap(),
        Some(research.clone())
    );
    let names: Vec<_> = db
        .store
        .billing_groups_of_account(&AccountId::from("a1"))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.billing_group_name)
        .collect();
    assert_eq!(names, ["Acme billing", "Research"]);
    let events = db.store.events_of_group("g-research", 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "billing_group_created");
    // Names are 1–128 characters and currencies one of the twelve.
    let long = NewBillingGroup {
        billing_group_id: "g-long".into(),
        billing_group_name: "x".repeat(129),
        ..new.clone()
    };
    let err = create_group(&db.store, &long, t(1, 5)).await;
    assert_eq!(
        violation(err),
        Violation::Check("billing_groups_name_length".into())
    );
    let err = db
        .raw(
            "INSERT INTO billing_groups (billing_group_id, account_id, billing_group_name,
                 billing_currency, create_time, update_time)
             VALUES ('g-cur', 'a1', 'Cur', 'XXX', '2026-10-01T00:00:00+00:00',
                     '2026-10-01T00:00:00+00:00')",
        )
        .await;
    assert_eq!(
        violation(err),
        Violation::Check("billing_groups_currency_check".into())
    );
    assert!(
        db.store
            .events_of_group("g-long", 10)
            .await
            .unwrap()
            .is_empty(),
        "event without its group"
    );
});

on_both_backends!(projects_live_in_a_group_of_their_own_account, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let (_, g1) = account(&db.store, "a1", "Acme").await;
    let (_, g2) = account(&db.store, "a2", "Beta").await;
    crate::common::join(db.store.as_ref(), "a1", &ann, Role::Viewer).await;
    let p = project(&db.store, "prod", "a1", &g1.billing_group_id).await;
    assert_eq!(p.billing_group_name, "Acme billing");
    assert_eq!(db.store.project("prod").await.unwrap(), Some(p.clone()));
    assert!(db.store.project("nope").await.unwrap().is_none());
    project(&db.store, "beta-web", "a2", &g2.billing_group_id).await;
    // Only the projects of the user's own accounts.
    let names: Vec<_> = db
        .store
        .projects_of_user(&ann.user_id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.project_name)
        .collect();
    assert_eq!(names, ["prod"]);
    let history = db.store.project_group_history("prod").await.unwrap();
    assert_eq!(
        history,
        [GroupMembershipRecord {
            project_name: "prod".into(),
            billing_group_id: g1.billing_group_id.clone(),
            valid_from: t(2, 0),
            valid_to: None
        }]
    );
    let events = db
        .store
        .events_of_group(&g1.billing_group_id, 1)
        .await
        .unwrap();
    assert_eq!(
        (
            events[0].event_type.as_str(),
            events[0].project_name.as_deref()
        ),
        ("project_added", Some("prod"))
    );
    // Another account's group is refused by the database itself.
    let foreign = create_project(
        &db.store,
        &NewProject {
            project_name: "sneaky".into(),
            account_id: "a1".into(),
            billing_group_id: g2.billing_group_id.clone(),
            default_cloud: "c".into(),
        },
        t(2, 0),
    )
    .await;
    assert_eq!(violation(foreign), Violation::GroupOfOtherAccount);
    assert!(db.store.project("sneaky").await.unwrap().is_none());
    let taken = create_project(
        &db.store,
        &NewProject {
            project_name: "prod".into(),
            account_id: "a2".into(),
            billing_group_id: g2.billing_group_id.clone(),
            default_cloud: "c".into(),
        },
        t(2, 0),
    )
    .await;
    assert_eq!(violation(taken), Violation::ProjectNameTaken);
    // The failed creations wrote no event.
    assert_eq!(
        db.store
            .events_of_group(&g2.billing_group_id, 10)
            .await
            .unwrap()
            .len(),
        3
    );
});

on_both_backends!(services_record_runs_and_report_state, |db| {
    let (_, g1) = account(&db.store, "a1", "Acme").await;
    project(&db.store, "prod", "a1", &g1.billing_group_id).await;
    let new = |id: &str, name: &str| new_service(id, "prod", name, "0.822");
    let pg = db
        .store
        .create_service(&new("s1", "pg-1"), t(2, 0))
        .await
        .unwrap();
    assert_eq!(
        pg.hourly_price_usd.0,
        dec("0.822"),
        "money must round-trip exactly"
    );
    db.store
        .create_service(&new("s2", "pg-2"), t(2, 0))
        .await
        .unwrap();
    db.store
        .create_service(&new("s3", "pg-3"), t(2, 0))
        .await
        .unwrap();
    db.store
        .create_service(&new("s4", "pg-4"), t(2, 0))
        .await
        .unwrap();
    let dup = db.store.create_service(&new("s5", "pg-1"), t(2, 0)).await;
    assert_eq!(violation(dup), Violation::ServiceNameTaken);

    db.store
        .record_service_run("s1", t(2, 0), Some((t(3, 0), RunEnd::PoweredOff)))
        .await
        .unwrap();
    db.store
        .record_service_run("s1", t(4, 0), None)
        .await
        .unwrap();
    db.store
        .record_service_run("s2", t(2, 0), Some((t(5, 0), RunEnd::PoweredOff)))
        .await
        .unwrap();
    db.store
        .record_service_run("s3", t(2, 0), Some((t(6, 0), RunEnd::Terminated)))
        .await
        .unwrap();
    // One open run per service; runs end after they start.
    assert!(matches!(
        db.store.record_service_run("s1", t(5, 0), None).await,
        Err(StoreError::Violation(_))
    ));
    let backwards = db
        .store
        .record_service_run("s2", t(9, 0), Some((t(8, 0), RunEnd::PoweredOff)))
        .await;
    assert_eq!(
        violation(backwards),
        Violation::Check("service_runs_order".into())
    );

    let runs = db.store.service_runs("s1").await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0].ended_at, runs[0].end_reason),
        (Some(t(3, 0)), Some(RunEnd::PoweredOff))
    );
    assert_eq!(runs[1].ended_at, None);
    let states: Vec<_> = db
        .store
        .services_of_project("prod")
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.service_name, s.state))
        .collect();
    let expected = [
        ("pg-1", ServiceState::Running),
        ("pg-2", ServiceState::PoweredOff),
        ("pg-3", ServiceState::Terminated),
        ("pg-4", ServiceState::NeverStarted),
    ];
    assert_eq!(states, expected.map(|(a, b)| (a.to_string(), b)));
});

on_both_backends!(exchange_rates_in_force_on_a_day, |db| {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
    db.store
        .set_exchange_rate(Currency::EUR, day(1), dec("0.92"))
        .await
        .unwrap();
    db.store
        .set_exchange_rate(Currency::EUR, day(15), dec("0.935"))
        .await
        .unwrap();
    assert_eq!(
        db.store
            .exchange_rate_on(Currency::EUR, day(14))
            .await
            .unwrap(),
        Some(dec("0.92"))
    );
    assert_eq!(
        db.store
            .exchange_rate_on(Currency::EUR, day(15))
            .await
            .unwrap(),
        Some(dec("0.935"))
    );
    assert_eq!(
        db.store
            .exchange_rate_on(Currency::EUR, day(1) - Duration::days(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.store
            .exchange_rate_on(Currency::GBP, day(20))
            .await
            .unwrap(),
        None
    );
    // Setting the same day again corrects it.
    db.store
        .set_exchange_rate(Currency::EUR, day(15), dec("0.93"))
        .await
        .unwrap();
    assert_eq!(
        db.store
            .exchange_rate_on(Currency::EUR, day(31))
            .await
            .unwrap(),
        Some(dec("0.93"))
    );
    // A month-to-date load reads the usage version and the same rate in
    // one statement.
    let (_, group) = account(&db.store, "a1", "Acme").await;
    for (on, rate) in [
        (day(31), Some(dec("0.93"))),
        (day(1) - Duration::days(1), None),
    ] {
        let (version, read) = db
            .store
            .usage_version_and_rate(&group.billing_group_id, Currency::EUR, on)
            .await
            .unwrap();
        assert!(version.is_some());
        assert_eq!(read, rate);
    }
    assert_eq!(
        db.store
            .usage_version_and_rate(&GroupId::from("no-such-group"), Currency::EUR, day(31))
            .await
            .unwrap(),
        (None, None)
    );
    let unknown = db
        .raw("INSERT INTO exchange_rates (currency, valid_from, usd_rate) VALUES ('XXX', '2026-10-01', '1')")
        .await;
    assert_eq!(
        violation(unknown),
        Violation::Check("exchange_rates_currency_check".into())
    );
});

on_both_backends!(events_are_insert_only, |db| {
    let (_, g1) = account(&db.store, "a1", "Acme").await;
    let update = db.raw("UPDATE events SET event_desc = 'rewritten'").await;
    assert_eq!(violation(update), Violation::EventsInsertOnly);
    let delete = db.raw("DELETE FROM events").await;
    assert_eq!(violation(delete), Violation::EventsInsertOnly);
    assert_eq!(
        db.store
            .events_of_group(&g1.billing_group_id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
});

on_both_backends!(
    event_pages_come_in_order_on_demand_and_stop_when_dropped,
    |db| {
        let (_, g1) = account(&db.store, "a1", "Acme").await;
        for i in 0..5 {
            create_group(
                &db.store,
                &new_group(&format!("g-{i}"), "a1", &format!("G{i}"), Currency::EUR),
                t(1, 1),
            )
            .await
            .unwrap();
        }
        // The group's own two events, and nothing of the other groups.
        let filter = |limit| EventFilter {
            limit,
            ..Default::default()
        };
        let mut pages = db.store.event_pages(&g1.billing_group_id, filter(1));
        let mut ids = Vec::new();
        while let Some(page) = pages.recv().await {
            let page = page.unwrap();
            assert!(page.len() <= 1);
            ids.extend(page.iter().map(|e| e.log_entry_id));
        }
        let all = db
            .store
            .events_of_group(&g1.billing_group_id, 10)
            .await
            .unwrap();
        assert_eq!(ids, all.iter().map(|e| e.log_entry_id).collect::<Vec<_>>());
        assert_eq!(ids.len(), 2);
        // A reader that goes away releases the connection: the pool still
        // serves every other query (one connection per test database would
        // otherwise be held for good).
        for _ in 0..20 {
            drop(db.store.event_pages(&GroupId::from("g-0"), filter(1)));
        }
        assert_eq!(db.store.events_of_group("g-0", 10).await.unwrap().len(), 1);
    }
);

on_both_backends!(groups_with_projects_or_primary_cannot_be_deleted, |db| {
    let (_, primary) = account(&db.store, "a1", "Acme").await;
    let spare = new_group("g-spare", "a1", "Spare", Currency::EUR);
    create_group(&db.store, &spare, t(1, 1)).await.unwrap();
    create_group(
        &db.store,
        &new_group("g-empty", "a1", "Empty", Currency::EUR),
        t(1, 1),
    )
    .await
    .unwrap();
    project(&db.store, "prod", "a1", "g-spare").await;
    let soft_delete = |id: &str| {
        format!("UPDATE billing_groups SET group_state = 'deleted' WHERE billing_group_id = '{id}'")
    };
    assert_eq!(
        violation(db.raw(&soft_delete("g-spare")).await),
        Violation::GroupHasProjects
    );
    assert_eq!(
        violation(db.raw(&soft_delete(&primary.billing_group_id)).await),
        Violation::GroupIsPrimary
    );
    let hard_delete = db
        .raw("DELETE FROM billing_groups WHERE billing_group_id = 'g-spare'")
        .await;
    assert!(
        matches!(hard_delete, Err(StoreError::Violation(_))),
        "{hard_delete:?}"
    );
    // An empty, non-primary group can go, and no project may enter it after.
    assert_eq!(db.raw(&soft_delete("g-empty")).await.unwrap(), 1);
    let into_deleted = create_project(
        &db.store,
        &NewProject {
            project_name: "late".into(),
            account_id: "a1".into(),
            billing_group_id: "g-empty".into(),
            default_cloud: "c".into(),
        },
        t(3, 0),
    )
    .await;
    assert_eq!(violation(into_deleted), Violation::GroupDeleted);
    let undelete = db
        .raw("UPDATE billing_groups SET group_state = 'active' WHERE billing_group_id = 'g-empty'")
        .await;
    assert_eq!(violation(undelete), Violation::GroupDeleted);
    let names: Vec<_> = db
        .store
        .billing_groups_of_account(&AccountId::from("a1"))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.billing_group_name)
        .collect();
    assert_eq!(
        names,
        ["Acme billing", "Spare"],
        "a deleted group leaves the list"
    );
    assert!(
        db.store
            .billing_group(&GroupId::from("g-empty"))
            .await
            .unwrap()
            .is_some(),
        "a deleted group stays readable"
    );
});

on_both_backends!(usage_is_read_per_account_and_per_group, |db| {
    let (_, g1) = account(&db.store, "a1", "Acme").await;
    let g2 = create_group(
        &db.store,
        &new_group("g2", "a1", "Two", Currency::USD),
        t(1, 0),
    )
    .await
    .unwrap();
    for (name, group) in [
        ("p", &g1.billing_group_id),
        ("q", &g2.billing_group_id),
        ("r", &g1.billing_group_id),
    ] {
        project(&db.store, name, "a1", group).await;
        let service = new_service(&format!("s-{name}"), name, "svc", "1");
        db.store.create_service(&service, t(2, 0)).await.unwrap();
        db.store
            .record_service_run(&format!("s-{name}"), t(3, 0), None)
            .await
            .unwrap();
    }
    move_project(&db.store, "p", "g2", t(10, 0)).await.unwrap();
    let (memberships, runs) = db
        .store
        .account_usage(&AccountId::from("a1"), t(1, 0), t(20, 0))
        .await
        .unwrap();
    assert_eq!(memberships.len(), 4, "p twice, q, r");
    assert_eq!(runs.len(), 3);
    let (memberships, runs) = db
        .store
        .group_usage(&g1.billing_group_id, t(1, 0), t(20, 0))
        .await
        .unwrap();
    let names: Vec<_> = memberships
        .iter()
        .map(|m| (m.project_name.as_str(), m.valid_to))
        .collect();
    assert_eq!(names, [("p", Some(t(10, 0))), ("r", None)]);
    let run_projects: Vec<_> = runs.iter().map(|r| r.project_name.as_str()).collect();
    assert_eq!(run_projects, ["p", "r"]);
    assert_eq!(runs[0].hourly_price_usd.0, dec("1"));
    // A period before the move sees only g1's first membership of p.
    let (memberships, _) = db
        .store
        .group_usage(&GroupId::from("g2"), t(1, 0), t(5, 0))
        .await
        .unwrap();
    assert_eq!(
        memberships
            .iter()
            .map(|m| m.project_name.as_str())
            .collect::<Vec<_>>(),
        ["q"]
    );
    // A month close reads every account's usage at once: the same rows,
    // the same values (on SQLite through its own API, not sqlx).
    let (mut everyone, mut every_run) = db.store.usage_between(t(1, 0), t(20, 0)).await.unwrap();
    let (mut of_a1, mut runs_of_a1) = db
        .store
        .account_usage(&AccountId::from("a1"), t(1, 0), t(20, 0))
        .await
        .unwrap();
    for memberships in [&mut everyone, &mut of_a1] {
        memberships.sort_by_key(|m| (m.project_name.clone(), m.valid_from));
    }
    for runs in [&mut every_run, &mut runs_of_a1] {
        runs.sort_by_key(|r| (r.project_name.clone(), r.started_at));
    }
    assert_eq!((everyone, every_run), (of_a1, runs_of_a1));
    let (before, runs_before) = db.store.usage_between(t(1, 0), t(2, 0)).await.unwrap();
    assert!(before.is_empty() && runs_before.is_empty(), "{before:?}");
});

on_both_backends!(menu_names_and_event_projects, |db| {
    let ann = user(&db.store, "ann@example.com").await;
    let (_, g1) = account(&db.store, "a1", "Zeta").await;
    let (_, g2) = account(&db.store, "a2", "Alpha").await;
    crate::common::join(db.store.as_ref(), "a1", &ann, Role::Viewer).await;
    crate::common::join(db.store.as_ref(), "a2", &ann, Role::Viewer).await;
    for (name, account_id, group) in [("zz", "a1", &g1), ("aa", "a1", &g1), ("mm", "a2", &g2)] {
        project(&db.store, name, account_id, &group.billing_group_id).await;
    }
    // Accounts by name (Alpha first), then projects by name.
    let (names, total) = db
        .store
        .project_names_of_user(&ann.user_id, 2)
        .await
        .unwrap();
    assert_eq!(
        (names, total),
        (vec!["mm".to_string(), "aa".to_string()], 3)
    );
    let nobody = user(&db.store, "nobody@example.com").await;
    assert_eq!(
        db.store
            .project_names_of_user(&nobody.user_id, 5)
            .await
            .unwrap(),
        (vec![], 0)
    );
    // A group page's first read: the group with the caller's role, or
    // with none when they are not a member of its account.
    let (group, role) = db
        .store
        .billing_group_of_member(&ann.user_id, &g1.billing_group_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((group, role), (g1.clone(), Some(Role::Viewer)));
    let (_, role) = db
        .store
        .billing_group_of_member(&nobody.user_id, &g1.billing_group_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role, None);
    assert!(db
        .store
        .billing_group_of_member(&ann.user_id, &GroupId::from("no-such-group"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.store
            .project_count_of_group(&g1.billing_group_id)
            .await
            .unwrap(),
        2
    );
    let mentioned = db
        .store
        .event_projects_of_group(&g1.billing_group_id)
        .await
        .unwrap();
    assert_eq!(mentioned, ["aa", "zz"]);
});

/// Claims with a rule that accepts every claim (the rules' checks are
/// tested with the rules; the once-only guard is the write's own).
async fn claim(
    store: &DynStore,
    code: &str,
    group: &str,
    earmark: Option<&str>,
    user_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<CreditRecord> {
    let change = |credit: &CreditRecord, group: &BillingGroupRecord| {
        Ok(CreditClaim {
            earmarked_project_name: earmark.map(String::from),
            claimed_by: user_id.into(),
            event: NewEvent {
                event_desc: format!("Credit {} claimed", credit.code),
                ..event(
                    &group.billing_group_id,
                    &group.account_id,
                    EventType::CreditClaimed,
                    at,
                )
            },
        })
    };
    store
        .claim_credit(code, &GroupId::from(group), at, &change)
        .await
}

fn new_credit(code: &str, value: &str) -> NewCredit {
    NewCredit {
        code: code.into(),
        credit_type: billing_console::model::states::CreditType::Trial,
        value_usd: dec(value),
        start_time: t(1, 0),
        expire_time: Some(t(31, 0)),
    }
}

/// An invoice of `group` for October that uses `uses`, with no lines.
fn invoice_using(account_id: &str, group: &str, uses: Vec<CreditUse>) -> NewInvoice {
    NewInvoice {
        billing_group_id: group.into(),
        account_id: account_id.into(),
        period_begin: t(1, 0),
        period_end: t(31, 0),
        state: InvoiceState::Paid,
        currency: Currency::EUR,
        exchange_rate: Decimal::ONE,
        vat_rate: Decimal::ZERO,
        vat_note: String::new(),
        total_usd: Decimal::ZERO,
        total_vat_zero: Decimal::ZERO,
        total_inc_vat: Decimal::ZERO,
        issue_date: t(31, 0).date_naive(),
        due_date: t(31, 0).date_naive(),
        download_cookie: uuid::Uuid::new_v4().simple().to_string(),
        payment_method: PaymentMethod::Email,
        customer: Default::default(),
        seller: Default::default(),
        lines: Vec::new(),
        credit_uses: uses,
    }
}

on_both_backends!(credits_are_claimed_once_and_used_with_a_guard, |db| {
    let store = &db.store;
    let u = user(store, "a@example.com").await;
    let (acme, acme_group) = account(store, "acme", "Acme").await;
    let (_, other_group) = account(store, "other", "Other").await;
    project(store, "p1", &acme.account_id, &acme_group.billing_group_id).await;
    store
        .insert_credits(
            &[new_credit("AAAA", "100"), new_credit("BBBB", "50.5")],
            t(1, 0),
        )
        .await
        .unwrap();
    // A code exists once.
    assert!(matches!(
        store
            .insert_credits(&[new_credit("AAAA", "1")], t(1, 0))
            .await,
        Err(StoreError::Violation(Violation::CreditCodeTaken))
    ));
    assert!(matches!(
        claim(
            store,
            "NONE",
            &acme_group.billing_group_id,
            None,
            &u.user_id,
            t(2, 0)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let claimed = claim(
        store,
        "AAAA",
        &acme_group.billing_group_id,
        Some("p1"),
        &u.user_id,
        t(2, 0),
    )
    .await
    .unwrap();
    assert_eq!(claimed.earmarked_project_name.as_deref(), Some("p1"));
    assert_eq!(claimed.remaining_value_usd.0, dec("100"));
    let events = store
        .events_of_group(&acme_group.billing_group_id, 1)
        .await
        .unwrap();
    assert_eq!(events[0].event_type, "credit_claimed");
    // The write itself claims a code once, whatever the rule checked.
    assert!(matches!(
        claim(
            store,
            "AAAA",
            &other_group.billing_group_id,
            None,
            &u.user_id,
            t(2, 0)
        )
        .await,
        Err(StoreError::Violation(Violation::CreditAlreadyClaimed))
    ));
    // A rule's refusal on the locked rows writes nothing.
    let expired =
        |credit: &CreditRecord, _: &BillingGroupRecord| -> Result<CreditClaim, AppError> {
            Err(AppError::invalid(
                "code",
                format!("{} expired", credit.code),
            ))
        };
    assert!(matches!(
        store
            .claim_credit("BBBB", &acme_group.billing_group_id, t(31, 0), &expired)
            .await,
        Err(StoreError::Refused(AppError::Invalid { .. }))
    ));
    assert!(store
        .credit("BBBB")
        .await
        .unwrap()
        .unwrap()
        .billing_group_id
        .is_none());
    assert_eq!(
        store
            .credits_of_group(&acme_group.billing_group_id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.claimed_credits().await.unwrap().len(), 1);
    assert!(store
        .credits_of_group(&other_group.billing_group_id)
        .await
        .unwrap()
        .is_empty());

    // A use whose remaining value is stale refuses the whole invoice.
    let stale = CreditUse {
        code: "AAAA".into(),
        amount_usd: dec("10"),
        remaining_before: dec("99"),
        earmarked_project_name: Some("p1".into()),
    };
    assert!(matches!(
        store
            .issue_invoices(
                &[invoice_using(
                    &acme.account_id,
                    &acme_group.billing_group_id,
                    vec![stale.clone()]
                )],
                t(31, 1),
                &TestIssuing
            )
            .await,
        Err(StoreError::Violation(Violation::CreditBalanceChanged))
    ));
    assert!(store
        .invoices_of_group(&acme_group.billing_group_id)
        .await
        .unwrap()
        .is_empty());
    let fresh = CreditUse {
        remaining_before: dec("100"),
        ..stale
    };
    let issued = store
        .issue_invoices(
            &[invoice_using(
                &acme.account_id,
                &acme_group.billing_group_id,
                vec![fresh],
            )],
            t(31, 1),
            &TestIssuing,
        )
        .await
        .unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        store
            .messages_of_group(&acme_group.billing_group_id, 10)
            .await
            .unwrap()
            .len(),
        1,
        "the refused issue left no message; the issued invoice has its own"
    );
    assert_eq!(
        store
            .credit("AAAA")
            .await
            .unwrap()
            .unwrap()
            .remaining_value_usd
            .0,
        dec("90")
    );
    let events = store
        .events_of_group(&acme_group.billing_group_id, 10)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.event_type == "credit_consumed" && e.project_name.as_deref() == Some("p1")));

    // Failed claims are counted per user within a window.
    store
        .record_claim_failure(&u.user_id, t(2, 0), t(1, 0))
        .await
        .unwrap();
    store
        .record_claim_failure(&u.user_id, t(2, 1), t(1, 0))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_failures_since(&u.user_id, t(2, 0))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .claim_failures_since(&u.user_id, t(2, 1))
            .await
            .unwrap(),
        1
    );
});

/// `lines` service-charge lines of `project`, then a credit line (no
/// service fields, a credit code), with amounts that need every decimal.
fn lines_of(project: &str, lines: i64) -> Vec<InvoiceLineRecord> {
    let mut written: Vec<InvoiceLineRecord> = (1..=lines)
        .map(|n| InvoiceLineRecord {
            line_no: n,
            line_type: LineType::ServiceCharge,
            description: format!("pg business-4 in aws-eu-west-1: {n} h at 0.125 USD/h"),
            project_name: Some(project.into()),
            service_name: Some(format!("svc-{n}")),
            service_type: Some("pg".into()),
            service_plan: Some("business-4".into()),
            cloud_name: Some("aws-eu-west-1".into()),
            hours: Some(n),
            timestamp_begin: Some(t(1, 0)),
            timestamp_end: Some(t(31, 0) + Duration::minutes(n)),
            line_total_usd: DbDecimal(Decimal::new(n * 125, 3)),
            line_total_local: DbDecimal(dec("1234567.89")),
            local_currency: Currency::EUR,
            credit_code: None,
        })
        .collect();
    written.push(InvoiceLineRecord {
        line_no: lines + 1,
        line_type: LineType::CreditConsumption,
        description: "Credit ABCD".into(),
        project_name: None,
        service_name: None,
        service_type: None,
        service_plan: None,
        cloud_name: None,
        hours: None,
        timestamp_begin: None,
        timestamp_end: None,
        line_total_usd: DbDecimal(dec("-0.01")),
        line_total_local: DbDecimal(dec("-0.01")),
        local_currency: Currency::EUR,
        credit_code: Some("ABCDABCDABCDABCD".into()),
    });
    written
}

on_both_backends!(
    invoices_are_issued_with_their_lines_exactly_as_written,
    |db| {
        let store = &db.store;
        let (acme, g1) = account(store, "a1", "Acme").await;
        let (_, g2) = account(store, "a2", "Beta").await;
        let first = NewInvoice {
            total_inc_vat: dec("1234.5"),
            lines: lines_of("p", 70),
            ..invoice_using(&acme.account_id, &g1.billing_group_id, Vec::new())
        };
        let second = NewInvoice {
            lines: lines_of("q", 3),
            ..invoice_using("a2", &g2.billing_group_id, Vec::new())
        };
        let issued = store
            .issue_invoices(&[first.clone(), second.clone()], t(31, 1), &TestIssuing)
            .await
            .unwrap();
        assert_eq!(issued.len(), 2);
        for (number, written) in issued.iter().zip([&first, &second]) {
            assert_eq!(&store.invoice_lines(number).await.unwrap(), &written.lines);
            let invoice = store.invoice(number).await.unwrap().unwrap();
            assert_eq!(invoice.sequence_number, 1);
            assert_eq!(invoice.period_begin, written.period_begin);
            assert_eq!(invoice.issue_date, written.issue_date);
            assert_eq!(invoice.total_inc_vat.0, written.total_inc_vat);
            assert_eq!(invoice.create_time, t(31, 1));
        }
        let events = store
            .events_of_group(&g1.billing_group_id, 1)
            .await
            .unwrap();
        assert_eq!(events[0].event_type, "invoice_issued");
        assert!(events[0].event_desc.contains(&issued[0]), "{events:?}");
        // Each invoice's email is in the outbox, written with it.
        for (number, group) in issued.iter().zip([&g1, &g2]) {
            let mails = store
                .messages_of_group(&group.billing_group_id, 10)
                .await
                .unwrap();
            assert_eq!(mails.len(), 1);
            assert_eq!(mails[0].invoice_number.as_deref(), Some(number.as_str()));
        }

        // The same month again: nothing issued twice, nothing refused.
        let again = store
            .issue_invoices(std::slice::from_ref(&first), t(31, 2), &TestIssuing)
            .await
            .unwrap();
        assert!(again.is_empty());
        assert_eq!(
            store
                .invoices_of_group(&g1.billing_group_id)
                .await
                .unwrap()
                .len(),
            1
        );

        // A line the schema refuses takes its whole batch with it.
        let (_, g3) = account(store, "a3", "Gamma").await;
        let (_, g4) = account(store, "a4", "Delta").await;
        let fine = NewInvoice {
            lines: lines_of("r", 40),
            ..invoice_using("a3", &g3.billing_group_id, Vec::new())
        };
        let mut bad_lines = lines_of("s", 40);
        bad_lines[35].line_no = 1;
        let bad = NewInvoice {
            lines: bad_lines,
            ..invoice_using("a4", &g4.billing_group_id, Vec::new())
        };
        assert_eq!(
            violation(
                store
                    .issue_invoices(&[fine, bad], t(31, 1), &TestIssuing)
                    .await
            ),
            Violation::Unique("invoice_lines_pkey".into())
        );
        for group in [&g3, &g4] {
            assert!(store
                .invoices_of_group(&group.billing_group_id)
                .await
                .unwrap()
                .is_empty());
            assert!(!store
                .events_of_group(&group.billing_group_id, 10)
                .await
                .unwrap()
                .iter()
                .any(|e| e.event_type == "invoice_issued"));
        }
    }
);

/// SQLite's migration 0007 rebuilds `invoice_lines` (see its comment):
/// lines written before it are all there afterwards, exactly, and the
/// line-type rule still holds.
#[tokio::test]
async fn sqlite_upgrade_to_0007_keeps_invoice_lines() {
    let db = crate::common::TestDb::sqlite().await;
    let (acme, group) = account(&db.store, "a1", "Acme").await;
    let invoice = NewInvoice {
        lines: lines_of("p", 40),
        ..invoice_using(&acme.account_id, &group.billing_group_id, Vec::new())
    };
    let issued = db
        .store
        .issue_invoices(std::slice::from_ref(&invoice), t(31, 1), &TestIssuing)
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let table_sql = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'invoice_lines'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    // Back to the table as migrations 0001 and 0004 left it, 0007 undone.
    sqlx::raw_sql(
        "CREATE TABLE lines_0006 (
            invoice_number   TEXT NOT NULL REFERENCES invoices (invoice_number) ON DELETE CASCADE,
            line_no          INTEGER NOT NULL,
            line_type        TEXT NOT NULL CONSTRAINT invoice_lines_type_check
                CHECK (line_type IN ('service_charge', 'credit_consumption', 'extra_charge', 'rounding', 'vat')),
            description      TEXT NOT NULL,
            project_name TEXT, service_name TEXT, service_type TEXT, service_plan TEXT,
            cloud_name TEXT, hours INTEGER, timestamp_begin TEXT, timestamp_end TEXT,
            line_total_usd TEXT NOT NULL, line_total_local TEXT NOT NULL, local_currency TEXT NOT NULL,
            credit_code TEXT,
            CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_number, line_no)
         );
         INSERT INTO lines_0006 SELECT * FROM invoice_lines;
         DROP TABLE invoice_lines;
         ALTER TABLE lines_0006 RENAME TO invoice_lines;
         CREATE INDEX invoice_lines_credit_idx ON invoice_lines (credit_code) WHERE credit_code IS NOT NULL;
         DELETE FROM _sqlx_migrations WHERE version = 7;",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(table_sql().await.contains("IN ("));

    let upgraded = billing_console::server::store::connect(&db.url, 1)
        .await
        .unwrap();
    assert!(!table_sql().await.contains("IN ("));
    assert_eq!(
        upgraded.invoice_lines(&issued[0]).await.unwrap(),
        invoice.lines
    );
    let refused = sqlx::query(
        "INSERT INTO invoice_lines (invoice_number, line_no, line_type, description,
             line_total_usd, line_total_local, local_currency)
         VALUES ($1, 99, 'discount', 'x', '1', '1', 'EUR')",
    )
    .bind(&issued[0])
    .execute(&pool)
    .await
    .map_err(StoreError::from);
    assert_eq!(
        violation(refused),
        Violation::Check("invoice_lines_type_check".into())
    );
    pool.close().await;
    upgraded.close().await;
    db.finish().await;
}

/// An SQLite database of the release before credit notes has `invoices`
/// with a table-wide one-invoice-per-month key, and (rebuilt once for the
/// state `issued`) stored as `CREATE TABLE "invoices"`. Opening it rebuilds
/// the table without that key, keeps every invoice and line, and keeps the
/// key for month-close invoices as a partial index.
#[tokio::test]
async fn sqlite_upgrade_to_0013_keeps_invoices_and_one_close_invoice_per_month() {
    let db = crate::common::TestDb::sqlite().await;
    let (acme, group) = account(&db.store, "a1", "Acme").await;
    let invoice = NewInvoice {
        lines: lines_of("p", 12),
        ..invoice_using(&acme.account_id, &group.billing_group_id, Vec::new())
    };
    let issued = db
        .store
        .issue_invoices(std::slice::from_ref(&invoice), t(31, 1), &TestIssuing)
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let table_sql = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'invoices'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let current = table_sql().await;
    let key = "    CONSTRAINT invoices_group_period_key UNIQUE (billing_group_id, period_begin),\n";
    let earlier = current
        .replacen(
            "CREATE TABLE \"invoices\" (",
            "CREATE TABLE invoices_earlier (",
            1,
        )
        .replacen(
            "CREATE TABLE invoices (",
            "CREATE TABLE invoices_earlier (",
            1,
        )
        .replacen(
            "    CONSTRAINT invoices_group_sequence_key",
            &format!("{key}    CONSTRAINT invoices_group_sequence_key"),
            1,
        );
    let mut connection = pool.acquire().await.unwrap();
    sqlx::raw_sql(&format!(
        "PRAGMA foreign_keys = OFF;
         {earlier};
         INSERT INTO invoices_earlier SELECT * FROM invoices;
         DROP TABLE invoices;
         ALTER TABLE invoices_earlier RENAME TO invoices;
         PRAGMA foreign_keys = ON;"
    ))
    .execute(&mut *connection)
    .await
    .unwrap();
    drop(connection);
    let earlier = table_sql().await;
    assert!(
        earlier.starts_with("CREATE TABLE \"invoices\""),
        "{earlier}"
    );
    assert!(earlier.contains(key));

    let upgraded = billing_console::server::store::connect(&db.url, 1)
        .await
        .unwrap();
    assert!(!table_sql().await.contains(key));
    assert_eq!(
        upgraded.invoice_lines(&issued[0]).await.unwrap(),
        invoice.lines
    );
    // A second close invoice for the month is still skipped.
    let again = upgraded
        .issue_invoices(std::slice::from_ref(&invoice), t(31, 2), &TestIssuing)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    pool.close().await;
    upgraded.close().await;
    db.finish().await;
}

on_both_backends!(price_rows_and_exchange_rates_are_saved_and_replaced, |db| {
    let row = |price: &str| PriceRecord {
        service_type: "pg".into(),
        plan: "business-4".into(),
        cloud_name: String::new(),
        valid_from: t(1, 0),
        hourly_price_usd: DbDecimal(dec(price)),
        node_count: 2,
        cpu_count: 2,
        memory_mb: 4096,
        disk_mb: 81920,
        imported_at: t(1, 0),
    };
    db.store.save_prices(&[row("0.5")]).await.unwrap();
    db.store.save_prices(&[row("0.55")]).await.unwrap();
    let stored = db.store.prices().await.unwrap();
    assert_eq!(stored, vec![row("0.55")], "same key: replaced, not added");
    let rate = |day: &str, value: &str| ExchangeRateRecord {
        currency: Currency::EUR,
        valid_from: day.parse().unwrap(),
        usd_rate: DbDecimal(dec(value)),
    };
    db.store
        .save_exchange_rates(&[rate("2026-10-01", "0.9"), rate("2026-10-05", "0.95")])
        .await
        .unwrap();
    db.store
        .save_exchange_rates(&[rate("2026-10-05", "0.96")])
        .await
        .unwrap();
    let in_force = db
        .store
        .exchange_rate_in_force(Currency::EUR, "2026-10-07".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_force, rate("2026-10-05", "0.96"));
    assert_eq!(db.store.exchange_rates().await.unwrap().len(), 2);
    // A bad row (a negative node count) is refused by the schema, whole.
    let bad = PriceRecord {
        node_count: 0,
        plan: "business-8".into(),
        ..row("1")
    };
    assert!(db.store.save_prices(&[row("0.6"), bad]).await.is_err());
    assert_eq!(db.store.prices().await.unwrap(), vec![row("0.55")]);
});
