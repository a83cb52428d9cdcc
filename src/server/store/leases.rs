//! Leases of the periodic jobs one instance at a time runs (budget
//! alerts, overdue notices): taken when free or lapsed, in one statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::pool::{db_run, db_write, SqlStore};
use super::traits::JobLeases;

#[async_trait]
impl JobLeases for SqlStore {
    async fn take_job_lease(
        &self,
        job_name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let taken = sqlx::query(
                "INSERT INTO job_leases (job_name, holder, expires_at) VALUES ($1, $2, $4)
                 ON CONFLICT (job_name) DO UPDATE SET holder = excluded.holder,
                                                     expires_at = excluded.expires_at
                 WHERE job_leases.expires_at <= $3",
            )
            .bind(job_name)
            .bind(holder)
            .bind(now)
            .bind(until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(taken > 0)
        })
    }

    async fn job_lease_expiry(&self, job_name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(
                sqlx::query_scalar("SELECT expires_at FROM job_leases WHERE job_name = $1")
                    .bind(job_name)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }
}
