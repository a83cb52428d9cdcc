//! The guided Create billing group flow's drafts: its answers between
//! steps, so that none goes into a URL (issue 28).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::Drafts;

#[async_trait]
impl Drafts for SqlStore {
    async fn save_group_draft(&self, draft: &GroupDraftRecord) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO group_drafts (draft_id, account_id, user_id, draft, expire_time)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&draft.draft_id)
            .bind(&draft.account_id)
            .bind(&draft.user_id)
            .bind(JsonText::encode(&draft.draft.0))
            .bind(draft.expire_time)
            .execute(&mut *tx)
            .await?;
            Ok(())
        })
    }

    async fn group_draft(&self, draft_id: &str) -> StoreResult<Option<GroupDraftRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, GroupDraftRecord>(
                "SELECT draft_id, account_id, user_id, draft, expire_time FROM group_drafts
                 WHERE draft_id = $1",
            )
            .bind(draft_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn delete_expired_group_drafts(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        db_write!(self, |tx| {
            Ok(
                sqlx::query("DELETE FROM group_drafts WHERE expire_time <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            )
        })
    }
}
