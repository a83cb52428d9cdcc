//! Services, their runs, the usage the cost engine reads, exchange rates.
//!
//! Every transaction that changes usage bumps the account's
//! `usage_version`, so what the rules cached of it can be known stale.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::close_sql::{self, PRICED_RUN_COLUMNS};
use super::decimal::DbDecimal;
use super::error::{StoreError, StoreResult, Violation};
use super::pool::{db_run, db_write, for_update, PerBackend, SqlStore, Tx};
use super::records::*;
use super::traits::UsageStore;
use crate::model::money::Currency;

/// Marks the account's usage as changed (same transaction as the change).
pub(super) async fn bump_usage_version(tx: Tx<'_>, account_id: &str) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query("UPDATE accounts SET usage_version = usage_version + 1 WHERE account_id = $1")
            .bind(account_id)
            .execute(connection)
            .await?;
    });
    Ok(())
}

async fn bump_usage_of_service(tx: Tx<'_>, service_id: &str) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(
            "UPDATE accounts SET usage_version = usage_version + 1
             WHERE account_id = (SELECT p.account_id FROM services s
                                 JOIN projects p ON p.project_name = s.project_name
                                 WHERE s.service_id = $1)",
        )
        .bind(service_id)
        .execute(connection)
        .await?;
    });
    Ok(())
}

const SERVICE_COLUMNS: &str = "service_id, project_name, service_name, service_type, plan,
    cloud_name, hourly_price_usd, create_time";

