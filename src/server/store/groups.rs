//! Billing groups.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::{StoreError, StoreResult};
use super::events::insert_event;
use super::group_rows::{lock_group, GROUP_COLUMNS};
use super::pool::{db_run, db_write, for_update, SqlStore, Tx};
use super::projects::move_projects_in;
use super::records::*;
use super::traits::{BillingInfoChange, GroupChange, Groups, MoveChange, PrimaryChange};
use crate::model::ids::{AccountId, GroupId, UserId};
use crate::model::Role;

/// Inserts an active group inside the caller's transaction.
pub(super) async fn insert_group(
    tx: Tx<'_>,
    new: &NewBillingGroup,
    at: DateTime<Utc>,
) -> StoreResult<BillingGroupRecord> {
    db_run!(tx, |connection| {
        Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
            "INSERT INTO billing_groups (billing_group_id, account_id, billing_group_name,
                 billing_currency, create_time, update_time)
             VALUES ($1, $2, $3, $4, $5, $5)
             RETURNING {GROUP_COLUMNS}"
        ))
        .bind(&new.billing_group_id)
        .bind(&new.account_id)
        .bind(&new.billing_group_name)
        .bind(new.billing_currency.code())
        .bind(at)
        .fetch_one(connection)
        .await?)
    })
}

/// Saves billing details inside the caller's transaction (see
/// `update_billing_info`).
async fn update_billing_info_in(
    mut tx: Tx<'_>,
    billing_group_id: &GroupId,
    update: &BillingInfoUpdate,
    at: DateTime<Utc>,
    change: BillingInfoChange<'_>,
) -> StoreResult<BillingGroupRecord> {
    let emails = JsonText::encode(&update.billing_emails);
    let contacts = JsonText::encode(&update.billing_contact_emails);
    let lines = JsonText::encode(&update.address_lines);
    let card = update.card.as_ref();
    let before = lock_group(tx.reborrow(), billing_group_id).await?;
    let after = db_run!(tx.reborrow(), |connection| {
        sqlx::query_as::<_, BillingGroupRecord>(&format!(
            "UPDATE billing_groups SET billing_currency = $2, billing_emails = $3,
                billing_extra_text = $4, company = $5, address_lines = $6, city = $7,
                state = $8, zip_code = $9, country_code = $10, vat_id = $11,
                payment_method = $12, card_brand = $13, card_last4 = $14,
                card_exp_month = $15, card_exp_year = $16, card_name = $17,
                update_time = $18, billing_contact_emails = $19
             WHERE billing_group_id = $1 RETURNING {GROUP_COLUMNS}"
        ))
        .bind(billing_group_id)
        .bind(update.billing_currency.code())
        .bind(&emails)
        .bind(&update.billing_extra_text)
        .bind(&update.company)
        .bind(&lines)
        .bind(&update.city)
        .bind(&update.state)
        .bind(&update.zip_code)
        .bind(&update.country_code)
        .bind(&update.vat_id)
        .bind(update.payment_method.as_str())
        .bind(card.map(|c| c.brand.clone()))
        .bind(card.map(|c| c.last4.clone()))
        .bind(card.map(|c| c.exp_month))
        .bind(card.map(|c| c.exp_year))
        .bind(card.map(|c| c.name.clone()))
        .bind(at)
        .bind(&contacts)
        .fetch_one(&mut *connection)
        .await?
    });
    let event = change(&before, &after)?;
    insert_event(tx.reborrow(), &event).await?;
    Ok(after)
}

