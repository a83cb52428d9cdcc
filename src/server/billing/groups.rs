//! Billing groups: the account's Billing tab, the group page, create,
//! rename, delete, primary group, moving and assigning projects (rules 2–5).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::costs::{self, round_money};
use super::invoices;
use super::store_error;
use crate::error::{AppError, AppResult};
use crate::model::billing::{
    AccountBilling, AccumulatedCosts, BillingGroup, CardInfo, GroupPage, GroupSummary, Money,
    ProjectCost,
};
use crate::model::credits::AppliedCredit;
use crate::model::invoices::CostChart;
use crate::model::{validation, CurrentUser, Role};
use crate::server::auth::{authorize, internal};
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, BillingInfoUpdate, NewBillingGroup, ProjectRecord, Store, StoreError,
};

/// Loads a group and checks the caller's role on its account. A group of an
/// account the caller is not in or an unknown one answers "not found"; so
/// does a deleted group for any change (reads of a deleted group's page,
/// events and invoices stay possible, rule 4).
pub async fn authorized_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    needed: Role,
) -> AppResult<(BillingGroupRecord, Role)> {
    let not_found = || AppError::not_found("Billing group");
    let group = store
        .billing_group(billing_group_id.trim())
        .await
        .map_err(internal)?
        .filter(|g| g.group_state == "active" || needed == Role::Viewer)
        .ok_or_else(not_found)?;
    let role = authorize(store, user, &group.account_id, needed)
        .await
        .map_err(|e| match e {
            AppError::NotFound { .. } => not_found(),
            other => other,
        })?;
    Ok((group, role))
}

