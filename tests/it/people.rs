//! People (issue 16), on both backends: first-run setup, operators,
//! invitations, roles and the last-admin rule (also under concurrency),
//! the account's log, password changes and sessions.

use std::sync::Arc;

use crate::common::{join, operator, t, user};
use billing_console::error::AppError;
use billing_console::model::ids::{AccountId, UserId};
use billing_console::model::people::InvitationState;
use billing_console::model::{CurrentUser, Role};
use billing_console::server::auth;
use billing_console::server::billing::setup::{self, SetupForm};
use billing_console::server::billing::{accounts, members, profile};
use billing_console::server::store::{DynStore, Store};
use chrono::{Duration, Utc};

const GOOD_PASSWORD: &str = "correct horse battery";

fn form(token: &str) -> SetupForm {
    SetupForm {
        token: token.into(),
        real_name: "Olga Operator".into(),
        email: "olga@example.com".into(),
        password: GOOD_PASSWORD.into(),
        account_name: "First Corp".into(),
        billing_currency: "EUR".into(),
    }
}

fn field(error: &AppError, name: &str) -> String {
    error
        .field_message(name)
        .unwrap_or_else(|| panic!("no message for {name}: {error:?}"))
}

on_both_backends!(
    first_run_setup_creates_one_operator_and_account_and_then_refuses,
    |db| {
        let store = db.store.as_ref();
        let now = Utc::now();
        let first = setup::new_setup_token(store, now).await.unwrap().unwrap();
        // A restart prints a new link; the old one stops working.
        let token = setup::new_setup_token(store, now).await.unwrap().unwrap();
        assert_ne!(first, token);
        assert!(setup::check_token(store, &first).await.is_err());
        setup::check_token(store, &token).await.unwrap();

        // Bad input: every field named, nothing written.
        let bad = SetupForm {
            real_name: " ".into(),
            email: "not-an-email".into(),
            password: "short".into(),
            account_name: "".into(),
            billing_currency: "XYZ".into(),
            ..form(&token)
        };
        let error = setup::complete_setup(store, &bad, now).await.unwrap_err();
        for name in [
            "real_name",
            "email",
            "password",
            "account_name",
            "billing_currency",
        ] {
            field(&error, name);
        }
        assert_eq!(error.status().as_u16(), 400);
        assert_eq!(store.user_count().await.unwrap(), 0);
        let wrong = setup::complete_setup(store, &form("0123"), now)
            .await
            .unwrap_err();
        assert!(field(&wrong, "token").contains("not valid"));
        assert_eq!(store.user_count().await.unwrap(), 0);

        let olga = setup::complete_setup(store, &form(&token), now)
            .await
            .unwrap();
        assert!(olga.is_operator);
        let mine = store.accounts_of_user(&olga.user_id).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].role, Role::Admin);
        assert_eq!(mine[0].account_name, "First Corp");
        let account = store.account(&mine[0].account_id).await.unwrap().unwrap();
        let primary = store
            .billing_group(&account.primary_billing_group_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(primary.billing_currency.code(), "EUR");
        let log = store.account_events(&account.account_id, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].event_type, "account_created");

        // The link works once, and no new one is made once a user exists.
        let again = setup::complete_setup(
            store,
            &SetupForm {
                email: "mallory@example.com".into(),
                ..form(&token)
            },
            now,
        )
        .await
        .unwrap_err();
        field(&again, "token");
        assert_eq!(store.user_count().await.unwrap(), 1);
        assert_eq!(setup::new_setup_token(store, now).await.unwrap(), None);
    }
);

