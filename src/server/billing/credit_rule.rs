//! Rule 10's consumption rule, written once: the month close, the running
//! month's estimate, the move preview and the burn-down forecast all use it.
//!
//! A credit pays for hours used while it is valid (`start_time` ≤ hour <
//! `expire_time`), in USD. Credits are taken soonest-expiring first (no
//! expiry last; then earliest claim, then code); each takes what is still
//! unpaid in its validity, earliest hours first and projects by name, up
//! to its remaining value. An earmarked credit pays only its project's
//! charges in the group. So no charge is paid twice and no remaining value
//! goes below zero.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::costs::{self, Charge};
use crate::model::ids::GroupId;
use crate::model::states::CreditType;
use crate::server::store::{CreditRecord, GroupMembershipRecord, PricedRunRecord};

/// How far the burn-down looks ahead for a credit without expiry.
const FORECAST_YEARS: i64 = 5;

/// A credit with the remaining value a calculation starts from.
#[derive(Debug, Clone)]
pub struct Balance<'a> {
    pub credit: &'a CreditRecord,
    pub remaining: Decimal,
}

/// A stretch of time with no credit starting or expiring inside it, and the
/// group's charges in it per project (USD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub per_project: BTreeMap<String, Decimal>,
}

/// What one credit pays, exactly (rounding happens on the invoice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub code: String,
    pub credit_type: CreditType,
    pub earmarked_project_name: Option<String>,
    pub remaining_before: Decimal,
    pub per_project: BTreeMap<String, Decimal>,
    /// Paid in each stretch, in the stretches' order.
    pub per_stretch: Vec<Decimal>,
    pub total: Decimal,
    /// The stretch in which the remaining value reached zero, and the share
    /// of that stretch's unpaid charges (in the credit's scope) it paid.
    pub ran_out_in: Option<(usize, Decimal)>,
}

/// Soonest expiry first, no expiry last; then earliest claim, then code.
fn consumption_key(
    credit: &CreditRecord,
) -> (bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>, &str) {
    (
        credit.expire_time.is_none(),
        credit.expire_time,
        credit.claim_time,
        credit.code.as_str(),
    )
}

