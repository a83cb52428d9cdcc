//! Process-wide settings of the embedded backend.

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