on_both_backends!(two_setups_at_once_create_one_operator, |db| {
    let store: DynStore = db.store.clone();
    let token = setup::new_setup_token(store.as_ref(), Utc::now())
        .await
        .unwrap()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (store, token) = (store.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let form = SetupForm {
                email: format!("op{i}@example.com"),
                account_name: format!("Corp {i}"),
                ..form(&token)
            };
            setup::complete_setup(store.as_ref(), &form, Utc::now()).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(store.user_count().await.unwrap(), 1);
});

/// An account with its admin (who created it).
async fn account_of(store: &DynStore, admin: &CurrentUser) -> AccountId {
    accounts::create_account(store.as_ref(), admin, "Acme", "EUR", t(1, 0))
        .await
        .unwrap()
        .0
        .account_id
}

on_both_backends!(
    invitations_are_bound_to_their_email_used_once_and_expire,
    |db| {
        let store = db.store.as_ref();
        let ada = user(&db.store, "ada@example.com").await;
        let acme = account_of(&db.store, &ada).await;
        let now = Utc::now();

        // Bad input: field messages, nothing written.
        let bad = members::invite(store, &ada, &acme, "nope", "owner", None, now)
            .await
            .unwrap_err();
        field(&bad, "email");
        field(&bad, "role");
        let own = members::invite(store, &ada, &acme, "ADA@example.com", "viewer", None, now)
            .await
            .unwrap_err();
        assert!(field(&own, "email").contains("already a member"));
        assert!(store.open_invitations(&acme).await.unwrap().is_empty());

        let invited = members::invite(store, &ada, &acme, "Bea@Example.com", "billing", None, now)
            .await
            .unwrap();
        assert_eq!(invited.invitation.email, "bea@example.com");
        let lifetime = invited.invitation.expire_time - now;
        assert!(
            (lifetime - Duration::days(members::INVITATION_DAYS)).abs() < Duration::milliseconds(1),
            "{lifetime}"
        );
        let twice = members::invite(store, &ada, &acme, "bea@example.com", "viewer", None, now)
            .await
            .unwrap_err();
        assert!(field(&twice, "email").contains("open invitation"));
        // The token is stored only as its hash.
        assert!(store
            .invitation_by_token(&invited.token)
            .await
            .unwrap()
            .is_none());

        // The link's page, signed out: a new person is asked for a name.
        let view = members::invitation_view(store, &invited.token, None, now)
            .await
            .unwrap();
        assert_eq!(view.state, InvitationState::Open);
        assert_eq!(view.role, Role::Billing);
        assert!(!view.user_exists);

        // A weak password is refused and writes nothing.
        let weak = members::accept_as_new_user(store, &invited.token, "Bea", "password", now)
            .await
            .unwrap_err();
        field(&weak, "password");
        assert!(store
            .user_by_email("bea@example.com")
            .await
            .unwrap()
            .is_none());

        let (bea, _) =
            members::accept_as_new_user(store, &invited.token, "Bea Billing", GOOD_PASSWORD, now)
                .await
                .unwrap();
        assert_eq!(
            store.member_role(&bea.user_id, &acme).await.unwrap(),
            Some(Role::Billing)
        );
        assert!(auth::verify_password(&bea.password_hash, GOOD_PASSWORD));
        // Used once.
        let reused = members::accept_as_new_user(store, &invited.token, "Eve", GOOD_PASSWORD, now)
            .await
            .unwrap_err();
        assert!(field(&reused, "token").contains("already been used"));
        let view = members::invitation_view(store, &invited.token, None, now)
            .await
            .unwrap();
        assert_eq!(view.state, InvitationState::Accepted);

        // Bound to the invited email: someone else signed in cannot take it.
        let carl = user(&db.store, "carl@example.com").await;
        let for_dan = members::invite(store, &ada, &acme, "dan@example.com", "viewer", None, now)
            .await
            .unwrap();
        let foreign = members::accept_as_member(store, &carl, &for_dan.token, now)
            .await
            .unwrap_err();
        assert!(field(&foreign, "token").contains("dan@example.com"));
        assert_eq!(store.member_role(&carl.user_id, &acme).await.unwrap(), None);

        // An existing user accepts while signed in as the invited email.
        let for_carl = members::invite(store, &ada, &acme, "carl@example.com", "viewer", None, now)
            .await
            .unwrap();
        let new_for_carl =
            members::accept_as_new_user(store, &for_carl.token, "C", GOOD_PASSWORD, now)
                .await
                .unwrap_err();
        assert!(field(&new_for_carl, "token").contains("sign in"));
        members::accept_as_member(store, &carl, &for_carl.token, now)
            .await
            .unwrap();
        assert_eq!(
            store.member_role(&carl.user_id, &acme).await.unwrap(),
            Some(Role::Viewer)
        );

        // Expired, revoked and unknown links say so.
        let later = now + Duration::days(members::INVITATION_DAYS) + Duration::minutes(1);
        let expired =
            members::accept_as_new_user(store, &for_dan.token, "Dan", GOOD_PASSWORD, later)
                .await
                .unwrap_err();
        assert!(field(&expired, "token").contains("expired"));
        // An expired invitation gives way to a new one.
        let renewed = members::invite(store, &ada, &acme, "dan@example.com", "viewer", None, later)
            .await
            .unwrap();
        members::revoke_invitation(store, &ada, &acme, &renewed.invitation.invitation_id, later)
            .await
            .unwrap();
        let revoked =
            members::accept_as_new_user(store, &renewed.token, "Dan", GOOD_PASSWORD, later)
                .await
                .unwrap_err();
        assert!(field(&revoked, "token").contains("revoked"));
        let unknown = members::invitation_view(store, "f00", None, now)
            .await
            .unwrap_err();
        field(&unknown, "token");
        assert_eq!(unknown.status().as_u16(), 400);

        // Only admins invite and revoke.
        let forbidden = members::invite(
            store,
            &bea.current(),
            &acme,
            "x@example.com",
            "viewer",
            None,
            now,
        )
        .await
        .unwrap_err();
        assert!(matches!(forbidden, AppError::Forbidden { .. }));

        // Each step is in the account's log.
        let types: Vec<String> = store
            .account_events(&acme, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        for expected in ["member_invited", "member_joined", "invitation_revoked"] {
            assert!(
                types.iter().any(|t| t == expected),
                "{expected} in {types:?}"
            );
        }
    }
);

on_both_backends!(
    the_last_admin_cannot_be_removed_or_demoted_but_roles_change_otherwise,
    |db| {
        let store = db.store.as_ref();
        let ada = user(&db.store, "ada@example.com").await;
        let acme = account_of(&db.store, &ada).await;
        let vic = user(&db.store, "vic@example.com").await;
        join(store, &acme, &vic, Role::Viewer).await;
        let now = Utc::now();

        let demote = members::change_role(store, &ada, &acme, &ada.user_id, "billing", now)
            .await
            .unwrap_err();
        assert!(field(&demote, "role").contains("at least one admin"));
        let leave = members::remove_member(store, &ada, &acme, &ada.user_id, now)
            .await
            .unwrap_err();
        assert!(field(&leave, "role").contains("at least one admin"));
        assert_eq!(
            store.member_role(&ada.user_id, &acme).await.unwrap(),
            Some(Role::Admin)
        );

        // Viewers change nothing but may leave.
        let forbidden = members::change_role(store, &vic, &acme, &vic.user_id, "admin", now)
            .await
            .unwrap_err();
        assert!(matches!(forbidden, AppError::Forbidden { .. }));
        let same = members::change_role(store, &ada, &acme, &vic.user_id, "viewer", now)
            .await
            .unwrap_err();
        field(&same, "role");
        let promoted = members::change_role(store, &ada, &acme, &vic.user_id, "admin", now)
            .await
            .unwrap();
        assert_eq!(promoted.role, Role::Admin);
        // With a second admin, the first may step down, and then leave.
        members::change_role(store, &ada, &acme, &ada.user_id, "viewer", now)
            .await
            .unwrap();
        members::remove_member(store, &ada, &acme, &ada.user_id, now)
            .await
            .unwrap();
        assert_eq!(store.member_role(&ada.user_id, &acme).await.unwrap(), None);
        // A foreign or unknown member is not found.
        let missing = members::remove_member(store, &vic, &acme, &UserId::from("nobody"), now)
            .await
            .unwrap_err();
        assert_eq!(missing.status().as_u16(), 404);
        let types: Vec<String> = store
            .account_events(&acme, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            &types[..3],
            ["member_left", "member_role_changed", "member_role_changed"]
        );
        // The schema holds the rule whatever writes.
        let raw = db
            .raw(&format!(
                "DELETE FROM memberships WHERE account_id = '{acme}' AND user_id = '{}'",
                vic.user_id
            ))
            .await;
        assert!(raw.is_err(), "the last admin was deleted");
    }
);

on_both_backends!(
    two_admins_demoting_each_other_at_once_leave_one_admin,
    |db| {
        let store: DynStore = db.store.clone();
        for round in 0..6 {
            let ada = user(&store, &format!("ada{round}@example.com")).await;
            let bob = user(&store, &format!("bob{round}@example.com")).await;
            let acme = account_of(&store, &ada).await;
            join(store.as_ref(), &acme, &bob, Role::Admin).await;
            let (ada, bob) = (Arc::new(ada), Arc::new(bob));
            let demote = |by: Arc<CurrentUser>, whom: Arc<CurrentUser>| {
                let (store, acme) = (store.clone(), acme.clone());
                tokio::spawn(async move {
                    members::change_role(
                        store.as_ref(),
                        &by,
                        &acme,
                        &whom.user_id,
                        "viewer",
                        Utc::now(),
                    )
                    .await
                })
            };
            let (first, second) = tokio::join!(
                demote(ada.clone(), bob.clone()),
                demote(bob.clone(), ada.clone())
            );
            let (first, second) = (first.unwrap(), second.unwrap());
            assert!(
                first.is_ok() != second.is_ok(),
                "exactly one demotion goes through: {first:?} {second:?}"
            );
            let admins = store
                .members(&acme)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.role == Role::Admin)
                .count();
            assert_eq!(admins, 1, "round {round}");
        }
    }
);

on_both_backends!(operators_see_and_create_accounts_and_join_them, |db| {
    let store = db.store.as_ref();
    let olga = operator(&db.store, "olga@example.com").await;
    let ada = user(&db.store, "ada@example.com").await;
    let acme = account_of(&db.store, &ada).await;
    let now = Utc::now();

    let refused = accounts::all_accounts(store, &ada).await.unwrap_err();
    assert_eq!(refused, AppError::OperatorsOnly);
    assert_eq!(refused.status().as_u16(), 403);
    let refused = accounts::create_account_as_operator(store, &ada, "Mine", "USD", now)
        .await
        .unwrap_err();
    assert_eq!(refused, AppError::OperatorsOnly);

    let listed = accounts::all_accounts(store, &olga).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].admins, vec!["ada@example.com".to_string()]);
    assert_eq!(listed[0].your_role, None);
    // Not a member: the account's data is not found for the operator.
    let hidden = members::members_page(store, &olga, &acme, false, now)
        .await
        .unwrap_err();
    assert_eq!(hidden.status().as_u16(), 404);

    let bad = accounts::create_account_as_operator(store, &olga, " ", "ABC", now)
        .await
        .unwrap_err();
    field(&bad, "account_name");
    field(&bad, "billing_currency");
    let (globex, group) = accounts::create_account_as_operator(store, &olga, "Globex", "", now)
        .await
        .unwrap();
    assert_eq!(group.billing_currency.code(), "USD", "USD by default");
    assert_eq!(
        store
            .member_role(&olga.user_id, &AccountId::from(&globex.account_id))
            .await
            .unwrap(),
        Some(Role::Admin)
    );

    accounts::operator_join(store, &olga, &acme, now)
        .await
        .unwrap();
    members::members_page(store, &olga, &acme, false, now)
        .await
        .unwrap();
    let log = store.account_events(&acme, 5).await.unwrap();
    assert_eq!(log[0].event_type, "member_added");
    assert!(log[0].event_desc.contains("operator"));
    let renamed = accounts::rename_account(store, &olga, &acme, "Acme Oy", now)
        .await
        .unwrap();
    assert_eq!(renamed.account_name, "Acme Oy");
    assert_eq!(
        store.account_events(&acme, 1).await.unwrap()[0].event_type,
        "account_renamed"
    );
});

