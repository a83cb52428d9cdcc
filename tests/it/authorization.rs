//! The role matrix: every server function × role (admin, developer,
//! billing, viewer)
//! × own or foreign account, through HTTP as the browser calls them. A
//! foreign ID answers "not found"; a role below the need answers
//! "forbidden"; signed out answers "sign in".

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use billing_console::server::demo;
use tower::ServiceExt;

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25")
                    .replace('&', "%26")
                    .replace(' ', "+")
                    .replace('@', "%40")
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn call(app: &Router, cookie: Option<&str>, endpoint: &str, body: String) -> (u16, String) {
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).to_string())
}

async fn sign_in(app: &Router, email: &str) -> String {
    crate::common::signed_in_cookie(app, email).await
}

/// What a caller should get back.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Outcome {
    Allowed,
    Forbidden,
    NotFound,
    SignIn,
}

/// The outcome, checking that its HTTP status says the same (a caller's
/// mistake is a 4xx, never a 500).
fn outcome(status: u16, body: &str) -> Outcome {
    if body.contains(r#""kind":"forbidden""#) {
        assert_eq!(status, 403, "{body}");
        Outcome::Forbidden
    } else if body.contains(r#""kind":"not_found""#) {
        assert_eq!(status, 404, "{body}");
        Outcome::NotFound
    } else if body.contains(r#""kind":"unauthenticated""#) {
        assert_eq!(status, 401, "{body}");
        Outcome::SignIn
    } else {
        assert!(
            !body.contains(r#""kind":"internal""#),
            "server error {status}: {body}"
        );
        assert!(
            status < 500 || body.contains(r#""kind":"#),
            "unexpected failure {status}: {body}"
        );
        Outcome::Allowed
    }
}

on_both_backends!(every_server_function_checks_the_role_on_the_account, |db| {
    let app = crate::common::app(db, "").await;
    let demo_user = db
        .store
        .user_by_email(demo::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let accounts = db.store.accounts_of_user(&demo_user.user_id).await.unwrap();
    let acme = accounts
        .iter()
        .find(|a| a.account_name == "Acme Analytics")
        .unwrap()
        .account_id
        .clone();
    let globex = accounts
        .iter()
        .find(|a| a.account_name == "Globex Logistics")
        .unwrap()
        .account_id
        .clone();
    let acme_groups = db.store.billing_groups_of_account(&acme).await.unwrap();
    let acme_group = acme_groups
        .iter()
        .find(|g| g.billing_group_name == "Research & Development")
        .unwrap()
        .billing_group_id
        .clone();
    let acme_other = acme_groups
        .iter()
        .find(|g| g.billing_group_name != "Research & Development")
        .unwrap()
        .billing_group_id
        .clone();
    let globex_group = db.store.billing_groups_of_account(&globex).await.unwrap()[0]
        .billing_group_id
        .clone();
    let globex_second = {
        let new = billing_console::server::store::NewBillingGroup {
            billing_group_id: "globex-second".into(),
            account_id: globex.clone(),
            billing_group_name: "Second".into(),
            billing_currency: billing_console::model::money::Currency::GBP,
        };
        let now = chrono::Utc::now();
        let created = billing_console::server::billing::groups::created_event(&new, "t", now);
        db.store
            .create_billing_group(&new, &created, now)
            .await
            .unwrap()
            .billing_group_id
    };

    let acme_invoice = db.store.invoices_of_group(&acme_group).await.unwrap()[0]
        .invoice_number
        .clone();
    // The first credit note of the group, written by the credit_invoice case.
    let acme_credit_note =
        billing_console::server::billing::credit_notes::credit_note_number(&acme_group, 1);
    let globex_invoice = db.store.invoices_of_group(&globex_group).await.unwrap()[0]
        .invoice_number
        .clone();

    // People: a member to remove and an invitation to revoke on Acme, and
    // a member of Globex for the foreign calls.
    let now = chrono::Utc::now();
    let acme_admin = db
        .store
        .user_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap()
        .current();
    let extra = crate::common::user(&db.store, "extra@example.com").await;
    crate::common::join(
        db.store.as_ref(),
        &acme,
        &extra,
        billing_console::model::Role::Viewer,
    )
    .await;
    let acme_invitation = billing_console::server::billing::members::invite(
        db.store.as_ref(),
        &acme_admin,
        &acme,
        "invitee@example.com",
        "viewer",
        None,
        now,
    )
    .await
    .unwrap()
    .invitation
    .invitation_id;
    let globex_invitation = billing_console::server::billing::members::invite(
        db.store.as_ref(),
        &demo_user.current(),
        &globex,
        "invitee@example.com",
        "viewer",
        None,
        now,
    )
    .await
    .unwrap()
    .invitation
    .invitation_id;

    // (endpoint, needed role, form for the own account, form for the foreign one)
    type Case = (
        &'static str,
        &'static str,
        Vec<(&'static str, String)>,
        Vec<(&'static str, String)>,
    );
    let cases: Vec<Case> = vec![
        (
            "account_billing",
            "viewer",
            vec![("account_id", acme.to_string())],
            vec![("account_id", globex.to_string())],
        ),
        (
            "account_invoices",
            "viewer",
            vec![("account_id", acme.to_string())],
            vec![("account_id", globex.to_string())],
        ),
        (
            "group_header",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "group_overview",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "group_projects",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "group_billing_info",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "group_events",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "project_details",
            "viewer",
            vec![("project_name", "acme-prod".into())],
            vec![("project_name", "globex-fleet".into())],
        ),
        (
            "create_billing_group_guided",
            "billing",
            vec![
                ("account_id", acme.to_string()),
                ("billing_group_name", "New".into()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("billing_group_name", "New".into()),
            ],
        ),
        (
            "new_group_page",
            "billing",
            vec![("account_id", acme.to_string()), ("step", "4".into())],
            vec![("account_id", globex.to_string()), ("step", "4".into())],
        ),
        (
            "rename_billing_group",
            "billing",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("billing_group_name", "Research & Development".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("billing_group_name", "X".into()),
            ],
        ),
        (
            "delete_billing_group",
            "billing",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "move_project",
            "billing",
            vec![
                ("project_name", "acme-sandbox".into()),
                ("billing_group_id", acme_other.to_string()),
            ],
            vec![
                ("project_name", "globex-web".into()),
                ("billing_group_id", globex_second.to_string()),
            ],
        ),
        (
            "assign_projects",
            "billing",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("projects_names[]", "acme-sandbox".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("projects_names[]", "globex-web".into()),
            ],
        ),
        (
            "save_billing_info",
            "billing",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("payment_method", "no_payment_expected".into()),
                ("billing_currency", "USD".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("payment_method", "no_payment_expected".into()),
                ("billing_currency", "USD".into()),
            ],
        ),
        (
            "create_project",
            "billing",
            vec![
                ("account_id", acme.to_string()),
                ("project_name", "made-by-matrix".into()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("project_name", "made-by-stranger".into()),
            ],
        ),
        (
            "group_invoices",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "invoice_issuing_paused",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "invoice",
            "viewer",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("invoice_number", acme_invoice.clone()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("invoice_number", globex_invoice.clone()),
            ],
        ),
        (
            "set_invoice_state",
            "admin",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("invoice_number", acme_invoice.clone()),
                ("state", "uncollectible".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("invoice_number", globex_invoice.clone()),
                ("state", "uncollectible".into()),
            ],
        ),
        (
            "credit_invoice",
            "admin",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("invoice_number", acme_invoice.clone()),
                ("reason", "Checked by role".into()),
                ("scope", "lines".into()),
                ("line_numbers[]", "1".into()),
                ("amounts[]", "0.01".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("invoice_number", globex_invoice.clone()),
                ("reason", "Taken over".into()),
                ("scope", "full".into()),
            ],
        ),
        (
            "group_credit_notes",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "credit_note",
            "viewer",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("credit_note_number", acme_credit_note.clone()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("credit_note_number", acme_credit_note.clone()),
            ],
        ),
        (
            "void_invoice",
            "admin",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("invoice_number", acme_invoice.clone()),
                ("reason", "Checked by role".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("invoice_number", globex_invoice.clone()),
                ("reason", "Taken over".into()),
            ],
        ),
        (
            "power_service",
            "developer",
            vec![
                ("project_name", "acme-prod".into()),
                ("service_name", "redis-cache".into()),
                ("power", "off".into()),
            ],
            vec![
                ("project_name", "globex-fleet".into()),
                ("service_name", "pg-fleet".into()),
                ("power", "off".into()),
            ],
        ),
        (
            "group_credits",
            "viewer",
            vec![("billing_group_id", acme_group.to_string())],
            vec![("billing_group_id", globex_group.to_string())],
        ),
        (
            "claim_credit",
            "billing",
            vec![
                ("billing_group_id", acme_group.to_string()),
                ("code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ".into()),
            ],
            vec![
                ("billing_group_id", globex_group.to_string()),
                ("code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ".into()),
            ],
        ),
        (
            "create_service",
            "developer",
            vec![
                ("project_name", "acme-prod".into()),
                ("service_name", "matrix-pg".into()),
                ("plan", "pg:startup-4".into()),
                ("cloud", "google-europe-north1".into()),
            ],
            vec![
                ("project_name", "globex-fleet".into()),
                ("service_name", "stranger-pg".into()),
                ("plan", "pg:startup-4".into()),
                ("cloud", "google-europe-north1".into()),
            ],
        ),
        (
            "change_service_plan",
            "developer",
            vec![
                ("project_name", "acme-prod".into()),
                ("service_name", "pg-orders".into()),
                ("plan", "business-4".into()),
            ],
            vec![
                ("project_name", "globex-fleet".into()),
                ("service_name", "pg-fleet".into()),
                ("plan", "startup-4".into()),
            ],
        ),
        (
            "terminate_service",
            "developer",
            vec![
                ("project_name", "acme-prod".into()),
                ("service_name", "pg-orders".into()),
                ("confirm_name", "not-the-name".into()),
            ],
            vec![
                ("project_name", "globex-fleet".into()),
                ("service_name", "pg-fleet".into()),
                ("confirm_name", "pg-fleet".into()),
            ],
        ),
        (
            "account_members",
            "viewer",
            vec![("account_id", acme.to_string())],
            vec![("account_id", globex.to_string())],
        ),
        (
            "account_events",
            "viewer",
            vec![("account_id", acme.to_string())],
            vec![("account_id", globex.to_string())],
        ),
        (
            "invite_member",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("email", "new-person@example.com".into()),
                ("role", "billing".into()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("email", "new-person@example.com".into()),
                ("role", "billing".into()),
            ],
        ),
        (
            "revoke_invitation",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("invitation_id", acme_invitation.clone()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("invitation_id", globex_invitation.clone()),
            ],
        ),
        (
            "change_member_role",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("user_id", extra.user_id.to_string()),
                ("role", "billing".into()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("user_id", demo_user.user_id.to_string()),
                ("role", "viewer".into()),
            ],
        ),
        (
            "remove_member",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("user_id", extra.user_id.to_string()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("user_id", demo_user.user_id.to_string()),
            ],
        ),
        (
            "rename_account",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("account_name", "Acme Analytics Oy".into()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("account_name", "Taken over".into()),
            ],
        ),
        (
            "set_primary_billing_group",
            "admin",
            vec![
                ("account_id", acme.to_string()),
                ("billing_group_id", acme_other.to_string()),
            ],
            vec![
                ("account_id", globex.to_string()),
                ("billing_group_id", globex_group.to_string()),
            ],
        ),
    ];
    // What each role may do (model::Role::allows, and the Members page's
    // table): everyone what a viewer may, admin everything, billing and
    // developer their own part and not the other's.
    let allowed =
        |role: &str, needed: &str| role == needed || role == "admin" || needed == "viewer";
    let members = [
        ("admin@example.com", "admin"),
        ("developer@example.com", "developer"),
        ("billing@example.com", "billing"),
        ("viewer@example.com", "viewer"),
    ];
    let mut cookies = Vec::new();
    for (email, role) in members {
        cookies.push((sign_in(&app, email).await, role));
    }
    for (endpoint, needed, own, foreign) in &cases {
        let own_body = form(
            &own.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let foreign_body = form(
            &foreign
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        for (cookie, role) in &cookies {
            let expected = if allowed(role, needed) {
                Outcome::Allowed
            } else {
                Outcome::Forbidden
            };
            let (status, body) = call(&app, Some(cookie), endpoint, own_body.clone()).await;
            assert_eq!(
                outcome(status, &body),
                expected,
                "{role} on own account, {endpoint}: {status} {body}"
            );
            let (status, body) = call(&app, Some(cookie), endpoint, foreign_body.clone()).await;
            assert_eq!(
                outcome(status, &body),
                Outcome::NotFound,
                "{role} on foreign account, {endpoint}: {status} {body}"
            );
        }
        let (status, body) = call(&app, None, endpoint, own_body).await;
        assert_eq!(
            outcome(status, &body),
            Outcome::SignIn,
            "signed out, {endpoint}: {status} {body}"
        );
    }
    // Nothing of the foreign account changed.
    let fleet = db.store.services_of_project("globex-fleet").await.unwrap();
    assert!(fleet.iter().all(|s| s.state
        != billing_console::model::states::ServiceState::Terminated
        && s.service_name != "stranger-pg"));
    assert_eq!(
        fleet
            .iter()
            .find(|s| s.service_name == "pg-fleet")
            .unwrap()
            .plan,
        "premium-8"
    );
    let globex_members = db.store.members(&globex).await.unwrap();
    assert!(globex_members
        .iter()
        .any(|m| m.user_id == demo_user.user_id && m.role == billing_console::model::Role::Admin));
    assert_eq!(
        db.store
            .account(&globex)
            .await
            .unwrap()
            .unwrap()
            .account_name,
        "Globex Logistics"
    );
    assert!(db.store.open_invitations(&globex).await.unwrap().len() == 1);
    assert!(db
        .store
        .project("made-by-stranger")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.store
            .project("globex-web")
            .await
            .unwrap()
            .unwrap()
            .billing_group_id,
        globex_group
    );
});

// Token server functions act on the caller's own tokens only: another
// user's token is "not found", and signed out is "sign in".
on_both_backends!(api_tokens_belong_to_their_user, |db| {
    let app = crate::common::app(db, "").await;
    let admin = sign_in(&app, "admin@example.com").await;
    let viewer = sign_in(&app, "viewer@example.com").await;
    let (status, body) = call(
        &app,
        Some(&admin),
        "create_api_token",
        form(&[("description", "deploy script")]),
    )
    .await;
    assert_eq!(outcome(status, &body), Outcome::Allowed, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let prefix = created["info"]["token_prefix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.starts_with(&prefix) && token.len() == 64);

    let (_, listed) = call(&app, Some(&viewer), "api_tokens", String::new()).await;
    assert!(
        !listed.contains(&prefix),
        "a token shows in another user's list"
    );
    let (status, body) = call(
        &app,
        Some(&viewer),
        "revoke_api_token",
        form(&[("token_prefix", &prefix)]),
    )
    .await;
    assert_eq!(outcome(status, &body), Outcome::NotFound, "{body}");
    for endpoint in ["api_tokens", "create_api_token", "revoke_api_token"] {
        let (status, body) = call(
            &app,
            None,
            endpoint,
            form(&[("description", "x"), ("token_prefix", &prefix)]),
        )
        .await;
        assert_eq!(
            outcome(status, &body),
            Outcome::SignIn,
            "signed out, {endpoint}: {body}"
        );
    }
    let (status, body) = call(
        &app,
        Some(&admin),
        "create_api_token",
        form(&[("description", " ")]),
    )
    .await;
    assert!(
        status >= 400 && body.contains("description"),
        "{status} {body}"
    );

    // The list never holds the token itself; the hash is what is stored.
    let (_, listed) = call(&app, Some(&admin), "api_tokens", String::new()).await;
    assert!(
        listed.contains("deploy script") && !listed.contains(&token),
        "{listed}"
    );
    let (status, body) = call(
        &app,
        Some(&admin),
        "revoke_api_token",
        form(&[("token_prefix", &prefix)]),
    )
    .await;
    assert_eq!(outcome(status, &body), Outcome::Allowed, "{body}");
    let (_, listed) = call(&app, Some(&admin), "api_tokens", String::new()).await;
    assert!(!listed.contains(&prefix), "{listed}");
});
