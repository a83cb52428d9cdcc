//! The billing group page: its header (above every tab) and the tabs that
//! show the running month — Overview and Projects (with the move preview)
//! — and Billing information. Each is read on its own; the month comes
//! from `MonthToDate`, the one loader.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::access::authorized_group;
use super::calendar::{month_of, period_name};
use super::costs::DailyCosts;
use super::credits::applied_of;
use super::drafts::{estimate_summary, summary_of};
use super::month_to_date::{MonthToDate, WithCredits};
use super::present::to_model;
use crate::error::{AppError, AppResult};
use crate::model::billing::{
    BillingInfoPage, GroupHeader, GroupOverview, GroupProjects, ProjectCost,
};
use crate::model::credits::{display_code, AppliedCredit};
use crate::model::ids::GroupId;
use crate::model::invoices::{CostChart, MonthBar, ESTIMATE};
use crate::model::money::{Currency, Money};
use crate::model::states::LineType;
use crate::model::{CurrentUser, Role};
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, CreditNoteRecord, InvoiceRecord, ProjectRecord, Store,
};

/// Credit lines of issued invoices the Overview lists.
const APPLIED_CREDITS_SHOWN: i64 = 10;

/// Projects stacked in the cost chart; the rest are summed into one stack,
/// so the chart (and the page) stay small in a group of any size.
const CHART_PROJECTS: usize = 7;

/// Name, account, accumulated costs (rule 7) and what the action menu needs.
pub async fn header(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<GroupHeader> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let account = store
        .account(&group.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    let project_count = store
        .project_count_of_group(&group.billing_group_id)
        .await?;
    let month = MonthToDate::load(store, group, now, WithCredits::No).await?;
    Ok(GroupHeader {
        is_primary: account.primary_billing_group_id == month.group.billing_group_id,
        account_name: account.account_name,
        role,
        costs: month.accumulated(),
        project_count,
        group: to_model(month.group),
    })
}

/// The Billing information tab.
pub async fn billing_info_page(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
) -> AppResult<BillingInfoPage> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    Ok(BillingInfoPage {
        editable: role.allows(Role::Billing) && group.is_active(),
        group: to_model(group),
    })
}

/// The group's projects with what the month holds for each: cost so far,
/// and (for the move preview) run rate, what credits pay of it, and what
/// credits earmarked for it hold.
fn project_costs(month: &MonthToDate, projects: &[&ProjectRecord]) -> Vec<ProjectCost> {
    let costs = month.cost_by_project();
    let run_rates = month.run_rates();
    let credits = month.credits_by_project();
    // Credits earmarked for a project stay with the group when it moves.
    let mut earmarked: BTreeMap<&str, Decimal> = BTreeMap::new();
    for credit in month
        .credits
        .iter()
        .filter(|c| c.expire_time.is_none_or(|e| e > month.now))
    {
        if let Some(project) = &credit.earmarked_project_name {
            *earmarked.entry(project.as_str()).or_default() += credit.remaining_value_usd.0;
        }
    }
    let local_zero = (month.rate.is_some() && month.group.billing_currency != Currency::USD)
        .then(|| Money::zero(month.group.billing_currency));
    let row = |name: &str, moved_out: bool| {
        let cost = costs.get(name);
        ProjectCost {
            project_name: name.to_string(),
            moved_out,
            cost_usd: cost.map_or(Money::zero(Currency::USD), |c| c.usd),
            cost_local: match cost {
                Some(c) => c.local.filter(|l| l.currency != Currency::USD),
                None => local_zero,
            },
            run_rate_usd: if moved_out {
                Decimal::ZERO
            } else {
                run_rates.get(name).copied().unwrap_or_default()
            },
            credits_usd: Money::usd(credits.get(name).copied().unwrap_or_default()),
            earmarked_usd: Money::usd(earmarked.get(name).copied().unwrap_or_default()),
        }
    };
    let current: std::collections::BTreeSet<&str> =
        projects.iter().map(|p| p.project_name.as_str()).collect();
    // A project that left this month keeps its hours here: listed, so the
    // rows add up to the group's figure.
    let moved_out = costs
        .keys()
        .filter(|name| !current.contains(name.as_str()))
        .map(|name| row(name, true));
    projects
        .iter()
        .map(|p| row(&p.project_name, false))
        .chain(moved_out)
        .collect()
}

