//! Mail (issue 18): what each message says, who gets it, and how delivery
//! goes. Messages are written to the outbox with the change that causes
//! them (an invoice issued, an invitation, a budget threshold crossed); a
//! sender (`deliver_due`) claims due ones, sends them through a [`Mailer`],
//! and marks each delivered, due again after a back-off, or failed after
//! [`MAX_ATTEMPTS`]. Delivery is at least once: a sender that dies between
//! sending and marking leaves its claim to lapse and the message goes
//! again; nothing is lost.

use chrono::{DateTime, Duration, Utc};
use futures::FutureExt;

use super::access::authorized_group;
use super::invoice_files::{file_stem, invoice_pdf_off_the_runtime};
use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Money;
use crate::model::states::{DeliveryState, EventType, InvoiceState, MessageKind, PaymentMethod};
use crate::model::{CurrentUser, Role};
use crate::server::config::Seller;
use crate::server::store::{
    Channel, CreditNoteRecord, Delivered, MessageRecord, NewEvent, NewInvoice, NewMessage, Store,
};

/// Tries before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a sender holds a claimed message before another may take it.
pub const CLAIM_LEASE: Duration = Duration::minutes(5);

/// Messages a sender claims at a time.
pub const CLAIM_BATCH: i64 = 20;

/// When to try again after the `attempts`-th failure, or None to give up:
/// 10 s, 30 s, 1 min, 5 min, 15 min, 1 h, 3 h.
pub fn retry_at(attempts: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    const BACKOFF_SECONDS: [i64; 7] = [10, 30, 60, 300, 900, 3600, 10_800];
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let index = (attempts.max(1) - 1) as usize;
    Some(now + Duration::seconds(BACKOFF_SECONDS[index.min(BACKOFF_SECONDS.len() - 1)]))
}

/// A message as a mail server takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Stable across retries, so a duplicate (a resend after a crash) can
    /// be recognised by the recipient's mail system.
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// (file name, PDF bytes).
    pub attachment: Option<(String, Vec<u8>)>,
}

/// Sends one message: the server's answer, or why it failed.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String>;
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The email of a credit note, to the emails on the invoice it credits;
/// its PDF is attached when it is sent. None without an address.
pub fn credit_note_message(
    note: &CreditNoteRecord,
    account_id: &AccountId,
    link_base: &str,
) -> Option<NewMessage> {
    let recipients = note.customer.0.emails.clone();
    if recipients.is_empty() {
        return None;
    }
    let money = |amount| Money::of(amount, note.currency).to_string();
    let seller = &note.seller.0.party;
    let link = if link_base.is_empty() {
        String::new()
    } else {
        format!(
            "See the credit note online: {link_base}/billing-group/{}/credit-notes/{}\n\n",
            note.billing_group_id, note.credit_note_number
        )
    };
    let reissue = note
        .reissued_as
        .as_ref()
        .map(|number| {
            format!(
                "The invoice is void; invoice {number} replaces it and follows in its own mail.\n"
            )
        })
        .unwrap_or_default();
    let body = format!(
        "Hello,\n\n\
         attached is credit note {number} from {seller_name} for invoice {invoice}, \
         billed to {customer}.\n\
         The PDF carries its e-invoice (Factur-X, EN 16931).\n\n\
         Reason: {reason}\n\
         Credited before VAT: {before}\n\
         VAT ({vat} %): {vat_amount}\n\
         Credited in all: {total}\n\
         {reissue}\n\
         {link}\
         {seller_name}\n{seller_email}\n",
        number = note.credit_note_number,
        seller_name = seller.name,
        seller_email = seller.emails.join(", "),
        invoice = note.invoice_number,
        customer = note.customer.0.name,
        reason = note.reason,
        before = money(note.total_vat_zero.0),
        vat = note.vat_rate.0.normalize(),
        vat_amount = money(note.total_inc_vat.0 - note.total_vat_zero.0),
        total = money(note.total_inc_vat.0),
    );
    Some(NewMessage {
        message_id: new_id(),
        kind: MessageKind::Invoice,
        account_id: account_id.clone(),
        billing_group_id: Some(note.billing_group_id.clone()),
        invoice_number: None,
        credit_note_number: Some(note.credit_note_number.clone()),
        recipients,
        subject: format!(
            "Credit note {} for invoice {}: {}",
            note.credit_note_number,
            note.invoice_number,
            money(note.total_inc_vat.0)
        ),
        body,
        webhook_id: None,
    })
}