#[async_trait]
impl UsageStore for SqlStore {
    async fn create_service(
        &self,
        new: &NewService,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRecord> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceRecord>(&format!(
                "INSERT INTO services ({SERVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING {SERVICE_COLUMNS}"
            ))
            .bind(&new.service_id)
            .bind(&new.project_name)
            .bind(&new.service_name)
            .bind(&new.service_type)
            .bind(&new.plan)
            .bind(&new.cloud_name)
            .bind(DbDecimal(new.hourly_price_usd))
            .bind(at)
            .fetch_one(pool)
            .await?)
        })
    }

    async fn record_service_run(
        &self,
        service_id: &str,
        started_at: DateTime<Utc>,
        end: Option<(DateTime<Utc>, RunEnd)>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO service_runs (service_id, started_at, ended_at, end_reason)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(service_id)
            .bind(started_at)
            .bind(end.map(|(at, _)| at))
            .bind(end.map(|(_, reason)| reason.as_str()))
            .execute(&mut *tx)
            .await?;
            bump_usage_of_service((&mut *tx).into(), service_id).await
        })
    }

    async fn service_runs(&self, service_id: &str) -> StoreResult<Vec<ServiceRunRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceRunRecord>(
                "SELECT service_id, started_at, ended_at, end_reason FROM service_runs
                 WHERE service_id = $1 ORDER BY started_at",
            )
            .bind(service_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn services_of_project(
        &self,
        project_name: &str,
    ) -> StoreResult<Vec<ServiceStateRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceStateRecord>(
                "SELECT s.service_id, s.project_name, s.service_name, s.service_type, s.plan,
                        s.cloud_name, s.hourly_price_usd,
                        CASE WHEN r.service_id IS NULL THEN 'never_started'
                             WHEN r.ended_at IS NULL THEN 'running'
                             ELSE r.end_reason END AS state
                 FROM services s
                 LEFT JOIN service_runs r ON r.service_id = s.service_id
                  AND r.started_at = (SELECT MAX(started_at) FROM service_runs x
                                      WHERE x.service_id = s.service_id)
                 WHERE s.project_name = $1
                 ORDER BY s.service_name",
            )
            .bind(project_name)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn power_service(
        &self,
        service_id: &str,
        on: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            if on {
                // One open run per service is a unique index: a second
                // power-on is refused by the write itself.
                sqlx::query("INSERT INTO service_runs (service_id, started_at) VALUES ($1, $2)")
                    .bind(service_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            } else {
                // Only an open run ends; it ends after it starts, even when
                // the clock says otherwise.
                let open: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
                    "SELECT started_at FROM service_runs
                     WHERE service_id = $1 AND ended_at IS NULL{}",
                    for_update(&*tx)
                ))
                .bind(service_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(started_at) = open else {
                    return Err(StoreError::Violation(Violation::ServiceNotRunning));
                };
                sqlx::query(
                    "UPDATE service_runs SET ended_at = $3, end_reason = 'powered_off'
                     WHERE service_id = $1 AND started_at = $2 AND ended_at IS NULL",
                )
                .bind(service_id)
                .bind(started_at)
                .bind(at.max(started_at + chrono::Duration::milliseconds(1)))
                .execute(&mut *tx)
                .await?;
            }
            bump_usage_of_service((&mut *tx).into(), service_id).await
        })
    }

    async fn account_usage(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Usage> {
        db_run!(self.pool.as_ref(), |pool| {
            let memberships = sqlx::query_as::<_, GroupMembershipRecord>(
                "SELECT h.project_name, h.billing_group_id, h.valid_from, h.valid_to
                 FROM project_group_history h JOIN projects p ON p.project_name = h.project_name
                 WHERE p.account_id = $1 AND h.valid_from < $3
                   AND (h.valid_to IS NULL OR h.valid_to > $2)
                 ORDER BY h.project_name, h.valid_from",
            )
            .bind(account_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            let runs = sqlx::query_as::<_, PricedRunRecord>(&format!(
                "SELECT {PRICED_RUN_COLUMNS}
                 FROM service_runs r
                 JOIN services s ON s.service_id = r.service_id
                 JOIN projects p ON p.project_name = s.project_name
                 WHERE p.account_id = $1 AND r.started_at < $3
                   AND (r.ended_at IS NULL OR r.ended_at > $2)
                 ORDER BY s.project_name, s.service_name, r.started_at"
            ))
            .bind(account_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            Ok((memberships, runs))
        })
    }

    async fn group_usage(
        &self,
        billing_group_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Usage> {
        db_run!(self.pool.as_ref(), |pool| {
            let memberships = sqlx::query_as::<_, GroupMembershipRecord>(
                "SELECT project_name, billing_group_id, valid_from, valid_to
                 FROM project_group_history
                 WHERE billing_group_id = $1 AND valid_from < $3
                   AND (valid_to IS NULL OR valid_to > $2)
                 ORDER BY project_name, valid_from",
            )
            .bind(billing_group_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            let runs = sqlx::query_as::<_, PricedRunRecord>(&format!(
                "SELECT {PRICED_RUN_COLUMNS}
                 FROM service_runs r
                 JOIN services s ON s.service_id = r.service_id
                 WHERE s.project_name IN (
                         SELECT h.project_name FROM project_group_history h
                         WHERE h.billing_group_id = $1 AND h.valid_from < $3
                           AND (h.valid_to IS NULL OR h.valid_to > $2))
                   AND r.started_at < $3 AND (r.ended_at IS NULL OR r.ended_at > $2)
                 ORDER BY s.project_name, s.service_name, r.started_at"
            ))
            .bind(billing_group_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            Ok((memberships, runs))
        })
    }

    async fn usage_version_of_group(&self, billing_group_id: &str) -> StoreResult<Option<i64>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar(
                "SELECT a.usage_version FROM billing_groups g
                 JOIN accounts a ON a.account_id = g.account_id
                 WHERE g.billing_group_id = $1",
            )
            .bind(billing_group_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn usage_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Usage> {
        match self.pool.as_ref() {
            // A million rows at a month close: sqlx's per-row cost on SQLite
            // is most of it, so that backend reads through its own API.
            PerBackend::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let usage = super::sqlite_bulk::usage_between(&mut tx, from, to).await?;
                tx.commit().await?;
                Ok(usage)
            }
            PerBackend::Postgres(pool) => {
                let memberships =
                    sqlx::query_as::<_, GroupMembershipRecord>(close_sql::MEMBERSHIPS_BETWEEN)
                        .bind(from)
                        .bind(to)
                        .fetch_all(pool)
                        .await?;
                let runs = sqlx::query_as::<_, PricedRunRecord>(&close_sql::priced_runs_between())
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await?;
                Ok((memberships, runs))
            }
        }
    }

    async fn set_exchange_rate(
        &self,
        currency: Currency,
        valid_from: NaiveDate,
        usd_rate: Decimal,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO exchange_rates (currency, valid_from, usd_rate) VALUES ($1, $2, $3)
                 ON CONFLICT (currency, valid_from) DO UPDATE SET usd_rate = excluded.usd_rate",
            )
            .bind(currency.code())
            .bind(valid_from)
            .bind(DbDecimal(usd_rate))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn exchange_rate_on(
        &self,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<Option<Decimal>> {
        let rate: Option<DbDecimal> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_scalar(
                "SELECT usd_rate FROM exchange_rates WHERE currency = $1 AND valid_from <= $2
                 ORDER BY valid_from DESC LIMIT 1",
            )
            .bind(currency.code())
            .bind(day)
            .fetch_optional(pool)
            .await?
        });
        Ok(rate.map(|r| r.0))
    }
}
