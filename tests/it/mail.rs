//! Mail (issue 18), on both backends, with a mail server played by the
//! test: invoices mailed at the close (PDF attached, `issued` → `mailed`),
//! retries and failures, claims that never send a message twice while a
//! sender lives and never lose one when it dies, invitations whose link
//! leaves the outbox once sent, and budgets whose thresholds alert once.

use std::sync::{Arc, Mutex};

use crate::common::{
    after_october, d, join, running_service, t, user, EventsOfGroup, Fixture, TEST_LINKS,
};
use billing_console::error::AppError;
use billing_console::model::money::{Currency, Money};
use billing_console::model::states::{BudgetMeasure, DeliveryState, InvoiceState, MessageKind};
use billing_console::model::Role;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::mail::{self, Mailer, OutgoingMail, MAX_ATTEMPTS};
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{budgets, members};
use billing_console::server::config::Seller;
use billing_console::server::store::DynStore;
use chrono::Duration;

/// A mail server that keeps what it is given, or refuses while told to.
#[derive(Default)]
struct TestMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    refuse: Mutex<bool>,
}

#[async_trait::async_trait]
impl Mailer for TestMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String> {
        if *self.refuse.lock().unwrap() {
            return Err("421 4.3.0 Service not available".into());
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok("250 2.0.0 Ok: queued".into())
    }
}

impl TestMailer {
    fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().unwrap().clone()
    }
}

async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "EUR", "Card", t(1, 0)).await;
    let (admin, primary, card) = (&f.admin, &f.primary, &f.second);
    billing_info::save(
        store.as_ref(),
        admin,
        primary,
        &BillingInfoForm {
            payment_method: "email".into(),
            company: "Acme Oy".into(),
            country_code: "FI".into(),
            billing_emails: "ap@acme.example".into(),
            billing_contact_emails: "finance@acme.example".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        },
        t(1, 0),
    )
    .await
    .unwrap();
    billing_info::save(
        store.as_ref(),
        admin,
        card,
        &BillingInfoForm {
            payment_method: "card".into(),
            card_number: "4242 4242 4242 4242".into(),
            card_expiry: "12/39".into(),
            card_name: "Ann".into(),
            billing_emails: "cards@acme.example".into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        },
        t(1, 0),
    )
    .await
    .unwrap();
    for (project, group) in [("p1", primary), ("p2", card)] {
        f.project(store, project, Some(group), "", t(1, 0)).await;
        running_service(store, &format!("svc-{project}"), project, "2", t(1, 0)).await;
    }
    store
        .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), d("0.9"))
        .await
        .unwrap();
    f
}

async fn close(store: &DynStore) {
    close_month(
        store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        t(1, 0),
        after_october(),
        "system",
    )
    .await
    .unwrap();
}

