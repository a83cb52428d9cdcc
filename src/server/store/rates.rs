//! Exchange rates: USD to a currency, in force from a day.

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::decimal::DbDecimal;
use super::error::StoreResult;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::ExchangeRates;
use crate::model::money::Currency;

/// A rate for a currency and day, replacing one already there.
const UPSERT_RATE: &str = "INSERT INTO exchange_rates (currency, valid_from, usd_rate)
     VALUES ($1, $2, $3)
     ON CONFLICT (currency, valid_from) DO UPDATE SET usd_rate = excluded.usd_rate";

#[async_trait]
impl ExchangeRates for SqlStore {
    async fn set_exchange_rate(
        &self,
        currency: Currency,
        valid_from: NaiveDate,
        usd_rate: Decimal,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(UPSERT_RATE)
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
        Ok(self
            .exchange_rate_in_force(currency, day)
            .await?
            .map(|r| r.usd_rate.0))
    }

    async fn exchange_rate_in_force(
        &self,
        currency: Currency,
        day: NaiveDate,
    ) -> StoreResult<Option<ExchangeRateRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ExchangeRateRecord>(
                "SELECT currency, valid_from, usd_rate FROM exchange_rates
                 WHERE currency = $1 AND valid_from <= $2
                 ORDER BY valid_from DESC LIMIT 1",
            )
            .bind(currency.code())
            .bind(day)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn exchange_rates(&self) -> StoreResult<Vec<ExchangeRateRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ExchangeRateRecord>(
                "SELECT currency, valid_from, usd_rate FROM exchange_rates
                 ORDER BY currency, valid_from",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn save_exchange_rates(&self, rates: &[ExchangeRateRecord]) -> StoreResult<()> {
        db_write!(self, |tx| {
            for rate in rates {
                sqlx::query(UPSERT_RATE)
                    .bind(rate.currency.code())
                    .bind(rate.valid_from)
                    .bind(rate.usd_rate)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(())
        })
    }
}
