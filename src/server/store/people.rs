//! Users, sessions, sign-in failures and personal API tokens.

use crate::model::ids::UserId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::insert_account;
use super::error::StoreResult;
use super::events::{insert_account_event, insert_event};
use super::pool::{db_run, db_write, SqlStore, Tx};
use super::records::*;
use super::traits::People;

pub(super) const USER_COLUMNS: &str =
    "u.user_id, u.email, u.real_name, u.password_hash, u.create_time,
    u.is_operator, u.last_sign_in_time";

/// A session's user and when the session was last noted as used.
#[derive(sqlx::FromRow)]
struct SessionUserRow {
    #[sqlx(flatten)]
    user: UserRecord,
    session_last_used: Option<DateTime<Utc>>,
}

/// Writes a new user inside the caller's transaction. The first-run
/// token is void once any user exists, so it goes with the first one.
pub(super) async fn insert_user(
    tx: Tx<'_>,
    new: &NewUser,
    at: DateTime<Utc>,
) -> StoreResult<UserRecord> {
    db_run!(tx, |connection| {
        let user = sqlx::query_as::<_, UserRecord>(&format!(
            "INSERT INTO users (user_id, email, real_name, password_hash, create_time, is_operator)
             VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING {}",
            USER_COLUMNS.replace("u.", "")
        ))
        .bind(&new.user_id)
        .bind(&new.email)
        .bind(&new.real_name)
        .bind(&new.password_hash)
        .bind(at)
        .bind(new.is_operator)
        .fetch_one(&mut *connection)
        .await?;
        sqlx::query("DELETE FROM setup_tokens")
            .execute(&mut *connection)
            .await?;
        Ok(user)
    })
}