on_both_backends!(
    a_credit_note_is_mailed_to_the_invoice_emails_with_its_pdf,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        close(&db.store).await;
        let mailer = TestMailer::default();
        mail::deliver_due(store, &mailer, &Seller::demo(), after_october())
            .await
            .unwrap();
        let invoice = store.invoices_of_group(&f.primary).await.unwrap()[0].clone();
        let later = after_october() + Duration::days(2);
        let note = billing_console::server::billing::corrections::credit_invoice(
            store,
            &billing_console::server::billing::corrections::Corrector {
                seller: &Seller::demo(),
                link_base: TEST_LINKS,
                user: &f.admin,
                now: later,
            },
            &f.primary,
            &invoice.invoice_number,
            &billing_console::model::invoices::CreditRequest {
                reason: "Outage on 3 October".into(),
                lines: Vec::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            mail::deliver_due(store, &mailer, &Seller::demo(), later)
                .await
                .unwrap(),
            1
        );
        let mails = mailer.sent();
        let mail = mails.last().unwrap();
        assert_eq!(
            mail.to,
            vec!["ap@acme.example".to_string()],
            "the invoice's emails"
        );
        assert!(
            mail.subject.contains(&note.credit_note_number),
            "{}",
            mail.subject
        );
        assert!(
            mail.subject.contains(&invoice.invoice_number),
            "{}",
            mail.subject
        );
        assert!(
            mail.body.contains("Reason: Outage on 3 October"),
            "{}",
            mail.body
        );
        assert!(
            mail.body.contains(&format!(
                "{TEST_LINKS}/billing-group/{}/credit-notes/{}",
                f.primary, note.credit_note_number
            )),
            "{}",
            mail.body
        );
        let (name, pdf) = mail.attachment.clone().expect("the PDF goes with it");
        assert_eq!(name, format!("credit-note-{}.pdf", note.credit_note_number));
        let document = lopdf::Document::load_mem(&pdf).expect("a PDF that parses");
        let text = document.extract_text(&[1]).unwrap_or_default();
        assert!(
            text.contains(&format!("Credit note {}", note.credit_note_number)),
            "{text}"
        );
        assert!(pdf.windows(12).any(|w| w == b"factur-x.xml"));
        // The invoice's state is not the mail's business.
        assert_eq!(
            store
                .invoice(&invoice.invoice_number)
                .await
                .unwrap()
                .unwrap()
                .state,
            InvoiceState::Mailed
        );
    }
);

on_both_backends!(
    pay_by_invoice_invoices_are_mailed_with_their_pdf_and_become_mailed,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        close(&db.store).await;
        let issued = &store.invoices_of_group(&f.primary).await.unwrap()[0];
        assert_eq!(issued.state, InvoiceState::Issued, "issued until delivered");
        assert_eq!(
            store.invoices_of_group(&f.second).await.unwrap()[0].state,
            InvoiceState::Paid
        );
        // One message, for the pay-by-invoice group only.
        let queued = store.messages_of_group(&f.primary, 10).await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].recipients.0, vec!["ap@acme.example".to_string()]);
        assert!(store
            .messages_of_group(&f.second, 10)
            .await
            .unwrap()
            .is_empty());
        // A second close writes nothing more.
        close(&db.store).await;
        assert_eq!(
            store.messages_of_group(&f.primary, 10).await.unwrap().len(),
            1
        );

        let mailer = TestMailer::default();
        let sent = mail::deliver_due(store, &mailer, &Seller::demo(), after_october())
            .await
            .unwrap();
        assert_eq!(sent, 1);
        let mails = mailer.sent();
        let mail = &mails[0];
        let (name, pdf) = mail.attachment.clone().expect("the PDF goes with it");
        assert!(name.ends_with(".pdf"));
        let document = lopdf::Document::load_mem(&pdf).expect("a PDF that parses");
        let text = document.extract_text(&[1]).unwrap_or_default();
        let total = Currency::EUR.plain(issued.total_inc_vat.0);
        let grouped = Money::of(issued.total_inc_vat.0, Currency::EUR).grouped();
        assert!(text.contains(&grouped), "the PDF shows the total {grouped}");
        assert!(
            mail.body.contains(&format!("Total: {total} EUR")),
            "{}",
            mail.body
        );
        assert!(mail.subject.contains(&issued.invoice_number));
        assert!(mail.subject.contains("October 2026"), "{}", mail.subject);
        assert!(
            mail.body.contains(&format!(
                "{TEST_LINKS}/billing-group/{}/invoices/{}",
                issued.billing_group_id, issued.invoice_number
            )),
            "a link to the invoice's page: {}",
            mail.body
        );
        assert!(
            pdf.windows(12).any(|w| w == b"factur-x.xml"),
            "the attached PDF carries the e-invoice"
        );
        // How to pay it: the seller's IBAN and the invoice's reference, in
        // the mail and in the PDF.
        let reference = billing_console::model::payment::creditor_reference(&issued.invoice_number);
        for (what, text) in [("mail", &mail.body), ("PDF", &text)] {
            assert!(text.contains("FI21 1234 5600 0007 85"), "{what}: {text}");
            assert!(text.contains(&reference), "{what} has {reference}: {text}");
        }
        let invoice = &store.invoices_of_group(&f.primary).await.unwrap()[0];
        assert_eq!(invoice.state, InvoiceState::Mailed);
        let events = store.events_of_group(&f.primary, 3).await.unwrap();
        assert_eq!(events[0].event_type, "invoice_mailed");
        // Nothing is due any more.
        assert_eq!(
            mail::deliver_due(store, &mailer, &Seller::demo(), after_october())
                .await
                .unwrap(),
            0
        );
        assert_eq!(mailer.sent().len(), 1);
    }
);

