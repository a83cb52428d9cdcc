//! The one clock: every "now" of the server comes from here. In production
//! it is the system's. Tests and the end-to-end suite can set it through
//! `TEST_CLOCK_FILE` — a file holding one RFC 3339 instant, read whenever
//! it changes, so a test moves time by writing the file, and the server and
//! the `billing-console` commands it runs see the same time. A release build
//! refuses that setting (`config.rs`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    /// The instant in a file, with the file's modification time it was read at.
    File(PathBuf, Mutex<Option<(SystemTime, DateTime<Utc>)>>),
    /// A fixed instant, set by tests in the same process.
    Fixed(Mutex<DateTime<Utc>>),
}

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// The instant written in `path` (test-only).
    pub fn from_file(path: PathBuf) -> Clock {
        Clock(Arc::new(Source::File(path, Mutex::new(None))))
    }

    /// A clock standing at `at` until [`Clock::set`] moves it (tests).
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Fixed(Mutex::new(at))))
    }

    /// Moves a fixed clock; other clocks ignore it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Fixed(now) = self.0.as_ref() {
            if let Ok(mut now) = now.lock() {
                *now = at;
            }
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.0.as_ref() {
            Source::System => Utc::now(),
            Source::Fixed(now) => now.lock().map(|now| *now).unwrap_or_else(|_| Utc::now()),
            Source::File(path, last) => read_file_clock(path, last).unwrap_or_else(|error| {
                tracing::error!(path = %path.display(), %error, "test clock unreadable; using the system time");
                Utc::now()
            }),
        }
    }
}

/// The instant in the file, read at every call (a test clock is read a
/// few times a request; caching by modification time missed two writes
/// within one timestamp tick). A read that fails (a writer between
/// truncating and writing) keeps the last instant read.
fn read_file_clock(
    path: &PathBuf,
    last: &Mutex<Option<(SystemTime, DateTime<Utc>)>>,
) -> Result<DateTime<Utc>, String> {
    let read = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            DateTime::parse_from_rfc3339(text.trim())
                .map(|at| at.with_timezone(&Utc))
                .map_err(|e| format!("'{}' is not an RFC 3339 time: {e}", text.trim()))
        });
    match (read, last.lock()) {
        (Ok(at), Ok(mut cached)) => {
            *cached = Some((SystemTime::now(), at));
            Ok(at)
        }
        (Ok(at), Err(_)) => Ok(at),
        (Err(error), Ok(cached)) => cached.map(|(_, at)| at).ok_or(error),
        (Err(error), Err(_)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_file_clock_follows_its_file() {
        let path = std::env::temp_dir().join(format!("clock-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "2026-11-30T12:00:00Z\n").unwrap();
        let clock = Clock::from_file(path.clone());
        assert_eq!(
            clock.now(),
            Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
        );
        // A later write moves it (the modification time changes with it).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "2026-11-30T13:30:00+00:00").unwrap();
        assert_eq!(
            clock.now(),
            Utc.with_ymd_and_hms(2026, 11, 30, 13, 30, 0).unwrap()
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_fixed_clock_moves_only_when_set() {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let clock = Clock::fixed(at);
        assert_eq!(clock.now(), at);
        clock.set(at + chrono::Duration::hours(1));
        assert_eq!(clock.now(), at + chrono::Duration::hours(1));
        assert!(Clock::system().now() > at);
    }
}
