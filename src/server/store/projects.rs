//! Projects and which group they were in when.

use crate::model::ids::{AccountId, GroupId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::{StoreError, StoreResult};
use super::events::insert_event;
use super::group_rows::lock_group;
use super::pool::{db_run, db_write, for_update, SqlStore, Tx};
use super::records::*;
use super::traits::{MoveChange, Projects};
use super::usage::bump_usage_version;

const PROJECT_COLUMNS: &str = "p.project_name, p.account_id, p.billing_group_id,
    g.billing_group_name, p.default_cloud, p.create_time";

/// One project with its group's name, by project name ($1).
fn project_by_name() -> String {
    format!(
        "SELECT {PROJECT_COLUMNS} FROM projects p
         JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
         WHERE p.project_name = $1"
    )
}

/// Reads a project inside a write transaction, locking its row on
/// PostgreSQL (moves of one project queue).
async fn lock_project(tx: Tx<'_>, project_name: &str) -> StoreResult<ProjectRecord> {
    db_run!(tx, |connection| {
        let found: Option<String> = sqlx::query_scalar(&format!(
            "SELECT project_name FROM projects WHERE project_name = $1{}",
            for_update(&*connection)
        ))
        .bind(project_name)
        .fetch_optional(&mut *connection)
        .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        Ok(sqlx::query_as::<_, ProjectRecord>(&project_by_name())
            .bind(project_name)
            .fetch_one(connection)
            .await?)
    })
}

/// Moves projects inside the caller's transaction (see `move_projects`).
pub(super) async fn move_projects_in(
    mut tx: Tx<'_>,
    project_names: &[String],
    to_group_id: &GroupId,
    at: DateTime<Utc>,
    change: MoveChange<'_>,
) -> StoreResult<Vec<ProjectRecord>> {
    let mut moved = Vec::with_capacity(project_names.len());
    for project_name in project_names {
        let project = lock_project(tx.reborrow(), project_name).await?;
        if project.billing_group_id == to_group_id {
            continue;
        }
        let from_group = lock_group(tx.reborrow(), &project.billing_group_id).await?;
        let to_group = lock_group(tx.reborrow(), to_group_id).await?;
        let events = change(&project, &from_group, &to_group)?;
        db_run!(tx.reborrow(), |connection| {
            // The foreign key and triggers refuse another account's group
            // or a deleted one.
            sqlx::query("UPDATE projects SET billing_group_id = $2 WHERE project_name = $1")
                .bind(project_name)
                .bind(to_group_id)
                .execute(&mut *connection)
                .await?;
            // A membership that began at this very instant (a project
            // created or moved and moved again within one clock tick) lasted
            // no time and billed nothing: it is replaced, not closed, so the
            // history keeps one row per start instant.
            sqlx::query(
                "DELETE FROM project_group_history
                 WHERE project_name = $1 AND valid_to IS NULL AND valid_from = $2",
            )
            .bind(project_name)
            .bind(at)
            .execute(&mut *connection)
            .await?;
            sqlx::query(
                "UPDATE project_group_history SET valid_to = $2
                 WHERE project_name = $1 AND valid_to IS NULL",
            )
            .bind(project_name)
            .bind(at)
            .execute(&mut *connection)
            .await?;
            sqlx::query(
                "INSERT INTO project_group_history (project_name, billing_group_id, valid_from)
                 VALUES ($1, $2, $3)",
            )
            .bind(project_name)
            .bind(to_group_id)
            .bind(at)
            .execute(&mut *connection)
            .await?;
        });
        bump_usage_version(tx.reborrow(), &project.account_id).await?;
        for event in &events {
            insert_event(tx.reborrow(), event).await?;
        }
        let after = db_run!(tx.reborrow(), |connection| {
            sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                .bind(project_name)
                .fetch_one(&mut *connection)
                .await?
        });
        moved.push(after);
    }
    Ok(moved)
}

#[async_trait]
impl Projects for SqlStore {
    async fn move_projects(
        &self,
        project_names: &[String],
        to_group_id: &GroupId,
        at: DateTime<Utc>,
        change: MoveChange<'_>,
    ) -> StoreResult<Vec<ProjectRecord>> {
        db_write!(self, |tx| {
            move_projects_in((&mut *tx).into(), project_names, to_group_id, at, change).await
        })
    }

    async fn projects_of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Vec<ProjectRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                "SELECT {PROJECT_COLUMNS} FROM projects p
                 JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                 WHERE p.billing_group_id = $1
                 ORDER BY p.project_name"
            ))
            .bind(billing_group_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn project_count_of_group(&self, billing_group_id: &GroupId) -> StoreResult<i64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE billing_group_id = $1")
                    .bind(billing_group_id)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    async fn projects_of_account(&self, account_id: &AccountId) -> StoreResult<Vec<ProjectRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                "SELECT {PROJECT_COLUMNS} FROM projects p
                 JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                 WHERE p.account_id = $1
                 ORDER BY p.project_name"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn create_project(
        &self,
        new: &NewProject,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<ProjectRecord> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO projects (project_name, account_id, billing_group_id, default_cloud,
                     create_time)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&new.project_name)
            .bind(&new.account_id)
            .bind(&new.billing_group_id)
            .bind(&new.default_cloud)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO project_group_history (project_name, billing_group_id, valid_from)
                 VALUES ($1, $2, $3)",
            )
            .bind(&new.project_name)
            .bind(&new.billing_group_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            bump_usage_version((&mut *tx).into(), &new.account_id).await?;
            insert_event((&mut *tx).into(), event).await?;
            Ok(sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                .bind(&new.project_name)
                .fetch_one(&mut *tx)
                .await?)
        })
    }

    async fn project(&self, project_name: &str) -> StoreResult<Option<ProjectRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                .bind(project_name)
                .fetch_optional(pool)
                .await?)
        })
    }

    async fn project_names_of_user(
        &self,
        user_id: &UserId,
        limit: i64,
    ) -> StoreResult<(Vec<String>, i64)> {
        // Both on one connection: one checkout (and one release ping) for
        // the two. A `COUNT(*) OVER ()` in the first was 3.5 times slower
        // on SQLite than the pair.
        db_run!(self.pool.as_ref(), |pool| {
            let mut connection = pool.acquire().await?;
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT p.project_name FROM projects p
                 JOIN accounts a ON a.account_id = p.account_id
                 JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1
                 ORDER BY a.account_name, a.account_id, p.project_name
                 LIMIT $2",
            )
            .bind(user_id)
            .bind(limit)
            .fetch_all(&mut *connection)
            .await?;
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM projects p
                 JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1",
            )
            .bind(user_id)
            .fetch_one(&mut *connection)
            .await?;
            Ok((names, total))
        })
    }

    async fn projects_of_user(&self, user_id: &UserId) -> StoreResult<Vec<ProjectRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                "SELECT {PROJECT_COLUMNS} FROM projects p
                 JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                 JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1
                 ORDER BY p.account_id, p.project_name"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn project_group_history(
        &self,
        project_name: &str,
    ) -> StoreResult<Vec<GroupMembershipRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, GroupMembershipRecord>(
                "SELECT project_name, billing_group_id, valid_from, valid_to
                 FROM project_group_history WHERE project_name = $1 ORDER BY valid_from",
            )
            .bind(project_name)
            .fetch_all(pool)
            .await?)
        })
    }
}
