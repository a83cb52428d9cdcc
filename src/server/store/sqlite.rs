//! The embedded backend: one SQLite file (WAL), migrations from
//! `migrations/sqlite` compiled into the binary.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::sql::impl_store;
// `impl_store!`'s `issue_invoice` writes lines through this one on SQLite.
use super::sqlite_bulk::insert_invoice_lines;
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

/// Process-wide SQLite settings, for the server and the benchmarks: memory
/// statistics off, which SQLite otherwise keeps under a global mutex on
/// every allocation (a tenth of a month close's time). SQLite accepts them
/// only before its first connection and ignores them afterwards.
///
/// # Safety
///
/// `sqlite3_config` is not thread-safe: no other thread may be using
/// SQLite during the call.
pub unsafe fn configure_process() {
    let status = unsafe {
        rusqlite::ffi::sqlite3_config(
            rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
            0 as std::os::raw::c_int,
        )
    };
    if status != rusqlite::ffi::SQLITE_OK {
        tracing::debug!(
            status,
            "SQLite was already in use; its process settings stay"
        );
    }
}

/// SQLite reports constraint names only in its message text, in fixed forms:
/// `CHECK constraint failed: <name>`, `UNIQUE constraint failed: <table>.<col>, …`
/// and, for our triggers, the name alone. This turns them into the names
/// `migrations/postgres` uses.
pub(super) fn constraint_name(error: &dyn sqlx::error::DatabaseError) -> Option<String> {
    let extended_code = error.code().and_then(|code| code.parse().ok());
    constraint_name_of(error.message(), extended_code.unwrap_or_default())
}

/// The same from SQLite's message and extended result code (the bulk path
/// of `sqlite_bulk` sees them without sqlx).
pub(super) fn constraint_name_of(message: &str, extended_code: i32) -> Option<String> {
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
    if extended_code == SQLITE_CONSTRAINT_TRIGGER {
        return Some(message.trim().to_string());
    }
    None
}

const SQLITE_CONSTRAINT_TRIGGER: i32 = 1811;

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
);

/// Memberships and priced runs overlapping [from, to), for a month close:
/// through SQLite's own API (see `sqlite_bulk`), both from one snapshot.
async fn read_usage_between(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
    let mut tx = pool.begin().await?;
    let usage = super::sqlite_bulk::usage_between(&mut tx, from, to).await?;
    tx.commit().await?;
    Ok(usage)
}

/// Issues a batch of invoices inside the caller's transaction: runs of
/// invoices without credits through SQLite's own API in one go (see
/// `sqlite_bulk`); one that uses credits through `issue_invoice`, which
/// also checks and updates the credits.
async fn issue_invoices_in(
    tx: &mut sqlx::SqliteConnection,
    invoices: &[NewInvoice],
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let mut issued = Vec::with_capacity(invoices.len());
    let mut rest = invoices;
    while let Some(first) = rest.first() {
        if first.credit_uses.is_empty() {
            let plain = rest
                .iter()
                .take_while(|invoice| invoice.credit_uses.is_empty())
                .count();
            let (run, after) = rest.split_at(plain);
            issued.extend(super::sqlite_bulk::issue_invoices(tx, run, actor, at).await?);
            rest = after;
        } else {
            issued.extend(issue_invoice(tx, first, actor, at).await?);
            rest = &rest[1..];
        }
    }
    Ok(issued)
}
