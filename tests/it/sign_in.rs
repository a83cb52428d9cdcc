//! Sign-in against a real store (issue 15): one generic message; guessing
//! is slowed down per (email, address) pair, per address and per email, but
//! nobody can keep a user with the right password out — another address,
//! a browser the user signed in with before, and a busy address all still
//! get in; sessions any instance can read.

use std::net::IpAddr;

use crate::common::t;
use billing_console::error::AppError;
use billing_console::model::ids::UserId;
use billing_console::server::auth;
use billing_console::server::sign_in::{self, Attempt, ADDRESS_SLOW_AFTER, PAIR_FREE_FAILURES};
use billing_console::server::store::{DynStore, NewUser};
use chrono::{DateTime, Duration, Utc};

const PASSWORD: &str = "s3cret-pass";

async fn ann(store: &DynStore) {
    store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email: "ann@example.com".into(),
                real_name: "Ann".into(),
                password_hash: auth::hash_password(PASSWORD).unwrap(),
                is_operator: false,
            },
            t(1, 0),
        )
        .await
        .unwrap();
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

async fn try_sign_in(
    store: &DynStore,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
    device: Option<&str>,
    at: DateTime<Utc>,
) -> Result<sign_in::Verified, AppError> {
    sign_in::check_credentials(
        store.as_ref(),
        &Attempt {
            email,
            password,
            client,
            device_cookie: device,
        },
        at,
    )
    .await
}

on_both_backends!(
    sign_in_opens_a_session_and_refuses_wrong_credentials_alike,
    |db| {
        ann(&db.store).await;
        let verified = try_sign_in(
            &db.store,
            " Ann@Example.com ",
            PASSWORD,
            None,
            None,
            t(1, 0),
        )
        .await
        .unwrap();
        assert_eq!(verified.user.email, "ann@example.com");
        let secret =
            auth::open_session(db.store.as_ref(), &verified.user.user_id, 24, None, t(1, 0))
                .await
                .unwrap();
        // The cookie value is not what is stored; its hash finds the session.
        let session = db
            .store
            .session_user(&auth::secret_hash(&secret), t(1, 1), t(1, 1), "")
            .await
            .unwrap();
        assert_eq!(session.map(|u| u.user_id), Some(verified.user.user_id));
        assert!(db
            .store
            .session_user(&secret, t(1, 1), t(1, 1), "")
            .await
            .unwrap()
            .is_none());
        let wrong_password = try_sign_in(&db.store, "ann@example.com", "nope", None, None, t(1, 0))
            .await
            .unwrap_err();
        let unknown_email = try_sign_in(&db.store, "who@example.com", "nope", None, None, t(1, 0))
            .await
            .unwrap_err();
        assert_eq!(wrong_password, AppError::InvalidCredentials);
        assert_eq!(wrong_password.to_string(), unknown_email.to_string());
    }
);

on_both_backends!(
    guessing_from_one_address_waits_but_the_user_elsewhere_gets_in,
    |db| {
        ann(&db.store).await;
        let guesser = ip("203.0.113.7");
        for _ in 0..PAIR_FREE_FAILURES {
            let e = try_sign_in(
                &db.store,
                "ann@example.com",
                "guess",
                guesser,
                None,
                t(1, 0),
            )
            .await
            .unwrap_err();
            assert_eq!(e, AppError::InvalidCredentials);
        }
        // That pair now waits, the right password too…
        let waiting = try_sign_in(
            &db.store,
            "ann@example.com",
            PASSWORD,
            guesser,
            None,
            t(1, 0),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                waiting,
                AppError::TooManyAttempts {
                    retry_after_seconds: 2
                }
            ),
            "{waiting:?}"
        );
        // …but Ann at her own address is not held up at all.
        try_sign_in(
            &db.store,
            "ann@example.com",
            PASSWORD,
            ip("198.51.100.20"),
            None,
            t(1, 0),
        )
        .await
        .unwrap();
        // Each further failure doubles the pair's wait; it passes.
        let later = t(1, 0) + Duration::seconds(3);
        try_sign_in(&db.store, "ann@example.com", "guess", guesser, None, later)
            .await
            .unwrap_err();
        let longer = try_sign_in(&db.store, "ann@example.com", PASSWORD, guesser, None, later)
            .await
            .unwrap_err();
        assert!(
            matches!(
                longer,
                AppError::TooManyAttempts {
                    retry_after_seconds: 4
                }
            ),
            "{longer:?}"
        );
        try_sign_in(
            &db.store,
            "ann@example.com",
            PASSWORD,
            guesser,
            None,
            later + Duration::seconds(5),
        )
        .await
        .unwrap();
    }
);

