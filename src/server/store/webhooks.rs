//! Webhook endpoints (issue 30). Their deliveries are outbox messages of
//! kind `webhook` (`mail.rs`), written with the change that causes them;
//! this file keeps the endpoints and the once-only claim of an invoice's
//! `invoice.overdue`.

use crate::model::ids::AccountId;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::{StoreError, StoreResult};
use super::events::insert_account_event;
use super::invoices::INVOICE_COLUMNS;
use super::outbox::insert_message;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::Webhooks;

const WEBHOOK_COLUMNS: &str = "webhook_id, account_id, url, description, events, secret,
    created_by, create_time, delete_time";

#[async_trait]
impl Webhooks for SqlStore {
    async fn insert_webhook(
        &self,
        webhook: &WebhookRecord,
        event: &NewAccountEvent,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO webhooks (webhook_id, account_id, url, description, events, secret,
                                       created_by, create_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&webhook.webhook_id)
            .bind(&webhook.account_id)
            .bind(&webhook.url)
            .bind(&webhook.description)
            .bind(JsonText::encode(&webhook.events.0))
            .bind(&webhook.secret)
            .bind(&webhook.created_by)
            .bind(webhook.create_time)
            .execute(&mut *tx)
            .await?;
            insert_account_event((&mut *tx).into(), event).await
        })
    }

    async fn remove_webhook(
        &self,
        account_id: &AccountId,
        webhook_id: &str,
        event: &NewAccountEvent,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            let removed = sqlx::query(
                "UPDATE webhooks SET delete_time = $3
                 WHERE account_id = $1 AND webhook_id = $2 AND delete_time IS NULL",
            )
            .bind(account_id)
            .bind(webhook_id)
            .bind(event.create_time)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            // Deliveries not yet sent stop: the endpoint no longer wants them.
            sqlx::query(
                "UPDATE outbox SET state = 'failed', last_error = 'the endpoint was removed'
                 WHERE webhook_id = $1 AND state = 'queued'",
            )
            .bind(webhook_id)
            .execute(&mut *tx)
            .await?;
            insert_account_event((&mut *tx).into(), event).await
        })
    }

    async fn requeue_webhook_message(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
        event: &NewAccountEvent,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let requeued = super::outbox::requeue((&mut *tx).into(), message_id, at).await?;
            if requeued {
                insert_account_event((&mut *tx).into(), event).await?;
            }
            Ok(requeued)
        })
    }

    async fn webhook(&self, webhook_id: &str) -> StoreResult<Option<WebhookRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, WebhookRecord>(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE webhook_id = $1"
            ))
            .bind(webhook_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn webhooks_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<WebhookRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, WebhookRecord>(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks
                 WHERE account_id = $1 AND delete_time IS NULL
                 ORDER BY create_time, webhook_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn active_webhooks(&self) -> StoreResult<Vec<WebhookRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, WebhookRecord>(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE delete_time IS NULL
                 ORDER BY account_id, create_time, webhook_id"
            ))
            .fetch_all(pool)
            .await?)
        })
    }

    async fn invoices_past_due_unnoticed(
        &self,
        today: NaiveDate,
        limit: i64,
    ) -> StoreResult<Vec<InvoiceRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices
                 WHERE overdue_notice_time IS NULL AND due_date < $1
                   AND state IN ('issued', 'mailed', 'due')
                 ORDER BY due_date, invoice_number LIMIT $2"
            ))
            .bind(today)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn record_overdue_notice(
        &self,
        invoice_number: &str,
        at: DateTime<Utc>,
        notices: &[NewMessage],
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            // The update is the claim: one instance notices each invoice once.
            let claimed = sqlx::query(
                "UPDATE invoices SET overdue_notice_time = $2
                 WHERE invoice_number = $1 AND overdue_notice_time IS NULL",
            )
            .bind(invoice_number)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if claimed {
                for notice in notices {
                    insert_message((&mut *tx).into(), notice, at).await?;
                }
            }
            Ok(claimed)
        })
    }
}