/// The email of a pay-by-invoice invoice, with its totals; its PDF is
/// attached when it is sent. None when it is not to be mailed.
pub fn invoice_message(
    invoice: &NewInvoice,
    invoice_number: &str,
    seller: &Seller,
    link_base: &str,
) -> Option<NewMessage> {
    if invoice.payment_method != PaymentMethod::Email
        || invoice.state != InvoiceState::Issued
        || invoice.customer.emails.is_empty()
    {
        return None;
    }
    let money = |amount| Money::of(amount, invoice.currency).to_string();
    let period = invoice.period_begin.format("%B %Y");
    let payment = seller.payment(invoice_number);
    // Without PUBLIC_URL, no link (see `links::mail_base`).
    let link = if link_base.is_empty() {
        String::new()
    } else {
        format!(
            "See the invoice online: {link_base}/billing-group/{}/invoices/{invoice_number}\n\n",
            invoice.billing_group_id
        )
    };
    let body = format!(
        "Hello,\n\n\
         attached is invoice {invoice_number} from {seller} for {period}, billed to {customer}.\n\
         The PDF carries its e-invoice (Factur-X, EN 16931).\n\n\
         Total before VAT: {before}\n\
         VAT ({vat} %): {vat_amount}\n\
         Total: {total}\n\
         Issued on {issued}, due on {due}.\n\n\
         Please pay {total} by {due} by bank transfer to\n\
         IBAN {iban} (BIC {bic}, {bank})\n\
         with the payment reference {reference}.\n\n\
         {link}\
         {seller}\n{seller_email}\n",
        customer = invoice.customer.name,
        seller = seller.name,
        iban = payment.iban,
        bic = payment.bic,
        bank = payment.bank_name,
        reference = payment.reference,
        seller_email = seller.email,
        before = money(invoice.total_vat_zero),
        vat = invoice.vat_rate.normalize(),
        vat_amount = money(invoice.total_inc_vat - invoice.total_vat_zero),
        total = money(invoice.total_inc_vat),
        issued = invoice.issue_date,
        due = invoice.due_date,
    );
    Some(NewMessage {
        message_id: new_id(),
        kind: MessageKind::Invoice,
        account_id: invoice.account_id.clone(),
        billing_group_id: Some(invoice.billing_group_id.clone()),
        invoice_number: Some(invoice_number.to_string()),
        credit_note_number: None,
        recipients: invoice.customer.emails.clone(),
        subject: format!(
            "Invoice {invoice_number} for {period}: {}",
            money(invoice.total_inc_vat)
        ),
        body,
        webhook_id: None,
    })
}

/// The email of an invitation, with its link (the body is erased once it
/// is delivered: the link's token must not stay in the outbox).
pub fn invitation_message(
    account_id: &AccountId,
    account_name: &str,
    email: &str,
    role: Role,
    inviter: &CurrentUser,
    link: &str,
    expires: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        message_id: new_id(),
        kind: MessageKind::Invitation,
        account_id: account_id.clone(),
        billing_group_id: None,
        invoice_number: None,
        credit_note_number: None,
        recipients: vec![email.to_string()],
        subject: format!(
            "{} invited you to {account_name} on the billing console",
            inviter.real_name
        ),
        body: format!(
            "Hello,\n\n\
             {name} ({inviter}) invited you to the account {account_name} as {role}.\n\n\
             Open this link to join (it works once, until {expires}):\n{link}\n",
            name = inviter.real_name,
            inviter = inviter.email,
            expires = expires.format("%Y-%m-%d %H:%M UTC"),
        ),
        webhook_id: None,
    }
}

/// Sends what is due: claims a batch, sends each, and records the outcome.
/// Returns how many were delivered.
pub async fn deliver_due(
    store: &dyn Store,
    mailer: &dyn Mailer,
    seller: &Seller,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let claim = new_id();
    let messages = store
        .claim_messages(now, now + CLAIM_LEASE, CLAIM_BATCH, &claim, Channel::Mail)
        .await?;
    Ok(deliver_each(store, messages, now, |message| async move {
        deliver_one(store, mailer, seller, &message, now).await
    })
    .await)
}

/// Delivers each claimed message with `deliver`, which answers whether it
/// was delivered (and recorded the outcome). One message that fails — even
/// by a panic, say in its PDF — fails alone: it is retried with back-off
/// like a refusal, and the rest of the batch goes on. Mail and webhooks
/// share it. Returns how many were delivered.
pub async fn deliver_each<Fut>(
    store: &dyn Store,
    messages: Vec<MessageRecord>,
    now: DateTime<Utc>,
    deliver: impl Fn(MessageRecord) -> Fut,
) -> usize
where
    Fut: std::future::Future<Output = AppResult<bool>>,
{
    let mut delivered = 0;
    for message in messages {
        let attempt = std::panic::AssertUnwindSafe(deliver(message.clone()))
            .catch_unwind()
            .await;
        match attempt {
            Ok(Ok(true)) => delivered += 1,
            Ok(Ok(false)) => {}
            Ok(Err(error)) => {
                tracing::warn!(message_id = %message.message_id, %error, "delivery not recorded; retried after its claim lapses")
            }
            Err(_) => {
                tracing::error!(message_id = %message.message_id, "delivering the message panicked; retried with back-off");
                let _ = store
                    .message_attempt_failed(
                        &message,
                        now,
                        "it failed on the server (see its log)",
                        retry_at(message.attempts, now),
                    )
                    .await;
            }
        }
    }
    delivered
}