/// Month-to-date charges per group of the account, in USD (two queries).
pub async fn month_to_date_by_group(
    store: &dyn Store,
    account_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(Vec<costs::Charge>, BTreeMap<String, Decimal>)> {
    let (from, _) = costs::month_of(now);
    let (memberships, runs) = store
        .account_usage(account_id, from, now)
        .await
        .map_err(internal)?;
    let charges = costs::charges(&memberships, &runs, from, now);
    let totals = costs::totals_by_group(&charges);
    Ok((charges, totals))
}

/// USD and local amounts, the local one at the rate in force today.
async fn accumulated(
    rates: &mut BTreeMap<String, Option<Decimal>>,
    store: &dyn Store,
    usd: Decimal,
    currency: &str,
    now: DateTime<Utc>,
) -> AppResult<AccumulatedCosts> {
    if !rates.contains_key(currency) {
        let rate = store
            .exchange_rate_on(currency, now.date_naive())
            .await
            .map_err(internal)?;
        rates.insert(currency.to_string(), rate);
    }
    let local = rates.get(currency).copied().flatten().map(|rate| Money {
        amount: round_money(usd * rate),
        currency: currency.to_string(),
    });
    Ok(AccumulatedCosts {
        usd: Money {
            amount: round_money(usd),
            currency: "USD".into(),
        },
        local,
    })
}

/// The account's Billing tab: groups with counts, costs and the primary
/// marker, and the account's projects. Queries do not grow with projects.
pub async fn account_billing(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &str,
    now: DateTime<Utc>,
) -> AppResult<AccountBilling> {
    let role = authorize(store, user, account_id, Role::Viewer).await?;
    let account = store
        .account(account_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let summaries = store.group_summaries(account_id).await.map_err(internal)?;
    let (_, totals) = month_to_date_by_group(store, account_id, now).await?;
    let mut rates = BTreeMap::new();
    let mut groups = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let g = summary.group;
        let usd = totals.get(&g.billing_group_id).copied().unwrap_or_default();
        groups.push(GroupSummary {
            is_primary: g.billing_group_id == account.primary_billing_group_id,
            costs: accumulated(&mut rates, store, usd, &g.billing_currency, now).await?,
            billing_group_id: g.billing_group_id,
            billing_group_name: g.billing_group_name,
            billing_currency: g.billing_currency,
            project_count: summary.project_count,
        });
    }
    let projects = store
        .projects_of_account(account_id)
        .await
        .map_err(internal)?;
    let deleted = store
        .deleted_groups_of_account(account_id)
        .await
        .map_err(internal)?;
    Ok(AccountBilling {
        deleted_groups: deleted
            .into_iter()
            .map(|g| (g.billing_group_id, g.billing_group_name))
            .collect(),
        account_id: account.account_id,
        account_name: account.account_name,
        role,
        primary_billing_group_id: account.primary_billing_group_id,
        groups,
        projects: projects.iter().map(super::projects::summary).collect(),
    })
}

/// The billing group page: header, Overview and Projects tab data. The
/// account's other projects (the assign picker) are loaded only when
/// `with_assignable` (the Projects tab), so other tabs stay small however
/// large the account.
pub async fn group_page(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &str,
    tab: &str,
    now: DateTime<Utc>,
) -> AppResult<GroupPage> {
    let with_assignable = tab == "projects";
    let with_overview = tab == "overview";
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let account = store
        .account(&group.account_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::Internal)?;
    // Only this group's share of the month: rows grow with the group, not
    // with the account.
    let (month_start, _) = costs::month_of(now);
    let (memberships, runs) = store
        .group_usage(&group.billing_group_id, month_start, now)
        .await
        .map_err(internal)?;
    let charges = costs::charges(&memberships, &runs, month_start, now);
    let totals = costs::totals_by_group(&charges);
    let projects = if with_assignable {
        store.projects_of_account(&group.account_id).await
    } else {
        store.projects_of_group(&group.billing_group_id).await
    }
    .map_err(internal)?;
    let groups = store
        .billing_groups_of_account(&group.account_id)
        .await
        .map_err(internal)?;
    let mut rates = BTreeMap::new();
    let usd = totals
        .get(&group.billing_group_id)
        .copied()
        .unwrap_or_default();
    let costs = accumulated(&mut rates, store, usd, &group.billing_currency, now).await?;
    let mut project_costs: BTreeMap<&str, Decimal> = BTreeMap::new();
    for charge in charges
        .iter()
        .filter(|c| c.billing_group_id == group.billing_group_id)
    {
        *project_costs
            .entry(charge.project_name.as_str())
            .or_default() += charge.amount_usd;
    }
    let cost_of = |project: &str| project_costs.get(project).copied().unwrap_or_default();
    // Services running now, per project: what the rest of the month costs.
    let mut run_rates: BTreeMap<&str, Decimal> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.ended_at.is_none()) {
        *run_rates.entry(run.project_name.as_str()).or_default() += run.hourly_price_usd.0;
    }
    let (month_start, month_end) = costs::month_of(now);
    let hours_to_month_end = (month_end - now).num_hours();
    let own: Vec<&costs::Charge> = charges
        .iter()
        .filter(|c| c.billing_group_id == group.billing_group_id)
        .collect();
    // What the group's credits are expected to pay this month so far: the
    // Overview's estimate and the Projects tab's move preview.
    let (claimed, expected) = if (with_overview || with_assignable) && group.group_state == "active"
    {
        let claimed = store
            .credits_of_group(&group.billing_group_id)
            .await
            .map_err(internal)?;
        let refs: Vec<&crate::server::store::CreditRecord> = claimed.iter().collect();
        let expected = super::credits::credits_for_period(
            &group.billing_group_id,
            &refs,
            &memberships,
            &runs,
            &own,
            (month_start, now),
        );
        (claimed, expected)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut project_credits: BTreeMap<&str, Decimal> = BTreeMap::new();
    for allocation in &expected {
        for (project, usd) in &allocation.per_project {
            *project_credits.entry(project.as_str()).or_default() += *usd;
        }
    }
    // Credits earmarked for a project stay with the group when it moves.
    let mut earmarked: BTreeMap<&str, Decimal> = BTreeMap::new();
    for credit in claimed
        .iter()
        .filter(|c| c.expire_time.is_none_or(|e| e > now))
    {
        if let Some(project) = &credit.earmarked_project_name {
            *earmarked.entry(project.as_str()).or_default() += credit.remaining_value_usd.0;
        }
    }
    let mut applied_credits = Vec::new();
    let (invoices, chart) = if with_overview {
        let mut invoices = Vec::new();
        let mut running_month_usd = None;
        if group.group_state == "active" {
            // The estimate from the charges in hand: the same draft a close
            // makes, with what the group's credits are expected to pay.
            let rate = rates.get(&group.billing_currency).copied().flatten();
            let (draft, _) = invoices::estimate_draft(
                seller,
                &group,
                &own,
                (month_start, month_end),
                rate,
                &expected,
            );
            invoices.push(invoices::estimate_summary(&draft));
            running_month_usd = Some(draft.total_usd);
            applied_credits.extend(
                draft
                    .lines
                    .iter()
                    .filter(|l| l.line_type == "credit_consumption")
                    .map(|l| AppliedCredit {
                        invoice_number: crate::model::invoices::ESTIMATE.into(),
                        period_begin: month_start,
                        code: l
                            .credit_code
                            .as_deref()
                            .map(crate::model::credits::display_code)
                            .unwrap_or_default(),
                        project_name: l.project_name.clone(),
                        amount_usd: -l.line_total_usd.0,
                        amount_local: -l.line_total_local.0,
                        currency: l.local_currency.clone(),
                    }),
            );
        }
        applied_credits.extend(
            store
                .applied_credits_of_group(&group.billing_group_id, APPLIED_CREDITS_SHOWN)
                .await
                .map_err(internal)?
                .into_iter()
                .map(super::credits::applied_of),
        );
        let issued = store
            .invoices_of_group(&group.billing_group_id)
            .await
            .map_err(internal)?;
        invoices.extend(issued.iter().take(3).map(invoices::summary_of));
        let (projects, days) = top_projects(costs::daily_by_project(
            &memberships,
            &runs,
            &group.billing_group_id,
            month_start,
            now,
        ));
        let year_ago = costs::month_of(month_start - chrono::Duration::days(330)).0;
        let mut months: Vec<(String, Decimal)> = store
            .monthly_usd_of_group(&group.billing_group_id, year_ago)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|m| (m.period_begin.format("%Y-%m").to_string(), m.total_usd.0))
            .collect();
        // Like the closed months (an invoice's total before VAT, after
        // credits): the estimate's, or the charges of a deleted group.
        months.push((
            month_start.format("%Y-%m").to_string(),
            running_month_usd.unwrap_or_else(|| round_money(usd)),
        ));
        (
            invoices,
            Some(CostChart {
                projects,
                days,
                months,
            }),
        )
    } else {
        (Vec::new(), None)
    };
    let (own, others): (Vec<&ProjectRecord>, Vec<&ProjectRecord>) = projects
        .iter()
        .partition(|p| p.billing_group_id == group.billing_group_id);
    Ok(GroupPage {
        is_primary: account.primary_billing_group_id == group.billing_group_id,
        account_name: account.account_name,
        role,
        costs,
        projects: own
            .into_iter()
            .map(|p| ProjectCost {
                project_name: p.project_name.clone(),
                cost_usd: round_money(cost_of(&p.project_name)),
                run_rate_usd: run_rates
                    .get(p.project_name.as_str())
                    .copied()
                    .unwrap_or_default(),
                credits_usd: round_money(
                    project_credits
                        .get(p.project_name.as_str())
                        .copied()
                        .unwrap_or_default(),
                ),
                earmarked_usd: round_money(
                    earmarked
                        .get(p.project_name.as_str())
                        .copied()
                        .unwrap_or_default(),
                ),
            })
            .collect(),
        other_groups: groups
            .into_iter()
            .filter(|g| g.billing_group_id != group.billing_group_id)
            .map(|g| (g.billing_group_id, g.billing_group_name))
            .collect(),
        assignable_projects: others
            .into_iter()
            .map(|p| (p.project_name.clone(), p.billing_group_name.clone()))
            .collect(),
        hours_to_month_end,
        invoices,
        chart,
        applied_credits,
        group: to_model(group)?,
    })
}

