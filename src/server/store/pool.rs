//! One store over either database. Each query is written once, as ordinary
//! Rust, in the file of its aggregate (`people.rs`, `accounts.rs`, …);
//! [`db_run!`] and [`db_write!`] only choose the connection — the body is
//! compiled once per backend, as vaultwarden's `db_run!` does — because
//! both databases take the same SQL (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`). What differs stays here and small: how a write
//! transaction begins, the row-lock clause, and (in `invoices.rs`) the
//! month close's bulk path on SQLite.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::cache::Caches;
use super::error::{StoreError, StoreResult};

/// A value per backend: the pool, or a connection inside a transaction.
pub(super) enum PerBackend<S, P> {
    Sqlite(S),
    Postgres(P),
}

impl<S, P> PerBackend<S, P> {
    pub(super) fn as_ref(&self) -> PerBackend<&S, &P> {
        match self {
            PerBackend::Sqlite(s) => PerBackend::Sqlite(s),
            PerBackend::Postgres(p) => PerBackend::Postgres(p),
        }
    }
}

pub(super) type Pool = PerBackend<SqlitePool, PgPool>;

/// A connection inside the caller's write transaction, for helpers that
/// run as part of one (`tx.as_mut().into()` on either backend).
pub(super) type Tx<'a> = PerBackend<&'a mut SqliteConnection, &'a mut PgConnection>;

impl Tx<'_> {
    /// The same connection for one more helper call.
    pub(super) fn reborrow(&mut self) -> Tx<'_> {
        match self {
            PerBackend::Sqlite(connection) => PerBackend::Sqlite(&mut **connection),
            PerBackend::Postgres(connection) => PerBackend::Postgres(&mut **connection),
        }
    }
}

impl<'a> From<&'a mut SqliteConnection> for Tx<'a> {
    fn from(connection: &'a mut SqliteConnection) -> Self {
        PerBackend::Sqlite(connection)
    }
}

impl<'a> From<&'a mut PgConnection> for Tx<'a> {
    fn from(connection: &'a mut PgConnection) -> Self {
        PerBackend::Postgres(connection)
    }
}

