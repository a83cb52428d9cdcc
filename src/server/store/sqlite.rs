//! What is particular to the embedded backend: its process-wide settings,
//! and its database as a file (the in-use lock, backups, restore).

use std::path::{Path, PathBuf};

use super::error::{StoreError, StoreResult};

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

/// The file beside a SQLite database that every process using the database
/// holds a shared lock on, so `restore` can tell that it is in use (SQLite's
/// own locks are taken only while a statement runs).
pub fn in_use_lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the shared "in use" lock of `database` for as long as the
/// returned file is kept open.
pub(super) fn hold_in_use(database: &Path) -> StoreResult<std::fs::File> {
    let file = open_in_use_lock(database)?;
    file.lock_shared().map_err(|e| {
        StoreError::Config(format!(
            "cannot lock {} ({e})",
            in_use_lock_path(database).display()
        ))
    })?;
    Ok(file)
}

fn open_in_use_lock(database: &Path) -> StoreResult<std::fs::File> {
    let path = in_use_lock_path(database);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Config(format!("cannot open {} ({e})", path.display())))
}

/// What a backup file holds, as checked before it is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFacts {
    /// `PRAGMA integrity_check`'s answer: "ok" when the file is sound.
    pub integrity: String,
    /// The newest migration applied to it.
    pub newest_migration: i64,
    pub invoices: i64,
    pub events: i64,
}

/// Opens `file` read-only (it must exist) and checks it: integrity, the
/// migrations it has, and how many invoices and events it holds.
pub async fn inspect_backup(file: &Path) -> StoreResult<BackupFacts> {
    use sqlx::{ConnectOptions, Connection};
    if !file.is_file() {
        return Err(StoreError::Missing(format!(
            "no file at {}",
            file.display()
        )));
    }
    let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await?;
    let counts: Result<(i64, i64, i64), sqlx::Error> = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success),
                (SELECT COUNT(*) FROM invoices), (SELECT COUNT(*) FROM events)",
    )
    .fetch_one(&mut connection)
    .await;
    connection.close().await?;
    let (newest_migration, invoices, events) = counts.map_err(|_| {
        StoreError::Corrupt(format!(
            "{} is not a billing-console database",
            file.display()
        ))
    })?;
    Ok(BackupFacts {
        integrity,
        newest_migration,
        invoices,
        events,
    })
}

/// Puts `backup` in place of `database`, refusing while any process holds
/// the database open. The database it replaces is kept beside it as
/// `<name>.before-restore-<time>` and returned; its WAL files go with it.
/// The copy is written under a temporary name and renamed, so a crash
/// leaves the old database or the new one, never half of one.
pub fn restore_file(backup: &Path, database: &Path, stamp: &str) -> StoreResult<Option<PathBuf>> {
    let lock = open_in_use_lock(database)?;
    if lock.try_lock().is_err() {
        return Err(StoreError::Refused(crate::error::AppError::Conflict {
            message: format!(
                "the database at {} is in use (a server or command has it open); stop it, then restore",
                database.display()
            ),
        }));
    }
    let io = |what: &str, e: std::io::Error| StoreError::Config(format!("{what}: {e}"));
    let staging = with_suffix(database, ".restoring");
    std::fs::copy(backup, &staging).map_err(|e| io("cannot copy the backup", e))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot write the copy to disk", e))?;
    let kept = if database.exists() {
        let kept = with_suffix(database, &format!(".before-restore-{stamp}"));
        std::fs::rename(database, &kept).map_err(|e| io("cannot set the old database aside", e))?;
        for suffix in ["-wal", "-shm"] {
            let side = with_suffix(database, suffix);
            if side.exists() {
                std::fs::rename(&side, with_suffix(&kept, suffix))
                    .map_err(|e| io("cannot set the old database's WAL aside", e))?;
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staging, database).map_err(|e| io("cannot put the copy in place", e))?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    drop(lock);
    Ok(kept)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
