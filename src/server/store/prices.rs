//! The price list: an hourly USD price per service type, plan and cloud,
//! in force from a date.

use async_trait::async_trait;

use super::error::StoreResult;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::PriceList;

const PRICE_COLUMNS: &str = "service_type, plan, cloud_name, valid_from, hourly_price_usd,
    node_count, cpu_count, memory_mb, disk_mb, imported_at";

#[async_trait]
impl PriceList for SqlStore {
    async fn prices(&self) -> StoreResult<Vec<PriceRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, PriceRecord>(&format!(
                "SELECT {PRICE_COLUMNS} FROM prices
                 ORDER BY service_type, plan, cloud_name, valid_from"
            ))
            .fetch_all(pool)
            .await?)
        })
    }

    async fn save_prices(&self, rows: &[PriceRecord]) -> StoreResult<()> {
        db_write!(self, |tx| {
            for row in rows {
                sqlx::query(&format!(
                    "INSERT INTO prices ({PRICE_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (service_type, plan, cloud_name, valid_from) DO UPDATE SET
                       hourly_price_usd = excluded.hourly_price_usd,
                       node_count = excluded.node_count, cpu_count = excluded.cpu_count,
                       memory_mb = excluded.memory_mb, disk_mb = excluded.disk_mb,
                       imported_at = excluded.imported_at"
                ))
                .bind(&row.service_type)
                .bind(&row.plan)
                .bind(&row.cloud_name)
                .bind(row.valid_from)
                .bind(row.hourly_price_usd)
                .bind(row.node_count)
                .bind(row.cpu_count)
                .bind(row.memory_mb)
                .bind(row.disk_mb)
                .bind(row.imported_at)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }
}
