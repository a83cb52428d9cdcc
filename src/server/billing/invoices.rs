//! Invoices as pages and the API read them (rule 8): the running month's
//! estimate and the issued ones, an invoice with its lines, the PDF behind
//! a download cookie, and an admin's state change.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use std::collections::HashMap;

use super::access::{authorize, authorized_group};
use super::calendar::month_of;
use super::drafts::{customer_of, estimate_summary, line_of, seller_party, summary_of};
use super::month_to_date::{MonthToDate, WithCredits};
use super::present::to_model;
use crate::error::{AppError, AppResult};
use crate::model::billing::BillingGroup;
use crate::model::ids::{AccountId, GroupId};
use crate::model::invoices::{
    AccountInvoice, AccountInvoices, InvoiceDetail, InvoiceSummary, ESTIMATE,
};
use crate::model::money::{Currency, Money};
use crate::model::states::{EventType, InvoiceState, PaymentMethod, WebhookEvent};
use crate::model::{CurrentUser, Role};
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, InvoiceRecord, InvoiceStateUpdate, NewEvent, NewInvoice, Store,
};

/// The running month's invoice of a group, computed now from the same
/// engine and rules a close uses. Without a rate for today it is shown in
/// USD with a notice.
pub async fn estimate(
    store: &dyn Store,
    seller: &Seller,
    group: BillingGroupRecord,
    now: DateTime<Utc>,
) -> AppResult<(NewInvoice, Option<String>)> {
    let month = MonthToDate::load(store, group, now, WithCredits::Yes).await?;
    Ok(month.estimate(seller))
}

/// The group's invoices, the running month's estimate first.
pub async fn invoices_of_group(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<(BillingGroup, Vec<InvoiceSummary>)> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let mut list = Vec::new();
    if group.is_active() {
        let (draft, _) = estimate(store, seller, group.clone(), now).await?;
        list.push(estimate_summary(&draft));
    }
    let issued = store.invoices_of_group(&group.billing_group_id).await?;
    let credit_notes = store.credit_notes_of_group(&group.billing_group_id).await?;
    list.extend(
        issued
            .iter()
            .map(|record| summary_of(record, &credit_notes, now.date_naive())),
    );
    Ok((to_model(group), list))
}