/// One claimed message: prepared, sent, and marked delivered (true) or
/// failed with its retry time.
async fn deliver_one(
    store: &dyn Store,
    mailer: &dyn Mailer,
    seller: &Seller,
    message: &MessageRecord,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let outcome = match outgoing(store, seller, message).await {
        Ok(mail) => mailer.send(&mail).await,
        Err(error) => Err(format!("could not prepare the message: {error}")),
    };
    match outcome {
        Ok(response) => {
            let effects = Delivered {
                response,
                invoice_mailed: message
                    .invoice_number
                    .as_ref()
                    .map(|number| mailed_event(message, number, now)),
                erase_body: message.kind == MessageKind::Invitation,
            };
            Ok(store.message_delivered(message, now, &effects).await?)
        }
        Err(error) => {
            tracing::warn!(message_id = %message.message_id, attempts = message.attempts, %error, "mail not delivered");
            store
                .message_attempt_failed(message, now, &error, retry_at(message.attempts, now))
                .await?;
            Ok(false)
        }
    }
}

/// The claimed message as the mail server gets it (an invoice's PDF is
/// made from the frozen invoice).
async fn outgoing(
    store: &dyn Store,
    seller: &Seller,
    message: &MessageRecord,
) -> AppResult<OutgoingMail> {
    let detail = match (&message.invoice_number, &message.credit_note_number) {
        (Some(number), _) => Some(super::invoices::invoice_for_mail(store, seller, number).await?),
        (None, Some(number)) => {
            Some(super::credit_notes::credit_note_for_mail(store, number).await?)
        }
        (None, None) => None,
    };
    let attachment = match detail {
        Some(detail) => {
            let name = format!("{}.pdf", file_stem(&detail));
            Some((name, invoice_pdf_off_the_runtime(detail).await?))
        }
        None => None,
    };
    Ok(OutgoingMail {
        message_id: message.message_id.clone(),
        to: message.recipients.0.clone(),
        subject: message.subject.clone(),
        body: message.body.clone().ok_or(AppError::Internal)?,
        attachment,
    })
}

fn mailed_event(message: &MessageRecord, invoice_number: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        billing_group_id: message.billing_group_id.clone().unwrap_or_default(),
        account_id: message.account_id.clone(),
        actor: "mail".into(),
        event_type: EventType::InvoiceMailed,
        event_desc: format!(
            "Invoice {invoice_number} mailed to {}",
            message.recipients.0.join(", ")
        ),
        project_name: None,
        details: Some(serde_json::json!({
            "before": {"state": "issued"},
            "after": {"state": "mailed", "recipients": message.recipients.0},
        })),
        create_time: at,
    }
}

/// A delivery as the group's Deliveries list shows it.
pub fn delivery_of(message: MessageRecord) -> crate::model::billing::Delivery {
    crate::model::billing::Delivery {
        can_resend: message.body.is_some()
            && matches!(message.state, DeliveryState::Failed | DeliveryState::Sent),
        message_id: message.message_id,
        kind: message.kind,
        invoice_number: message.invoice_number.or(message.credit_note_number),
        recipients: message.recipients.0,
        subject: message.subject,
        state: message.state,
        attempts: message.attempts,
        last_error: message.last_error,
        server_response: message.last_response,
        create_time: message.create_time,
        sent_time: message.sent_time,
        next_attempt_time: message.next_attempt_time,
    }
}

/// The group's Deliveries list (admins): invoices and budget alerts.
pub async fn deliveries(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    mail_configured: bool,
) -> AppResult<crate::model::billing::Deliveries> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Admin).await?;
    Ok(crate::model::billing::Deliveries {
        mail_configured,
        deliveries: store
            .messages_of_group(&group.billing_group_id, 200)
            .await?
            .into_iter()
            .map(delivery_of)
            .collect(),
    })
}

/// "Send again" (admins): a failed or sent message goes back in the queue.
pub async fn send_again(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    message_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Admin).await?;
    let message = store
        .message(message_id.trim())
        .await?
        .filter(|m| m.billing_group_id.as_deref() == Some(group.billing_group_id.as_str()))
        .ok_or_else(|| AppError::not_found("Delivery"))?;
    let event = NewEvent {
        billing_group_id: group.billing_group_id.clone(),
        account_id: group.account_id.clone(),
        actor: user.email.clone(),
        event_type: EventType::DeliveryRequeued,
        event_desc: format!("Email \"{}\" queued to be sent again", message.subject),
        project_name: None,
        details: None,
        create_time: now,
    };
    if store
        .requeue_message(&message.message_id, now, &event)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::Conflict {
            message: "This email is being sent right now, or its content is no longer kept; it cannot be sent again.".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_after_the_last_attempt() {
        let now = Utc::now();
        assert_eq!(retry_at(1, now), Some(now + Duration::seconds(10)));
        assert_eq!(retry_at(2, now), Some(now + Duration::seconds(30)));
        assert_eq!(retry_at(7, now), Some(now + Duration::hours(3)));
        assert_eq!(retry_at(MAX_ATTEMPTS, now), None);
    }
}