#[async_trait]
impl People for SqlStore {
    async fn create_user(&self, new: &NewUser, at: DateTime<Utc>) -> StoreResult<UserRecord> {
        db_write!(self, |tx| insert_user((&mut *tx).into(), new, at).await)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, UserRecord>(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
            ))
            .bind(email)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn user(&self, user_id: &UserId) -> StoreResult<Option<UserRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, UserRecord>(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = $1"
            ))
            .bind(user_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn user_count(&self) -> StoreResult<i64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?)
        })
    }

    async fn replace_setup_token(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        db_write!(self, |tx| {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            if users > 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO setup_tokens (slot, token_hash, create_time) VALUES (1, $1, $2)
                 ON CONFLICT (slot) DO UPDATE SET token_hash = excluded.token_hash,
                                                  create_time = excluded.create_time",
            )
            .bind(token_hash)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            Ok(true)
        })
    }

    async fn setup_token_is(&self, token_hash: &str) -> StoreResult<bool> {
        db_run!(self.pool.as_ref(), |pool| {
            let found: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_one(pool)
                    .await?;
            Ok(found > 0)
        })
    }

    async fn complete_setup(
        &self,
        token_hash: &str,
        operator: &NewUser,
        account: &NewAccount,
        events: &[NewEvent],
        account_event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        db_write!(self, |tx| {
            // Taking the token is the claim: of two setups at once, one
            // deletes it and the other finds nothing.
            let taken = sqlx::query("DELETE FROM setup_tokens WHERE slot = 1 AND token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            if taken == 0 || users > 0 {
                return Ok(None);
            }
            let user = insert_user((&mut *tx).into(), operator, at).await?;
            insert_account((&mut *tx).into(), account, at).await?;
            for event in events {
                insert_event((&mut *tx).into(), event).await?;
            }
            insert_account_event((&mut *tx).into(), account_event).await?;
            Ok(Some(user))
        })
    }

    async fn create_session(
        &self,
        session_hash: &str,
        user_id: &UserId,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
        client_address: &str,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO sessions (session_hash, user_id, create_time, expire_time,
                                       last_used_time, client_address)
                 VALUES ($1, $2, $3, $4, $3, $5)",
            )
            .bind(session_hash)
            .bind(user_id)
            .bind(at)
            .bind(expires)
            .bind(client_address)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET last_sign_in_time = $2 WHERE user_id = $1")
                .bind(user_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
    }

    async fn session_user(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
        note_use_before: DateTime<Utc>,
        client_address: &str,
    ) -> StoreResult<Option<UserRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            let row = sqlx::query_as::<_, SessionUserRow>(&format!(
                "SELECT {USER_COLUMNS}, s.last_used_time AS session_last_used
                 FROM sessions s JOIN users u ON u.user_id = s.user_id
                 WHERE s.session_hash = $1 AND s.expire_time > $2"
            ))
            .bind(session_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            // A write at most once a minute per session, not per page.
            if row.session_last_used.is_none_or(|t| t < note_use_before) {
                sqlx::query(
                    "UPDATE sessions SET last_used_time = $2, client_address = $3
                     WHERE session_hash = $1",
                )
                .bind(session_hash)
                .bind(now)
                .bind(client_address)
                .execute(pool)
                .await?;
            }
            Ok(Some(row.user))
        })
    }

    async fn sessions_of_user(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, SessionRecord>(
                "SELECT session_hash, create_time, expire_time, last_used_time, client_address
                 FROM sessions WHERE user_id = $1 AND expire_time > $2
                 ORDER BY last_used_time DESC, create_time DESC",
            )
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn end_sessions_of_user(
        &self,
        user_id: &UserId,
        keep_session_hash: Option<&str>,
    ) -> StoreResult<u64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR session_hash <> $2)",
            )
            .bind(user_id)
            .bind(keep_session_hash)
            .execute(pool)
            .await?
            .rows_affected())
        })
    }

    async fn change_password(
        &self,
        user_id: &UserId,
        password_hash: &str,
        rotate_session: Option<(&str, &str)>,
        at: DateTime<Utc>,
    ) -> StoreResult<PasswordChanged> {
        let (keep_session_hash, new_session_hash) = rotate_session.unzip();
        db_write!(self, |tx| {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE user_id = $1")
                .bind(user_id)
                .bind(password_hash)
                .execute(&mut *tx)
                .await?;
            let sessions_ended = sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR session_hash <> $2)",
            )
            .bind(user_id)
            .bind(keep_session_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let (Some(old), Some(new)) = (keep_session_hash, new_session_hash) {
                sqlx::query(
                    "UPDATE sessions SET session_hash = $3 WHERE user_id = $1 AND session_hash = $2",
                )
                .bind(user_id)
                .bind(old)
                .bind(new)
                .execute(&mut *tx)
                .await?;
            }
            let tokens_revoked = sqlx::query(
                "UPDATE api_tokens SET revoke_time = $2 WHERE user_id = $1 AND revoke_time IS NULL",
            )
            .bind(user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(PasswordChanged {
                sessions_ended,
                tokens_revoked,
            })
        })
    }

    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
                .bind(session_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query("DELETE FROM sessions WHERE expire_time <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    async fn sign_in_failures(&self, scopes: &[String]) -> StoreResult<Vec<SignInFailureRecord>> {
        let mut found = Vec::with_capacity(scopes.len());
        db_run!(self.pool.as_ref(), |pool| {
            for scope in scopes {
                found.extend(
                    sqlx::query_as::<_, SignInFailureRecord>(
                        "SELECT scope, failures, window_start, last_failure_time
                         FROM sign_in_failures WHERE scope = $1",
                    )
                    .bind(scope)
                    .fetch_optional(pool)
                    .await?,
                );
            }
        });
        Ok(found)
    }

    async fn record_sign_in_failure(
        &self,
        scopes: &[(String, DateTime<Utc>)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            for (scope, window_start_after) in scopes {
                sqlx::query(
                    "INSERT INTO sign_in_failures (scope, failures, window_start, last_failure_time)
                     VALUES ($1, 1, $2, $2)
                     ON CONFLICT (scope) DO UPDATE SET
                       failures = CASE WHEN sign_in_failures.last_failure_time < $3
                                       THEN 1 ELSE sign_in_failures.failures + 1 END,
                       window_start = CASE WHEN sign_in_failures.last_failure_time < $3
                                           THEN excluded.window_start
                                           ELSE sign_in_failures.window_start END,
                       last_failure_time = excluded.last_failure_time",
                )
                .bind(scope)
                .bind(at)
                .bind(window_start_after)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
    }

    async fn clear_sign_in_failures(&self, scopes: &[String]) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            for scope in scopes {
                sqlx::query("DELETE FROM sign_in_failures WHERE scope = $1")
                    .bind(scope)
                    .execute(pool)
                    .await?;
            }
        });
        Ok(())
    }

    async fn server_secret(
        &self,
        name: &str,
        candidate: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<String> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO server_secrets (name, secret, create_time) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(candidate)
            .bind(at)
            .execute(pool)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT secret FROM server_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        token_prefix: &str,
        user_id: &UserId,
        description: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, token_prefix, user_id, description, create_time)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(token_prefix)
            .bind(user_id)
            .bind(description)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn api_tokens_of_user(&self, user_id: &UserId) -> StoreResult<Vec<ApiTokenRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ApiTokenRecord>(
                "SELECT token_prefix, description, create_time, last_used_time FROM api_tokens
                 WHERE user_id = $1 AND revoke_time IS NULL
                 ORDER BY create_time DESC, token_prefix",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn revoke_api_token(
        &self,
        user_id: &UserId,
        token_prefix: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        db_run!(self.pool.as_ref(), |pool| {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoke_time = $3
                 WHERE user_id = $1 AND token_prefix = $2 AND revoke_time IS NULL",
            )
            .bind(user_id)
            .bind(token_prefix)
            .bind(at)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        note_use_before: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            let user = sqlx::query_as::<_, UserRecord>(&format!(
                "SELECT {USER_COLUMNS}
                 FROM api_tokens t JOIN users u ON u.user_id = t.user_id
                 WHERE t.token_hash = $1 AND t.revoke_time IS NULL"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            if user.is_some() {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_time = $2
                     WHERE token_hash = $1 AND (last_used_time IS NULL OR last_used_time < $3)",
                )
                .bind(token_hash)
                .bind(now)
                .bind(note_use_before)
                .execute(pool)
                .await?;
            }
            Ok(user)
        })
    }
}