/// The Overview: projects with this month's costs, the cost chart, the
/// estimate and the latest invoices, and applied credits.
pub async fn overview(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<GroupOverview> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let projects = store.projects_of_group(&group.billing_group_id).await?;
    let month = MonthToDate::load(store, group, now, WithCredits::Yes).await?;
    let group = &month.group;
    let budget = super::budgets::status(store, group, Some(&month), now).await?;
    let mut invoices = Vec::new();
    let mut applied_credits = Vec::new();
    let mut running_month_usd = None;
    if group.is_active() {
        // The estimate: the same draft a close makes, with what the
        // group's credits are expected to pay.
        let (draft, _) = month.estimate(seller);
        invoices.push(estimate_summary(&draft));
        running_month_usd = Some(draft.total_usd);
        applied_credits.extend(
            draft
                .lines
                .iter()
                .filter(|l| l.line_type == LineType::CreditConsumption)
                .map(|l| AppliedCredit {
                    invoice_number: ESTIMATE.into(),
                    period_begin: month.month.0,
                    code: l
                        .credit_code
                        .as_deref()
                        .map(display_code)
                        .unwrap_or_default(),
                    project_name: l.project_name.clone(),
                    amount_usd: -Money::usd(l.line_total_usd.0),
                    amount_local: -Money::of(l.line_total_local.0, l.local_currency),
                }),
        );
    }
    applied_credits.extend(
        store
            .applied_credits_of_group(&group.billing_group_id, APPLIED_CREDITS_SHOWN)
            .await?
            .into_iter()
            .map(applied_of),
    );
    // Newest first.
    let records = store.invoices_of_group(&group.billing_group_id).await?;
    let credit_notes = store.credit_notes_of_group(&group.billing_group_id).await?;
    let issued: Vec<_> = records
        .iter()
        .map(|record| summary_of(record, &credit_notes, now.date_naive()))
        .collect();
    let overdue_days: Vec<i64> = issued.iter().filter_map(|i| i.overdue_days).collect();
    let overdue = overdue_days
        .iter()
        .max()
        .map(|&oldest| (overdue_days.len(), oldest));
    invoices.extend(issued.into_iter().take(3));
    let (chart_projects, days) = top_projects(month.daily_costs().clone());
    let months = last_twelve_months(
        group,
        &records,
        &credit_notes,
        month.month.0,
        running_month_usd.unwrap_or(month.accumulated().usd.amount),
    );
    let own: Vec<&ProjectRecord> = projects.iter().collect();
    Ok(GroupOverview {
        billing_group_id: group.billing_group_id.to_string(),
        projects: project_costs(&month, &own),
        invoices,
        overdue,
        chart: CostChart {
            projects: chart_projects,
            days,
            months,
        },
        applied_credits,
        budget,
        can_set_budget: group.is_active() && role.allows(Role::Billing),
    })
}

