//! The usage the cost engine reads (memberships and priced runs), and the
//! account's `usage_version`: every transaction that changes usage bumps
//! it, so what the rules cached of it can be known stale.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::close_sql::{self, PRICED_RUN_COLUMNS};
use super::decimal::DbDecimal;
use super::error::StoreResult;
use super::pool::{db_run, PerBackend, SqlStore, Tx};
use super::records::*;
use super::traits::UsageStore;
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Currency;

/// Marks the account's usage as changed (same transaction as the change).
pub(super) async fn bump_usage_version(tx: Tx<'_>, account_id: &AccountId) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query("UPDATE accounts SET usage_version = usage_version + 1 WHERE account_id = $1")
            .bind(account_id)
            .execute(connection)
            .await?;
    });
    Ok(())
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn account_usage(
        &self,
        account_id: &AccountId,
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
        billing_group_id: &GroupId,
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

    async fn usage_version_and_rate(
        &self,
        billing_group_id: &GroupId,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<(Option<i64>, Option<Decimal>)> {
        let row: Option<(i64, Option<DbDecimal>)> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_as(
                "SELECT a.usage_version,
                   (SELECT r.usd_rate FROM exchange_rates r
                     WHERE r.currency = $2 AND r.valid_from <= $3
                     ORDER BY r.valid_from DESC LIMIT 1)
                 FROM billing_groups g
                 JOIN accounts a ON a.account_id = g.account_id
                 WHERE g.billing_group_id = $1",
            )
            .bind(billing_group_id)
            .bind(currency.code())
            .bind(day)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map_or((None, None), |(version, rate)| {
            (Some(version), rate.map(|r| r.0))
        }))
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
}
