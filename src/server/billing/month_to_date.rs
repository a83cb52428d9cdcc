//! The running month of one group, loaded once: its usage (cached per
//! group and month while the account's usage version is unchanged), the
//! charges the cost engine makes of it up to now (cached too, until a run
//! starts its next hour), the exchange rate in force today and what the
//! group's credits are expected to pay. The header, the Overview, the move
//! preview, the Credits tab and the estimate (invoice list, invoice page,
//! API) all read the month through here.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::calendar::month_of;
use super::costs::{self, Charge, DailyCosts};
use super::credit_rule::{credits_for_period, Allocation};
use super::drafts;
use super::rates::{self, RatesOn};
use crate::error::AppResult;
use crate::model::billing::AccumulatedCosts;
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::{Currency, Money};
use crate::server::config::Seller;
use crate::server::store::cache::Freshness;
use crate::server::store::{
    BillingGroupRecord, CreditRecord, NewInvoice, ProjectRecord, Store, Usage,
};

pub struct MonthToDate {
    pub group: BillingGroupRecord,
    /// [first instant, first instant of the next month).
    pub month: (DateTime<Utc>, DateTime<Utc>),
    pub now: DateTime<Utc>,
    /// The month's memberships and runs of the projects that were in the
    /// group (the engine counts only hours started before `now`).
    pub usage: Arc<Usage>,
    /// Every charge of that usage up to now, this group's and (for projects
    /// that moved) other groups'; with the chart's daily figures.
    figures: Arc<Figures>,
    /// Local units per USD today; None when no rate is in force.
    pub rate: Option<Decimal>,
    /// The group's claimed credits (loaded on request).
    pub credits: Vec<CreditRecord>,
    /// What those credits are expected to pay of the month so far.
    pub expected: Vec<Allocation>,
}

/// Whether a load needs the group's credits (the Overview, the move
/// preview, the Credits tab and the estimate do; the header does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithCredits {
    Yes,
    No,
}

impl MonthToDate {
    pub async fn load(
        store: &dyn Store,
        group: BillingGroupRecord,
        now: DateTime<Utc>,
        with_credits: WithCredits,
    ) -> AppResult<MonthToDate> {
        let month = month_of(now);
        let (version, stored_rate) = store
            .usage_version_and_rate(
                &group.billing_group_id,
                group.billing_currency,
                now.date_naive(),
            )
            .await?;
        let usage = month_usage(store, &group.billing_group_id, month, version).await?;
        let figures = month_figures(store, &group.billing_group_id, month, version, &usage, now);
        let rate = rates::in_force(group.billing_currency, stored_rate);
        let mut loaded = MonthToDate {
            group,
            month,
            now,
            usage,
            figures,
            rate,
            credits: Vec::new(),
            expected: Vec::new(),
        };
        // A deleted group's credits pay nothing more.
        if with_credits == WithCredits::Yes && loaded.group.is_active() {
            loaded.credits = store
                .credits_of_group(&loaded.group.billing_group_id)
                .await?;
            let credits: Vec<&CreditRecord> = loaded.credits.iter().collect();
            loaded.expected = credits_for_period(
                &loaded.group.billing_group_id,
                &credits,
                &loaded.usage.0,
                &loaded.usage.1,
                &loaded.own(),
                (month.0, now),
            );
        }
        Ok(loaded)
    }

    /// This group's charges.
    pub fn own(&self) -> Vec<&Charge> {
        self.figures
            .charges
            .iter()
            .filter(|c| c.billing_group_id == self.group.billing_group_id)
            .collect()
    }

    /// Rule 7: accumulated costs, before credits and VAT.
    pub fn accumulated(&self) -> AccumulatedCosts {
        drafts::accumulated(&self.own(), self.rate, self.group.billing_currency)
    }

    /// The running month's invoice: the same draft a close makes.
    pub fn estimate(&self, seller: &Seller) -> (NewInvoice, Option<String>) {
        drafts::estimate_draft(
            seller,
            &self.group,
            &self.own(),
            self.month,
            self.rate,
            &self.expected,
        )
    }