/// Runs `$body` with `$conn` bound to the backend's pool or connection.
macro_rules! db_run {
    ($on:expr, |$conn:ident| $body:expr) => {
        match $on {
            $crate::server::store::pool::PerBackend::Sqlite($conn) => $body,
            $crate::server::store::pool::PerBackend::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` (a `StoreResult`) in one write transaction bound to `$tx`,
/// committed when the body answers `Ok` and rolled back otherwise.
macro_rules! db_write {
    ($store:expr, |$tx:ident| $body:expr) => {
        $crate::server::store::pool::db_run!($store.pool.as_ref(), |pool| {
            let mut $tx = $crate::server::store::pool::WritePool::begin_write(pool).await?;
            let result: $crate::server::store::error::StoreResult<_> = async { $body }.await;
            let value = result?;
            $tx.commit().await?;
            Ok(value)
        })
    };
}

pub(super) use {db_run, db_write};

/// How each backend begins a write transaction: SQLite takes the write
/// lock up front, so concurrent writers queue on `busy_timeout` instead of
/// failing on lock upgrade; PostgreSQL locks rows as it reads them.
pub(super) trait WritePool {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<Transaction<'static, Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<Transaction<'static, Postgres>>> + Send
    {
        self.begin()
    }
}

/// The row-lock clause of a read inside a write transaction: PostgreSQL
/// locks the rows read; SQLite's write transaction already serializes.
pub(super) trait Dialect {
    const FOR_UPDATE: &'static str;
}

impl Dialect for SqliteConnection {
    const FOR_UPDATE: &'static str = "";
}

impl Dialect for PgConnection {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}

pub(super) fn for_update<C: Dialect>(_connection: &C) -> &'static str {
    C::FOR_UPDATE
}

/// The row-lock clause for one table of a join (PostgreSQL); SQLite's
/// write transaction already serializes.
pub(super) fn lock_of<C: Dialect>(connection: &C, table: &str) -> String {
    if for_update(connection).is_empty() {
        String::new()
    } else {
        format!(" FOR UPDATE OF {table}")
    }
}

/// The store: the database pool, and the per-database memory the rules
/// keep (`server::cache`).
pub struct SqlStore {
    pub(super) pool: Pool,
    pub(super) caches: Caches,
    /// A SQLite file's shared "in use" lock (`sqlite::hold_in_use`),
    /// released when the store goes.
    _in_use: Option<std::fs::File>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The newest migration this build knows for SQLite (a backup from a
/// newer release is not restored).
pub fn newest_sqlite_migration() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default()
}

/// Whether opening may make a new database: the server and the commands
/// that create its first user or account may; a command that only reads or
/// imports must not, or it would import into a database nobody serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    CreateIfMissing,
    ExistingOnly,
}

impl SqlStore {
    /// Opens the database named by a `sqlite:` or `postgres:` URL and
    /// applies its migrations.
    pub async fn connect(database_url: &str, max_connections: u32) -> StoreResult<SqlStore> {
        Self::open(database_url, max_connections, Opening::CreateIfMissing).await
    }

    /// [`SqlStore::connect`], refusing (`ExistingOnly`) a SQLite file that
    /// does not exist or a PostgreSQL database no server has set up.
    pub async fn open(
        database_url: &str,
        max_connections: u32,
        opening: Opening,
    ) -> StoreResult<SqlStore> {
        let max_connections = max_connections.max(1);
        let mut in_use = None;
        let pool = if database_url.starts_with("sqlite:") {
            let options = database_url
                .parse::<SqliteConnectOptions>()
                .map_err(|e| {
                    StoreError::Config(format!("DATABASE_URL is not a valid SQLite URL: {e}"))
                })?
                .create_if_missing(opening == Opening::CreateIfMissing)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 64 MB of page cache per connection (the default is 2 MB): a
                // month close writes hundreds of MB of invoice lines.
                .pragma("cache_size", "-65536");
            // An in-memory database is named `:memory:` or `file:sqlx-in-memory-…`.
            let file = options.get_filename();
            let on_disk = !(file == std::path::Path::new(":memory:")
                || file.to_string_lossy().starts_with("file:"));
            if opening == Opening::ExistingOnly && on_disk && !file.exists() {
                return Err(StoreError::Missing(format!(
                    "no database at {}",
                    file.display()
                )));
            }
            let file = on_disk.then(|| file.to_path_buf());
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                // sqlx pings every connection when it goes back to the pool;
                // a second ping when it is taken out doubled the round trips
                // of every statement (a third of a page's time under load).
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            if let Some(file) = &file {
                in_use = Some(super::sqlite::hold_in_use(file)?);
            }
            migrate(&SQLITE_MIGRATIONS, &pool).await?;
            rebuild_invoices(&pool).await?;
            PerBackend::Sqlite(pool)
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            let options = database_url.parse::<PgConnectOptions>().map_err(|e| {
                StoreError::Config(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                // sqlx pings every connection when it goes back to the pool;
                // a second ping when it is taken out doubled the round trips
                // of every statement (a third of a page's time under load).
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            if opening == Opening::ExistingOnly {
                let set_up: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(&pool)
                        .await?;
                if !set_up {
                    pool.close().await;
                    return Err(StoreError::Missing(
                        "no billing-console tables in this PostgreSQL database".into(),
                    ));
                }
            }
            // sqlx takes an advisory lock while migrating, so two instances
            // starting at once apply each migration exactly once.
            migrate(&POSTGRES_MIGRATIONS, &pool).await?;
            PerBackend::Postgres(pool)
        } else {
            return Err(StoreError::Config(format!(
                "DATABASE_URL must start with sqlite: or postgres: (got '{}')",
                database_url.split(':').next().unwrap_or_default()
            )));
        };
        Ok(SqlStore {
            pool,
            caches: Caches::default(),
            _in_use: in_use,
        })
    }
}

/// Applies the backend's migrations; a failure names the migration.
async fn migrate<'a, A>(migrator: &sqlx::migrate::Migrator, pool: A) -> StoreResult<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    migrator.run(pool).await.map_err(|error| {
        let named = |version: i64| {
            migrator
                .iter()
                .find(|m| m.version == version)
                .map(|m| format!("{version}_{}", m.description.replace(' ', "_")))
                .unwrap_or_else(|| version.to_string())
        };
        let message = match &error {
            sqlx::migrate::MigrateError::ExecuteMigration(cause, version) => {
                format!("migration {} failed: {cause}", named(*version))
            }
            sqlx::migrate::MigrateError::VersionMismatch(version) => {
                format!(
                    "migration {} was changed after it was applied",
                    named(*version)
                )
            }
            other => format!("migrations could not be applied: {other}"),
        };
        StoreError::Migration(message)
    })
}

/// The invoice state check as 0001 wrote it, and with `issued` (issue 18).
const INVOICE_STATES_BEFORE_ISSUED: &str = "'estimate', 'mailed'";
const INVOICE_STATES_WITH_ISSUED: &str = "'estimate', 'issued', 'mailed'";
/// One invoice per group and month, as 0001 wrote it: since issue 27 a
/// partial index, because a reissued invoice shares its month.
const ONE_INVOICE_PER_MONTH: &str =
    "    CONSTRAINT invoices_group_period_key UNIQUE (billing_group_id, period_begin),\n";
/// The indexes of `invoices` (dropped with the old table when rebuilt).
const INVOICE_INDEXES: [&str; 2] = [
    "CREATE UNIQUE INDEX IF NOT EXISTS invoices_group_period_key
     ON invoices (billing_group_id, period_begin) WHERE replaces IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS invoices_replaces_key
     ON invoices (replaces) WHERE replaces IS NOT NULL",
];

/// Brings an SQLite `invoices` table to its current definition: the state
/// `issued` (issue 18) and no table-wide one-invoice-per-month key (issue
/// 27, a partial index instead). SQLite cannot alter a CHECK or drop a
/// constraint, so the table is rebuilt from its own stored definition
/// (every column, in order, with its other keys), the documented way:
/// foreign keys off, which SQLite ignores inside a transaction — hence not
/// a migration file — because dropping the old table with them on would
/// delete every invoice line. Runs once; afterwards the stored definition
/// is current.
async fn rebuild_invoices(pool: &SqlitePool) -> StoreResult<()> {
    let mut connection = pool.acquire().await?;
    let definition: Option<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'invoices'",
    )
    .fetch_optional(&mut *connection)
    .await?;
    let Some(definition) = definition else {
        return Ok(());
    };
    if definition.contains(INVOICE_STATES_WITH_ISSUED)
        && !definition.contains(ONE_INVOICE_PER_MONTH)
    {
        return Ok(());
    }
    // As 0001 wrote it, or as SQLite stores it after a rename (a rebuild).
    let columns = ["CREATE TABLE invoices (", "CREATE TABLE \"invoices\" ("]
        .iter()
        .find_map(|prefix| definition.strip_prefix(prefix));
    let Some(columns) = columns.filter(|columns| {
        columns.contains(INVOICE_STATES_BEFORE_ISSUED)
            || columns.contains(INVOICE_STATES_WITH_ISSUED)
    }) else {
        return Err(StoreError::Migration(
            "the invoices table has an unexpected definition; it was not rebuilt".to_string(),
        ));
    };
    let rebuilt = format!("CREATE TABLE invoices_rebuilt ({columns}")
        .replacen(INVOICE_STATES_BEFORE_ISSUED, INVOICE_STATES_WITH_ISSUED, 1)
        .replacen(ONE_INVOICE_PER_MONTH, "", 1);
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *connection)
        .await?;
    let result: StoreResult<()> = async {
        let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE").await?;
        sqlx::query(&rebuilt).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO invoices_rebuilt SELECT * FROM invoices")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DROP TABLE invoices").execute(&mut *tx).await?;
        sqlx::query("ALTER TABLE invoices_rebuilt RENAME TO invoices")
            .execute(&mut *tx)
            .await?;
        for index in INVOICE_INDEXES {
            sqlx::query(index).execute(&mut *tx).await?;
        }
        let broken: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *tx)
            .await?;
        if !broken.is_empty() {
            return Err(StoreError::Migration(format!(
                "rebuilding invoices would leave {} rows without their parent",
                broken.len()
            )));
        }
        tx.commit().await?;
        Ok(())
    }
    .await;
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *connection)
        .await;
    if restored.is_err() {
        // Never hand a connection without foreign keys back to the pool.
        connection.detach();
    }
    result?;
    restored?;
    Ok(())
}

#[async_trait::async_trait]
impl super::traits::Database for SqlStore {
    fn backend(&self) -> super::traits::Backend {
        match self.pool {
            PerBackend::Sqlite(_) => super::traits::Backend::Sqlite,
            PerBackend::Postgres(_) => super::traits::Backend::Postgres,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    async fn close(&self) {
        db_run!(self.pool.as_ref(), |pool| pool.close().await)
    }

    async fn unapplied_migrations(&self) -> StoreResult<Vec<i64>> {
        let (applied, known): (Vec<i64>, _) = db_run!(self.pool.as_ref(), |pool| {
            let applied = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await?;
            let known = match self.backend() {
                super::traits::Backend::Sqlite => &SQLITE_MIGRATIONS,
                super::traits::Backend::Postgres => &POSTGRES_MIGRATIONS,
            };
            (applied, known)
        });
        Ok(known
            .iter()
            .map(|m| m.version)
            .filter(|version| !applied.contains(version))
            .collect())
    }

    fn pool_status(&self) -> super::records::PoolStatus {
        db_run!(self.pool.as_ref(), |pool| super::records::PoolStatus {
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }

    async fn acquire_time(&self) -> StoreResult<std::time::Duration> {
        let started = std::time::Instant::now();
        db_run!(self.pool.as_ref(), |pool| {
            drop(pool.acquire().await?);
        });
        Ok(started.elapsed())
    }

    async fn back_up_into(&self, file: &std::path::Path) -> StoreResult<()> {
        let PerBackend::Sqlite(pool) = &self.pool else {
            return Err(StoreError::Config(
                "a PostgreSQL database is backed up with pg_dump (docs/DEPLOY.md, Backup and restore)"
                    .into(),
            ));
        };
        let target = file
            .to_str()
            .ok_or_else(|| StoreError::Config(format!("{} is not a UTF-8 path", file.display())))?;
        // One read transaction: the copy is the database as of its start,
        // with every write committed before it, while writers go on.
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await?;
        Ok(())
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        let (users, accounts): (i64, i64) = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM accounts)")
                .fetch_one(pool)
                .await?
        });
        Ok(users == 0 && accounts == 0)
    }

    fn caches(&self) -> &Caches {
        &self.caches
    }
}
