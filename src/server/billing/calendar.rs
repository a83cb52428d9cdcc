//! Months and hours in UTC: the periods every figure is computed over.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::error::{AppError, AppResult};

/// The calendar month (UTC) containing `at`: [first instant, first of next).
pub fn month_of(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let first = NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap_or_default();
    let next = if at.month() == 12 {
        NaiveDate::from_ymd_opt(at.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(at.year(), at.month() + 1, 1)
    }
    .unwrap_or_default();
    let midnight =
        |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    (midnight(first), midnight(next))
}

/// The month before the one containing `now`.
pub fn previous_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (this_month, _) = month_of(now);
    month_of(this_month - Duration::hours(1)).0
}

/// `YYYY-MM` → the month's first instant (UTC).
pub fn parse_period(text: &str) -> AppResult<DateTime<Utc>> {
    let invalid = || {
        AppError::invalid(
            "period",
            format!("'{text}' is not a month; write it as YYYY-MM, like 2026-10."),
        )
    };
    let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
    let (year, month) = (
        year.parse::<i32>().map_err(|_| invalid())?,
        month.parse::<u32>().map_err(|_| invalid())?,
    );
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .filter(|_| (2000..=2999).contains(&year))
        .ok_or_else(invalid)?;
    Ok(month_of(first.and_hms_opt(0, 0, 0).ok_or_else(invalid)?.and_utc()).0)
}

/// `YYYY-MM` of the month starting at `period_begin`.
pub fn period_name(period_begin: DateTime<Utc>) -> String {
    period_begin.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_the_year() {
        let (from, to) = month_of(Utc.with_ymd_and_hms(2026, 12, 15, 8, 0, 0).unwrap());
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(
            previous_month(Utc.with_ymd_and_hms(2027, 1, 1, 0, 30, 0).unwrap()),
            from
        );
        assert_eq!(parse_period("2026-12").unwrap(), from);
        assert!(parse_period("2026-13").is_err());
    }
}
