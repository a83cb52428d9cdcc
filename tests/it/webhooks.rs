//! Webhooks (issue 30), on both backends, against a real HTTP receiver on
//! loopback: endpoints only admins add, with a URL that must not reach the
//! server's own network; deliveries written with their cause (an invoice
//! issued or paid, a member joining or removed, a budget threshold, an
//! overdue invoice) for the endpoints subscribed; signed as Standard
//! Webhooks says; retried after the receiver was down, each try kept.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, Mac};

use crate::common::{after_october, d, join, running_service, t, user, Fixture};
use billing_console::error::AppError;
use billing_console::model::money::Currency;
use billing_console::model::states::{DeliveryState, InvoiceState, MessageKind};
use billing_console::model::Role;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::webhooks::{self, WebhookTransport};
use billing_console::server::billing::{invoices, members};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, Store};
use billing_console::server::webhook_sender::HttpTransport;
use chrono::Duration;

/// What the receiver was sent: headers and body of each POST.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// An HTTP receiver on loopback that keeps each POST and answers 503 while
/// `down` is set (the endpoint is down), 204 otherwise.
async fn receiver() -> (String, Received, Arc<Mutex<bool>>) {
    let received: Received = Arc::default();
    let down = Arc::new(Mutex::new(false));
    let (kept, is_down) = (received.clone(), down.clone());
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (kept, is_down) = (kept.clone(), is_down.clone());
            async move {
                kept.lock().unwrap().push((headers, body));
                if *is_down.lock().unwrap() {
                    (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
                } else {
                    (StatusCode::NO_CONTENT, "")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received, down)
}

/// Checks a delivery's signature the way a receiver would, from the spec:
/// HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's key.
fn signed_by(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{body}",
            header("webhook-id"),
            header("webhook-timestamp")
        )
        .as_bytes(),
    );
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    header("webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

async fn fixture(store: &DynStore) -> Fixture {
    let f = Fixture::acme(store, "EUR", "Card", t(1, 0)).await;
    f.project(store, "p1", Some(&f.primary), "", t(1, 0)).await;
    running_service(store, "svc-p1", "p1", "2", t(1, 0)).await;
    store
        .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), d("0.9"))
        .await
        .unwrap();
    f
}

async fn add(
    store: &dyn Store,
    f: &Fixture,
    url: &str,
    events: &[&str],
) -> Result<billing_console::model::webhooks::CreatedWebhook, AppError> {
    let events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    webhooks::create(
        store,
        &HttpTransport::new(true),
        &f.admin,
        &f.account_id,
        url,
        &events,
        "ERP",
        t(2, 0),
    )
    .await
}

