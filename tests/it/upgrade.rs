//! Upgrades keep data: databases written by release 0.1 (migrations up to
//! 0014, demo data with closed months; `tests/fixtures/upgrade/make.sh`)
//! are opened by this build, which applies every later migration, and
//! every row of the tables that hold money and history reads the same
//! after as before. A later migration that drops, rewrites or loses a
//! value fails here.

use std::collections::BTreeMap;

use billing_console::server::store;
use sqlx::{Connection, Row};

/// The tables whose rows must survive an upgrade unchanged.
const KEPT: &[&str] = &[
    "users",
    "accounts",
    "memberships",
    "billing_groups",
    "projects",
    "services",
    "service_runs",
    "invoices",
    "invoice_lines",
    "credits",
    "events",
    "account_events",
    "outbox",
    "exchange_rates",
    "prices",
];

/// Each table's rows, every column as text, in a stable order.
type Snapshot = BTreeMap<String, Vec<Vec<Option<String>>>>;

enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn open(url: &str) -> Raw {
        if url.starts_with("sqlite:") {
            Raw::Sqlite(sqlx::SqliteConnection::connect(url).await.unwrap())
        } else {
            Raw::Postgres(sqlx::PgConnection::connect(url).await.unwrap())
        }
    }

    async fn columns(&mut self, table: &str) -> Vec<String> {
        match self {
            Raw::Sqlite(c) => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                    .bind(table)
                    .fetch_all(c)
                    .await
                    .unwrap()
            }
            Raw::Postgres(c) => sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(c)
            .await
            .unwrap(),
        }
    }

    async fn rows(&mut self, sql: &str, width: usize) -> Vec<Vec<Option<String>>> {
        macro_rules! read {
            ($c:expr) => {
                sqlx::query(sql)
                    .fetch_all($c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|row| {
                        (0..width)
                            .map(|i| row.get::<Option<String>, _>(i))
                            .collect()
                    })
                    .collect()
            };
        }
        match self {
            Raw::Sqlite(c) => read!(c),
            Raw::Postgres(c) => read!(c),
        }
    }

    /// The rows of `KEPT`, in the columns `like` has (all of them when None).
    async fn snapshot(
        &mut self,
        like: Option<&BTreeMap<String, Vec<String>>>,
    ) -> (Snapshot, BTreeMap<String, Vec<String>>) {
        let mut snapshot = Snapshot::new();
        let mut shapes = BTreeMap::new();
        for table in KEPT {
            let columns = match like {
                Some(shapes) => shapes[*table].clone(),
                None => self.columns(table).await,
            };
            assert!(!columns.is_empty(), "no table {table}");
            let list = columns
                .iter()
                .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
                .collect::<Vec<_>>()
                .join(", ");
            let order = (1..=columns.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let rows = self
                .rows(
                    &format!("SELECT {list} FROM {table} ORDER BY {order}"),
                    columns.len(),
                )
                .await;
            snapshot.insert(table.to_string(), rows);
            shapes.insert(table.to_string(), columns);
        }
        (snapshot, shapes)
    }
}

async fn upgrade_keeps_every_row(url: &str) {
    let mut before_db = Raw::open(url).await;
    let (before, shapes) = before_db.snapshot(None).await;
    drop(before_db);
    assert!(
        before["invoices"].len() >= 9 && before["events"].len() >= 25,
        "the fixture holds {} invoices and {} events",
        before["invoices"].len(),
        before["events"].len()
    );
    let upgraded = store::connect(url, 2).await.expect("the upgrade applies");
    assert_eq!(
        upgraded.unapplied_migrations().await.unwrap(),
        Vec::<i64>::new()
    );
    // The rules read the old data: an account's groups and their invoices.
    upgraded.close().await;
    let mut after_db = Raw::open(url).await;
    let (after, _) = after_db.snapshot(Some(&shapes)).await;
    for table in KEPT {
        assert_eq!(
            before[*table].len(),
            after[*table].len(),
            "{table}: rows lost or added by the upgrade"
        );
        for (old, new) in before[*table].iter().zip(&after[*table]) {
            assert_eq!(old, new, "{table}: a row changed in the upgrade");
        }
    }
}

#[tokio::test]
async fn sqlite_database_of_release_0_1_upgrades_and_keeps_every_row() {
    let dir = std::env::temp_dir().join(format!("bc-upgrade-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old.db");
    std::fs::copy("tests/fixtures/upgrade/sqlite.db", &file).unwrap();
    upgrade_keeps_every_row(&format!("sqlite://{}", file.display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_dump_of_release_0_1_upgrades_and_keeps_every_row() {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return;
    };
    let name = format!("bc_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = crate::common::with_database(&admin_url, &name);
    {
        // The dump sets an empty search_path for its session: a connection
        // of its own.
        let dump = std::fs::read_to_string("tests/fixtures/upgrade/postgres.sql").unwrap();
        let mut restore = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(&dump)
            .execute(&mut restore)
            .await
            .expect("the dump loads");
        restore.close().await.unwrap();
    }
    upgrade_keeps_every_row(&url).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}
