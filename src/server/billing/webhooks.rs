//! Webhooks (issue 30): what an endpoint may be, which changes notify it
//! and with what payload, how a delivery is signed (Standard Webhooks), and
//! how deliveries go. A delivery is an outbox message of kind `webhook`,
//! written in the transaction of the change that causes it, one per
//! subscribed endpoint; a sender (`deliver_due`) claims due ones, signs
//! and POSTs each through a [`WebhookTransport`], and marks it delivered,
//! due again after the mail's back-off, or failed after the last try. Every
//! try is kept (`outbox_attempts`) and shown on the Webhooks page.

use std::collections::HashMap;
use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::access::authorize;
use super::calendar::period_name;
use super::mail::{deliver_each, retry_at, CLAIM_BATCH, CLAIM_LEASE};
use crate::error::{AppError, AppResult, FieldError};
use crate::model::ids::{AccountId, GroupId};
use crate::model::states::{AccountEventType, DeliveryState, MessageKind, WebhookEvent};
use crate::model::webhooks::{
    CreatedWebhook, DeliveryAttempt, Webhook, WebhookDelivery, WebhooksPage,
};
use crate::model::{CurrentUser, Role};
use crate::server::store::{
    AttemptRecord, BillingGroupRecord, Channel, CreditNoteRecord, Delivered, InvoiceRecord,
    JsonText, MessageRecord, NewAccountEvent, NewInvoice, NewMessage, Store, WebhookRecord,
};

/// Endpoints an account may have.
pub const MAX_ENDPOINTS: usize = 10;

/// Deliveries the Webhooks page lists.
const PAGE_DELIVERIES: i64 = 100;

/// Open invoices the overdue pass looks at per run.
const OVERDUE_BATCH: i64 = 500;

/// The job's lease name (one instance at a time decides overdue notices).
pub const OVERDUE_JOB: &str = "invoice-overdue";

// ------------------------------------------------------------ destinations --

/// Whether a POST may go to this address. Loopback, private (RFC 1918,
/// unique local), link-local (cloud metadata lives there), shared
/// (100.64/10), unspecified, broadcast, multicast and documentation ranges
/// are refused unless the operator allows private targets
/// (`WEBHOOK_ALLOW_PRIVATE_TARGETS`): a webhook must not let an account
/// admin reach what only the server can (server-side request forgery).
pub fn address_allowed(address: IpAddr, allow_private: bool) -> bool {
    if allow_private {
        return !address.is_unspecified() && !address.is_multicast();
    }
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return address_allowed(IpAddr::V4(v4), false);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// An endpoint's URL as typed: absolute http(s), a host, no credentials,
/// no fragment. The field error says what is wrong.
pub fn parse_url(text: &str) -> AppResult<url::Url> {
    let text = text.trim();
    let refuse = |message: &str| Err(AppError::invalid("url", message));
    if text.is_empty() {
        return refuse("Enter the URL the events are posted to.");
    }
    if text.len() > 2000 {
        return refuse("The URL is longer than 2,000 characters.");
    }
    let Ok(url) = url::Url::parse(text) else {
        return refuse("Enter a full URL, such as https://erp.example.com/hooks/billing.");
    };
    if !matches!(url.scheme(), "https" | "http") {
        return refuse("The URL must start with https:// (or http://).");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse("The URL has no host.");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("Put no user name or password in the URL; check the signature instead.");
    }
    if url.fragment().is_some() {
        return refuse("Remove the #fragment: it is never sent.");
    }
    Ok(url)
}

/// Signed deliveries go out through this (HTTP in the server, a recorder
/// in tests).
#[async_trait::async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Resolves the URL's host and checks every address it has
    /// ([`address_allowed`]); why not, in a sentence, when it may not be
    /// posted to.
    async fn check_destination(&self, url: &url::Url) -> Result<(), String>;
    /// POSTs the request (to an address the check allows, without
    /// following redirects): the endpoint's answer when it took it (2xx),
    /// or why it failed.
    async fn post(&self, request: &SignedRequest) -> Result<String, String>;
}

