//! An account's members and invitations. Changes to a member run their
//! rule on the membership as locked; the schema keeps an admin on every
//! account (`memberships_last_admin`), whatever runs at the same time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::insert_membership;
use super::error::{StoreError, StoreResult};
use super::events::insert_account_event;
use super::people::{insert_user, USER_COLUMNS};
use super::pool::{db_run, db_write, lock_of, SqlStore, Tx};
use super::records::*;
use super::traits::{InvitationChange, MemberChange, Members};
use crate::model::ids::{AccountId, UserId};
use crate::model::Role;

const MEMBER_COLUMNS: &str = "m.account_id, m.user_id, u.email, u.real_name, m.role,
    m.create_time, u.last_sign_in_time";

const INVITATION_COLUMNS: &str = "i.invitation_id, i.account_id, a.account_name, i.email, i.role,
    inviter.email AS invited_by_email, i.create_time, i.expire_time, i.accept_time, i.revoke_time";

const INVITATION_FROM: &str = "invitations i
    JOIN accounts a ON a.account_id = i.account_id
    JOIN users inviter ON inviter.user_id = i.invited_by";

/// A membership read (and locked) inside a write transaction.
async fn lock_member(
    tx: Tx<'_>,
    account_id: &AccountId,
    user_id: &UserId,
) -> StoreResult<MemberRecord> {
    db_run!(tx, |connection| {
        sqlx::query_as::<_, MemberRecord>(&format!(
            "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.user_id = m.user_id
             WHERE m.account_id = $1 AND m.user_id = $2{}",
            lock_of(&*connection, "m")
        ))
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(connection)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// An invitation read (and locked) inside a write transaction: by id
/// within an account, or (`account_id` None) by its token's hash.
async fn lock_invitation(
    tx: Tx<'_>,
    account_id: Option<&AccountId>,
    key: &str,
) -> StoreResult<InvitationRecord> {
    let filter = match account_id {
        Some(_) => "i.invitation_id = $1 AND i.account_id = $2",
        None => "i.token_hash = $1 AND $2 IS NULL",
    };
    db_run!(tx, |connection| {
        sqlx::query_as::<_, InvitationRecord>(&format!(
            "SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM} WHERE {filter}{}",
            lock_of(&*connection, "i")
        ))
        .bind(key)
        .bind(account_id)
        .fetch_optional(connection)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

#[async_trait]
impl Members for SqlStore {
    async fn members(&self, account_id: &AccountId) -> StoreResult<Vec<MemberRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, MemberRecord>(&format!(
                "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.user_id = m.user_id
                 WHERE m.account_id = $1 ORDER BY u.email"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn change_member_role(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        role: Role,
        change: MemberChange<'_>,
    ) -> StoreResult<MemberRecord> {
        db_write!(self, |tx| {
            let member = lock_member((&mut *tx).into(), account_id, user_id).await?;
            let event = change(&member).map_err(StoreError::Refused)?;
            sqlx::query("UPDATE memberships SET role = $3 WHERE account_id = $1 AND user_id = $2")
                .bind(account_id)
                .bind(user_id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
            insert_account_event((&mut *tx).into(), &event).await?;
            Ok(MemberRecord { role, ..member })
        })
    }

    async fn remove_member(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        change: MemberChange<'_>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            let member = lock_member((&mut *tx).into(), account_id, user_id).await?;
            let event = change(&member).map_err(StoreError::Refused)?;
            sqlx::query("DELETE FROM memberships WHERE account_id = $1 AND user_id = $2")
                .bind(account_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            insert_account_event((&mut *tx).into(), &event).await?;
            Ok(())
        })
    }

    async fn create_invitation(
        &self,
        new: &NewInvitation,
        event: &NewAccountEvent,
        message: Option<&NewMessage>,
        at: DateTime<Utc>,
    ) -> StoreResult<InvitationRecord> {
        db_write!(self, |tx| {
            // An expired invitation to the same address gives way to the
            // new one (it could not be used any more anyway).
            sqlx::query(
                "UPDATE invitations SET revoke_time = $3
                 WHERE account_id = $1 AND email = $2
                   AND accept_time IS NULL AND revoke_time IS NULL AND expire_time <= $3",
            )
            .bind(&new.account_id)
            .bind(&new.email)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO invitations (invitation_id, account_id, email, role, token_hash,
                                          invited_by, create_time, expire_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&new.invitation_id)
            .bind(&new.account_id)
            .bind(&new.email)
            .bind(new.role.as_str())
            .bind(&new.token_hash)
            .bind(&new.invited_by)
            .bind(at)
            .bind(new.expire_time)
            .execute(&mut *tx)
            .await?;
            insert_account_event((&mut *tx).into(), event).await?;
            if let Some(message) = message {
                super::outbox::insert_message((&mut *tx).into(), message, at).await?;
            }
            Ok(sqlx::query_as::<_, InvitationRecord>(&format!(
                "SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM} WHERE i.invitation_id = $1"
            ))
            .bind(&new.invitation_id)
            .fetch_one(&mut *tx)
            .await?)
        })
    }

    async fn open_invitations(&self, account_id: &AccountId) -> StoreResult<Vec<InvitationRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvitationRecord>(&format!(
                "SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM}
                 WHERE i.account_id = $1 AND i.accept_time IS NULL AND i.revoke_time IS NULL
                 ORDER BY i.create_time DESC, i.email"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, InvitationRecord>(&format!(
                "SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM} WHERE i.token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn revoke_invitation(
        &self,
        account_id: &AccountId,
        invitation_id: &str,
        at: DateTime<Utc>,
        change: InvitationChange<'_>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            let invitation =
                lock_invitation((&mut *tx).into(), Some(account_id), invitation_id).await?;
            let event = change(&invitation).map_err(StoreError::Refused)?;
            sqlx::query("UPDATE invitations SET revoke_time = $2 WHERE invitation_id = $1")
                .bind(invitation_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            insert_account_event((&mut *tx).into(), &event).await?;
            Ok(())
        })
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        joiner: &Joiner,
        at: DateTime<Utc>,
        change: InvitationChange<'_>,
    ) -> StoreResult<(UserRecord, InvitationRecord)> {
        db_write!(self, |tx| {
            let invitation = lock_invitation((&mut *tx).into(), None, token_hash).await?;
            let event = change(&invitation).map_err(StoreError::Refused)?;
            let user = match joiner {
                Joiner::New(new) => insert_user((&mut *tx).into(), new, at).await?,
                Joiner::Existing { user_id } => sqlx::query_as::<_, UserRecord>(&format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = $1"
                ))
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?,
            };
            insert_membership(
                (&mut *tx).into(),
                &invitation.account_id,
                &user.user_id,
                invitation.role,
                at,
            )
            .await?;
            sqlx::query(
                "UPDATE invitations SET accept_time = $2, accepted_by = $3 WHERE invitation_id = $1",
            )
            .bind(&invitation.invitation_id)
            .bind(at)
            .bind(&user.user_id)
            .execute(&mut *tx)
            .await?;
            insert_account_event((&mut *tx).into(), &event).await?;
            Ok((
                user,
                InvitationRecord {
                    accept_time: Some(at),
                    ..invitation
                },
            ))
        })
    }
}
