//! The server backend for several instances: PostgreSQL, migrations from
//! `migrations/postgres` compiled into the binary.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::sql::{close_sql, impl_store};
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
);

/// Memberships and priced runs overlapping [from, to), for a month close.
async fn read_usage_between(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
    let memberships = sqlx::query_as::<_, GroupMembershipRecord>(close_sql::MEMBERSHIPS_BETWEEN)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    let runs = sqlx::query_as::<_, PricedRunRecord>(&close_sql::priced_runs_between())
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    Ok((memberships, runs))
}

/// Issues a batch of invoices inside the caller's transaction.
async fn issue_invoices_in(
    tx: &mut sqlx::PgConnection,
    invoices: &[NewInvoice],
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let mut issued = Vec::with_capacity(invoices.len());
    for invoice in invoices {
        issued.extend(issue_invoice(tx, invoice, actor, at).await?);
    }
    Ok(issued)
}

/// Writes an invoice's lines many rows per statement: a month close
/// writes hundreds of thousands of them.
async fn insert_invoice_lines(
    tx: &mut sqlx::PgConnection,
    invoice_number: &str,
    lines: &[InvoiceLineRecord],
) -> StoreResult<()> {
    const ROWS_PER_STATEMENT: usize = 60;
    for chunk in lines.chunks(ROWS_PER_STATEMENT) {
        let sql = close_sql::insert_lines(chunk.len(), true);
        let mut query = sqlx::query(&sql);
        for line in chunk {
            query = query
                .bind(invoice_number)
                .bind(line.line_no)
                .bind(&line.line_type)
                .bind(&line.description)
                .bind(&line.project_name)
                .bind(&line.service_name)
                .bind(&line.service_type)
                .bind(&line.service_plan)
                .bind(&line.cloud_name)
                .bind(line.hours)
                .bind(line.timestamp_begin)
                .bind(line.timestamp_end)
                .bind(line.line_total_usd)
                .bind(line.line_total_local)
                .bind(&line.local_currency)
                .bind(&line.credit_code);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}