on_both_backends!(
    a_refusing_mail_server_means_retries_then_failure_and_send_again_requeues,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        close(&db.store).await;
        let mailer = TestMailer::default();
        *mailer.refuse.lock().unwrap() = true;
        let mut now = after_october();
        mail::deliver_due(store, &mailer, &Seller::demo(), now)
            .await
            .unwrap();
        let message = store.messages_of_group(&f.primary, 1).await.unwrap()[0].clone();
        assert_eq!(message.state, DeliveryState::Queued);
        assert_eq!(message.attempts, 1);
        assert!(message.last_error.as_deref().unwrap().contains("421"));
        assert_eq!(message.next_attempt_time, now + Duration::seconds(10));
        // Not before its time.
        mail::deliver_due(store, &mailer, &Seller::demo(), now + Duration::seconds(5))
            .await
            .unwrap();
        assert_eq!(
            store
                .message(&message.message_id)
                .await
                .unwrap()
                .unwrap()
                .attempts,
            1
        );
        for _ in 1..MAX_ATTEMPTS {
            now += Duration::hours(4);
            mail::deliver_due(store, &mailer, &Seller::demo(), now)
                .await
                .unwrap();
        }
        let failed = store.message(&message.message_id).await.unwrap().unwrap();
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!(failed.attempts, MAX_ATTEMPTS);
        assert_eq!(
            store.invoices_of_group(&f.primary).await.unwrap()[0].state,
            InvoiceState::Issued,
            "not mailed: it was not delivered"
        );
        // The Deliveries list shows it; only admins see it or send again.
        let list = mail::deliveries(store, &f.admin, &f.primary, true)
            .await
            .unwrap();
        assert!(list.deliveries[0].can_resend);
        let viewer = user(&db.store, "vic@example.com").await;
        join(store, &f.account_id, &viewer, Role::Viewer).await;
        assert!(matches!(
            mail::deliveries(store, &viewer, &f.primary, true)
                .await
                .unwrap_err(),
            AppError::Forbidden { .. }
        ));
        mail::send_again(store, &f.admin, &f.primary, &message.message_id, now)
            .await
            .unwrap();
        *mailer.refuse.lock().unwrap() = false;
        assert_eq!(
            mail::deliver_due(store, &mailer, &Seller::demo(), now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store.invoices_of_group(&f.primary).await.unwrap()[0].state,
            InvoiceState::Mailed
        );
        // The Deliveries list keeps what the mail server answered.
        let list = mail::deliveries(store, &f.admin, &f.primary, true)
            .await
            .unwrap();
        let sent = list
            .deliveries
            .iter()
            .find(|d| d.message_id == message.message_id)
            .unwrap();
        assert_eq!(sent.state, DeliveryState::Sent);
        assert_eq!(
            sent.server_response.as_deref(),
            Some("250 2.0.0 Ok: queued")
        );
    }
);