on_both_backends!(
    a_browser_that_signed_in_before_gets_in_behind_the_guessers_address,
    |db| {
        ann(&db.store).await;
        let office = ip("203.0.113.50");
        // Ann signed in from the office before: her browser has a device cookie.
        let device = try_sign_in(
            &db.store,
            "ann@example.com",
            PASSWORD,
            office,
            None,
            t(1, 0),
        )
        .await
        .unwrap()
        .device_cookie;
        // Someone behind the same NAT guesses her password.
        for _ in 0..PAIR_FREE_FAILURES + 3 {
            try_sign_in(&db.store, "ann@example.com", "guess", office, None, t(1, 1))
                .await
                .unwrap_err();
        }
        assert!(matches!(
            try_sign_in(
                &db.store,
                "ann@example.com",
                PASSWORD,
                office,
                None,
                t(1, 1)
            )
            .await,
            Err(AppError::TooManyAttempts { .. })
        ));
        // Her browser still gets in.
        try_sign_in(
            &db.store,
            "ann@example.com",
            PASSWORD,
            office,
            Some(&device),
            t(1, 1),
        )
        .await
        .unwrap();
        // A forged cookie, or hers presented for another email, is not trusted.
        let forged = format!("{}.00ff", device.split('.').next().unwrap());
        assert!(matches!(
            try_sign_in(
                &db.store,
                "ann@example.com",
                PASSWORD,
                office,
                Some(&forged),
                t(1, 1)
            )
            .await,
            Err(AppError::TooManyAttempts { .. })
        ));
        // A trusted browser that keeps failing loses its trust: it waits
        // with the rest of its address.
        for _ in 0..sign_in::DEVICE_FAILURES_ALLOWED {
            try_sign_in(
                &db.store,
                "ann@example.com",
                "guess",
                office,
                Some(&device),
                t(1, 1),
            )
            .await
            .unwrap_err();
        }
        assert!(matches!(
            try_sign_in(
                &db.store,
                "ann@example.com",
                PASSWORD,
                office,
                Some(&device),
                t(1, 1)
            )
            .await,
            Err(AppError::TooManyAttempts { .. })
        ));
    }
);

on_both_backends!(
    many_failures_from_one_address_slow_it_down_but_never_refuse,
    |db| {
        ann(&db.store).await;
        let busy = ip("203.0.113.9");
        // Many emails guessed from one address (each pair under its limit).
        for i in 0..ADDRESS_SLOW_AFTER {
            let e = try_sign_in(
                &db.store,
                &format!("victim{i}@example.com"),
                "guess",
                busy,
                None,
                t(1, 0),
            )
            .await
            .unwrap_err();
            assert_eq!(e, AppError::InvalidCredentials, "attempt {i}");
        }
        // The right password from that address still signs in — slower.
        let started = std::time::Instant::now();
        try_sign_in(&db.store, "ann@example.com", PASSWORD, busy, None, t(1, 0))
            .await
            .unwrap();
        assert!(
            started.elapsed() >= std::time::Duration::from_secs(1),
            "answered in {:?}, without the slow-down",
            started.elapsed()
        );
        // The window passes and the address is answered at once again.
        let later = t(1, 0) + Duration::minutes(sign_in::ADDRESS_WINDOW_MINUTES + 1);
        let started = std::time::Instant::now();
        try_sign_in(&db.store, "ann@example.com", PASSWORD, busy, None, later)
            .await
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
);