/// One try of a delivery, signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub url: String,
    /// `webhook-id`: the delivery's id, the same on every try.
    pub id: String,
    /// `webhook-timestamp`: seconds since 1970, this try's.
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64 HMAC-SHA256>`.
    pub signature: String,
    pub body: String,
}

// ----------------------------------------------------------------- signing --

const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64, as
/// Standard Webhooks' libraries take it.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Standard Webhooks' signature of `{id}.{timestamp}.{body}` with the
/// secret's key: `v1,` and the base64 HMAC-SHA256.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| "the endpoint's secret is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

// ---------------------------------------------------------- notifications --

/// The account's endpoints, read before a change, so the change can write
/// a delivery for each endpoint subscribed to its event.
#[derive(Debug, Clone, Default)]
pub struct Subscribers {
    endpoints: Vec<WebhookRecord>,
}

impl Subscribers {
    pub async fn of_account(store: &dyn Store, account_id: &AccountId) -> AppResult<Subscribers> {
        Ok(Subscribers {
            endpoints: store.webhooks_of_account(account_id).await?,
        })
    }

    /// The endpoints of the group's account.
    pub async fn of_group(store: &dyn Store, billing_group_id: &GroupId) -> AppResult<Subscribers> {
        match store.billing_group(billing_group_id).await? {
            Some(group) => Subscribers::of_account(store, &group.account_id).await,
            None => Ok(Subscribers::default()),
        }
    }

    /// Every account's endpoints (a month close, the overdue pass).
    pub async fn by_account(
        store: &dyn Store,
    ) -> AppResult<std::collections::HashMap<AccountId, Subscribers>> {
        let mut by_account = std::collections::HashMap::<AccountId, Subscribers>::new();
        for endpoint in store.active_webhooks().await? {
            by_account
                .entry(endpoint.account_id.clone())
                .or_default()
                .endpoints
                .push(endpoint);
        }
        Ok(by_account)
    }

    /// One delivery per endpoint subscribed to `event`, with Standard
    /// Webhooks' payload: `{"type", "timestamp", "data"}`.
    pub fn notices(
        &self,
        event: WebhookEvent,
        billing_group_id: Option<&GroupId>,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Vec<NewMessage> {
        let payload = serde_json::json!({
            "type": event.as_str(),
            "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string();
        self.endpoints
            .iter()
            .filter(|endpoint| endpoint.events.0.contains(&event))
            .map(|endpoint| NewMessage {
                message_id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
                kind: MessageKind::Webhook,
                account_id: endpoint.account_id.clone(),
                billing_group_id: billing_group_id.cloned(),
                invoice_number: None,
                credit_note_number: None,
                recipients: vec![endpoint.url.clone()],
                subject: event.as_str().to_string(),
                body: payload.clone(),
                webhook_id: Some(endpoint.webhook_id.clone()),
            })
            .collect()
    }
}

/// `invoice.issued`'s data.
pub fn issued_invoice_data(invoice: &NewInvoice, invoice_number: &str) -> serde_json::Value {
    serde_json::json!({
        "invoice_number": invoice_number,
        "account_id": invoice.account_id,
        "billing_group_id": invoice.billing_group_id,
        "period": period_name(invoice.period_begin),
        "state": invoice.state,
        "currency": invoice.currency.code(),
        "total_vat_zero": invoice.currency.plain(invoice.total_vat_zero),
        "total_inc_vat": invoice.currency.plain(invoice.total_inc_vat),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
    })
}

/// `invoice.paid`'s and `invoice.overdue`'s data.
pub fn invoice_data(invoice: &InvoiceRecord, account_id: &AccountId) -> serde_json::Value {
    serde_json::json!({
        "invoice_number": invoice.invoice_number,
        "account_id": account_id,
        "billing_group_id": invoice.billing_group_id,
        "period": period_name(invoice.period_begin),
        "state": invoice.state,
        "currency": invoice.currency.code(),
        "total_vat_zero": invoice.currency.plain(invoice.total_vat_zero.0),
        "total_inc_vat": invoice.currency.plain(invoice.total_inc_vat.0),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_date": invoice.paid_date,
    })
}

/// `credit_note.issued`'s data.
pub fn credit_note_data(note: &CreditNoteRecord, account_id: &AccountId) -> serde_json::Value {
    serde_json::json!({
        "credit_note_number": note.credit_note_number,
        "invoice_number": note.invoice_number,
        "account_id": account_id,
        "billing_group_id": note.billing_group_id,
        "kind": note.kind,
        "reason": note.reason,
        "reissued_as": note.reissued_as,
        "currency": note.currency.code(),
        "total_vat_zero": note.currency.plain(note.total_vat_zero.0),
        "total_inc_vat": note.currency.plain(note.total_inc_vat.0),
        "issue_date": note.issue_date,
    })
}

/// `member.added`'s and `member.removed`'s data.
pub fn member_data(account_id: &AccountId, email: &str, role: Role) -> serde_json::Value {
    serde_json::json!({"account_id": account_id, "email": email, "role": role.as_str()})
}

// -------------------------------------------------------------- endpoints --

fn webhook_of(record: WebhookRecord) -> Webhook {
    Webhook {
        webhook_id: record.webhook_id,
        url: record.url,
        description: record.description,
        events: record.events.0,
        created_by: record.created_by,
        create_time: record.create_time,
    }
}

/// The events a form or request names, each known, at least one.
pub fn parse_events(names: &[String]) -> AppResult<Vec<WebhookEvent>> {
    let mut events = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let event = WebhookEvent::parse(name).ok_or_else(|| {
            AppError::invalid(
                "events",
                format!(
                    "'{name}' is not an event; use {}.",
                    WebhookEvent::ALL
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "Choose at least one event to send.",
        ));
    }
    events.sort();
    Ok(events)
}

/// An admin adds an endpoint: its URL is checked (form, then where it
/// resolves to), the secret made, and the change logged. The answer holds
/// the secret, which is not shown again.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &dyn Store,
    transport: &dyn WebhookTransport,
    user: &CurrentUser,
    account_id: &AccountId,
    url: &str,
    events: &[String],
    description: &str,
    now: DateTime<Utc>,
) -> AppResult<CreatedWebhook> {
    authorize(store, user, account_id, Role::Admin).await?;
    let mut errors = Vec::new();
    let url = parse_url(url)
        .map_err(|e| errors.extend(field_errors(e)))
        .ok();
    let events = parse_events(events)
        .map_err(|e| errors.extend(field_errors(e)))
        .ok();
    let description = description.trim();
    if description.chars().count() > 200 {
        errors.push(FieldError::new(
            "description",
            "Keep the description under 200 characters.",
        ));
    }
    let (Some(url), Some(events), true) = (url, events, errors.is_empty()) else {
        return Err(AppError::Invalid { errors });
    };
    if store.webhooks_of_account(account_id).await?.len() >= MAX_ENDPOINTS {
        return Err(AppError::invalid(
            "url",
            format!("An account has at most {MAX_ENDPOINTS} endpoints; remove one first."),
        ));
    }
    transport
        .check_destination(&url)
        .await
        .map_err(|why| AppError::invalid("url", why))?;
    let record = WebhookRecord {
        webhook_id: format!("wh_{}", uuid::Uuid::new_v4().simple()),
        account_id: account_id.clone(),
        url: url.to_string(),
        description: description.to_string(),
        events: JsonText(events),
        secret: new_secret(),
        created_by: user.email.clone(),
        create_time: now,
        delete_time: None,
    };
    let names: Vec<&str> = record.events.0.iter().map(|e| e.as_str()).collect();
    let event = NewAccountEvent {
        account_id: account_id.clone(),
        actor: user.email.clone(),
        event_type: AccountEventType::WebhookAdded,
        event_desc: format!("Webhook to {} added for {}", record.url, names.join(", ")),
        details: Some(serde_json::json!({"after": {
            "webhook_id": record.webhook_id, "url": record.url, "events": names,
        }})),
        create_time: now,
        notices: Vec::new(),
    };
    store.insert_webhook(&record, &event).await?;
    Ok(CreatedWebhook {
        secret: record.secret.clone(),
        webhook: webhook_of(record),
    })
}

fn field_errors(error: AppError) -> Vec<FieldError> {
    match error {
        AppError::Invalid { errors } => errors,
        _ => Vec::new(),
    }
}

/// An admin removes an endpoint: nothing more is sent to it (its queued
/// deliveries fail), its history stays.
pub async fn remove(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    webhook_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    authorize(store, user, account_id, Role::Admin).await?;
    let not_found = || AppError::not_found("Webhook");
    let record = store
        .webhook(webhook_id.trim())
        .await?
        .filter(|w| w.account_id == *account_id && w.delete_time.is_none())
        .ok_or_else(not_found)?;
    let event = NewAccountEvent {
        account_id: record.account_id.clone(),
        actor: user.email.clone(),
        event_type: AccountEventType::WebhookRemoved,
        event_desc: format!("Webhook to {} removed", record.url),
        details: Some(serde_json::json!({"before": {
            "webhook_id": record.webhook_id, "url": record.url,
        }})),
        create_time: now,
        notices: Vec::new(),
    };
    store
        .remove_webhook(&record.account_id, &record.webhook_id, &event)
        .await
        .map_err(|e| match e {
            crate::server::store::StoreError::NotFound => not_found(),
            other => other.into(),
        })
}

/// The account's endpoints (admins).
pub async fn endpoints(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
) -> AppResult<Vec<Webhook>> {
    authorize(store, user, account_id, Role::Admin).await?;
    Ok(store
        .webhooks_of_account(account_id)
        .await?
        .into_iter()
        .map(webhook_of)
        .collect())
}

/// The Webhooks page (admins): endpoints, and the latest deliveries with
/// every try.
pub async fn page(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
) -> AppResult<WebhooksPage> {
    let endpoints = endpoints(store, user, account_id).await?;
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| AppError::not_found("Account"))?;
    let messages = store
        .account_messages(&account.account_id, MessageKind::Webhook, PAGE_DELIVERIES)
        .await?;
    let ids: Vec<String> = messages.iter().map(|m| m.message_id.clone()).collect();
    let mut attempts: HashMap<String, Vec<AttemptRecord>> = HashMap::new();
    for attempt in store.attempts_of(&ids).await? {
        attempts
            .entry(attempt.message_id.clone())
            .or_default()
            .push(attempt);
    }
    let deliveries = messages
        .into_iter()
        .map(|message| {
            let tries = attempts.remove(&message.message_id).unwrap_or_default();
            delivery_of(message, tries)
        })
        .collect();
    Ok(WebhooksPage {
        account_name: account.account_name,
        endpoints,
        deliveries,
    })
}

fn delivery_of(message: MessageRecord, attempts: Vec<AttemptRecord>) -> WebhookDelivery {
    WebhookDelivery {
        can_resend: matches!(message.state, DeliveryState::Failed | DeliveryState::Sent),
        webhook_id: message.webhook_id.unwrap_or_default(),
        url: message.recipients.0.into_iter().next().unwrap_or_default(),
        event: message.subject,
        state: message.state,
        create_time: message.create_time,
        sent_time: message.sent_time,
        next_attempt_time: message.next_attempt_time,
        attempts: attempts
            .into_iter()
            .map(|a| DeliveryAttempt {
                attempt: a.attempt,
                attempt_time: a.attempt_time,
                succeeded: a.succeeded,
                detail: a.detail,
            })
            .collect(),
        message_id: message.message_id,
    }
}

/// "Send again" (admins): a sent or failed delivery goes back in the
/// queue, to an endpoint that is still there.
pub async fn send_again(
    store: &dyn Store,
    user: &CurrentUser,
    account_id: &AccountId,
    message_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    authorize(store, user, account_id, Role::Admin).await?;
    let not_found = || AppError::not_found("Delivery");
    let message = store
        .message(message_id.trim())
        .await?
        .filter(|m| m.kind == MessageKind::Webhook && m.account_id == *account_id)
        .ok_or_else(not_found)?;
    let endpoint = store
        .webhook(message.webhook_id.as_deref().unwrap_or_default())
        .await?
        .ok_or_else(not_found)?;
    if endpoint.delete_time.is_some() {
        return Err(AppError::Conflict {
            message: "Its endpoint was removed; add it again to receive events there.".into(),
        });
    }
    let event = NewAccountEvent {
        account_id: message.account_id.clone(),
        actor: user.email.clone(),
        event_type: AccountEventType::WebhookResent,
        event_desc: format!(
            "Webhook delivery {} ({}) to {} queued to be sent again",
            message.message_id, message.subject, endpoint.url
        ),
        details: None,
        create_time: now,
        notices: Vec::new(),
    };
    if store
        .requeue_webhook_message(&message.message_id, now, &event)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::Conflict {
            message: "This delivery is being sent right now, or is still queued.".into(),
        })
    }
}

// --------------------------------------------------------------- delivery --

/// Sends what is due: claims a batch of webhook deliveries, signs and
/// POSTs each, and records the outcome (a failure waits the mail's
/// back-off). Returns how many were delivered.
pub async fn deliver_due(
    store: &dyn Store,
    transport: &dyn WebhookTransport,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let claim = uuid::Uuid::new_v4().to_string();
    let messages = store
        .claim_messages(
            now,
            now + CLAIM_LEASE,
            CLAIM_BATCH,
            &claim,
            Channel::Webhook,
        )
        .await?;
    Ok(deliver_each(store, messages, now, |message| async move {
        deliver_one(store, transport, &message, now).await
    })
    .await)
}

async fn deliver_one(
    store: &dyn Store,
    transport: &dyn WebhookTransport,
    message: &MessageRecord,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let endpoint = match &message.webhook_id {
        Some(id) => store.webhook(id).await?,
        None => None,
    };
    let outcome = match endpoint {
        None => Err(("its endpoint is gone".to_string(), false)),
        Some(endpoint) if endpoint.delete_time.is_some() => {
            Err(("the endpoint was removed".to_string(), false))
        }
        Some(endpoint) => {
            let body = message.body.clone().unwrap_or_default();
            let timestamp = now.timestamp();
            match signature(&endpoint.secret, &message.message_id, timestamp, &body) {
                Ok(signature) => transport
                    .post(&SignedRequest {
                        url: endpoint.url,
                        id: message.message_id.clone(),
                        timestamp,
                        signature,
                        body,
                    })
                    .await
                    .map_err(|why| (why, true)),
                Err(why) => Err((why, false)),
            }
        }
    };
    match outcome {
        Ok(response) => {
            let effects = Delivered {
                response,
                invoice_mailed: None,
                erase_body: false,
            };
            Ok(store.message_delivered(message, now, &effects).await?)
        }
        Err((error, retry)) => {
            tracing::warn!(message_id = %message.message_id, attempts = message.attempts, %error, "webhook not delivered");
            let next = if retry {
                retry_at(message.attempts, now)
            } else {
                None
            };
            store
                .message_attempt_failed(message, now, &error, next)
                .await?;
            Ok(false)
        }
    }
}

/// Notices invoices that became overdue (their due date has passed, open,
/// something left to pay): `invoice.overdue` once per invoice, whichever
/// instance gets there first. Returns how many were noticed.
pub async fn notice_overdue(store: &dyn Store, now: DateTime<Utc>) -> AppResult<usize> {
    let today = now.date_naive();
    let candidates = store
        .invoices_past_due_unnoticed(today, OVERDUE_BATCH)
        .await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let subscribers = Subscribers::by_account(store).await?;
    // Each group and its credit notes, read once per pass.
    let mut groups: HashMap<GroupId, Option<(BillingGroupRecord, Vec<CreditNoteRecord>)>> =
        HashMap::new();
    let mut noticed = 0;
    for invoice in candidates {
        if !groups.contains_key(&invoice.billing_group_id) {
            let group = match store.billing_group(&invoice.billing_group_id).await? {
                Some(group) => {
                    let notes = store.credit_notes_of_group(&group.billing_group_id).await?;
                    Some((group, notes))
                }
                None => None,
            };
            groups.insert(invoice.billing_group_id.clone(), group);
        }
        let Some(Some((group, notes))) = groups.get(&invoice.billing_group_id) else {
            continue;
        };
        let credited: rust_decimal::Decimal = notes
            .iter()
            .filter(|n| n.invoice_number == invoice.invoice_number)
            .map(|n| -n.total_inc_vat.0)
            .sum();
        let remaining = invoice.total_inc_vat.0 - credited;
        let overdue = crate::model::invoices::overdue_days(
            invoice.state,
            Some(invoice.due_date),
            remaining,
            today,
        );
        // An invoice credited in full is decided too: it is never overdue.
        let notices = match (overdue, subscribers.get(&group.account_id)) {
            (Some(days), Some(subscribers)) => {
                let mut data = invoice_data(&invoice, &group.account_id);
                data["days_overdue"] = days.into();
                subscribers.notices(
                    WebhookEvent::InvoiceOverdue,
                    Some(&invoice.billing_group_id),
                    data,
                    now,
                )
            }
            _ => Vec::new(),
        };
        if store
            .record_overdue_notice(&invoice.invoice_number, now, &notices)
            .await?
            && overdue.is_some()
        {
            noticed += 1;
        }
    }
    Ok(noticed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The specification's example (standard-webhooks/spec.md).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn private_and_loopback_destinations_are_refused_unless_allowed() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            let address: IpAddr = refused.parse().unwrap();
            assert!(!address_allowed(address, false), "{refused} refused");
        }
        for allowed in ["93.184.216.34", "2606:2800:220:1::248"] {
            assert!(
                address_allowed(allowed.parse().unwrap(), false),
                "{allowed}"
            );
        }
        assert!(address_allowed("127.0.0.1".parse().unwrap(), true));
        assert!(!address_allowed("0.0.0.0".parse().unwrap(), true));
    }

    #[test]
    fn an_endpoint_url_is_absolute_http_without_credentials() {
        assert!(parse_url("https://erp.example.com/hooks").is_ok());
        for bad in [
            "",
            "erp.example.com/hooks",
            "ftp://erp.example.com/",
            "https://user:pw@erp.example.com/",
            "https://erp.example.com/#x",
        ] {
            assert!(
                matches!(parse_url(bad), Err(AppError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn events_are_known_and_at_least_one() {
        assert_eq!(
            parse_events(&["member.added".into(), "invoice.issued".into()]).unwrap(),
            vec![WebhookEvent::InvoiceIssued, WebhookEvent::MemberAdded]
        );
        assert!(parse_events(&[]).is_err());
        assert!(parse_events(&["invoice.sent".into()]).is_err());
    }
}
