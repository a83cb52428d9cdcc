//! Accounts and their members.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::StoreResult;
use super::events::insert_event;
use super::groups::insert_group;
use super::pool::{db_run, db_write, SqlStore};
use super::records::*;
use super::traits::Accounts;
use crate::model::Role;

const ACCOUNT_COLUMNS: &str =
    "account_id, account_name, primary_billing_group_id, create_time, update_time";

#[async_trait]
impl Accounts for SqlStore {
    async fn create_account(
        &self,
        new: &NewAccount,
        events: &[NewEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<(AccountRecord, BillingGroupRecord)> {
        db_write!(self, |tx| {
            // The account's primary-group key is checked at commit, once
            // the group below exists.
            let account = sqlx::query_as::<_, AccountRecord>(&format!(
                "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $4)
                 RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(&new.account_id)
            .bind(&new.account_name)
            .bind(&new.first_group.billing_group_id)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let group = insert_group((&mut *tx).into(), &new.first_group, at).await?;
            for event in events {
                insert_event((&mut *tx).into(), event).await?;
            }
            Ok((account, group))
        })
    }

    async fn add_member(
        &self,
        account_id: &str,
        user_id: &str,
        role: Role,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_run!(self.pool.as_ref(), |pool| {
            sqlx::query(
                "INSERT INTO memberships (user_id, account_id, role, create_time)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(account_id)
            .bind(role.as_str())
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn member_role(&self, user_id: &str, account_id: &str) -> StoreResult<Option<Role>> {
        let role: Option<String> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_scalar(
                "SELECT role FROM memberships WHERE user_id = $1 AND account_id = $2",
            )
            .bind(user_id)
            .bind(account_id)
            .fetch_optional(pool)
            .await?
        });
        role.map(|r| {
            Role::try_from(r).map_err(|e| super::error::StoreError::Corrupt(e.to_string()))
        })
        .transpose()
    }

    async fn accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<MemberAccountRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, MemberAccountRecord>(
                "SELECT a.account_id, a.account_name, a.primary_billing_group_id, m.role,
                        (SELECT COUNT(*) FROM billing_groups g
                          WHERE g.account_id = a.account_id AND g.group_state = 'active')
                          AS billing_group_count
                 FROM memberships m JOIN accounts a ON a.account_id = m.account_id
                 WHERE m.user_id = $1
                 ORDER BY a.account_name, a.account_id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, AccountRecord>(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1"
            ))
            .bind(account_id)
            .fetch_optional(pool)
            .await?)
        })
    }
}