on_both_backends!(
    signed_webhooks_reach_the_endpoint_and_are_retried_after_it_was_down,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let (url, received, down) = receiver().await;
        let created = add(store, &f, &url, &["invoice.issued", "invoice.paid"])
            .await
            .unwrap();
        assert!(created.secret.starts_with("whsec_"));

        // The month close writes invoice.issued with the invoice.
        close_month(
            store,
            &Seller::demo(),
            crate::common::TEST_LINKS,
            t(1, 0),
            after_october(),
            "system",
        )
        .await
        .unwrap();
        let invoice = store.invoices_of_group(&f.primary).await.unwrap()[0].clone();
        let issued = store.invoices_of_group(&f.second).await.unwrap().len() + 1;
        let page = webhooks::page(store, &f.admin, &f.account_id)
            .await
            .unwrap();
        assert_eq!(page.deliveries.len(), issued, "one per invoice issued");
        assert!(page
            .deliveries
            .iter()
            .all(|d| d.event == "invoice.issued" && d.state == DeliveryState::Queued));

        // The endpoint is down: each try fails and waits 10 s.
        *down.lock().unwrap() = true;
        let transport = HttpTransport::new(true);
        let now = after_october();
        assert_eq!(
            webhooks::deliver_due(store, &transport, now).await.unwrap(),
            0
        );
        for delivery in webhooks::page(store, &f.admin, &f.account_id)
            .await
            .unwrap()
            .deliveries
        {
            assert_eq!(delivery.state, DeliveryState::Queued);
            assert_eq!(delivery.next_attempt_time, now + Duration::seconds(10));
            assert_eq!(delivery.attempts.len(), 1);
            assert!(!delivery.attempts[0].succeeded);
            assert!(
                delivery.attempts[0].detail.contains("HTTP 503"),
                "{}",
                delivery.attempts[0].detail
            );
        }
        // Not before its time.
        assert_eq!(
            webhooks::deliver_due(store, &transport, now + Duration::seconds(5))
                .await
                .unwrap(),
            0
        );

        // Back up: the retries are delivered, signed, with the same ids.
        *down.lock().unwrap() = false;
        let later = now + Duration::seconds(11);
        assert_eq!(
            webhooks::deliver_due(store, &transport, later)
                .await
                .unwrap(),
            issued
        );
        let posts = received.lock().unwrap().clone();
        assert_eq!(
            posts.len(),
            2 * issued,
            "a failed try and a delivered one each"
        );
        let payload_of = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
        let (headers, body) = posts[issued..]
            .iter()
            .find(|(_, body)| {
                payload_of(body)["data"]["invoice_number"] == invoice.invoice_number.as_str()
            })
            .expect("the primary group's invoice");
        assert!(signed_by(&created.secret, headers, body), "{headers:?}");
        assert!(!signed_by(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            headers,
            body
        ));
        assert!(posts[..issued]
            .iter()
            .any(|(first, _)| first["webhook-id"] == headers["webhook-id"]));
        assert_eq!(
            headers["webhook-timestamp"],
            later.timestamp().to_string().as_str()
        );
        assert_eq!(headers["content-type"], "application/json");
        let payload = payload_of(body);
        assert_eq!(payload["type"], "invoice.issued");
        assert_eq!(
            payload["data"]["total_inc_vat"],
            invoice.currency.plain(invoice.total_inc_vat.0).as_str()
        );
        for delivery in webhooks::page(store, &f.admin, &f.account_id)
            .await
            .unwrap()
            .deliveries
        {
            assert_eq!(delivery.state, DeliveryState::Sent);
            assert_eq!(delivery.attempts.len(), 2);
            assert!(delivery.attempts[1].succeeded);
            assert_eq!(delivery.attempts[1].detail, "HTTP 204");
        }

        // Paid: invoice.paid, written with the state change.
        let paid_at = later + Duration::days(1);
        invoices::set_invoice_state(
            store,
            &f.admin,
            &f.primary,
            &invoice.invoice_number,
            "paid",
            paid_at,
        )
        .await
        .unwrap();
        assert_eq!(
            webhooks::deliver_due(store, &transport, paid_at)
                .await
                .unwrap(),
            1
        );
        let posts = received.lock().unwrap().clone();
        let payload: serde_json::Value = serde_json::from_str(&posts.last().unwrap().1).unwrap();
        assert_eq!(payload["type"], "invoice.paid");
        assert_eq!(payload["data"]["state"], "paid");
        assert_eq!(
            payload["data"]["paid_date"],
            paid_at.date_naive().to_string().as_str()
        );

        // "Send again" queues a delivered one; its tries stay listed.
        let first = webhooks::page(store, &f.admin, &f.account_id)
            .await
            .unwrap()
            .deliveries
            .into_iter()
            .find(|d| d.event == "invoice.issued")
            .unwrap();
        assert!(first.can_resend);
        webhooks::send_again(store, &f.admin, &f.account_id, &first.message_id, paid_at)
            .await
            .unwrap();
        assert_eq!(
            webhooks::deliver_due(store, &transport, paid_at)
                .await
                .unwrap(),
            1
        );
        let again = webhooks::page(store, &f.admin, &f.account_id)
            .await
            .unwrap()
            .deliveries
            .into_iter()
            .find(|d| d.message_id == first.message_id)
            .unwrap();
        assert_eq!(again.attempts.len(), 3);
        // Mail does not claim webhook deliveries, nor the reverse.
        assert!(store
            .messages_of_group(&f.primary, 50)
            .await
            .unwrap()
            .iter()
            .all(|m| m.kind != MessageKind::Webhook));
    }
);

