//! Users, sessions, sign-in failures and personal API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::People;

const USER_COLUMNS: &str = "u.user_id, u.email, u.real_name, u.password_hash, u.create_time";

#[async_trait]
impl People for SqlStore {
    async fn create_user(&self, new: &NewUser, at: DateTime<Utc>) -> StoreResult<UserRecord> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, UserRecord>(
                "INSERT INTO users (user_id, email, real_name, password_hash, create_time)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING user_id, email, real_name, password_hash, create_time",
            )
            .bind(&new.user_id)
            .bind(&new.email)
            .bind(&new.real_name)
            .bind(&new.password_hash)
            .bind(at)
            .fetch_one(pool)
            .await?)
        })
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

    async fn create_session(
        &self,
        session_hash: &str,
        user_id: &str,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO sessions (session_hash, user_id, create_time, expire_time)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(session_hash)
            .bind(user_id)
            .bind(at)
            .bind(expires)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn session_user(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, UserRecord>(&format!(
                "SELECT {USER_COLUMNS}
                 FROM sessions s JOIN users u ON u.user_id = s.user_id
                 WHERE s.session_hash = $1 AND s.expire_time > $2"
            ))
            .bind(session_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?)
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
        user_id: &str,
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

    async fn api_tokens_of_user(&self, user_id: &str) -> StoreResult<Vec<ApiTokenRecord>> {
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
        user_id: &str,
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
