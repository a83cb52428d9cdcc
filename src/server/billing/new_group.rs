//! The guided **Create billing group** flow (name → billing details →
//! projects → summary → create): each step's answers are kept as a draft
//! (a day, for its user and account) named by an unguessable id in the
//! page's URL, so no billing detail goes into a URL, a browser's history or
//! an access log; every step's answers are checked as the last step will
//! check them; nothing but the draft is written before the last step.

use chrono::{DateTime, Duration, Utc};

use super::access::authorize;
use super::billing_info::{self, BillingInfoForm};
use super::groups::{
    copy_source, create_group_with, group_name, projects_of_account_named, NewGroupDetails,
};
use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId};
use crate::model::new_group::{NewGroupDraft, NewGroupPage};
use crate::model::{CurrentUser, Role};
use crate::server::store::{BillingGroupRecord, GroupDraftRecord, JsonText, Store};

/// How long a draft is kept.
pub const DRAFT_LIFETIME: Duration = Duration::days(1);

/// Keeps a step's answers (the whole draft so far) and answers the id the
/// next page's URL carries. Nothing is checked here but the caller's role
/// and the draft's size: the page checks each step.
pub async fn save_draft(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    draft: &NewGroupDraft,
    now: DateTime<Utc>,
) -> AppResult<String> {
    authorize(store, user, account_id, Role::Billing).await?;
    let record = GroupDraftRecord {
        draft_id: uuid::Uuid::new_v4().simple().to_string(),
        account_id: account_id.clone(),
        user_id: user.user_id.clone(),
        draft: JsonText(draft.clone()),
        expire_time: now + DRAFT_LIFETIME,
    };
    if JsonText::encode(&record.draft.0).len() > 65_536 {
        return Err(AppError::invalid(
            "billing_extra_text",
            "These answers are too long to keep; shorten the longest.",
        ));
    }
    store.save_group_draft(&record).await?;
    Ok(record.draft_id)
}

/// The flow's page at `step` for the draft `draft_id` (empty: a new
/// flow). A draft of someone else, another account or past its day is a
/// new flow, at its first step, saying so.
pub async fn draft_page(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    draft_id: &str,
    step: u8,
    now: DateTime<Utc>,
) -> AppResult<NewGroupPage> {
    authorize(store, user, account_id, Role::Billing).await?;
    let draft_id = draft_id.trim();
    if draft_id.is_empty() {
        return new_group_page(
            store,
            user,
            account_id,
            &NewGroupDraft::default(),
            step,
            now,
        )
        .await;
    }
    let kept = store
        .group_draft(draft_id)
        .await?
        .filter(|d| d.user_id == user.user_id && d.account_id == account_id && d.expire_time > now);
    match kept {
        Some(kept) => {
            let mut page =
                new_group_page(store, user, account_id, &kept.draft.0, step, now).await?;
            page.draft_id = kept.draft_id;
            Ok(page)
        }
        None => {
            let mut page =
                new_group_page(store, user, account_id, &NewGroupDraft::default(), 1, now).await?;
            page.error = Some(AppError::Conflict {
                message: "These answers are no longer kept (a draft lasts a day): start again."
                    .into(),
            });
            Ok(page)
        }
    }
}

/// The guided flow's page at `step`: the answers of the steps before it
/// are checked in order, and the first step whose answers need fixing is
/// shown instead, with its message. Nothing is written.
pub async fn new_group_page(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    draft: &NewGroupDraft,
    step: u8,
    now: DateTime<Utc>,
) -> AppResult<NewGroupPage> {
    authorize(store, user, account_id, Role::Billing).await?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let asked = step.clamp(1, 4);
    let mut shown = asked;
    let mut error = None;
    for earlier in 1..asked {
        match check_draft_step(store, account_id, draft, earlier, now).await {
            Ok(()) => {}
            Err(refusal @ AppError::Invalid { .. }) => {
                shown = earlier;
                error = Some(refusal);
                break;
            }
            Err(other) => return Err(other),
        }
    }
    let active: Vec<BillingGroupRecord> = store
        .billing_groups_of_account(account_id)
        .await?
        .into_iter()
        .filter(|g| g.is_active())
        .collect();
    let default_currency = active
        .iter()
        .find(|g| g.billing_group_id == account.primary_billing_group_id)
        .map_or(crate::model::money::Currency::USD, |g| g.billing_currency);
    let groups = active
        .into_iter()
        .map(|g| (g.billing_group_id.into_string(), g.billing_group_name))
        .collect();
    let projects = store
        .projects_of_account(account_id)
        .await?
        .into_iter()
        .map(|p| (p.project_name, p.billing_group_name))
        .collect();
    Ok(NewGroupPage {
        account_id: account.account_id.into_string(),
        account_name: account.account_name,
        step: shown,
        error,
        groups,
        projects,
        default_currency,
        draft: draft.clone(),
        draft_id: String::new(),
    })
}

/// One step's answers, checked as the last step will check them.
async fn check_draft_step(
    store: &dyn Store,
    account_id: &AccountId,
    draft: &NewGroupDraft,
    step: u8,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match step {
        1 => group_name(&draft.billing_group_name).map(|_| ()),
        2 => match draft.copy_from.trim() {
            "" => billing_info::check_new(&BillingInfoForm::of_draft(draft)?, account_id, now),
            id => copy_source(store, account_id, &GroupId::from(id))
                .await
                .map(|_| ()),
        },
        3 => projects_of_account_named(store, account_id, &draft.projects, "projects")
            .await
            .map(|_| ()),
        _ => Ok(()),
    }
}

/// The guided flow's last step: the group, its details and its projects
/// in one transaction (see [`create_group_with`]).
pub async fn create_group_from_draft(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    draft: &NewGroupDraft,
    now: DateTime<Utc>,
) -> AppResult<BillingGroupRecord> {
    let form;
    let details = match draft.copy_from.trim() {
        "" => {
            form = BillingInfoForm::of_draft(draft)?;
            NewGroupDetails::Form(&form)
        }
        id => NewGroupDetails::CopyFrom(id),
    };
    create_group_with(
        store,
        user,
        account_id,
        &draft.billing_group_name,
        details,
        &draft.projects,
        now,
    )
    .await
}