    /// The group's charges per project and day so far (the cost chart).
    pub fn daily_costs(&self) -> &DailyCosts {
        self.figures.daily.get_or_init(|| {
            costs::daily_by_project(
                &self.usage.0,
                &self.usage.1,
                &self.group.billing_group_id,
                self.month.0,
                self.now,
            )
        })
    }

    /// Each project's charges in the group so far: the sums of its service
    /// lines, in USD and (with a rate) the group's currency, so the rows
    /// add up to [`MonthToDate::accumulated`] in both.
    pub fn cost_by_project(&self) -> BTreeMap<String, AccumulatedCosts> {
        let mut charges: BTreeMap<&str, Vec<&Charge>> = BTreeMap::new();
        for charge in self.own() {
            charges
                .entry(charge.project_name.as_str())
                .or_default()
                .push(charge);
        }
        charges
            .into_iter()
            .map(|(project, own)| {
                let costs = drafts::accumulated(&own, self.rate, self.group.billing_currency);
                (project.to_string(), costs)
            })
            .collect()
    }

    /// USD per hour of the services running now, per project still in the
    /// group: what the rest of the month costs.
    pub fn run_rates(&self) -> BTreeMap<String, Decimal> {
        let (memberships, runs) = self.usage.as_ref();
        let in_group_now = |project: &str| {
            memberships.iter().any(|m| {
                m.project_name == project
                    && m.billing_group_id == self.group.billing_group_id
                    && m.valid_from <= self.now
                    && m.valid_to.is_none_or(|end| end > self.now)
            })
        };
        let mut rates: BTreeMap<String, Decimal> = BTreeMap::new();
        for run in runs {
            let running = run.started_at <= self.now && run.ended_at.is_none_or(|e| e > self.now);
            if running && in_group_now(&run.project_name) {
                *rates.entry(run.project_name.clone()).or_default() += run.hourly_price_usd.0;
            }
        }
        rates
    }

    /// What the credits are expected to pay, per project.
    pub fn credits_by_project(&self) -> BTreeMap<String, Decimal> {
        let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
        for allocation in &self.expected {
            for (project, usd) in &allocation.per_project {
                *paid.entry(project.clone()).or_default() += *usd;
            }
        }
        paid
    }

    /// What one credit is expected to pay of the month so far (USD, exact).
    pub fn expected_of(&self, code: &str) -> Decimal {
        self.expected
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.total)
            .unwrap_or_default()
    }
}

/// What the engine made of a month's usage up to a moment.
struct Figures {
    charges: Vec<Charge>,
    /// Computed when a page first asks (only the Overview's chart does).
    daily: OnceLock<DailyCosts>,
}