#[async_trait]
impl Groups for SqlStore {
    async fn create_billing_group(
        &self,
        new: &NewBillingGroup,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord> {
        db_write!(self, |tx| {
            let group = insert_group((&mut *tx).into(), new, at).await?;
            insert_event((&mut *tx).into(), event).await?;
            Ok(group)
        })
    }

    async fn billing_group(
        &self,
        billing_group_id: &GroupId,
    ) -> StoreResult<Option<BillingGroupRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups WHERE billing_group_id = $1"
            ))
            .bind(billing_group_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn billing_group_of_member(
        &self,
        user_id: &UserId,
        billing_group_id: &GroupId,
    ) -> StoreResult<Option<(BillingGroupRecord, Option<Role>)>> {
        let row: Option<GroupOfMemberRow> = db_run!(self.pool.as_ref(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {GROUP_COLUMNS},
                   (SELECT m.role FROM memberships m
                     WHERE m.account_id = billing_groups.account_id AND m.user_id = $2)
                     AS member_role
                 FROM billing_groups WHERE billing_group_id = $1"
            ))
            .bind(billing_group_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|row| {
            let role = row
                .member_role
                .map(Role::try_from)
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((row.group, role))
        })
        .transpose()
    }

    async fn billing_groups_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<BillingGroupRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups
                 WHERE account_id = $1 AND group_state = 'active'
                 ORDER BY billing_group_name, billing_group_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn groups_of_user(&self, user_id: &UserId) -> StoreResult<Vec<BillingGroupRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups
                 WHERE group_state = 'active'
                   AND account_id IN (SELECT account_id FROM memberships WHERE user_id = $1)
                 ORDER BY account_id, billing_group_name, billing_group_id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn deleted_groups_of_account(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<BillingGroupRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups
                 WHERE account_id = $1 AND group_state = 'deleted'
                 ORDER BY delete_time DESC, billing_group_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn group_summaries(
        &self,
        account_id: &AccountId,
    ) -> StoreResult<Vec<GroupSummaryRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, GroupSummaryRecord>(&format!(
                "SELECT {GROUP_COLUMNS},
                        (SELECT COUNT(*) FROM projects p
                          WHERE p.billing_group_id = billing_groups.billing_group_id)
                          AS project_count
                 FROM billing_groups
                 WHERE account_id = $1 AND group_state = 'active'
                 ORDER BY billing_group_name, billing_group_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn rename_billing_group(
        &self,
        billing_group_id: &GroupId,
        new_name: &str,
        at: DateTime<Utc>,
        change: GroupChange<'_>,
    ) -> StoreResult<BillingGroupRecord> {
        db_write!(self, |tx| {
            let before = lock_group((&mut *tx).into(), billing_group_id).await?;
            let event = change(&before)?;
            let after = sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "UPDATE billing_groups SET billing_group_name = $2, update_time = $3
                 WHERE billing_group_id = $1 RETURNING {GROUP_COLUMNS}"
            ))
            .bind(billing_group_id)
            .bind(new_name)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            insert_event((&mut *tx).into(), &event).await?;
            Ok(after)
        })
    }

    async fn delete_billing_group(
        &self,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: GroupChange<'_>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            let group = lock_group((&mut *tx).into(), billing_group_id).await?;
            let event = change(&group)?;
            // The schema's trigger refuses a group with projects or the
            // primary group; the row lock orders this against moves.
            sqlx::query(
                "UPDATE billing_groups SET group_state = 'deleted', delete_time = $2, update_time = $2
                 WHERE billing_group_id = $1",
            )
            .bind(billing_group_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            insert_event((&mut *tx).into(), &event).await?;
            Ok(())
        })
    }

    async fn set_primary_billing_group(
        &self,
        account_id: &AccountId,
        billing_group_id: &GroupId,
        at: DateTime<Utc>,
        change: PrimaryChange<'_>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            let previous: String = sqlx::query_scalar(&format!(
                "SELECT primary_billing_group_id FROM accounts WHERE account_id = $1{}",
                for_update(&*tx)
            ))
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
            let group = lock_group((&mut *tx).into(), billing_group_id).await?;
            let events = change(&previous, &group)?;
            if events.is_empty() {
                return Ok(());
            }
            sqlx::query(
                "UPDATE accounts SET primary_billing_group_id = $2, update_time = $3
                 WHERE account_id = $1",
            )
            .bind(account_id)
            .bind(billing_group_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            for event in &events {
                insert_event((&mut *tx).into(), event).await?;
            }
            Ok(())
        })
    }

    async fn update_billing_info(
        &self,
        billing_group_id: &GroupId,
        update: &BillingInfoUpdate,
        at: DateTime<Utc>,
        change: BillingInfoChange<'_>,
    ) -> StoreResult<BillingGroupRecord> {
        db_write!(self, |tx| {
            update_billing_info_in((&mut *tx).into(), billing_group_id, update, at, change).await
        })
    }

    async fn create_billing_group_with(
        &self,
        new: &NewBillingGroup,
        event: &NewEvent,
        details: Option<(&BillingInfoUpdate, BillingInfoChange<'_>)>,
        projects: &[String],
        move_change: MoveChange<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<BillingGroupRecord> {
        db_write!(self, |tx| {
            let mut group = insert_group((&mut *tx).into(), new, at).await?;
            insert_event((&mut *tx).into(), event).await?;
            if let Some((update, change)) = details {
                group = update_billing_info_in(
                    (&mut *tx).into(),
                    &group.billing_group_id,
                    update,
                    at,
                    change,
                )
                .await?;
            }
            move_projects_in(
                (&mut *tx).into(),
                projects,
                &group.billing_group_id,
                at,
                move_change,
            )
            .await?;
            Ok(group)
        })
    }
}