on_both_backends!(
    changing_the_password_ends_other_sessions_and_revokes_tokens,
    |db| {
        let store = db.store.as_ref();
        let now = Utc::now();
        let ann = setup::create_user(store, "ann@example.com", "Ann", GOOD_PASSWORD, false, now)
            .await
            .unwrap()
            .current();
        let here = auth::open_session(store, &ann.user_id, 24, None, now)
            .await
            .unwrap();
        let elsewhere = auth::open_session(store, &ann.user_id, 24, None, now)
            .await
            .unwrap();
        billing_console::server::tokens::create(store, &ann, "ci", now)
            .await
            .unwrap();
        let here_hash = auth::secret_hash(&here);
        let sessions = profile::sessions(store, &ann, Some(&here_hash), now)
            .await
            .unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);

        let wrong = profile::change_password(
            store,
            &ann,
            "guess",
            "another fine horse",
            Some(&here_hash),
            now,
        )
        .await
        .unwrap_err();
        field(&wrong, "current_password");
        let weak =
            profile::change_password(store, &ann, GOOD_PASSWORD, "short", Some(&here_hash), now)
                .await
                .unwrap_err();
        field(&weak, "new_password");
        assert_eq!(
            profile::sessions(store, &ann, None, now)
                .await
                .unwrap()
                .len(),
            2,
            "a refused change ends nothing"
        );

        let (report, rotated) = profile::change_password(
            store,
            &ann,
            GOOD_PASSWORD,
            "another fine horse",
            Some(&here_hash),
            now,
        )
        .await
        .unwrap();
        assert_eq!((report.sessions_ended, report.tokens_revoked), (1, 1));
        assert!(report.message().contains("1 other session was signed out"));
        // This browser stays signed in, under a new secret: the old cookie
        // (perhaps stolen, the reason for the change) no longer works.
        let rotated = rotated.expect("a new session secret");
        assert_ne!(rotated, here);
        assert!(
            auth::user_from_headers(store, &cookie(&here), None, now)
                .await
                .unwrap()
                .is_none(),
            "the old session cookie is rotated away"
        );
        let still = auth::user_from_headers(store, &cookie(&rotated), None, now)
            .await
            .unwrap();
        assert!(still.is_some(), "this browser stays signed in");
        let here = rotated;
        let here_hash = auth::secret_hash(&here);
        assert!(
            auth::user_from_headers(store, &cookie(&elsewhere), None, now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store
            .api_tokens_of_user(&ann.user_id)
            .await
            .unwrap()
            .is_empty());
        let user = store.user(&ann.user_id).await.unwrap().unwrap();
        assert!(auth::verify_password(
            &user.password_hash,
            "another fine horse"
        ));

        // Sign out everywhere else.
        auth::open_session(store, &ann.user_id, 24, None, now)
            .await
            .unwrap();
        assert_eq!(
            profile::sign_out_other_sessions(store, &ann, Some(&here_hash))
                .await
                .unwrap(),
            1
        );
    }
);

