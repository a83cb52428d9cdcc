//! The events logs: written with the change they describe (through
//! [`insert_event`], inside that change's transaction), read newest first.
//! The schema refuses updates and deletes.

use crate::model::ids::{AccountId, GroupId};
use async_trait::async_trait;

use super::error::StoreResult;
use super::pool::{db_run, PerBackend, SqlStore, Tx};
use super::records::{AccountEventRecord, EventFilter, EventRecord, NewAccountEvent, NewEvent};
use super::traits::Events;

/// An event row; `$N` in order, so SQLite's own API binds them by position
/// on the month close's bulk path too.
pub(super) const INSERT_EVENT: &str = "INSERT INTO events (billing_group_id, account_id, actor,
         event_type, event_desc, project_name, details, create_time)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Writes the event inside the caller's transaction.
pub(super) async fn insert_event(tx: Tx<'_>, event: &NewEvent) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(INSERT_EVENT)
            .bind(&event.billing_group_id)
            .bind(&event.account_id)
            .bind(&event.actor)
            .bind(event.event_type.as_str())
            .bind(&event.event_desc)
            .bind(&event.project_name)
            .bind(event.details.as_ref().map(|d| d.to_string()))
            .bind(event.create_time)
            .execute(connection)
            .await?;
    });
    Ok(())
}

/// Writes an account event inside the caller's transaction.
pub(super) async fn insert_account_event(
    mut tx: Tx<'_>,
    event: &NewAccountEvent,
) -> StoreResult<()> {
    db_run!(tx.reborrow(), |connection| {
        sqlx::query(
            "INSERT INTO account_events (account_id, actor, event_type, event_desc, details,
                                         create_time)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&event.account_id)
        .bind(&event.actor)
        .bind(event.event_type.as_str())
        .bind(&event.event_desc)
        .bind(event.details.as_ref().map(|d| d.to_string()))
        .bind(event.create_time)
        .execute(connection)
        .await?;
    });
    for notice in &event.notices {
        super::outbox::insert_message(tx.reborrow(), notice, event.create_time).await?;
    }
    Ok(())
}

const EVENT_COLUMNS: &str = "log_entry_id, billing_group_id, account_id, actor, event_type,
    event_desc, project_name, details, create_time";

/// One page of a group's events, newest first, after `$2` (a log entry
/// id) and filtered by type (`$3`) and project (`$4`), `$5` rows at most:
/// the page and the CSV export read the same way.
fn events_page_query() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE billing_group_id = $1
           AND ($2 IS NULL OR log_entry_id < $2)
           AND ($3 IS NULL OR event_type = $3)
           AND ($4 IS NULL OR project_name = $4)
         ORDER BY log_entry_id DESC LIMIT $5"
    )
}

#[async_trait]
impl Events for SqlStore {
    async fn events(
        &self,
        billing_group_id: &GroupId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<EventRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, EventRecord>(&events_page_query())
                .bind(billing_group_id)
                .bind(filter.before_id)
                .bind(filter.event_type.as_deref())
                .bind(filter.project_name.as_deref())
                .bind(filter.limit)
                .fetch_all(pool)
                .await?)
        })
    }

    fn event_pages(
        &self,
        billing_group_id: &GroupId,
        mut filter: EventFilter,
    ) -> tokio::sync::mpsc::Receiver<StoreResult<Vec<EventRecord>>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        let group = billing_group_id.to_string();
        let pool = match &self.pool {
            PerBackend::Sqlite(pool) => PerBackend::Sqlite(pool.clone()),
            PerBackend::Postgres(pool) => PerBackend::Postgres(pool.clone()),
        };
        tokio::spawn(async move {
            db_run!(pool, |pool| {
                let mut connection = match pool.acquire().await {
                    Ok(connection) => connection,
                    Err(error) => {
                        let _ = sender.send(Err(error.into())).await;
                        return;
                    }
                };
                loop {
                    let page = sqlx::query_as::<_, EventRecord>(&events_page_query())
                        .bind(&group)
                        .bind(filter.before_id)
                        .bind(filter.event_type.as_deref())
                        .bind(filter.project_name.as_deref())
                        .bind(filter.limit)
                        .fetch_all(&mut *connection)
                        .await;
                    let page = match page {
                        Ok(page) => page,
                        Err(error) => {
                            let _ = sender.send(Err(error.into())).await;
                            return;
                        }
                    };
                    let last = (page.len() as i64 == filter.limit)
                        .then(|| page.last().map(|e| e.log_entry_id))
                        .flatten();
                    if sender.send(Ok(page)).await.is_err() {
                        return;
                    }
                    match last {
                        Some(id) => filter.before_id = Some(id),
                        None => return,
                    }
                }
            })
        });
        receiver
    }

    async fn account_events(
        &self,
        account_id: &AccountId,
        limit: i64,
    ) -> StoreResult<Vec<AccountEventRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, AccountEventRecord>(
                "SELECT log_entry_id, account_id, actor, event_type, event_desc, details, create_time
                 FROM account_events WHERE account_id = $1
                 ORDER BY log_entry_id DESC LIMIT $2",
            )
            .bind(account_id)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn event_projects_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<String>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT project_name FROM events
                 WHERE billing_group_id = $1 AND project_name IS NOT NULL ORDER BY project_name",
            )
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn event_types_of_group(&self, billing_group_id: &GroupId) -> StoreResult<Vec<String>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT event_type FROM events WHERE billing_group_id = $1
                 ORDER BY event_type",
            )
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
