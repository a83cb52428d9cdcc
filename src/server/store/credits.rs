//! Credit codes, their claims and failed claims.

use crate::model::ids::{GroupId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::decimal::DbDecimal;
use super::error::{StoreError, StoreResult, Violation};
use super::events::insert_event;
use super::group_rows::lock_group;
use super::pool::{db_run, db_write, for_update, SqlStore};
use super::records::*;
use super::traits::{ClaimChange, Credits};

const CREDIT_COLUMNS: &str = "code, credit_type, value_usd, remaining_value_usd, start_time,
    expire_time, issue_time, billing_group_id, earmarked_project_name, claim_time";

#[async_trait]
impl Credits for SqlStore {
    async fn insert_credits(&self, credits: &[NewCredit], at: DateTime<Utc>) -> StoreResult<()> {
        db_write!(self, |tx| {
            for credit in credits {
                sqlx::query(
                    "INSERT INTO credits (code, credit_type, value_usd, remaining_value_usd,
                         start_time, expire_time, issue_time)
                     VALUES ($1, $2, $3, $3, $4, $5, $6)",
                )
                .bind(&credit.code)
                .bind(credit.credit_type.as_str())
                .bind(DbDecimal(credit.value_usd))
                .bind(credit.start_time)
                .bind(credit.expire_time)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }

    async fn credit(&self, code: &str) -> StoreResult<Option<CreditRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                "SELECT {CREDIT_COLUMNS} FROM credits WHERE code = $1"
            ))
            .bind(code)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn claim_credit(
        &self,
        code: &str,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: ClaimChange<'_>,
    ) -> StoreResult<CreditRecord> {
        db_write!(self, |tx| {
            let group = lock_group((&mut *tx).into(), billing_group_id).await?;
            let credit = sqlx::query_as::<_, CreditRecord>(&format!(
                "SELECT {CREDIT_COLUMNS} FROM credits WHERE code = $1{}",
                for_update(&*tx)
            ))
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let claim = change(&credit, &group)?;
            // The guard on billing_group_id makes a claim once-only even
            // where the read above took no lock.
            let claimed = sqlx::query_as::<_, CreditRecord>(&format!(
                "UPDATE credits SET billing_group_id = $2, earmarked_project_name = $3,
                     claim_time = $4, claimed_by = $5
                 WHERE code = $1 AND billing_group_id IS NULL
                 RETURNING {CREDIT_COLUMNS}"
            ))
            .bind(code)
            .bind(billing_group_id)
            .bind(&claim.earmarked_project_name)
            .bind(at)
            .bind(&claim.claimed_by)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::Violation(Violation::CreditAlreadyClaimed))?;
            insert_event((&mut *tx).into(), &claim.event).await?;
            Ok(claimed)
        })
    }

    async fn credits_of_group(&self, billing_group_id: &GroupId) -> StoreResult<Vec<CreditRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                "SELECT {CREDIT_COLUMNS} FROM credits WHERE billing_group_id = $1
                 ORDER BY expire_time IS NULL, expire_time, claim_time, code"
            ))
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn claimed_credits(&self) -> StoreResult<Vec<CreditRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                "SELECT {CREDIT_COLUMNS} FROM credits WHERE billing_group_id IS NOT NULL
                 ORDER BY billing_group_id, code"
            ))
            .fetch_all(pool)
            .await?)
        })
    }

    async fn applied_credits_of_group(
        &self,
        billing_group_id: &GroupId,
        limit: i64,
    ) -> StoreResult<Vec<AppliedCreditRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, AppliedCreditRecord>(
                "SELECT i.invoice_number, i.period_begin, l.credit_code, l.project_name,
                        l.line_total_usd, l.line_total_local, l.local_currency
                 FROM invoice_lines l JOIN invoices i ON i.invoice_number = l.invoice_number
                 WHERE i.billing_group_id = $1 AND l.line_type = 'credit_consumption'
                   AND l.credit_code IS NOT NULL
                 ORDER BY i.period_begin DESC, l.line_no
                 LIMIT $2",
            )
            .bind(billing_group_id)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn record_claim_failure(
        &self,
        user_id: &UserId,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query("DELETE FROM credit_claim_failures WHERE user_id = $1 AND failed_at < $2")
                .bind(user_id)
                .bind(forget_before)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO credit_claim_failures (user_id, failed_at) VALUES ($1, $2)")
                .bind(user_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
    }

    async fn claim_failures_since(
        &self,
        user_id: &UserId,
        since: DateTime<Utc>,
    ) -> StoreResult<i64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM credit_claim_failures WHERE user_id = $1 AND failed_at >= $2",
            )
            .bind(user_id)
            .bind(since)
            .fetch_one(pool)
            .await?)
        })
    }
}