on_both_backends!(
    members_joining_and_removed_notify_only_the_endpoints_subscribed,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let (url, received, _) = receiver().await;
        add(store, &f, &url, &["member.added", "member.removed"])
            .await
            .unwrap();
        add(store, &f, &format!("{url}?other"), &["invoice.paid"])
            .await
            .unwrap();
        let invited = members::invite(
            store,
            &f.admin,
            &f.account_id,
            "newcomer@acme.example",
            "billing",
            None,
            t(3, 0),
        )
        .await
        .unwrap();
        members::accept_as_new_user(
            store,
            &invited.token,
            "New Comer",
            "a long pass phrase 42",
            t(3, 1),
        )
        .await
        .unwrap();
        let newcomer = store
            .user_by_email("newcomer@acme.example")
            .await
            .unwrap()
            .unwrap();
        members::remove_member(store, &f.admin, &f.account_id, &newcomer.user_id, t(3, 2))
            .await
            .unwrap();
        let transport = HttpTransport::new(true);
        assert_eq!(
            webhooks::deliver_due(store, &transport, t(3, 3))
                .await
                .unwrap(),
            2
        );
        let types: Vec<(String, String, String)> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| {
                let payload: serde_json::Value = serde_json::from_str(body).unwrap();
                (
                    payload["type"].as_str().unwrap().to_string(),
                    payload["data"]["email"].as_str().unwrap().to_string(),
                    payload["data"]["role"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected = |t: &str| {
            (
                t.to_string(),
                "newcomer@acme.example".to_string(),
                "billing".to_string(),
            )
        };
        assert!(types.contains(&expected("member.added")), "{types:?}");
        assert!(types.contains(&expected("member.removed")), "{types:?}");
    }
);

on_both_backends!(
    an_endpoint_is_refused_on_a_private_address_a_bad_url_or_no_events,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let strict = HttpTransport::new(false);
        for url in [
            "http://127.0.0.1:9/hooks",
            "http://localhost/hooks",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hooks",
            "https://10.0.0.8/hooks",
        ] {
            let refused = webhooks::create(
                store,
                &strict,
                &f.admin,
                &f.account_id,
                url,
                &["invoice.issued".into()],
                "",
                t(2, 0),
            )
            .await
            .unwrap_err();
            let AppError::Invalid { errors } = refused else {
                panic!("{url}: {refused:?}")
            };
            assert_eq!(errors[0].field, "url", "{url}");
            assert!(
                errors[0].message.contains("public"),
                "{url}: {}",
                errors[0].message
            );
        }
        let bad = webhooks::create(
            store,
            &strict,
            &f.admin,
            &f.account_id,
            "erp.example.com/hooks",
            &[],
            "",
            t(2, 0),
        )
        .await
        .unwrap_err();
        let AppError::Invalid { errors } = bad else {
            panic!("{bad:?}")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, vec!["url".to_string(), "events".to_string()]);
        assert!(store
            .webhooks_of_account(&f.account_id)
            .await
            .unwrap()
            .is_empty());
        // The check happens again at send time (DNS can change).
        assert!(strict
            .check_destination(&url::Url::parse("http://127.0.0.1/").unwrap())
            .await
            .is_err());
    }
);

on_both_backends!(
    only_admins_manage_webhooks_and_other_accounts_see_none,
    |db| {
        let f = fixture(&db.store).await;
        let store = db.store.as_ref();
        let (url, ..) = receiver().await;
        let created = add(store, &f, &url, &["invoice.paid"]).await.unwrap();
        let billing = user(&db.store, "billing@acme.example").await;
        join(store, &f.account_id, &billing, Role::Billing).await;
        let stranger = user(&db.store, "stranger@elsewhere.example").await;
        for (who, expected_forbidden) in [(&billing, true), (&stranger, false)] {
            let listed = webhooks::endpoints(store, who, &f.account_id)
                .await
                .unwrap_err();
            let removed = webhooks::remove(
                store,
                who,
                &f.account_id,
                &created.webhook.webhook_id,
                t(3, 0),
            )
            .await
            .unwrap_err();
            for error in [listed, removed] {
                if expected_forbidden {
                    assert!(matches!(error, AppError::Forbidden { .. }), "{error:?}");
                } else {
                    assert!(matches!(error, AppError::NotFound { .. }), "{error:?}");
                }
            }
        }
        // Removed: gone from the list, its queued deliveries dropped.
        webhooks::remove(
            store,
            &f.admin,
            &f.account_id,
            &created.webhook.webhook_id,
            t(3, 0),
        )
        .await
        .unwrap();
        assert!(webhooks::endpoints(store, &f.admin, &f.account_id)
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            webhooks::remove(
                store,
                &f.admin,
                &f.account_id,
                &created.webhook.webhook_id,
                t(3, 1)
            )
            .await,
            Err(AppError::NotFound { .. })
        ));
    }
);

on_both_backends!(an_unpaid_invoice_past_its_due_date_notifies_once, |db| {
    let f = fixture(&db.store).await;
    let store = db.store.as_ref();
    let (url, ..) = receiver().await;
    add(store, &f, &url, &["invoice.overdue"]).await.unwrap();
    close_month(
        store,
        &Seller::demo(),
        crate::common::TEST_LINKS,
        t(1, 0),
        after_october(),
        "system",
    )
    .await
    .unwrap();
    let invoice = store.invoices_of_group(&f.primary).await.unwrap()[0].clone();
    assert_ne!(invoice.state, InvoiceState::Paid);
    let on_due_date = invoice.due_date.and_hms_opt(12, 0, 0).unwrap().and_utc();
    assert_eq!(
        webhooks::notice_overdue(store, on_due_date).await.unwrap(),
        0
    );
    let next_day = on_due_date + Duration::days(1);
    // Two instances at once: one notice.
    let (a, b) = tokio::join!(
        webhooks::notice_overdue(store, next_day),
        webhooks::notice_overdue(store, next_day)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        webhooks::notice_overdue(store, next_day + Duration::days(3))
            .await
            .unwrap(),
        0
    );
    let page = webhooks::page(store, &f.admin, &f.account_id)
        .await
        .unwrap();
    let overdue: Vec<_> = page
        .deliveries
        .iter()
        .filter(|d| d.event == "invoice.overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    let message = store
        .message(&overdue[0].message_id)
        .await
        .unwrap()
        .unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        payload["data"]["invoice_number"],
        invoice.invoice_number.as_str()
    );
    assert_eq!(payload["data"]["days_overdue"], 1);
});