on_both_backends!(
    senders_at_once_send_each_message_once_and_a_dead_sender_loses_nothing,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        // Twelve invitations to mail, besides the invoice.
        for i in 0..12 {
            members::invite(
                store,
                &f.admin,
                &f.account_id,
                &format!("p{i}@example.com"),
                "viewer",
                Some("https://billing.example.com"),
                t(2, 0),
            )
            .await
            .unwrap();
        }
        close(&db.store).await;
        let mailers: Vec<Arc<TestMailer>> =
            (0..3).map(|_| Arc::new(TestMailer::default())).collect();
        let now = after_october();
        let mut tasks = Vec::new();
        for mailer in &mailers {
            let (store, mailer) = (db.store.clone(), mailer.clone());
            tasks.push(tokio::spawn(async move {
                let mut total = 0;
                loop {
                    let n =
                        mail::deliver_due(store.as_ref(), mailer.as_ref(), &Seller::demo(), now)
                            .await
                            .unwrap();
                    if n == 0 {
                        break total;
                    }
                    total += n;
                }
            }));
        }
        let mut delivered = 0;
        for task in tasks {
            delivered += task.await.unwrap();
        }
        let mut ids: Vec<String> = mailers
            .iter()
            .flat_map(|m| m.sent())
            .map(|m| m.message_id)
            .collect();
        assert_eq!(delivered, 13);
        assert_eq!(ids.len(), 13);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 13, "no message sent twice");

        // A sender dies after claiming (before marking): once its lease
        // lapses another sends the message.
        members::invite(
            store,
            &f.admin,
            &f.account_id,
            "late@example.com",
            "viewer",
            Some("https://billing.example.com"),
            now,
        )
        .await
        .unwrap();
        let claimed = store
            .claim_messages(
                now,
                now + mail::CLAIM_LEASE,
                10,
                "dead-sender",
                billing_console::server::store::Channel::Mail,
            )
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let other = TestMailer::default();
        assert_eq!(
            mail::deliver_due(store, &other, &Seller::demo(), now + Duration::minutes(1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            mail::deliver_due(
                store,
                &other,
                &Seller::demo(),
                now + mail::CLAIM_LEASE + Duration::seconds(1)
            )
            .await
            .unwrap(),
            1
        );
        // The dead sender's late mark changes nothing.
        let delivered = billing_console::server::store::Delivered {
            response: "250".into(),
            invoice_mailed: None,
            erase_body: true,
        };
        assert!(!store
            .message_delivered(&claimed[0], now, &delivered)
            .await
            .unwrap());
    }
);

on_both_backends!(
    an_invitation_is_mailed_and_its_link_leaves_the_outbox,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let invited = members::invite(
            store,
            &f.admin,
            &f.account_id,
            "bea@example.com",
            "billing",
            Some("https://billing.example.com"),
            t(2, 0),
        )
        .await
        .unwrap();
        let messages = store
            .account_messages(&f.account_id, MessageKind::Invitation, 10)
            .await
            .unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].kind, MessageKind::Invitation);
        let link = format!(
            "https://billing.example.com/invitation?token={}",
            invited.token
        );
        assert!(messages[0].body.as_deref().unwrap().contains(&link));
        // Without mail set up, no message: the link is shown instead.
        members::invite(
            store,
            &f.admin,
            &f.account_id,
            "cid@example.com",
            "viewer",
            None,
            t(2, 0),
        )
        .await
        .unwrap();
        assert_eq!(
            store
                .account_messages(&f.account_id, MessageKind::Invitation, 10)
                .await
                .unwrap()
                .len(),
            1
        );

        let mailer = TestMailer::default();
        mail::deliver_due(store, &mailer, &Seller::demo(), t(2, 1))
            .await
            .unwrap();
        assert!(mailer.sent()[0].body.contains(&link));
        let sent = store
            .message(&messages[0].message_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sent.state, DeliveryState::Sent);
        assert_eq!(sent.body, None, "the token is not kept once delivered");
        // The Members tab says it went.
        let page = members::members_page(store, &f.admin, &f.account_id, true, t(2, 1))
            .await
            .unwrap();
        let bea = page
            .invitations
            .iter()
            .find(|i| i.email == "bea@example.com")
            .unwrap();
        assert_eq!(bea.mail.as_ref().map(|m| m.0), Some(DeliveryState::Sent));
    }
);

