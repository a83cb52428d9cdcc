//! A billing group's row as the other store files read and lock it (kept
//! apart from `groups.rs`, which also moves projects, so that no two store
//! files import each other).

use super::error::{StoreError, StoreResult};
use super::pool::{db_run, for_update, Tx};
use super::records::*;
use crate::model::ids::GroupId;

pub(super) const GROUP_COLUMNS: &str = "billing_group_id, account_id, billing_group_name,
    billing_currency, billing_emails, billing_contact_emails, billing_extra_text, company,
    address_lines, city, state,
    zip_code, country_code, vat_id, payment_method, card_brand, card_last4, card_exp_month,
    card_exp_year, card_name, group_state, create_time, update_time";

/// Reads a group inside a write transaction, locking its row on
/// PostgreSQL so that concurrent moves, deletes and edits queue.
pub(super) async fn lock_group(
    tx: Tx<'_>,
    billing_group_id: &GroupId,
) -> StoreResult<BillingGroupRecord> {
    db_run!(tx, |connection| {
        sqlx::query_as::<_, BillingGroupRecord>(&format!(
            "SELECT {GROUP_COLUMNS} FROM billing_groups WHERE billing_group_id = $1{}",
            for_update(&*connection)
        ))
        .bind(billing_group_id)
        .fetch_optional(connection)
        .await?
        .ok_or(StoreError::NotFound)
    })
}
