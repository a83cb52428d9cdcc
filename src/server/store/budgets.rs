//! Monthly budgets and their alerts (issue 18): each threshold alerts once
//! per group, month and measure, whichever instance evaluates (the insert
//! into `budget_alerts` is the claim), with its event and mail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::events::insert_event;
use super::outbox::insert_message;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::{BudgetAlert, BudgetAlertMail, Budgets};
use crate::model::ids::GroupId;
use crate::model::states::BudgetMeasure;

#[async_trait]
impl Budgets for SqlStore {
    async fn budget(&self, billing_group_id: &GroupId) -> StoreResult<Option<BudgetRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BudgetRecord>(
                "SELECT billing_group_id, amount, thresholds, update_time FROM budgets
                 WHERE billing_group_id = $1",
            )
            .bind(billing_group_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn budgets(&self) -> StoreResult<Vec<BudgetRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BudgetRecord>(
                "SELECT b.billing_group_id, b.amount, b.thresholds, b.update_time FROM budgets b
                 JOIN billing_groups g ON g.billing_group_id = b.billing_group_id
                 WHERE g.group_state = 'active' ORDER BY b.billing_group_id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn set_budget(
        &self,
        budget: Option<&BudgetRecord>,
        billing_group_id: &GroupId,
        event: &NewEvent,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            match budget {
                Some(budget) => {
                    sqlx::query(
                        "INSERT INTO budgets (billing_group_id, amount, thresholds, update_time)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (billing_group_id) DO UPDATE SET amount = excluded.amount,
                             thresholds = excluded.thresholds, update_time = excluded.update_time",
                    )
                    .bind(&budget.billing_group_id)
                    .bind(budget.amount)
                    .bind(JsonText::encode(&budget.thresholds.0))
                    .bind(budget.update_time)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM budgets WHERE billing_group_id = $1")
                        .bind(billing_group_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            insert_event((&mut *tx).into(), event).await
        })
    }

    async fn budget_alerts_sent(
        &self,
        billing_group_id: &GroupId,
        period_begin: DateTime<Utc>,
    ) -> StoreResult<Vec<(BudgetMeasure, i64)>> {
        let rows: Vec<(String, i64)> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_as(
                "SELECT kind, threshold FROM budget_alerts
                 WHERE billing_group_id = $1 AND period_begin = $2 ORDER BY kind, threshold",
            )
            .bind(billing_group_id)
            .bind(period_begin)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(kind, threshold)| {
                BudgetMeasure::try_from(kind)
                    .map(|kind| (kind, threshold))
                    .map_err(|e| super::error::StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    async fn record_budget_alerts(
        &self,
        billing_group_id: &GroupId,
        period_begin: DateTime<Utc>,
        alerts: &[BudgetAlert],
        at: DateTime<Utc>,
        message: BudgetAlertMail<'_>,
    ) -> StoreResult<usize> {
        db_write!(self, |tx| {
            let mut claimed = Vec::new();
            for ((measure, threshold), event) in alerts {
                // The insert is the claim: a threshold alerts once per month
                // and measure, whichever instance gets here first.
                let inserted = sqlx::query(
                    "INSERT INTO budget_alerts (billing_group_id, period_begin, kind, threshold,
                                                create_time)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(billing_group_id)
                .bind(period_begin)
                .bind(measure.as_str())
                .bind(threshold)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted > 0 {
                    insert_event((&mut *tx).into(), event).await?;
                    claimed.push((*measure, *threshold));
                }
            }
            if !claimed.is_empty() {
                for message in message(&claimed) {
                    insert_message((&mut *tx).into(), &message, at).await?;
                }
            }
            Ok(claimed.len())
        })
    }
}
