//! The embedded backend: one SQLite file (WAL), migrations from
//! `migrations/sqlite` compiled into the binary.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::sql::impl_store;
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub struct SqliteStore {
    usage_cache: UsageCache,
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| {
                StoreError::Config(format!("DATABASE_URL is not a valid SQLite URL: {e}"))
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MB of page cache per connection (the default is 2 MB): a
            // month close writes hundreds of MB of invoice lines.
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        migrate(&MIGRATOR, &pool).await?;
        Ok(SqliteStore {
            pool,
            usage_cache: UsageCache::default(),
        })
    }
}

/// SQLite reports constraint names only in its message text, in fixed forms:
/// `CHECK constraint failed: <name>`, `UNIQUE constraint failed: <table>.<col>, …`
/// and, for our triggers, the name alone. This turns them into the names
/// `migrations/postgres` uses.
pub(super) fn constraint_name(error: &dyn sqlx::error::DatabaseError) -> Option<String> {
    let message = error.message();
    if let Some(name) = message.strip_prefix("CHECK constraint failed: ") {
        return Some(name.trim().to_string());
    }
    if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
        return Some(unique_constraint_name(columns));
    }
    if message.starts_with("FOREIGN KEY constraint failed") {
        return Some("foreign_key".to_string());
    }
    // RAISE(ABORT, '<name>') inside a trigger: extended code SQLITE_CONSTRAINT_TRIGGER.
    if error.code().as_deref() == Some("1811") {
        return Some(message.trim().to_string());
    }
    None
}

fn unique_constraint_name(columns: &str) -> String {
    match columns.trim() {
        "users.email" => "users_email_key".into(),
        "projects.project_name" => "projects_pkey".into(),
        "services.project_name, services.service_name" => "services_project_name_key".into(),
        "memberships.user_id, memberships.account_id" => "memberships_pkey".into(),
        "accounts.account_id" => "accounts_pkey".into(),
        "billing_groups.billing_group_id" => "billing_groups_pkey".into(),
        "service_runs.service_id" => "service_runs_one_open".into(),
        "credits.code" => "credits_pkey".into(),
        other => {
            let table = other.split('.').next().unwrap_or("unknown");
            format!("{table}_unique_key")
        }
    }
}

impl_store!(
    store = SqliteStore,
    backend = Backend::Sqlite,
    connection = sqlx::SqliteConnection,
    begin_write = "BEGIN IMMEDIATE",
    for_update = "",
    anonymous_placeholders = true,
);