on_both_backends!(
    a_budget_threshold_alerts_once_on_the_month_so_far_and_on_the_forecast,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        // Bad budgets: named fields, nothing written.
        for (amount, thresholds, bad) in [
            ("0", "", "amount"),
            ("-5", "", "amount"),
            ("abc", "", "amount"),
            ("100.001", "", "amount"),
            ("100", "90, 50", "thresholds"),
        ] {
            let error =
                budgets::set_budget(store, &f.admin, &f.primary, amount, thresholds, t(1, 0))
                    .await
                    .unwrap_err();
            assert!(
                error.field_message(bad).is_some(),
                "{amount} {thresholds}: {error:?}"
            );
        }
        assert!(store.budget(&f.primary).await.unwrap().is_none());
        let viewer = user(&db.store, "vic@example.com").await;
        join(store, &f.account_id, &viewer, Role::Viewer).await;
        assert!(matches!(
            budgets::set_budget(store, &viewer, &f.primary, "100", "", t(1, 0))
                .await
                .unwrap_err(),
            AppError::Forbidden { .. }
        ));

        // 2 USD/h at 0.9 = 1.80 EUR per started hour; budget 100 EUR.
        budgets::set_budget(store, &f.admin, &f.primary, "100", "", t(1, 0))
            .await
            .unwrap();
        // At 10:30 on the 1st: 11 hours = 19.80 EUR (19.8 %); the forecast
        // to the month's end far exceeds the budget.
        let morning = t(1, 10) + Duration::minutes(30);
        let status = budgets::budget_of_group(store, &f.admin, &f.primary, morning)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.actual.unwrap().amount, d("19.80"));
        assert!(status.forecast.unwrap().amount > d("100"));
        let (first, second) = tokio::join!(
            budgets::evaluate(store, morning, TEST_LINKS),
            budgets::evaluate(store, morning, TEST_LINKS)
        );
        assert_eq!(
            first.unwrap() + second.unwrap(),
            3,
            "forecast 50, 90 and 100 %, once"
        );
        // One mail for the evaluation, naming every threshold, the month
        // and the group, with a link to the group.
        let alerts = store.messages_of_group(&f.primary, 10).await.unwrap();
        assert_eq!(alerts.len(), 1, "one mail per evaluation");
        let alert = &alerts[0];
        assert_eq!(alert.recipients.0, vec!["finance@acme.example".to_string()]);
        assert!(alert.subject.contains("October 2026"), "{}", alert.subject);
        let body = alert.body.clone().unwrap_or_default();
        for threshold in ["50 % forecast", "90 % forecast", "100 % forecast"] {
            assert!(body.contains(threshold), "{threshold}: {body}");
        }
        assert!(
            body.contains(&format!("{TEST_LINKS}/billing-group/{}", f.primary)),
            "{body}"
        );
        assert_eq!(
            store
                .events_of_group(&f.primary, 10)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.event_type == "budget_threshold_reached")
                .count(),
            3,
            "an event per threshold"
        );
        // The 3rd at 0:00: 49 hours = 88.20 EUR: the actual 50 % alerts.
        let later = t(3, 1);
        assert_eq!(
            budgets::evaluate(store, later, TEST_LINKS).await.unwrap(),
            1
        );
        assert_eq!(
            budgets::evaluate(store, later, TEST_LINKS).await.unwrap(),
            0
        );
        let status = budgets::budget_of_group(store, &f.admin, &f.primary, later)
            .await
            .unwrap()
            .unwrap();
        assert!(status.alerted.contains(&(BudgetMeasure::Actual, 50)));
        let events = store.events_of_group(&f.primary, 1).await.unwrap();
        assert_eq!(events[0].event_type, "budget_threshold_reached");
        assert!(
            events[0].event_desc.contains("reached 50 %"),
            "{}",
            events[0].event_desc
        );
    }
);