/// Every issued invoice of the account's groups, deleted groups included,
/// newest period first: the finance view across groups. The running
/// month's estimates stay on each group's page.
pub async fn invoices_of_account(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<AccountInvoices> {
    authorize(store, user, account_id, Role::Viewer).await?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let invoices = account_invoice_list(store, account_id, now).await?;
    Ok(AccountInvoices {
        account_id: account.account_id.to_string(),
        account_name: account.account_name,
        invoices,
    })
}

/// The account's issued invoices with their groups' names, newest period
/// first (no access check: the callers make it).
pub(super) async fn account_invoice_list(
    store: &dyn Store,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> AppResult<Vec<AccountInvoice>> {
    let mut names: HashMap<GroupId, String> = HashMap::new();
    for group in store
        .billing_groups_of_account(account_id)
        .await?
        .into_iter()
        .chain(store.deleted_groups_of_account(account_id).await?)
    {
        names.insert(group.billing_group_id, group.billing_group_name);
    }
    let credit_notes = store.credit_notes_of_account(account_id).await?;
    Ok(store
        .invoices_of_account(account_id)
        .await?
        .iter()
        .map(|record| AccountInvoice {
            billing_group_id: record.billing_group_id.to_string(),
            billing_group_name: names
                .get(&record.billing_group_id)
                .cloned()
                .unwrap_or_else(|| record.billing_group_id.to_string()),
            summary: summary_of(record, &credit_notes, now.date_naive()),
        })
        .collect())
}

fn detail_of(
    group: &BillingGroupRecord,
    role: Role,
    seller: &Seller,
    summary: InvoiceSummary,
) -> InvoiceDetail {
    InvoiceDetail {
        summary,
        billing_group_id: group.billing_group_id.to_string(),
        billing_group_name: group.billing_group_name.clone(),
        billing_group_state: group.group_state,
        role,
        exchange_rate: Decimal::ONE,
        vat_rate: Decimal::ZERO,
        vat_note: String::new(),
        total_usd: Money::zero(Currency::USD),
        payment_method: group.payment_method,
        seller: seller_party(seller),
        customer: customer_of(group),
        lines: Vec::new(),
        notice: None,
        payment: None,
        pay_to: None,
        credit_note: None,
        corrections: Default::default(),
    }
}

/// What the group's Invoices tab says above the list, if anything: why no
/// invoices are issued on this instance, or that last month has ended
/// and its invoice waits for the month close.
pub async fn issuing_paused(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    if let Some(why) = super::month_close::why_issuing_paused(seller) {
        return Ok(Some(why));
    }
    let (this_month, _) = month_of(now);
    let (last_month, _) = month_of(this_month - chrono::Duration::days(1));
    if !group.is_active() || group.create_time >= this_month {
        return Ok(None);
    }
    let invoiced = store
        .invoices_of_group(&group.billing_group_id)
        .await?
        .iter()
        .any(|invoice| invoice.period_begin == last_month);
    Ok((!invoiced).then(|| {
        format!(
            "{} has ended but is not invoiced yet: its invoice is issued when the month close runs. Until then it is not in this list.",
            last_month.format("%B %Y")
        )
    }))
}

/// An issued invoice with its lines.
async fn issued_detail(
    store: &dyn Store,
    seller: &Seller,
    group: &BillingGroupRecord,
    role: Role,
    record: InvoiceRecord,
    today: NaiveDate,
) -> AppResult<InvoiceDetail> {
    let lines = store.invoice_lines(&record.invoice_number).await?;
    let notes = store
        .credit_notes_of_group(&record.billing_group_id)
        .await?;
    let corrections = super::credit_notes::corrections_of(store, &record, &lines, &notes).await?;
    let summary = summary_of(&record, &notes, today);
    // The seller as on the issue date; invoices issued before it was kept
    // show the current one.
    let frozen = &record.seller.0;
    let (seller_shown, payment) = if frozen.party.name.is_empty() {
        (seller_party(seller), seller.payment(&record.invoice_number))
    } else {
        (
            frozen.party.clone(),
            crate::model::payment::PaymentInstructions {
                iban: frozen.iban.clone(),
                bic: frozen.bic.clone(),
                bank_name: frozen.bank_name.clone(),
                reference: crate::model::payment::creditor_reference(&record.invoice_number),
            },
        )
    };
    Ok(InvoiceDetail {
        seller: seller_shown,
        exchange_rate: record.exchange_rate.0,
        vat_rate: record.vat_rate.0,
        vat_note: record.vat_note.clone(),
        total_usd: Money::usd(record.total_usd.0),
        payment_method: record.payment_method,
        customer: record.customer.0.clone(),
        lines: lines.iter().map(line_of).collect(),
        // Only an invoice still to be paid says how to pay it (one paid
        // by credits at issue, or credited in full since, does not).
        payment: (record.payment_method != PaymentMethod::Card
            && !payment.iban.is_empty()
            && summary.is_open())
        .then(|| payment.clone()),
        pay_to: (record.payment_method != PaymentMethod::Card && !payment.iban.is_empty())
            .then_some(payment),
        corrections,
        ..detail_of(group, role, seller, summary)
    })
}

/// One invoice of a group (or `estimate`), with its lines. An invoice of
/// another group or account answers "not found".
pub async fn invoice_detail(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    invoice_number: &str,
    now: DateTime<Utc>,
) -> AppResult<InvoiceDetail> {
    let (group, role) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let not_found = || AppError::not_found("Invoice");
    if invoice_number == ESTIMATE {
        if !group.is_active() {
            return Err(not_found());
        }
        let (draft, notice) = estimate(store, seller, group.clone(), now).await?;
        return Ok(InvoiceDetail {
            exchange_rate: draft.exchange_rate,
            vat_rate: draft.vat_rate,
            vat_note: draft.vat_note.clone(),
            total_usd: Money::usd(draft.total_usd),
            notice,
            lines: draft.lines.iter().map(line_of).collect(),
            ..detail_of(&group, role, seller, estimate_summary(&draft))
        });
    }
    let record = store
        .invoice(invoice_number.trim())
        .await?
        .filter(|i| i.billing_group_id == group.billing_group_id)
        .ok_or_else(not_found)?;
    issued_detail(store, seller, &group, role, record, now.date_naive()).await
}

/// An issued invoice as its email carries it (the sender is the server,
/// not a member).
pub async fn invoice_for_mail(
    store: &dyn Store,
    seller: &Seller,
    invoice_number: &str,
) -> AppResult<InvoiceDetail> {
    let not_found = || AppError::not_found("Invoice");
    let record = store.invoice(invoice_number).await?.ok_or_else(not_found)?;
    let group = store
        .billing_group(&record.billing_group_id)
        .await?
        .ok_or_else(not_found)?;
    // As mailed at its issue: not overdue then.
    let issued = record.issue_date;
    issued_detail(store, seller, &group, Role::Viewer, record, issued).await
}

/// The links the REST API hands out for an invoice's PDF
/// (`/v1/billing-group/{id}/invoice/{number}/{link}`, what `avn` prints):
/// the invoice's unguessable download cookie, an expiry, and a signature
/// over both with a key every instance shares. A link works, for whoever
/// holds it, until it expires (`DOWNLOAD_LINK_DAYS`, 30 by default); the
/// API hands out a fresh one with every invoice it lists.
pub struct DownloadLinks {
    key: String,
    expires: DateTime<Utc>,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn link_mac(key: &str, invoice_number: &str, cookie: &str, expires: i64) -> Option<HmacSha256> {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).ok()?;
    mac.update(format!("invoice|{invoice_number}|{cookie}|{expires}").as_bytes());
    Some(mac)
}

impl DownloadLinks {
    pub async fn load(store: &dyn Store, now: DateTime<Utc>, days: i64) -> AppResult<Self> {
        Ok(DownloadLinks {
            key: download_key(store, now).await?,
            expires: now + chrono::Duration::days(days),
        })
    }

    /// The link's last path segment for one invoice.
    pub fn link(&self, invoice_number: &str, cookie: &str) -> String {
        use hmac::Mac;
        let expires = self.expires.timestamp();
        let signature = link_mac(&self.key, invoice_number, cookie, expires)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default();
        format!("{cookie}.{expires}.{signature}")
    }
}

async fn download_key(store: &dyn Store, now: DateTime<Utc>) -> AppResult<String> {
    Ok(store
        .server_secret("download-links", &crate::server::auth::new_secret(), now)
        .await?)
}

/// An issued invoice for a caller that holds its download link: the link
/// must be this very invoice's of this very group, signed, and not expired;
/// anything else is "not found".
pub async fn invoice_by_download_link(
    store: &dyn Store,
    seller: &Seller,
    billing_group_id: &GroupId,
    invoice_number: &str,
    link: &str,
    now: DateTime<Utc>,
) -> AppResult<InvoiceDetail> {
    use hmac::Mac;
    let not_found = || AppError::not_found("Invoice");
    let mut parts = link.splitn(3, '.');
    let (Some(cookie), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(not_found());
    };
    let expires: i64 = expires.parse().map_err(|_| not_found())?;
    let signature = hex::decode(signature).map_err(|_| not_found())?;
    if invoice_number == ESTIMATE || cookie.len() < 32 || expires < now.timestamp() {
        return Err(not_found());
    }
    let key = download_key(store, now).await?;
    link_mac(&key, invoice_number, cookie, expires)
        .ok_or_else(not_found)?
        .verify_slice(&signature)
        .map_err(|_| not_found())?;
    let record = store
        .invoice(invoice_number)
        .await?
        .filter(|record| {
            record.billing_group_id == billing_group_id
                && constant_time_eq(record.download_cookie.as_bytes(), cookie.as_bytes())
        })
        .ok_or_else(not_found)?;
    let group = store
        .billing_group(&record.billing_group_id)
        .await?
        .ok_or_else(not_found)?;
    issued_detail(
        store,
        seller,
        &group,
        Role::Viewer,
        record,
        now.date_naive(),
    )
    .await
}

/// Compares without stopping at the first difference, so response times
/// do not hint at how much of a guessed cookie was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An admin marks an issued invoice paid, waived or uncollectible. The
/// rule — a settled invoice does not change, nor to the state it has — is
/// checked on the invoice as locked by the write, so two admins at once
/// cannot both change it.
pub async fn set_invoice_state(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    invoice_number: &str,
    state: &str,
    now: DateTime<Utc>,
) -> AppResult<InvoiceSummary> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    authorize(store, user, &group.account_id, Role::Admin).await?;
    let state = InvoiceState::parse(state)
        .filter(|s| InvoiceState::SETTABLE.contains(s))
        .ok_or_else(|| AppError::invalid("state", "Choose paid, waived or uncollectible."))?;
    let record = store
        .invoice(invoice_number.trim())
        .await?
        .filter(|i| i.billing_group_id == group.billing_group_id)
        .ok_or_else(|| AppError::not_found("Invoice"))?;
    let subscribers = super::webhooks::Subscribers::of_account(store, &group.account_id).await?;
    let change = |locked: &InvoiceRecord| {
        if locked.state == state {
            return Err(AppError::invalid(
                "state",
                format!("The invoice is already {state}."),
            ));
        }
        if locked.state.is_settled() {
            return Err(AppError::Conflict {
                message: format!(
                    "Invoice {} is {}; a settled invoice cannot change state.",
                    locked.invoice_number, locked.state
                ),
            });
        }
        let paid_date = (state == InvoiceState::Paid).then(|| now.date_naive());
        let notices = if state == InvoiceState::Paid {
            let paid = InvoiceRecord {
                state,
                paid_date,
                ..locked.clone()
            };
            subscribers.notices(
                WebhookEvent::InvoicePaid,
                Some(&locked.billing_group_id),
                super::webhooks::invoice_data(&paid, &group.account_id),
                now,
            )
        } else {
            Vec::new()
        };
        Ok(InvoiceStateUpdate {
            state,
            paid_date,
            notices,
            event: NewEvent {
                billing_group_id: group.billing_group_id.clone(),
                account_id: group.account_id.clone(),
                actor: user.email.clone(),
                event_type: EventType::InvoiceStateChanged,
                event_desc: format!(
                    "Invoice {} changed from {} to {state}",
                    locked.invoice_number, locked.state
                ),
                project_name: None,
                details: Some(serde_json::json!({
                    "before": {"state": locked.state},
                    "after": {"state": state},
                })),
                create_time: now,
            },
        })
    };
    let updated = store
        .set_invoice_state(&record.invoice_number, &change)
        .await?;
    let credit_notes = store.credit_notes_of_group(&group.billing_group_id).await?;
    Ok(summary_of(&updated, &credit_notes, now.date_naive()))
}
