//! Fresh databases for tests: a new SQLite file per test, and when
//! `TEST_DATABASE_URL` is set a new PostgreSQL database per test.

use std::sync::Arc;

use axum::Router;
use billing_console::model::ids::{AccountId, GroupId, UserId};
use billing_console::server::config::Config;
use billing_console::server::{self as app_server, demo, AppState};

use billing_console::model::{CurrentUser, Role};
use billing_console::server::store::{
    self, DynStore, EventFilter, EventRecord, NewUser, Store, StoreError, StoreResult,
};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::Connection;

pub struct TestDb {
    pub store: DynStore,
    pub url: String,
    cleanup: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join("billing-console-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}/{}.db", dir.display(), uuid::Uuid::new_v4());
        let store = store::connect(&url, 4).await.expect("sqlite store");
        TestDb {
            store,
            url,
            cleanup: None,
        }
    }

    /// None when TEST_DATABASE_URL is unset (the PostgreSQL half is skipped).
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("bc_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        let store = store::connect(&url, 4).await.expect("postgres store");
        Some(TestDb {
            store,
            url,
            cleanup: Some((admin_url, name)),
        })
    }

    /// Runs raw SQL against the same database, for checks of the schema's
    /// own rules that no store method would ever attempt.
    pub async fn raw(&self, sql: &str) -> Result<u64, StoreError> {
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut conn)
                .await?;
            Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
        }
    }

    pub async fn finish(self) {
        let TestDb {
            store,
            url,
            cleanup,
        } = self;
        drop(store);
        if let Some((admin_url, name)) = cleanup {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
}

pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let root = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    format!("{root}/{database}{query}")
}

/// Defines one test per backend from one body: `<name>_sqlite` always runs,
/// `<name>_postgres` runs when TEST_DATABASE_URL is set.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &$crate::common::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                body(&db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::common::TestDb::postgres().await else {
                    eprintln!("TEST_DATABASE_URL unset: PostgreSQL half skipped");
                    return;
                };
                body(&db).await;
                db.finish().await;
            }
        }
    };
}

/// A decimal from its text (amounts in tests are written as text).
pub fn d(text: &str) -> rust_decimal::Decimal {
    text.parse().expect("a decimal")
}

/// 2026-11-01 00:05: October has ended.
pub fn after_october() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 5, 0)
        .single()
        .expect("valid time")
}

pub fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, hour, 0, 0)
        .single()
        .expect("valid time")
}

/// A user with a throwaway (cheap, not argon2) hash: these tests are about
/// storage, not passwords.
pub async fn user(store: &DynStore, email: &str) -> CurrentUser {
    new_user(store, email, false).await
}

/// An operator (instance administrator), with a throwaway hash.
pub async fn operator(store: &DynStore, email: &str) -> CurrentUser {
    new_user(store, email, true).await
}

async fn new_user(store: &DynStore, email: &str, is_operator: bool) -> CurrentUser {
    store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email: email.into(),
                real_name: format!("User {email}"),
                password_hash: "x".into(),
                is_operator,
            },
            t(1, 0),
        )
        .await
        .expect("create user")
        .current()
}

/// Adds `user` to the account with `role` (and its account event).
pub async fn join(store: &dyn Store, account_id: &str, user: &CurrentUser, role: Role) {
    store
        .add_member(
            &AccountId::from(account_id),
            &user.user_id,
            role,
            &billing_console::server::billing::members::added_event(
                &AccountId::from(account_id),
                "test",
                &user.email,
                role,
                t(1, 0),
            ),
            t(1, 0),
        )
        .await
        .expect("add member");
}

/// The whole HTTP surface in process, over this database with demo data.
pub async fn app(db: &TestDb, trusted_proxies: &str) -> Router {
    app_at(db, trusted_proxies, "").await
}

/// [`app`] served under `base_path` (BASE_PATH).
pub async fn app_at(db: &TestDb, trusted_proxies: &str, base_path: &str) -> Router {
    let config = Config::load(
        std::path::Path::new("/nonexistent/Leptos.toml"),
        false,
        |key| match key {
            "TRUSTED_PROXIES" => Some(trusted_proxies.to_string()),
            "BASE_PATH" => Some(base_path.to_string()),
            "DATABASE_URL" => Some(db.url.clone()),
            // Demo data, and so the demo's seller.
            "BILLING_DEMO" => Some("true".to_string()),
            _ => None,
        },
    )
    .expect("config");
    demo::seed_if_empty(
        db.store.as_ref(),
        &config.seller,
        TEST_LINKS,
        Utc::now(),
        true,
    )
    .await
    .expect("demo data");
    app_server::router(AppState {
        leptos_options: app_server::leptos_options(&config),
        bundle: Arc::new(app_server::bundle(&config)),
        store: db.store.clone(),
        clock: config.clock(),
        webhooks: Arc::new(app_server::webhook_sender::HttpTransport::new(
            config.webhook_allow_private_targets,
        )),
        config: Arc::new(config),
        draining: Arc::default(),
    })
}