fn cookie(secret: &str) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::COOKIE,
        format!("{}={secret}", auth::SESSION_COOKIE)
            .parse()
            .unwrap(),
    );
    headers
}

on_both_backends!(a_session_notes_its_last_use_at_most_once_a_minute, |db| {
    let store: &dyn Store = db.store.as_ref();
    let ann = user(&db.store, "ann@example.com").await;
    let t0 = t(1, 0);
    store
        .create_session("h1", &ann.user_id, t0, t(5, 0), "192.0.2.1")
        .await
        .unwrap();
    let user_id = ann.user_id.as_str();
    let used = |at| async move {
        store
            .session_user("h1", at, at - Duration::minutes(1), "192.0.2.9")
            .await
            .unwrap()
            .unwrap();
        store
            .sessions_of_user(&UserId::from(user_id), at)
            .await
            .unwrap()[0]
            .clone()
    };
    let s = used(t0 + Duration::seconds(30)).await;
    assert_eq!(s.last_used_time, Some(t0), "not written within the minute");
    assert_eq!(s.client_address, "192.0.2.1");
    let s = used(t0 + Duration::seconds(90)).await;
    assert_eq!(s.last_used_time, Some(t0 + Duration::seconds(90)));
    assert_eq!(s.client_address, "192.0.2.9");
    assert_eq!(
        store
            .user(&ann.user_id)
            .await
            .unwrap()
            .unwrap()
            .last_sign_in_time,
        Some(t0)
    );
});