/// The month's charges up to `now`. Computed once per usage version and
/// reused until a run starts its next hour — the first moment they would
/// grow (rule 7) — or a new day begins (the chart gains a day), so pages
/// under load do not run the engine per request.
fn month_figures(
    store: &dyn Store,
    billing_group_id: &GroupId,
    month: (DateTime<Utc>, DateTime<Utc>),
    version: Option<i64>,
    usage: &Usage,
    now: DateTime<Utc>,
) -> Arc<Figures> {
    let cache = &store.caches().month_figures;
    let key = (billing_group_id.to_string(), month.0);
    let cached = version
        .and_then(|v| cache.get_if(&key, |fresh| fresh.covers(v, now)))
        .and_then(|any| any.downcast::<Figures>().ok());
    if let Some(figures) = cached {
        return figures;
    }
    let figures = Arc::new(Figures {
        charges: costs::charges(&usage.0, &usage.1, month.0, now),
        daily: OnceLock::new(),
    });
    if let Some(version) = version {
        let next_day = (now.date_naive() + chrono::Days::new(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let until = costs::next_change(&usage.1, now).map_or(next_day, |next| next.min(next_day));
        let freshness = Freshness {
            version,
            from: now,
            until: Some(until),
        };
        let any: Arc<dyn Any + Send + Sync> = figures.clone();
        cache.put(key, freshness, any);
    }
    figures
}

/// The group's usage of the month: cached per group and month while its
/// account's usage version is unchanged (every usage-changing transaction
/// bumps it), so pages do not read the month again on every request.
async fn month_usage(
    store: &dyn Store,
    billing_group_id: &GroupId,
    month: (DateTime<Utc>, DateTime<Utc>),
    version: Option<i64>,
) -> AppResult<Arc<Usage>> {
    let cache = &store.caches().usage;
    let key = (billing_group_id.to_string(), month.0);
    if let Some(usage) = version.and_then(|v| cache.get(&key, v)) {
        return Ok(usage);
    }
    let usage = Arc::new(
        store
            .group_usage(billing_group_id, month.0, month.1)
            .await?,
    );
    if let Some(version) = version {
        cache.put(key, version, usage.clone());
    }
    Ok(usage)
}

/// Accumulated costs of several groups of one account at once (the Billing
/// tab and the API's lists): one read of the account's usage, each group's
/// figure drafted as [`MonthToDate::accumulated`] drafts it.
pub async fn accumulated_of_groups(
    store: &dyn Store,
    account_id: &AccountId,
    groups: &[&BillingGroupRecord],
    now: DateTime<Utc>,
) -> AppResult<BTreeMap<GroupId, AccumulatedCosts>> {
    Ok(
        accumulated_of_account(store, account_id, groups, Currency::USD, now)
            .await?
            .0,
    )
}

/// [`accumulated_of_groups`], and their total in `currency`: the same
/// charges, each rounded as its line would be (one rounding path, so the
/// USD total is the sum of the groups' USD figures to the cent).
pub async fn accumulated_of_account(
    store: &dyn Store,
    account_id: &AccountId,
    groups: &[&BillingGroupRecord],
    currency: Currency,
    now: DateTime<Utc>,
) -> AppResult<(BTreeMap<GroupId, AccumulatedCosts>, AccumulatedCosts)> {
    let charges = account_charges(store, account_id, now).await?;
    let mut rates = RatesOn::new(now.date_naive());
    let mut figures = BTreeMap::new();
    let mut all: Vec<&Charge> = Vec::new();
    for group in groups {
        let own: Vec<&Charge> = charges
            .iter()
            .filter(|c| c.billing_group_id == group.billing_group_id)
            .collect();
        let rate = rates.get(store, group.billing_currency).await?;
        figures.insert(
            group.billing_group_id.clone(),
            drafts::accumulated(&own, rate, group.billing_currency),
        );
        all.extend(own);
    }
    let rate = rates.get(store, currency).await?;
    Ok((figures, drafts::accumulated(&all, rate, currency)))
}

/// The account's charges from the month's start until `now`: what the
/// account-wide figures below are made of.
async fn account_charges(
    store: &dyn Store,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<Vec<Charge>> {
    let month = month_of(now);
    let (memberships, runs) = store.account_usage(account_id, month.0, now).await?;
    Ok(costs::charges(&memberships, &runs, month.0, now))
}

/// Each project's charges so far this month per group it was in, for the
/// projects of one account: (group, project) → USD, each charge rounded as
/// its service line is.
pub async fn project_costs_of_account(
    store: &dyn Store,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<BTreeMap<(GroupId, String), Money>> {
    let mut costs: BTreeMap<(GroupId, String), Money> = BTreeMap::new();
    for charge in account_charges(store, account_id, now).await? {
        let cost = costs
            .entry((charge.billing_group_id, charge.project_name))
            .or_insert(Money::zero(Currency::USD));
        *cost = *cost + Money::usd(charge.amount_usd);
    }
    Ok(costs)
}

/// One project's charges so far this month per service, over every group
/// the project was in (the project page): each charge rounded as its
/// service line is, so a service's figure is what its lines will add to.
pub async fn service_costs_of_project(
    store: &dyn Store,
    project: &ProjectRecord,
    now: DateTime<Utc>,
) -> AppResult<BTreeMap<String, Money>> {
    let mut costs: BTreeMap<String, Money> = BTreeMap::new();
    for charge in account_charges(store, &project.account_id, now).await? {
        if charge.project_name == project.project_name {
            let cost = costs
                .entry(charge.service_name)
                .or_insert(Money::zero(Currency::USD));
            *cost = *cost + Money::usd(charge.amount_usd);
        }
    }
    Ok(costs)
}