/// A group's events, newest first (the first page of the keyset paging).
pub trait EventsOfGroup {
    async fn events_of_group(&self, group: &str, limit: i64) -> StoreResult<Vec<EventRecord>>;
}

impl EventsOfGroup for dyn Store {
    async fn events_of_group(&self, group: &str, limit: i64) -> StoreResult<Vec<EventRecord>> {
        self.events(
            &GroupId::from(group),
            &EventFilter {
                limit,
                ..Default::default()
            },
        )
        .await
    }
}

/// The whole HTTP surface over this database as it is (no demo data), on
/// the given clock.
pub async fn app_on_clock(db: &TestDb, clock: billing_console::server::clock::Clock) -> Router {
    app_with(db, &[], clock).await
}

/// The HTTP surface with settings from `env` (as environment variables),
/// over this database as it is, on the given clock.
pub async fn app_with(
    db: &TestDb,
    env: &[(&str, &str)],
    clock: billing_console::server::clock::Clock,
) -> Router {
    let config = Config::load(
        std::path::Path::new("/nonexistent/Leptos.toml"),
        false,
        |key| match key {
            "DATABASE_URL" => Some(db.url.clone()),
            other => env
                .iter()
                .find(|(k, _)| *k == other)
                .map(|(_, v)| v.to_string()),
        },
    )
    .expect("config");
    app_server::router(AppState {
        leptos_options: app_server::leptos_options(&config),
        bundle: Arc::new(app_server::bundle(&config)),
        store: db.store.clone(),
        clock,
        webhooks: Arc::new(app_server::webhook_sender::HttpTransport::new(
            config.webhook_allow_private_targets,
        )),
        config: Arc::new(config),
        draining: Arc::default(),
    })
}

/// The account most tests start from: "Acme" (admin@example.com, its
/// admin) in `currency`, its primary group and a second group.
pub struct Fixture {
    pub admin: CurrentUser,
    pub account_id: AccountId,
    pub primary: GroupId,
    pub second: GroupId,
}

impl Fixture {
    /// Creates the account at `t(1, 0)` and the second group, named
    /// `second_name`, at `second_at`.
    pub async fn acme(
        store: &DynStore,
        currency: &str,
        second_name: &str,
        second_at: DateTime<Utc>,
    ) -> Fixture {
        use billing_console::server::billing::{accounts, groups};
        let admin = user(store, "admin@example.com").await;
        let (account, primary) =
            accounts::create_account(store.as_ref(), &admin, "Acme", currency, t(1, 0))
                .await
                .expect("create account");
        let second = groups::create_group(
            store.as_ref(),
            &admin,
            &account.account_id,
            second_name,
            None,
            second_at,
        )
        .await
        .expect("create group");
        Fixture {
            admin,
            account_id: account.account_id,
            primary: primary.billing_group_id,
            second: second.billing_group_id,
        }
    }

    /// Project `name` of the account, in `group` (None: the primary one).
    pub async fn project(
        &self,
        store: &DynStore,
        name: &str,
        group: Option<&str>,
        default_cloud: &str,
        at: DateTime<Utc>,
    ) {
        billing_console::server::billing::projects::create_project(
            store.as_ref(),
            &self.admin,
            &self.account_id,
            name,
            group,
            default_cloud,
            at,
        )
        .await
        .expect("create project");
    }
}

/// A pg business-4 service `id` named "pg" in `project`, running from `at`
/// at `hourly_usd` an hour.
pub async fn running_service(
    store: &DynStore,
    id: &str,
    project: &str,
    hourly_usd: &str,
    at: DateTime<Utc>,
) {
    store
        .create_service(
            &billing_console::server::store::NewService {
                service_id: id.into(),
                project_name: project.into(),
                service_name: "pg".into(),
                service_type: "pg".into(),
                plan: "business-4".into(),
                cloud_name: "google-europe-north1".into(),
                hourly_price_usd: d(hourly_usd),
            },
            at,
        )
        .await
        .expect("create service");
    store
        .record_service_run(id, at, None)
        .await
        .expect("run service");
}

/// Signs `email` in (the demo password) through the app; the session
/// cookie as a `Cookie` header value.
pub async fn signed_in_cookie(app: &Router, email: &str) -> String {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;
    let body = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        demo::DEMO_PASSWORD
    );
    let request = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("sign in");
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("session cookie")
        .to_str()
        .expect("cookie text");
    cookie.split(';').next().unwrap_or_default().to_string()
}

/// A response's body as text.
pub async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).to_string()
}

/// Where links in mails point in tests (`PUBLIC_URL` in a deployment).
pub const TEST_LINKS: &str = "https://console.example";
