//! Sign-in against a real store: one generic message, slowed-down guessing,
//! sessions that any instance can read.
#![cfg(feature = "ssr")]

mod common;

use billing_console::error::AppError;
use billing_console::server::auth;
use billing_console::server::store::NewUser;
use chrono::Duration;
use common::t;

on_both_backends!(
    sign_in_opens_a_session_and_refuses_wrong_credentials_alike,
    |db| {
        let hash = auth::hash_password("s3cret-pass").unwrap();
        db.store
            .create_user(
                &NewUser {
                    user_id: uuid::Uuid::new_v4().to_string(),
                    email: "ann@example.com".into(),
                    real_name: "Ann".into(),
                    password_hash: hash,
                },
                t(1, 0),
            )
            .await
            .unwrap();
        let (user, secret) = auth::sign_in(
            db.store.as_ref(),
            " Ann@Example.com ",
            "s3cret-pass",
            24,
            None,
            t(1, 0),
        )
        .await
        .unwrap();
        assert_eq!(user.email, "ann@example.com");
        // The cookie value is not what is stored; its hash finds the session.
        let session = db
            .store
            .session_user(&auth::secret_hash(&secret), t(1, 1))
            .await
            .unwrap();
        assert_eq!(session.map(|u| u.user_id), Some(user.user_id));
        assert!(db
            .store
            .session_user(&secret, t(1, 1))
            .await
            .unwrap()
            .is_none());

        let wrong_password = auth::sign_in(
            db.store.as_ref(),
            "ann@example.com",
            "nope",
            24,
            None,
            t(1, 0),
        )
        .await
        .unwrap_err();
        let unknown_email = auth::sign_in(
            db.store.as_ref(),
            "who@example.com",
            "nope",
            24,
            None,
            t(1, 0),
        )
        .await
        .unwrap_err();
        assert_eq!(wrong_password, AppError::InvalidCredentials);
        assert_eq!(wrong_password.to_string(), unknown_email.to_string());
    }
);

on_both_backends!(repeated_failures_for_one_email_are_slowed_down, |db| {
    let hash = auth::hash_password("s3cret-pass").unwrap();
    db.store
        .create_user(
            &NewUser {
                user_id: uuid::Uuid::new_v4().to_string(),
                email: "ann@example.com".into(),
                real_name: "Ann".into(),
                password_hash: hash,
            },
            t(1, 0),
        )
        .await
        .unwrap();
    for _ in 0..5 {
        let e = auth::sign_in(
            db.store.as_ref(),
            "ann@example.com",
            "guess",
            24,
            None,
            t(1, 0),
        )
        .await
        .unwrap_err();
        assert_eq!(e, AppError::InvalidCredentials);
    }
    // Even the right password waits now…
    let blocked = auth::sign_in(
        db.store.as_ref(),
        "ann@example.com",
        "s3cret-pass",
        24,
        None,
        t(1, 0),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            blocked,
            AppError::TooManyAttempts {
                retry_after_seconds: 1
            }
        ),
        "{blocked:?}"
    );
    // …until the back-off has passed; success clears the count.
    let later = t(1, 0) + Duration::seconds(2);
    auth::sign_in(
        db.store.as_ref(),
        "ann@example.com",
        "s3cret-pass",
        24,
        None,
        later,
    )
    .await
    .unwrap();
    assert!(db
        .store
        .login_failures("ann@example.com")
        .await
        .unwrap()
        .is_none());
});

on_both_backends!(many_failures_from_one_address_pause_that_address, |db| {
    use billing_console::server::auth::{CLIENT_FAILURE_LIMIT, CLIENT_FAILURE_WINDOW_MINUTES};
    let store = db.store.as_ref();
    let hash = auth::hash_password("s3cret-pass").unwrap();
    store
        .create_user(
            &NewUser {
                user_id: uuid::Uuid::new_v4().to_string(),
                email: "ann@example.com".into(),
                real_name: "Ann".into(),
                password_hash: hash,
            },
            t(1, 0),
        )
        .await
        .unwrap();
    let guesser: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let neighbour: std::net::IpAddr = "203.0.113.8".parse().unwrap();
    // A different email each time: the per-email back-off never triggers.
    for i in 0..CLIENT_FAILURE_LIMIT {
        let e = auth::sign_in(
            store,
            &format!("victim{i}@example.com"),
            "guess",
            24,
            Some(guesser),
            t(1, 0),
        )
        .await
        .unwrap_err();
        assert_eq!(e, AppError::InvalidCredentials, "attempt {i}");
    }
    // Now even a right password from that address waits; another address does not.
    let blocked = auth::sign_in(
        store,
        "ann@example.com",
        "s3cret-pass",
        24,
        Some(guesser),
        t(1, 0),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(blocked, AppError::TooManyAttempts { retry_after_seconds } if retry_after_seconds > 0)
    );
    auth::sign_in(
        store,
        "ann@example.com",
        "s3cret-pass",
        24,
        Some(neighbour),
        t(1, 0),
    )
    .await
    .unwrap();
    // The window passes, and the address is welcome again, counting from one.
    let later = t(1, 0) + chrono::Duration::minutes(CLIENT_FAILURE_WINDOW_MINUTES + 1);
    auth::sign_in(
        store,
        "ann@example.com",
        "s3cret-pass",
        24,
        Some(guesser),
        later,
    )
    .await
    .unwrap();
    auth::sign_in(store, "x@example.com", "guess", 24, Some(guesser), later)
        .await
        .unwrap_err();
    let state = store
        .client_login_failures("203.0.113.7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.failures, 1);
    assert_eq!(state.window_start, later);
});
