//! The cost engine: the one code path for every charge (rule 6).
//!
//! A service is charged per started hour of each run interval at the run's
//! plan and hourly USD price. Hour k of a run starts at `billed_from + k h`
//! (its own start, or — for a run that continues another after a plan or
//! price change — the next hour of that run's grid, so the hour in progress
//! at the change is billed once, at the plan it started on); it is charged
//! to the period containing that start, and to the billing group the project
//! was in at that instant. So a move mid-month splits the month cleanly:
//! hours started before the move stay with the old group, later ones go to
//! the new one, and no hour is counted twice. Charges are kept apart per
//! plan and price: each is its own invoice line.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::model::ids::GroupId;
use crate::server::store::{GroupMembershipRecord, PricedRunRecord};

/// Charges of one service of one project in one group over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub billing_group_id: GroupId,
    pub project_name: String,
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: Decimal,
    pub hours: i64,
    pub amount_usd: Decimal,
}

/// The charges of `[from, to)` — hours started in it — as a sum per
/// (group, project, service). `to` is usually the period end, or "now" for a
/// month still running.
pub fn charges(
    memberships: &[GroupMembershipRecord],
    runs: &[PricedRunRecord],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Charge> {
    accumulate(memberships, runs, from, to)
        .into_iter()
        .map(|((group, ..), (run, hours, amount_usd))| Charge {
            billing_group_id: GroupId::from(group),
            project_name: run.project_name.clone(),
            service_name: run.service_name.clone(),
            service_type: run.service_type.clone(),
            plan: run.plan.clone(),
            cloud_name: run.cloud_name.clone(),
            hourly_price_usd: run.hourly_price_usd.0,
            hours,
            amount_usd,
        })
        .collect()
}

/// (group, project, service, plan, price) → (a run of it, hours, USD).
type Accumulated<'a> =
    BTreeMap<(&'a str, &'a str, &'a str, &'a str, Decimal), (&'a PricedRunRecord, i64, Decimal)>;

/// The engine itself: every started hour in [from, to) of every run, to
/// the group the project was in at that hour. Keys borrow from the inputs
/// (this runs once per day for the cost chart).
fn accumulate<'a>(
    memberships: &'a [GroupMembershipRecord],
    runs: &'a [PricedRunRecord],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Accumulated<'a> {
    // Memberships by project, so the work grows with runs, not runs × projects.
    let mut by_project: HashMap<&str, Vec<&GroupMembershipRecord>> = HashMap::new();
    for membership in memberships {
        by_project
            .entry(membership.project_name.as_str())
            .or_default()
            .push(membership);
    }
    let mut by_key: Accumulated<'a> = BTreeMap::new();
    for run in runs {
        let run_end = run.ended_at.unwrap_or(to);
        let project_memberships = by_project
            .get(run.project_name.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for membership in project_memberships.iter().copied() {
            // Hour starts that count: inside the run, the period and the
            // membership at once.
            let lower = [run.billed_from, from, membership.valid_from]
                .into_iter()
                .max()
                .unwrap_or(from);
            let upper = [Some(run_end), Some(to), membership.valid_to]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(to);
            let hours = hour_starts_in(run.billed_from, lower, upper);
            if hours == 0 {
                continue;
            }
            let key = (
                membership.billing_group_id.as_str(),
                run.project_name.as_str(),
                run.service_name.as_str(),
                run.plan.as_str(),
                run.hourly_price_usd.0.normalize(),
            );
            let entry = by_key.entry(key).or_insert((run, 0, Decimal::ZERO));
            entry.1 += hours;
            entry.2 += run.hourly_price_usd.0 * Decimal::from(hours);
        }
    }
    by_key
}

/// How many of the instants `start + k h` (k ≥ 0) lie in `[lower, upper)`.
pub fn hour_starts_in(start: DateTime<Utc>, lower: DateTime<Utc>, upper: DateTime<Utc>) -> i64 {
    if upper <= lower || upper <= start {
        return 0;
    }
    let lower = lower.max(start);
    let first = ceil_hours(lower - start);
    let past_last = ceil_hours(upper - start);
    (past_last - first).max(0)
}

/// The first hour of the grid that starts at `origin` at or after `at`
/// (`origin` itself when `at` is before it): where a run that continues
/// another after a plan or price change starts billing.
pub fn next_grid_hour(origin: DateTime<Utc>, at: DateTime<Utc>) -> DateTime<Utc> {
    if at <= origin {
        return origin;
    }
    origin + Duration::hours(ceil_hours(at - origin))
}

/// The first moment after `now` at which [`charges`] up to that moment
/// would differ from charges up to `now`: the next hour start of a run not
/// yet ended (None: no run starts another hour). Charges up to any moment
/// in `[now, that instant]` are the same, so they can be reused until then.
pub fn next_change(runs: &[PricedRunRecord], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    runs.iter()
        .filter_map(|run| {
            let next = next_grid_hour(run.billed_from, now);
            run.ended_at.is_none_or(|end| next < end).then_some(next)
        })
        .min()
}

/// Whole hours in `span`, rounded up (a started hour counts).
fn ceil_hours(span: Duration) -> i64 {
    let seconds = span.num_milliseconds();
    let hour = 3_600_000;
    seconds.div_euclid(hour) + i64::from(seconds.rem_euclid(hour) > 0)
}

/// Projects (by name) and, for each day, each project's USD.
pub type DailyCosts = (Vec<String>, Vec<(NaiveDate, Vec<Decimal>)>);

/// Month-to-date USD of one group by day, per project: the projects (by
/// name) and, for each day from `from` to `now`, each project's charges.
pub fn daily_by_project(
    memberships: &[GroupMembershipRecord],
    runs: &[PricedRunRecord],
    billing_group_id: &GroupId,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DailyCosts {
    let mut days: Vec<(NaiveDate, BTreeMap<String, Decimal>)> = Vec::new();
    let mut day_start = from;
    while day_start < now {
        let day_end = (day_start + Duration::days(1)).min(now);
        let mut per_project = BTreeMap::new();
        for charge in charges(memberships, runs, day_start, day_end) {
            if charge.billing_group_id == billing_group_id {
                *per_project
                    .entry(charge.project_name)
                    .or_insert(Decimal::ZERO) += charge.amount_usd;
            }
        }
        days.push((day_start.date_naive(), per_project));
        day_start += Duration::days(1);
    }
    let projects: Vec<String> = days
        .iter()
        .flat_map(|(_, per)| per.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = days
        .into_iter()
        .map(|(day, per)| {
            let values = projects
                .iter()
                .map(|p| per.get(p).copied().unwrap_or_default())
                .collect();
            (day, values)
        })
        .collect();
    (projects, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::DbDecimal;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, day, hour, minute, 0)
            .unwrap()
    }

    fn run(start: DateTime<Utc>, end: Option<DateTime<Utc>>, price: &str) -> PricedRunRecord {
        PricedRunRecord {
            project_name: "p".into(),
            service_name: "pg".into(),
            service_type: "pg".into(),
            plan: "business-4".into(),
            cloud_name: "c".into(),
            hourly_price_usd: DbDecimal(price.parse().unwrap()),
            started_at: start,
            ended_at: end,
            billed_from: start,
        }
    }

    fn member(
        group: &str,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> GroupMembershipRecord {
        GroupMembershipRecord {
            project_name: "p".into(),
            billing_group_id: group.into(),
            valid_from: from,
            valid_to: to,
        }
    }

    #[test]
    fn every_started_hour_is_charged() {
        assert_eq!(
            hour_starts_in(t(1, 0, 0), t(1, 0, 0), t(1, 0, 1)),
            1,
            "one minute is a started hour"
        );
        assert_eq!(hour_starts_in(t(1, 0, 0), t(1, 0, 0), t(1, 2, 0)), 2);
        assert_eq!(hour_starts_in(t(1, 0, 0), t(1, 0, 0), t(1, 2, 1)), 3);
        assert_eq!(hour_starts_in(t(1, 0, 30), t(1, 0, 0), t(1, 0, 30)), 0);
        let charges = charges(
            &[member("g", t(1, 0, 0), None)],
            &[run(t(1, 0, 10), Some(t(1, 3, 15)), "0.5")],
            t(1, 0, 0),
            t(31, 0, 0),
        );
        assert_eq!(
            (charges[0].hours, charges[0].amount_usd),
            (4, "2.0".parse().unwrap())
        );
    }

    #[test]
    fn a_move_mid_month_splits_at_the_move_without_double_counting() {
        // Runs from 00:20 to 10:20 (10 hours, starting at :20); moves at 05:00.
        let memberships = [
            member("a", t(1, 0, 0), Some(t(1, 5, 0))),
            member("b", t(1, 5, 0), None),
        ];
        let charges = charges(
            &memberships,
            &[run(t(1, 0, 20), Some(t(1, 10, 20)), "1")],
            t(1, 0, 0),
            t(31, 0, 0),
        );
        let hours: Vec<_> = charges
            .iter()
            .map(|c| (c.billing_group_id.as_str(), c.hours))
            .collect();
        // Hour starts 00:20..04:20 (5) before the move, 05:20..09:20 (5) after.
        assert_eq!(hours, [("a", 5), ("b", 5)]);
    }

    #[test]
    fn hours_belong_to_the_period_their_start_lies_in() {
        let memberships = [member("g", t(1, 0, 0), None)];
        let runs = [run(t(1, 0, 30), None, "1")];
        let first_day = charges(&memberships, &runs, t(1, 0, 0), t(2, 0, 0));
        let second_day = charges(&memberships, &runs, t(2, 0, 0), t(3, 0, 0));
        assert_eq!((first_day[0].hours, second_day[0].hours), (24, 24));
        let both = charges(&memberships, &runs, t(1, 0, 0), t(3, 0, 0));
        assert_eq!(both[0].hours, 48);
    }

    #[test]
    fn powered_off_services_cost_nothing_more() {
        let memberships = [member("g", t(1, 0, 0), None)];
        let runs = [
            run(t(1, 0, 0), Some(t(1, 2, 0)), "1"),
            run(t(3, 0, 0), Some(t(3, 1, 0)), "1"),
        ];
        let c = charges(&memberships, &runs, t(1, 0, 0), t(31, 0, 0));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].hours, 3);
    }
}
