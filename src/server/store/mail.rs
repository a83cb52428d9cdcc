//! The outbox (issue 18). A message is written
//! with the change that causes it ([`insert_message`], same transaction);
//! senders claim due messages — on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED`, so instances never claim the same one — for a lease, and mark
//! each delivered, due again, or failed. A sender that dies leaves its
//! claim to lapse: the message is sent again, never lost.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::events::insert_event;
use super::outbox::{insert_attempt, requeue, MESSAGE_COLUMNS};
use super::pool::{db_run, db_write, PerBackend, SqlStore};
use super::records::*;
use super::traits::{Channel, Mail};
use crate::model::ids::{AccountId, GroupId};
use crate::model::states::MessageKind;

#[async_trait]
impl Mail for SqlStore {
    async fn outbox_summary(&self) -> StoreResult<Vec<OutboxSummary>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, OutboxSummary>(
                "SELECT kind,
                        SUM(CASE WHEN state IN ('queued', 'sending') THEN 1 ELSE 0 END) AS waiting,
                        SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
                        MIN(CASE WHEN state IN ('queued', 'sending') THEN create_time END)
                            AS oldest_waiting
                 FROM outbox GROUP BY kind ORDER BY kind",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        claim_id: &str,
        channel: Channel,
    ) -> StoreResult<Vec<MessageRecord>> {
        // Due: queued and its time has come, or claimed by a sender whose
        // lease lapsed (it died or hung mid-send).
        let kinds = match channel {
            Channel::Mail => "kind <> 'webhook'",
            Channel::Webhook => "kind = 'webhook'",
        };
        let skip_locked = match self.pool.as_ref() {
            PerBackend::Sqlite(_) => "",
            PerBackend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        db_write!(self, |tx| {
            Ok(sqlx::query_as::<_, MessageRecord>(&format!(
                "UPDATE outbox SET state = 'sending', claim_id = $3, claimed_until = $2,
                        attempts = attempts + 1
                 WHERE message_id IN (
                     SELECT message_id FROM outbox
                     WHERE ((state = 'queued' AND next_attempt_time <= $1)
                        OR (state = 'sending' AND claimed_until < $1)) AND {kinds}
                     ORDER BY next_attempt_time, message_id
                     LIMIT $4{skip_locked})
                 RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(now)
            .bind(lease_until)
            .bind(claim_id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?)
        })
    }

    async fn message_delivered(
        &self,
        message: &MessageRecord,
        at: DateTime<Utc>,
        delivered: &Delivered,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let done = sqlx::query(
                "UPDATE outbox SET state = 'sent', sent_time = $3, last_response = $4,
                        last_error = NULL, claimed_until = NULL,
                        body = CASE WHEN $5 THEN NULL ELSE body END
                 WHERE message_id = $1 AND claim_id = $2 AND state = 'sending'",
            )
            .bind(&message.message_id)
            .bind(&message.claim_id)
            .bind(at)
            .bind(&delivered.response)
            .bind(delivered.erase_body)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Ok(false);
            }
            insert_attempt((&mut *tx).into(), message, at, true, &delivered.response).await?;
            if let (Some(number), Some(event)) =
                (&message.invoice_number, &delivered.invoice_mailed)
            {
                // Only from `issued`: an admin's later change (paid,
                // waived…) stays.
                let mailed = sqlx::query(
                    "UPDATE invoices SET state = 'mailed'
                     WHERE invoice_number = $1 AND state = 'issued'",
                )
                .bind(number)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if mailed > 0 {
                    insert_event((&mut *tx).into(), event).await?;
                }
            }
            Ok(true)
        })
    }

    async fn message_attempt_failed(
        &self,
        message: &MessageRecord,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let marked = sqlx::query(
                "UPDATE outbox SET state = CASE WHEN $4 IS NULL THEN 'failed' ELSE 'queued' END,
                        next_attempt_time = COALESCE($4, next_attempt_time),
                        last_error = $3, claimed_until = NULL
                 WHERE message_id = $1 AND claim_id = $2 AND state = 'sending'",
            )
            .bind(&message.message_id)
            .bind(&message.claim_id)
            .bind(error)
            .bind(retry_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if marked {
                insert_attempt((&mut *tx).into(), message, at, false, error).await?;
            }
            Ok(marked)
        })
    }

    async fn attempts_of(&self, message_ids: &[String]) -> StoreResult<Vec<AttemptRecord>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One query for the page's messages ($1, $2, … : both backends).
        let placeholders: Vec<String> = (1..=message_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT message_id, attempt, attempt_time, succeeded, detail FROM outbox_attempts
             WHERE message_id IN ({}) ORDER BY message_id, attempt",
            placeholders.join(", ")
        );
        db_run!(self.pool.as_ref(), |pool| {
            let mut query = sqlx::query_as::<_, AttemptRecord>(&sql);
            for message_id in message_ids {
                query = query.bind(message_id);
            }
            Ok(query.fetch_all(pool).await?)
        })
    }

    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, MessageRecord>(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE message_id = $1"
            ))
            .bind(message_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn messages_of_group(
        &self,
        billing_group_id: &GroupId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, MessageRecord>(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM outbox
                 WHERE billing_group_id = $1 AND kind <> 'webhook'
                 ORDER BY create_time DESC, message_id LIMIT $2"
            ))
            .bind(billing_group_id)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn account_messages(
        &self,
        account_id: &AccountId,
        kind: MessageKind,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, MessageRecord>(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM outbox
                 WHERE account_id = $1 AND kind = $2
                 ORDER BY create_time DESC, message_id LIMIT $3"
            ))
            .bind(account_id)
            .bind(kind.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn requeue_message(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let requeued = requeue((&mut *tx).into(), message_id, at).await?;
            if requeued {
                insert_event((&mut *tx).into(), event).await?;
            }
            Ok(requeued)
        })
    }
}
