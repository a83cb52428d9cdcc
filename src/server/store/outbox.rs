//! Outbox rows written inside a caller's transaction: a message with the
//! change that causes it (mail or webhook delivery), a try of one, and a
//! message queued again. Shared by every aggregate that writes messages.

use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::pool::{db_run, Tx};
use super::records::*;

/// An outbox row; `$N` in order, so SQLite's own API binds them by
/// position on the month close's bulk path too.
pub(super) const INSERT_MESSAGE: &str = "INSERT INTO outbox (message_id, kind, account_id,
         billing_group_id, invoice_number, recipients, subject, body, state, attempts,
         next_attempt_time, create_time, credit_note_number, webhook_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9, $10, $11)";

pub(super) const MESSAGE_COLUMNS: &str =
    "message_id, kind, account_id, billing_group_id, invoice_number,
    recipients, subject, body, state, attempts, next_attempt_time, claim_id, claimed_until,
    last_error, last_response, create_time, sent_time, credit_note_number, webhook_id";

/// Writes a message inside the caller's transaction, due at once.
pub(super) async fn insert_message(
    tx: Tx<'_>,
    message: &NewMessage,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(INSERT_MESSAGE)
            .bind(&message.message_id)
            .bind(message.kind.as_str())
            .bind(&message.account_id)
            .bind(&message.billing_group_id)
            .bind(&message.invoice_number)
            .bind(JsonText::encode(&message.recipients))
            .bind(&message.subject)
            .bind(&message.body)
            .bind(at)
            .bind(&message.credit_note_number)
            .bind(&message.webhook_id)
            .execute(connection)
            .await?;
    });
    Ok(())
}

/// Queues a sent or failed message again inside the caller's transaction:
/// not while a sender holds it, and not once its body is gone. It gets all
/// its retries again; its tries so far stay listed.
pub(super) async fn requeue(tx: Tx<'_>, message_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    let requeued = db_run!(tx, |connection| {
        sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_time = $2, attempts = 0,
                    last_error = NULL, claim_id = NULL, claimed_until = NULL
             WHERE message_id = $1 AND state IN ('failed', 'sent') AND body IS NOT NULL",
        )
        .bind(message_id)
        .bind(at)
        .execute(connection)
        .await?
        .rows_affected()
    });
    Ok(requeued > 0)
}

/// Records one try of a claimed message, numbered after the ones before.
pub(super) async fn insert_attempt(
    tx: Tx<'_>,
    message: &MessageRecord,
    at: DateTime<Utc>,
    succeeded: bool,
    detail: &str,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(
            "INSERT INTO outbox_attempts (message_id, attempt, attempt_time, succeeded, detail)
             SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3, $4
             FROM outbox_attempts WHERE message_id = $1",
        )
        .bind(&message.message_id)
        .bind(at)
        .bind(succeeded)
        .bind(detail)
        .execute(connection)
        .await?;
    });
    Ok(())
}