/// `[from, to)` cut wherever a credit starts or expires inside it.
pub fn cut_at_validity(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    balances: &[Balance],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut cuts: BTreeSet<DateTime<Utc>> = [from, to].into_iter().collect();
    for balance in balances {
        for instant in [Some(balance.credit.start_time), balance.credit.expire_time]
            .into_iter()
            .flatten()
        {
            if from < instant && instant < to {
                cuts.insert(instant);
            }
        }
    }
    let cuts: Vec<_> = cuts.into_iter().collect();
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// The consumption rule (see the module comment). `stretches` must be cut
/// at every start and expiry (`cut_at_validity`); what the credits pay is
/// taken off their charges.
pub fn allocate(balances: &[Balance], stretches: &mut [Stretch]) -> Vec<Allocation> {
    let mut order: Vec<&Balance> = balances.iter().collect();
    order.sort_by(|a, b| consumption_key(a.credit).cmp(&consumption_key(b.credit)));
    let mut allocations = Vec::with_capacity(order.len());
    for balance in order {
        let credit = balance.credit;
        let mut left = balance.remaining.max(Decimal::ZERO);
        let mut allocation = Allocation {
            code: credit.code.clone(),
            credit_type: credit.credit_type,
            earmarked_project_name: credit.earmarked_project_name.clone(),
            remaining_before: balance.remaining,
            per_project: BTreeMap::new(),
            per_stretch: vec![Decimal::ZERO; stretches.len()],
            total: Decimal::ZERO,
            ran_out_in: None,
        };
        let in_scope = |project: &str| {
            credit
                .earmarked_project_name
                .as_deref()
                .is_none_or(|earmark| earmark == project)
        };
        for (index, stretch) in stretches.iter_mut().enumerate() {
            if left.is_zero() {
                break;
            }
            let valid = credit.start_time <= stretch.from
                && credit.expire_time.is_none_or(|expiry| stretch.to <= expiry);
            if !valid {
                continue;
            }
            let unpaid_in_scope: Decimal = stretch
                .per_project
                .iter()
                .filter(|(project, _)| in_scope(project))
                .map(|(_, unpaid)| *unpaid)
                .sum();
            for (project, unpaid) in stretch.per_project.iter_mut() {
                if !in_scope(project) {
                    continue;
                }
                let take = left.min(*unpaid);
                if take <= Decimal::ZERO {
                    continue;
                }
                *unpaid -= take;
                left -= take;
                *allocation.per_project.entry(project.clone()).or_default() += take;
                allocation.per_stretch[index] += take;
                allocation.total += take;
                if left.is_zero() {
                    allocation.ran_out_in =
                        Some((index, allocation.per_stretch[index] / unpaid_in_scope));
                    break;
                }
            }
        }
        allocations.push(allocation);
    }
    allocations
}

/// What the group's claimed credits pay of `[from, to)`, given the group's
/// charges over all of it (`own`) and its usage (for stretches shorter than
/// the period, which only a credit starting or expiring inside it makes).
pub fn credits_for_period(
    billing_group_id: &GroupId,
    credits: &[&CreditRecord],
    memberships: &[GroupMembershipRecord],
    runs: &[PricedRunRecord],
    own: &[&Charge],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Vec<Allocation> {
    let balances: Vec<Balance> = credits
        .iter()
        .filter(|c| c.remaining_value_usd.0 > Decimal::ZERO)
        .filter(|c| c.start_time < to && c.expire_time.is_none_or(|e| e > from))
        .map(|c| Balance {
            credit: c,
            remaining: c.remaining_value_usd.0,
        })
        .collect();
    if balances.is_empty() || own.is_empty() {
        return Vec::new();
    }
    let bounds = cut_at_validity(from, to, &balances);
    let mut stretches: Vec<Stretch> = if bounds.len() == 1 {
        vec![Stretch {
            from,
            to,
            per_project: per_project(own.iter().copied()),
        }]
    } else {
        bounds
            .into_iter()
            .map(|(a, b)| {
                let charges = costs::charges(memberships, runs, a, b);
                Stretch {
                    from: a,
                    to: b,
                    per_project: per_project(
                        charges
                            .iter()
                            .filter(|c| c.billing_group_id == billing_group_id),
                    ),
                }
            })
            .collect()
    };
    allocate(&balances, &mut stretches)
        .into_iter()
        .filter(|a| a.total > Decimal::ZERO)
        .collect()
}

fn per_project<'a>(charges: impl Iterator<Item = &'a Charge>) -> BTreeMap<String, Decimal> {
    let mut map = BTreeMap::new();
    for charge in charges {
        *map.entry(charge.project_name.clone())
            .or_insert(Decimal::ZERO) += charge.amount_usd;
    }
    map
}

// --------------------------------------------------------------- forecast --

/// When each credit runs out and what it leaves unused at expiry, if the
/// projects keep spending `rate_per_project` (USD per hour) from `now`.
/// Starts from `balances` (the remaining values less what the running
/// month has used so far) and applies the consumption rule day by day.
pub fn burn_down(
    balances: &[Balance],
    rate_per_project: &BTreeMap<String, Decimal>,
    now: DateTime<Utc>,
) -> Vec<(String, Option<DateTime<Utc>>, Decimal)> {
    let horizon_cap = now + Duration::days(365 * FORECAST_YEARS);
    let horizon = balances
        .iter()
        .map(|b| b.credit.expire_time.unwrap_or(horizon_cap))
        .max()
        .unwrap_or(now)
        .min(horizon_cap);
    let mut cuts: BTreeSet<DateTime<Utc>> = [now].into_iter().collect();
    let mut midnight = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    while let Some(day) = midnight {
        let next = day + Duration::days(1);
        if next >= horizon {
            break;
        }
        cuts.insert(next);
        midnight = Some(next);
    }
    if horizon > now {
        cuts.insert(horizon);
    }
    let cuts: Vec<_> = cuts.into_iter().collect();
    let mut bounds: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for window in cuts.windows(2) {
        bounds.extend(cut_at_validity(window[0], window[1], balances));
    }
    let hour_ms = Decimal::from(3_600_000);
    let mut stretches: Vec<Stretch> = bounds
        .iter()
        .map(|&(from, to)| {
            let hours = Decimal::from((to - from).num_milliseconds()) / hour_ms;
            Stretch {
                from,
                to,
                per_project: rate_per_project
                    .iter()
                    .map(|(p, rate)| (p.clone(), *rate * hours))
                    .collect(),
            }
        })
        .collect();
    let allocations = allocate(balances, &mut stretches);
    allocations
        .into_iter()
        .map(|allocation| {
            let start = allocation.remaining_before.max(Decimal::ZERO);
            // Charges accrue evenly at a run rate: it runs out the share of
            // its last stretch that it paid into it.
            let runs_out = if start.is_zero() {
                Some(now)
            } else {
                allocation.ran_out_in.and_then(|(index, share)| {
                    let stretch = stretches.get(index)?;
                    let span = Decimal::from((stretch.to - stretch.from).num_milliseconds());
                    let offset: i64 = (share * span).trunc().try_into().ok()?;
                    Some(stretch.from + Duration::milliseconds(offset))
                })
            };
            let credit = balances
                .iter()
                .find(|b| b.credit.code == allocation.code)
                .map(|b| b.credit);
            let expires = credit.and_then(|c| c.expire_time);
            let unused = match (runs_out, expires) {
                (None, Some(expiry)) if expiry <= horizon_cap => start - allocation.total,
                _ => Decimal::ZERO,
            };
            (allocation.code, runs_out, unused.max(Decimal::ZERO))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::DbDecimal;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, day, 0, 0, 0).unwrap()
    }

    fn credit(
        code: &str,
        remaining: i64,
        expires: Option<u32>,
        earmark: Option<&str>,
    ) -> CreditRecord {
        CreditRecord {
            code: code.into(),
            credit_type: CreditType::Trial,
            value_usd: DbDecimal(Decimal::from(remaining)),
            remaining_value_usd: DbDecimal(Decimal::from(remaining)),
            start_time: t(1),
            expire_time: expires.map(t),
            issue_time: t(1),
            billing_group_id: Some("g".into()),
            earmarked_project_name: earmark.map(String::from),
            claim_time: Some(t(1)),
        }
    }

    fn stretch(from: u32, to: u32, charges: &[(&str, i64)]) -> Stretch {
        Stretch {
            from: t(from),
            to: t(to),
            per_project: charges
                .iter()
                .map(|(p, v)| (p.to_string(), Decimal::from(*v)))
                .collect(),
        }
    }

    fn balances(credits: &[CreditRecord]) -> Vec<Balance<'_>> {
        credits
            .iter()
            .map(|c| Balance {
                credit: c,
                remaining: c.remaining_value_usd.0,
            })
            .collect()
    }

    #[test]
    fn the_soonest_expiring_credit_pays_first_and_none_pays_twice() {
        let credits = [
            credit("LATE", 100, Some(30), None),
            credit("SOON", 30, Some(31), None),
            credit("NEVER", 100, None, None),
        ];
        // SOON expires on the 31st, LATE on the 30th: LATE goes first.
        let mut stretches = vec![
            stretch(1, 30, &[("a", 50), ("b", 70)]),
            stretch(30, 31, &[("a", 10)]),
        ];
        let a = allocate(&balances(&credits), &mut stretches);
        let total = |code: &str| a.iter().find(|x| x.code == code).unwrap().total;
        assert_eq!(total("LATE"), Decimal::from(100));
        assert_eq!(total("SOON"), Decimal::from(30));
        assert_eq!(total("NEVER"), Decimal::from(0));
        let unpaid: Decimal = stretches.iter().flat_map(|s| s.per_project.values()).sum();
        assert_eq!(unpaid, Decimal::ZERO);
    }

    #[test]
    fn an_earmarked_credit_pays_only_its_project() {
        let credits = [credit("EAR", 100, None, Some("b"))];
        let mut stretches = vec![stretch(1, 31, &[("a", 50), ("b", 20)])];
        let a = allocate(&balances(&credits), &mut stretches);
        assert_eq!(a[0].per_project.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(a[0].total, Decimal::from(20));
    }

    #[test]
    fn a_credit_pays_only_hours_of_its_validity() {
        let credits = [credit("HALF", 100, Some(16), None)];
        let bounds = cut_at_validity(t(1), t(31), &balances(&credits));
        assert_eq!(bounds, [(t(1), t(16)), (t(16), t(31))]);
        let mut stretches = vec![stretch(1, 16, &[("a", 15)]), stretch(16, 31, &[("a", 15)])];
        let a = allocate(&balances(&credits), &mut stretches);
        assert_eq!(a[0].total, Decimal::from(15));
    }

    #[test]
    fn the_burn_down_finds_the_day_a_credit_runs_out_and_what_expires() {
        let credits = [
            credit("RUNSOUT", 48, Some(31), None),
            credit("EXPIRES", 500, Some(31), Some("b")),
        ];
        let rates: BTreeMap<String, Decimal> = [
            ("a".to_string(), Decimal::ONE),
            ("b".to_string(), Decimal::ONE),
        ]
        .into_iter()
        .collect();
        let forecast = burn_down(&balances(&credits), &rates, t(10));
        let of = |code: &str| forecast.iter().find(|f| f.0 == code).unwrap().clone();
        // 1 USD/h on project a: 48 USD last two days.
        assert_eq!(of("RUNSOUT").1, Some(t(12)));
        assert_eq!(of("RUNSOUT").2, Decimal::ZERO);
        // Project b: 21 days × 24 USD = 504 > 500, so it runs out too…
        assert!(of("EXPIRES").1.is_some());
        // …but a smaller rate leaves some unused at expiry.
        let slow: BTreeMap<String, Decimal> = [("b".to_string(), Decimal::new(5, 1))]
            .into_iter()
            .collect();
        let forecast = burn_down(&balances(&credits), &slow, t(10));
        let expires = forecast.iter().find(|f| f.0 == "EXPIRES").unwrap();
        assert_eq!(expires.1, None);
        assert_eq!(expires.2, Decimal::from(500 - 21 * 12));
    }
}
