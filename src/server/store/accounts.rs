//! Accounts and their members.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::{StoreError, StoreResult};
use super::events::{insert_account_event, insert_event};
use super::groups::insert_group;
use super::pool::{db_run, db_write, for_update, SqlStore, Tx};
use super::records::*;
use super::traits::{AccountChange, Accounts};
use crate::model::ids::{AccountId, UserId};
use crate::model::Role;

const ACCOUNT_COLUMNS: &str =
    "account_id, account_name, primary_billing_group_id, create_time, update_time";

/// Writes an account with its first group (the primary one, rule 1) and
/// its first admin, inside the caller's transaction.
pub(super) async fn insert_account(
    mut tx: Tx<'_>,
    new: &NewAccount,
    at: DateTime<Utc>,
) -> StoreResult<(AccountRecord, BillingGroupRecord)> {
    // The account's primary-group key is checked at commit, once the group
    // below exists.
    let account = db_run!(tx.reborrow(), |connection| {
        sqlx::query_as::<_, AccountRecord>(&format!(
            "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $4)
             RETURNING {ACCOUNT_COLUMNS}"
        ))
        .bind(&new.account_id)
        .bind(&new.account_name)
        .bind(&new.first_group.billing_group_id)
        .bind(at)
        .fetch_one(connection)
        .await?
    });
    let group = insert_group(tx.reborrow(), &new.first_group, at).await?;
    insert_membership(tx, &new.account_id, &new.admin_user_id, Role::Admin, at).await?;
    Ok((account, group))
}

pub(super) async fn insert_membership(
    tx: Tx<'_>,
    account_id: &AccountId,
    user_id: &UserId,
    role: Role,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(
            "INSERT INTO memberships (user_id, account_id, role, create_time)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(role.as_str())
        .bind(at)
        .execute(connection)
        .await?;
    });
    Ok(())
}

#[async_trait]
impl Accounts for SqlStore {
    async fn create_account(
        &self,
        new: &NewAccount,
        events: &[NewEvent],
        account_event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<(AccountRecord, BillingGroupRecord)> {
        db_write!(self, |tx| {
            let created = insert_account((&mut *tx).into(), new, at).await?;
            for event in events {
                insert_event((&mut *tx).into(), event).await?;
            }
            insert_account_event((&mut *tx).into(), account_event).await?;
            Ok(created)
        })
    }

    async fn add_member(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        role: Role,
        event: &NewAccountEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            insert_membership((&mut *tx).into(), account_id, user_id, role, at).await?;
            insert_account_event((&mut *tx).into(), event).await?;
            Ok(())
        })
    }

    async fn rename_account(
        &self,
        account_id: &AccountId,
        new_name: &str,
        at: DateTime<Utc>,
        change: AccountChange<'_>,
    ) -> StoreResult<AccountRecord> {
        db_write!(self, |tx| {
            let lock = for_update(&*tx);
            let Some(account) = sqlx::query_as::<_, AccountRecord>(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1{lock}"
            ))
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Err(StoreError::NotFound);
            };
            let event = change(&account).map_err(StoreError::Refused)?;
            let renamed = sqlx::query_as::<_, AccountRecord>(&format!(
                "UPDATE accounts SET account_name = $2, update_time = $3 WHERE account_id = $1
                 RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(account_id)
            .bind(new_name)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            insert_account_event((&mut *tx).into(), &event).await?;
            Ok(renamed)
        })
    }

    async fn all_accounts(&self) -> StoreResult<Vec<AccountOverviewRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, AccountOverviewRecord>(
                "SELECT a.account_id, a.account_name, a.create_time,
                        (SELECT COUNT(*) FROM billing_groups g
                          WHERE g.account_id = a.account_id AND g.group_state = 'active')
                          AS billing_group_count,
                        (SELECT COUNT(*) FROM memberships m WHERE m.account_id = a.account_id)
                          AS member_count
                 FROM accounts a ORDER BY a.account_name, a.account_id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn account_admins(&self) -> StoreResult<Vec<(String, String)>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, (String, String)>(
                "SELECT m.account_id, u.email FROM memberships m
                 JOIN users u ON u.user_id = m.user_id
                 WHERE m.role = 'admin' ORDER BY m.account_id, u.email",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn member_role(
        &self,
        user_id: &UserId,
        account_id: &AccountId,
    ) -> StoreResult<Option<Role>> {
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

    async fn accounts_of_user(&self, user_id: &UserId) -> StoreResult<Vec<MemberAccountRecord>> {
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

    async fn account(&self, account_id: &AccountId) -> StoreResult<Option<AccountRecord>> {
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
