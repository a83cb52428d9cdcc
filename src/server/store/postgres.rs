//! The server backend for several instances: PostgreSQL, migrations from
//! `migrations/postgres` compiled into the binary.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::sql::impl_store;
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub struct PostgresStore {
    usage_cache: UsageCache,
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Config(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // sqlx takes an advisory lock while migrating, so two instances
        // starting at once apply each migration exactly once.
        migrate(&MIGRATOR, &pool).await?;
        Ok(PostgresStore {
            pool,
            usage_cache: UsageCache::default(),
        })
    }
}

impl_store!(
    store = PostgresStore,
    backend = Backend::Postgres,
    connection = sqlx::PgConnection,
    begin_write = "BEGIN",
    for_update = " FOR UPDATE",
    anonymous_placeholders = false,
);
