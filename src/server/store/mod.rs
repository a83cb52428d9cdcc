//! Persistence, and nothing else: the store reads and writes the records
//! the rules layer hands it, each change with its events in one
//! transaction, and decides nothing a person could read. It imports nothing
//! from the rules (`.ci/import-cycles.py` keeps the layers apart).
//!
//! One trait per aggregate (`traits.rs`), all of them [`Store`]; one
//! implementation, [`SqlStore`], whose SQL is written once per query in the
//! file of its aggregate and compiled for SQLite and PostgreSQL alike
//! (`pool.rs` says how).

mod accounts;
mod budgets;
pub mod cache;
mod close_sql;
mod constraints;
mod credit_notes;
mod credits;
mod decimal;
mod drafts;
mod error;
mod events;
mod group_rows;
mod groups;
mod invoices;
mod leases;
mod mail;
mod members;
mod outbox;
mod people;
mod pool;
mod postgres_bulk;
mod prices;
mod projects;
mod rates;
pub mod records;
mod services;
pub mod sqlite;
mod sqlite_bulk;
mod traits;
mod usage;
mod webhooks;

pub use decimal::DbDecimal;
pub use error::{StoreError, StoreResult, Violation};
pub use pool::{newest_sqlite_migration, Opening, SqlStore};
pub use records::*;
pub use traits::*;

/// Opens the store named by a `sqlite:` or `postgres:` URL and applies its
/// migrations.
pub async fn connect(database_url: &str, max_connections: u32) -> StoreResult<DynStore> {
    open(database_url, max_connections, Opening::CreateIfMissing).await
}

/// [`connect`], choosing whether a missing database may be created.
pub async fn open(
    database_url: &str,
    max_connections: u32,
    opening: Opening,
) -> StoreResult<DynStore> {
    Ok(std::sync::Arc::new(
        SqlStore::open(database_url, max_connections, opening).await?,
    ))
}