/// Credit lines of issued invoices the Overview lists.
const APPLIED_CREDITS_SHOWN: i64 = 10;

/// Projects stacked in the cost chart; the rest are summed into one stack,
/// so the chart (and the page) stay small in a group of any size.
const CHART_PROJECTS: usize = 7;

type DailyCosts = (Vec<String>, Vec<(chrono::NaiveDate, Vec<Decimal>)>);

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

pub fn to_model(g: BillingGroupRecord) -> AppResult<BillingGroup> {
    let list =
        |text: &str| serde_json::from_str::<Vec<String>>(text).map_err(|_| AppError::Internal);
    let card_info = match (
        g.card_brand,
        g.card_last4,
        g.card_exp_month,
        g.card_exp_year,
    ) {
        (Some(brand), Some(last4), Some(exp_month), Some(exp_year)) => Some(CardInfo {
            brand,
            last4,
            exp_month,
            exp_year,
            name: g.card_name.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(BillingGroup {
        billing_emails: list(&g.billing_emails)?,
        address_lines: list(&g.address_lines)?,
        state_active: g.group_state == "active",
        billing_group_id: g.billing_group_id,
        account_id: g.account_id,
        billing_group_name: g.billing_group_name,
        billing_currency: g.billing_currency,
        billing_extra_text: g.billing_extra_text,
        company: g.company,
        city: g.city,
        state: g.state,
        zip_code: g.zip_code,
        country_code: g.country_code,
        vat_id: g.vat_id,
        payment_method: g.payment_method,
        card_info,
        create_time: g.create_time,
    })
}

fn group_name(value: &str) -> AppResult<String> {
    validation::display_name(value, "Billing group name", 128)
        .map_err(|m| AppError::invalid("billing_group_name", m))
}

/// Creates a group in the account, optionally copying billing information
/// (not the card) from another group of the same account.
pub async fn create_group(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &str,
    name: &str,
    copy_from: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    authorize(store, user, account_id, Role::Billing).await?;
    let name = group_name(name)?;
    let source = match copy_from.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => Some(
            store
                .billing_group(id)
                .await
                .map_err(internal)?
                .filter(|g| g.account_id == account_id && g.group_state == "active")
                .ok_or_else(|| {
                    AppError::invalid(
                        "copy_from",
                        "Choose a billing group of this account to copy from.",
                    )
                })?,
        ),
    };
    let new = NewBillingGroup {
        account_id: account_id.to_string(),
        billing_group_name: name,
        billing_currency: source
            .as_ref()
            .map(|s| s.billing_currency.clone())
            .unwrap_or_else(|| "USD".into()),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let created = store
        .create_billing_group(&id, &new, &user.email, now)
        .await
        .map_err(store_error)?;
    let Some(source) = source else {
        return Ok(created);
    };
    // Billing details copy over; a card stays with its group (pay by invoice
    // when the source paid by card).
    let update = BillingInfoUpdate {
        billing_currency: source.billing_currency.clone(),
        billing_emails: serde_json::from_str(&source.billing_emails).unwrap_or_default(),
        billing_extra_text: source.billing_extra_text.clone(),
        company: source.company.clone(),
        address_lines: serde_json::from_str(&source.address_lines).unwrap_or_default(),
        city: source.city.clone(),
        state: source.state.clone(),
        zip_code: source.zip_code.clone(),
        country_code: source.country_code.clone(),
        vat_id: source.vat_id.clone(),
        payment_method: if source.payment_method == "card" {
            "email".into()
        } else {
            source.payment_method.clone()
        },
        card: None,
    };
    store
        .update_billing_info(&id, &update, &user.email, now)
        .await
        .map_err(store_error)
}

pub async fn rename_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    let name = group_name(name)?;
    store
        .rename_billing_group(&group.billing_group_id, &name, &user.email, now)
        .await
        .map_err(store_error)
}

/// Deletes an empty, non-primary group; otherwise says why and what to do.
pub async fn delete_group(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    if let Some(reason) = delete_refusal(store, &group).await? {
        return Err(reason);
    }
    // The database checks again under lock: a project assigned meanwhile
    // makes this fail with the same message.
    store
        .delete_billing_group(&group.billing_group_id, &user.email, now)
        .await
        .map_err(store_error)
}

/// Why the group cannot be deleted right now, if it cannot.
pub async fn delete_refusal(
    store: &dyn Store,
    group: &BillingGroupRecord,
) -> AppResult<Option<AppError>> {
    let account = store
        .account(&group.account_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::Internal)?;
    if account.primary_billing_group_id == group.billing_group_id {
        return Ok(Some(store_error(StoreError::Violation(
            crate::server::store::Violation::GroupIsPrimary,
        ))));
    }
    let summaries = store
        .group_summaries(&group.account_id)
        .await
        .map_err(internal)?;
    let count = summaries
        .iter()
        .find(|s| s.group.billing_group_id == group.billing_group_id)
        .map_or(0, |s| s.project_count);
    if count > 0 {
        return Ok(Some(store_error(StoreError::Violation(
            crate::server::store::Violation::GroupHasProjects,
        ))));
    }
    Ok(None)
}

/// Sets the account's primary group (admins only, rule 3).
pub async fn set_primary(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &str,
    billing_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    authorize(store, user, account_id, Role::Admin).await?;
    let group = store
        .billing_group(billing_group_id.trim())
        .await
        .map_err(internal)?;
    match group {
        Some(g) if g.account_id == account_id && g.group_state == "active" => store
            .set_primary_billing_group(account_id, &g.billing_group_id, &user.email, now)
            .await
            .map_err(store_error),
        _ => Err(AppError::invalid(
            "billing_group_id",
            "Choose an active billing group of this account.",
        )),
    }
}

/// Moves (or assigns) a project into a group of its own account (rule 2).
pub async fn move_project(
    store: &dyn Store,
    user: &CurrentUser,
    project_name: &str,
    to_group_id: &str,
    now: DateTime<Utc>,
) -> AppResult<ProjectRecord> {
    let (project, _) =
        super::projects::authorized_project(store, user, project_name, Role::Billing).await?;
    let target = store
        .billing_group(to_group_id.trim())
        .await
        .map_err(internal)?;
    match target {
        Some(g) if g.account_id == project.account_id && g.group_state == "active" => {
            if g.billing_group_id == project.billing_group_id {
                return Err(AppError::invalid(
                    "billing_group_id",
                    format!(
                        "Project '{}' is already in billing group '{}'.",
                        project.project_name, g.billing_group_name
                    ),
                ));
            }
            store
                .move_project(&project.project_name, &g.billing_group_id, &user.email, now)
                .await
                .map_err(store_error)
        }
        _ => Err(AppError::invalid(
            "billing_group_id",
            "Choose a billing group of this project's account; that one is not one of them.",
        )),
    }
}

/// Assigns several projects to the group; each move is its own transaction
/// and all names are checked before any moves.
pub async fn assign_projects(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &str,
    project_names: &[String],
    now: DateTime<Utc>,
) -> AppResult<Vec<ProjectRecord>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Billing).await?;
    if project_names.is_empty() {
        return Err(AppError::invalid(
            "projects_names",
            "Choose at least one project to assign.",
        ));
    }
    let account_projects = store
        .projects_of_account(&group.account_id)
        .await
        .map_err(internal)?;
    for name in project_names {
        if !account_projects
            .iter()
            .any(|p| p.project_name == name.trim())
        {
            return Err(AppError::invalid(
                "projects_names",
                format!(
                    "Project '{}' is not a project of this account.",
                    name.trim()
                ),
            ));
        }
    }
    let mut moved = Vec::new();
    for name in project_names {
        let current = account_projects
            .iter()
            .find(|p| p.project_name == name.trim());
        if current.is_some_and(|p| p.billing_group_id == group.billing_group_id) {
            continue;
        }
        moved.push(
            store
                .move_project(name.trim(), &group.billing_group_id, &user.email, now)
                .await
                .map_err(store_error)?,
        );
    }
    Ok(moved)
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