/// The 12-month chart's months, oldest first: each closed month's invoice
/// (before VAT, after credits and credit notes; a voided invoice's month is
/// its replacement's), a month that ended without an invoice yet said so,
/// and the running month's figure (the estimate's, or the charges of a
/// deleted group) last.
fn last_twelve_months(
    group: &BillingGroupRecord,
    records: &[InvoiceRecord],
    credit_notes: &[CreditNoteRecord],
    running_month: DateTime<Utc>,
    running_usd: Decimal,
) -> Vec<(String, MonthBar)> {
    let group_month = month_of(group.create_time).0;
    let mut months = Vec::with_capacity(12);
    let mut begin = running_month;
    for _ in 0..11 {
        begin = month_of(begin - chrono::Duration::days(1)).0;
        let invoiced = records
            .iter()
            .filter(|r| r.period_begin == begin)
            .filter(|r| {
                !credit_notes
                    .iter()
                    .any(|n| n.invoice_number == r.invoice_number && n.reissued_as.is_some())
            })
            .map(|r| {
                let credited: Decimal = credit_notes
                    .iter()
                    .filter(|n| n.invoice_number == r.invoice_number)
                    .map(|n| n.total_usd.0)
                    .sum();
                r.total_usd.0 + credited
            })
            .next();
        let bar = match invoiced {
            Some(usd) => MonthBar::Invoiced(usd),
            None if begin < group_month => MonthBar::BeforeGroup,
            None => MonthBar::NotInvoiced,
        };
        months.push((period_name(begin), bar));
    }
    months.reverse();
    months.push((period_name(running_month), MonthBar::Running(running_usd)));
    months
}

/// The Projects tab: the group's projects with the move preview's figures;
/// move targets and the account's other projects (the assign picker, read
/// only here, so other tabs stay small however large the account).
pub async fn projects_tab(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<GroupProjects> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let account_projects = store.projects_of_account(&group.account_id).await?;
    let groups = store.billing_groups_of_account(&group.account_id).await?;
    let month = MonthToDate::load(store, group, now, WithCredits::Yes).await?;
    let group = &month.group;
    let (own, others): (Vec<&ProjectRecord>, Vec<&ProjectRecord>) = account_projects
        .iter()
        .partition(|p| p.billing_group_id == group.billing_group_id);
    Ok(GroupProjects {
        billing_group_id: group.billing_group_id.to_string(),
        billing_group_name: group.billing_group_name.clone(),
        can_change: role.allows(Role::Billing) && group.is_active(),
        projects: project_costs(&month, &own),
        other_groups: groups
            .into_iter()
            .filter(|g| g.billing_group_id != group.billing_group_id)
            .map(|g| (g.billing_group_id.into_string(), g.billing_group_name))
            .collect(),
        assignable_projects: others
            .into_iter()
            .map(|p| (p.project_name.clone(), p.billing_group_name.clone()))
            .collect(),
        hours_to_month_end: (month.month.1 - now).num_hours(),
    })
}

/// Keeps the month's largest projects and sums the others into "Other
/// projects (n)".
fn top_projects((projects, days): DailyCosts) -> DailyCosts {
    if projects.len() <= CHART_PROJECTS + 1 {
        return (projects, days);
    }
    let mut totals: Vec<(usize, Decimal)> = (0..projects.len())
        .map(|p| (p, days.iter().map(|(_, values)| values[p]).sum()))
        .collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let kept: Vec<usize> = totals
        .iter()
        .take(CHART_PROJECTS)
        .map(|(p, _)| *p)
        .collect();
    let others = projects.len() - kept.len();
    let mut names: Vec<String> = kept.iter().map(|p| projects[*p].clone()).collect();
    names.push(format!("Other projects ({others})"));
    let days = days
        .into_iter()
        .map(|(day, values)| {
            let mut row: Vec<Decimal> = kept.iter().map(|p| values[*p]).collect();
            let rest = values.iter().sum::<Decimal>() - row.iter().sum::<Decimal>();
            row.push(rest);
            (day, row)
        })
        .collect();
    (names, days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_stacks_the_largest_projects_and_sums_the_rest() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let projects: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        let values: Vec<Decimal> = (0..10).map(Decimal::from).collect();
        let (names, days) = top_projects((projects, vec![(day, values)]));
        assert_eq!(names.len(), CHART_PROJECTS + 1);
        assert_eq!(names[0], "p9");
        assert_eq!(names[CHART_PROJECTS], "Other projects (3)");
        // 0 + 1 + 2 summed; the day's total is unchanged.
        assert_eq!(days[0].1[CHART_PROJECTS], Decimal::from(3));
        assert_eq!(
            days[0].1.iter().copied().sum::<Decimal>(),
            Decimal::from(45)
        );
    }
}
