//! The REST API under /v1 (issue 6) in process, on both backends: tokens,
//! Aiven's shapes and error bodies, the billing-group lifecycle, bad input
//! that changes nothing, foreign IDs, the PDF behind the download cookie,
//! and the OpenAPI document agreeing with what the handlers answer.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use billing_console::server::demo;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    app: Router,
    token: Option<String>,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error shape every non-2xx carries, and its message.
    fn error_message(&self) -> String {
        let body = self.json();
        assert!(body.get("error").is_none(), "{body}");
        let errors = body["errors"].as_array().expect("errors list");
        assert!(!errors.is_empty(), "{body}");
        assert_eq!(errors[0]["status"], self.status.as_u16(), "{body}");
        body["message"].as_str().expect("message").to_string()
    }
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        match body {
            Some(value) => {
                self.raw(method, path, "application/json", &value.to_string())
                    .await
            }
            None => self.raw(method, path, "", "").await,
        }
    }

    /// Any body with any content type ("" sends neither).
    async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("aivenv1 {token}"));
        }
        if !content_type.is_empty() {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let mut request = request.body(Body::from(body.to_string())).unwrap();
        let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 20 << 20)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    fn with_token(&self, token: &str) -> Api {
        Api {
            app: self.app.clone(),
            token: Some(token.to_string()),
        }
    }
}

/// Signs in like `avn user login` and returns a client holding the token.
async fn login(app: Router, email: &str, password: &str) -> Api {
    let anonymous = Api { app, token: None };
    let answer = anonymous
        .post(
            "/v1/userauth",
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let token = answer.json()["token"].as_str().unwrap().to_string();
    anonymous.with_token(&token)
}

async fn demo_api(db: &crate::common::TestDb) -> Api {
    let app = crate::common::app(db, "").await;
    login(app, demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await
}

/// The Acme account's id and its primary group's id.
async fn acme(api: &Api) -> (String, String) {
    let accounts = api.get("/v1/account").await.json();
    let acme = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_name"] == "Acme Analytics")
        .unwrap()
        .clone();
    (
        acme["account_id"].as_str().unwrap().to_string(),
        acme["primary_billing_group_id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

on_both_backends!(tokens_authenticate_and_bad_ones_answer_401, |db| {
    let app = crate::common::app(db, "").await;
    let anonymous = Api {
        app: app.clone(),
        token: None,
    };
    let answer = anonymous.get("/v1/account").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.error_message().contains("aivenv1"));

    let wrong = anonymous
        .post(
            "/v1/userauth",
            json!({"email": demo::DEMO_EMAIL, "password": "nope"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_message(), "Wrong email or password.");

    let api = login(app.clone(), demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await;
    let accounts = api.get("/v1/account").await;
    assert_eq!(accounts.status, StatusCode::OK);
    assert_eq!(accounts.content_type, "application/json");
    let names: Vec<String> = accounts.json()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"Acme Analytics".to_string()), "{names:?}");
    for account in accounts.json()["accounts"].as_array().unwrap() {
        assert!(!account["account_id"].as_str().unwrap().starts_with("org"));
    }

    // A made-up token, and the token once revoked, are refused.
    let forged = api.with_token("0123456789abcdef0123456789abcdef");
    assert_eq!(
        forged.get("/v1/account").await.status,
        StatusCode::UNAUTHORIZED
    );
    let user = db
        .store
        .user_by_email(demo::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let token = api.token.clone().unwrap();
    assert!(db
        .store
        .revoke_api_token(&user.user_id, &token[..8], chrono::Utc::now())
        .await
        .unwrap());
    assert_eq!(
        api.get("/v1/account").await.status,
        StatusCode::UNAUTHORIZED
    );
});

on_both_backends!(a_billing_group_lives_its_whole_life_through_the_api, |db| {
    let api = demo_api(db).await;
    let (account_id, primary) = acme(&api).await;

    let created = api
        .post(
            "/v1/billing-group",
            json!({
                "billing_group_name": "  API group ",
                "account_id": account_id,
                "billing_currency": "SEK",
                "billing_emails": [{"email": "ap@acme.example"}],
                "company": "Acme AB",
                "address_lines": ["Storgatan 1"],
                "country_code": "SE",
                "city": "Stockholm",
                "zip_code": "111 22",
                "vat_id": "SE556677889901",
                "billing_extra_text": "PO 42",
            }),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let group = created.json()["billing_group"].clone();
    let id = group["billing_group_id"].as_str().unwrap().to_string();
    assert_eq!(group["billing_group_name"], "API group");
    assert_eq!(group["account_name"], "Acme Analytics");
    assert_eq!(group["billing_currency"], "SEK");
    assert_eq!(
        group["billing_emails"],
        json!([{"email": "ap@acme.example"}])
    );
    assert_eq!(group["country"], "Sweden");
    assert_eq!(group["estimated_balance_usd"], "0.00");
    assert_eq!(group["is_primary"], false);

    // Bad input: each field named, nothing changed.
    let bad = api
        .put(
            &format!("/v1/billing-group/{id}"),
            json!({"billing_group_name": "Renamed", "vat_id": "nonsense", "billing_currency": "XYZ"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"vat_id".to_string()) && fields.contains(&"billing_currency".to_string()),
        "{fields:?}"
    );
    let unchanged = api.get(&format!("/v1/billing-group/{id}")).await.json();
    assert_eq!(
        unchanged["billing_group"]["billing_group_name"],
        "API group"
    );
    for body in [
        json!({"billing_group_name": ""}),
        json!({"no_such_field": 1}),
        json!({"billing_emails": ["not-an-object"]}),
        json!({"card_id": "card-1"}),
    ] {
        let answer = api
            .put(&format!("/v1/billing-group/{id}"), body.clone())
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        answer.error_message();
    }
    let malformed = api
        .raw(
            Method::PUT,
            &format!("/v1/billing-group/{id}"),
            "application/json",
            "{\"billing_group_name\": ",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    malformed.error_message();

    let updated = api
        .put(
            &format!("/v1/billing-group/{id}"),
            json!({"billing_group_name": "API group 2", "city": "Malmö"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let updated = updated.json()["billing_group"].clone();
    assert_eq!(updated["billing_group_name"], "API group 2");
    assert_eq!(
        (updated["city"].as_str(), updated["company"].as_str()),
        (Some("Malmö"), Some("Acme AB"))
    );

    // Assign a project, see it in the group's projects and events.
    let assigned = api
        .post(
            &format!("/v1/billing-group/{id}/projects-assign"),
            json!({"projects_names": ["acme-sandbox"]}),
        )
        .await;
    assert_eq!(
        assigned.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&assigned.body)
    );
    let projects = api
        .get(&format!("/v1/billing-group/{id}/projects"))
        .await
        .json();
    assert_eq!(projects["projects"][0]["project_name"], "acme-sandbox");
    assert_eq!(projects["projects"][0]["billing_group_name"], "API group 2");
    let events = api
        .get(&format!("/v1/billing-group/{id}/events?limit=2"))
        .await
        .json();
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().any(|e| e["project_name"] == "acme-sandbox"),
        "{events:?}"
    );
    assert_eq!(
        api.get(&format!("/v1/billing-group/{id}/events?limit=0"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.get(&format!("/v1/billing-group/{id}/events?limit=x"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Delete: refused with projects (409), and for the primary group.
    let refused = api.delete(&format!("/v1/billing-group/{id}")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.error_message().contains("project"),
        "{}",
        refused.error_message()
    );
    assert_eq!(
        api.delete(&format!("/v1/billing-group/{primary}"))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let back = api
        .post(
            &format!("/v1/billing-group/{primary}/project-assign/acme-sandbox"),
            json!({}),
        )
        .await;
    assert_eq!(
        back.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&back.body)
    );
    let deleted = api.delete(&format!("/v1/billing-group/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let listed = api.get("/v1/billing-group").await.json();
    assert!(!listed["billing_groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["billing_group_id"] == id.as_str()));
    // Its events stay readable.
    assert_eq!(
        api.get(&format!("/v1/billing-group/{id}/events"))
            .await
            .status,
        StatusCode::OK
    );
});

on_both_backends!(
    foreign_and_unknown_ids_answer_404_and_roles_are_checked,
    |db| {
        let app = crate::common::app(db, "").await;
        let api = login(app.clone(), demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await;
        let (account_id, primary) = acme(&api).await;
        // Someone outside the account sees nothing of it.
        let stranger = crate::common::user(&db.store, "stranger@example.com").await;
        let token = billing_console::server::tokens::create(
            db.store.as_ref(),
            &stranger,
            "test",
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .token;
        let outsider = api.with_token(&token);
        for path in [
            format!("/v1/billing-group/{primary}"),
            format!("/v1/billing-group/{primary}/projects"),
            format!("/v1/billing-group/{primary}/events"),
            format!("/v1/billing-group/{primary}/credits"),
            format!("/v1/billing-group/{primary}/invoice"),
            format!("/v1/account/{account_id}/billing-group"),
            "/v1/billing-group/00000000-0000-0000-0000-000000000000".to_string(),
        ] {
            let answer = outsider.get(&path).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
            answer.error_message();
        }
        let answer = outsider
            .post(
                "/v1/project",
                json!({"project": "sneaky", "account_id": account_id, "cloud": null}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(outsider.get("/v1/project").await.json()["projects"]
            .as_array()
            .unwrap()
            .is_empty());

        // A viewer of the account reads but may not change.
        let viewer = login(app.clone(), "viewer@example.com", demo::DEMO_PASSWORD).await;
        assert_eq!(
            viewer
                .get(&format!("/v1/billing-group/{primary}"))
                .await
                .status,
            StatusCode::OK
        );
        let refused = viewer
            .put(
                &format!("/v1/billing-group/{primary}"),
                json!({"billing_group_name": "Mine now"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        refused.error_message();
        assert_eq!(
            api.get("/v1/no-such-thing").await.status,
            StatusCode::NOT_FOUND
        );
    }
);

on_both_backends!(
    projects_are_created_in_the_primary_group_or_the_one_named,
    |db| {
        let api = demo_api(db).await;
        let (account_id, primary) = acme(&api).await;
        let create = |name: &str, group: Option<&str>| {
            let body = json!({"project": name, "account_id": account_id, "cloud": null, "billing_group_id": group});
            let api = &api;
            async move { api.post("/v1/project", body).await }
        };
        let created = create("api-made", None).await;
        assert_eq!(
            created.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        let project = created.json()["project"].clone();
        assert_eq!(project["billing_group_id"], primary.as_str());
        for key in [
            "default_cloud",
            "billing_currency",
            "vat_id",
            "billing_extra_text",
            "billing_address",
            "country_code",
            "card_info",
            "estimated_balance",
            "available_credits",
        ] {
            assert!(project.get(key).is_some(), "{key} missing: {project}");
        }
        // A named group of the account takes it instead.
        let groups = api
            .get(&format!("/v1/account/{account_id}/billing-group"))
            .await
            .json();
        let other = groups["billing_groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["billing_group_id"] != primary.as_str())
            .unwrap()["billing_group_id"]
            .as_str()
            .unwrap()
            .to_string();
        let named = create("api-made-2", Some(&other)).await;
        assert_eq!(named.status, StatusCode::OK);
        assert_eq!(named.json()["project"]["billing_group_id"], other.as_str());
        let unknown = create("api-made-3", Some("00000000-0000-0000-0000-000000000000")).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert_eq!(unknown.json()["errors"][0]["field"], "billing_group_id");

        let again = create("api-made", None).await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{}",
            again.error_message()
        );
        let bad = create("Not A Name!", None).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let listed = api.get("/v1/project").await.json();
        assert!(listed["projects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["project_name"] == "api-made"));
        assert!(!listed["projects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["project_name"] == "api-made-3"));
    }
);

on_both_backends!(
    invoices_lines_and_the_pdf_behind_the_download_cookie,
    |db| {
        let api = demo_api(db).await;
        let (_, primary) = acme(&api).await;
        let list = api
            .get(&format!(
                "/v1/billing-group/{primary}/invoice?sort=total_inc_vat"
            ))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        let invoices = list.json()["invoices"].as_array().unwrap().clone();
        assert!(invoices
            .iter()
            .any(|i| i["state"] == "estimate" && i["download_cookie"].is_null()));
        let totals: Vec<f64> = invoices
            .iter()
            .map(|i| i["total_inc_vat"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");
        assert_eq!(
            api.get(&format!("/v1/billing-group/{primary}/invoice?sort=nope"))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );

        let issued = invoices
            .iter()
            .find(|i| i["state"] != "estimate")
            .expect("an issued demo invoice");
        let number = issued["invoice_number"].as_str().unwrap();
        let cookie = issued["download_cookie"].as_str().unwrap();
        let lines = api
            .get(&format!(
                "/v1/billing-group/{primary}/invoice/{number}/lines"
            ))
            .await
            .json();
        let lines = lines["lines"].as_array().unwrap();
        assert!(lines
            .iter()
            .any(|l| l["line_type"] == "service_charge" && l["project_name"].is_string()));
        let sum: rust_decimal::Decimal = lines
            .iter()
            .map(|l| {
                l["line_total_local"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(sum.to_string(), issued["total_inc_vat"].as_str().unwrap());

        // The PDF needs no token, only the cookie of this very invoice.
        let anonymous = Api {
            app: api.app.clone(),
            token: None,
        };
        let pdf = anonymous
            .get(&format!(
                "/v1/billing-group/{primary}/invoice/{number}/{cookie}"
            ))
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.content_type, "application/pdf");
        assert!(pdf.body.starts_with(b"%PDF"));
        // Found by the payment reference a bank transfer carries, typed
        // any way; a reference whose check digits fail is a 400 on the field.
        let reference = billing_console::model::payment::creditor_reference(number);
        for typed in [reference.clone(), reference.replace(' ', "").to_lowercase()] {
            let found = api
                .get(&format!(
                    "/v1/billing-group/{primary}/invoice?reference={}",
                    billing_console::paths::encode_query_value(&typed)
                ))
                .await
                .json();
            let numbers: Vec<&str> = found["invoices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["invoice_number"].as_str().unwrap())
                .collect();
            assert_eq!(numbers, [number], "{typed}");
        }
        let broken = format!("RF00{}", &reference.replace(' ', "")[4..]);
        let answer = api
            .get(&format!(
                "/v1/billing-group/{primary}/invoice?reference={broken}"
            ))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(
            answer.error_message().contains("check digits"),
            "{}",
            answer.error_message()
        );

        // The e-invoice on its own needs a token, and exists for issued
        // invoices only.
        let xml = api
            .get(&format!("/v1/billing-group/{primary}/invoice/{number}/xml"))
            .await;
        assert_eq!(xml.status, StatusCode::OK);
        assert!(xml.content_type.starts_with("application/xml"));
        let xml = String::from_utf8(xml.body).unwrap();
        assert!(xml.contains(&format!(
            "<ram:GrandTotalAmount>{}</ram:GrandTotalAmount>",
            issued["total_inc_vat"].as_str().unwrap()
        )));
        for (who, path, status) in [
            (
                &anonymous,
                format!("/v1/billing-group/{primary}/invoice/{number}/xml"),
                StatusCode::UNAUTHORIZED,
            ),
            (
                &api,
                format!("/v1/billing-group/{primary}/invoice/estimate/xml"),
                StatusCode::NOT_FOUND,
            ),
        ] {
            assert_eq!(who.get(&path).await.status, status, "{path}");
        }
        let mut wrong = cookie.to_string();
        wrong.replace_range(0..1, if cookie.starts_with('0') { "1" } else { "0" });
        for path in [
            format!("/v1/billing-group/{primary}/invoice/{number}/{wrong}"),
            format!(
                "/v1/billing-group/00000000-0000-0000-0000-000000000000/invoice/{number}/{cookie}"
            ),
            format!("/v1/billing-group/{primary}/invoice/estimate/{cookie}"),
        ] {
            assert_eq!(
                anonymous.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
);

on_both_backends!(
    rule_10_credits_are_claimed_and_listed_through_the_api,
    |db| {
        use billing_console::server::billing::credits::{issue_credits, IssueRequest};
        let api = demo_api(db).await;
        let (_, primary) = acme(&api).await;
        let codes = issue_credits(
            db.store.as_ref(),
            &IssueRequest {
                value: "125".into(),
                credit_type: "promotion".into(),
                expires: Some("2099-12-31".into()),
                starts: None,
                count: 1,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let claimed = api
            .post(
                &format!("/v1/billing-group/{primary}/credits"),
                json!({"code": codes[0].to_lowercase()}),
            )
            .await;
        assert_eq!(
            claimed.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&claimed.body)
        );
        assert_eq!(claimed.json()["credit"]["value"], "125.00");
        let again = api
            .post(
                &format!("/v1/billing-group/{primary}/credits"),
                json!({"code": codes[0]}),
            )
            .await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        again.error_message();
        let listed = api
            .get(&format!("/v1/billing-group/{primary}/credits"))
            .await
            .json();
        assert!(listed["credits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["remaining_value"] == "125.00" && c["type"] == "promotion"));
    }
);

/// Resolves `#/components/schemas/…` against the document while validating.
fn validator_for(document: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["components"] = document["components"].clone();
    jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("bad schema {schema}: {e}"))
}

on_both_backends!(
    the_openapi_document_matches_what_the_handlers_answer,
    |db| {
        let api = demo_api(db).await;
        let (account_id, primary) = acme(&api).await;
        let document = api.get("/v1/openapi.json").await.json();
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        // Every endpoint of the router is documented (both come from one table).
        let endpoints = billing_console::server::rest::endpoints();
        assert_eq!(
            paths
                .values()
                .map(|p| p.as_object().unwrap().len())
                .sum::<usize>(),
            endpoints.len()
        );
        let issued = api
            .get(&format!("/v1/billing-group/{primary}/invoice"))
            .await
            .json()["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["state"] != "estimate")
            .unwrap()["invoice_number"]
            .as_str()
            .unwrap()
            .to_string();
        // A credit note to read back.
        let credited = api
            .post(
                &format!("/v1/billing-group/{primary}/invoice/{issued}/credit-note"),
                json!({"reason": "Schema check"}),
            )
            .await;
        assert_eq!(
            credited.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&credited.body)
        );
        let credit_note = credited.json()["credit_note"]["credit_note_number"]
            .as_str()
            .unwrap()
            .to_string();
        // Every GET that answers JSON: a real answer fits the documented 200,
        // and an unknown ID's 404 fits the documented error.
        let mut checked = 0;
        use billing_console::server::rest::endpoint::Returns;
        for endpoint in endpoints
            .iter()
            .filter(|e| e.method == "get" && matches!(e.returns, Returns::Json(_)))
        {
            let path = endpoint
                .path
                .replace("{account_id}", &account_id)
                .replace("{billing_group_id}", &primary)
                .replace("{invoice_number}", &issued)
                .replace("{credit_note_number}", &credit_note)
                .replace("{project}", "acme-prod")
                .replace("{service_name}", "pg-orders")
                .replace("{service_type}", "pg");
            let answer = api.get(&format!("/v1{path}")).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            let operation = &paths[&format!("/v1{}", endpoint.path)]["get"];
            let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
            let validator = validator_for(&document, schema);
            let body = answer.json();
            // The schema has teeth: an empty object is not a valid answer.
            assert!(
                !validator.is_valid(&json!({})),
                "{path}: the schema accepts anything"
            );
            if let Err(error) = validator.validate(&body) {
                panic!("GET {path} does not match its schema: {error}\n{body}");
            }
            checked += 1;
            if endpoint.path.contains("{billing_group_id}") {
                let missing = api
                    .get(&format!(
                        "/v1{}",
                        endpoint
                            .path
                            .replace("{billing_group_id}", "00000000-0000-0000-0000-000000000000")
                            .replace("{invoice_number}", &issued)
                            .replace("{credit_note_number}", &credit_note)
                    ))
                    .await;
                assert_eq!(missing.status, StatusCode::NOT_FOUND);
                let error_schema =
                    &operation["responses"]["404"]["content"]["application/json"]["schema"];
                assert!(validator_for(&document, error_schema).is_valid(&missing.json()));
            }
        }
        assert!(checked >= 9, "{checked}");
    }
);

on_both_backends!(
    the_account_billing_overview_totals_its_groups_in_the_currency_asked_for,
    |db| {
        let api = demo_api(db).await;
        let (account_id, _) = acme(&api).await;
        let overview = api
            .get(&format!(
                "/v1/account/{account_id}/billing-overview?currency=usd"
            ))
            .await;
        assert_eq!(
            overview.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&overview.body)
        );
        let overview = overview.json();
        assert_eq!(overview["total_currency"], "USD");
        let groups = overview["billing_groups"].as_array().unwrap();
        assert!(groups.len() >= 2);
        let cents = |v: &Value| -> i64 {
            let text = v.as_str().unwrap();
            let (whole, fraction) = text.split_once('.').unwrap();
            whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
        };
        let sum: i64 = groups.iter().map(|g| cents(&g["month_to_date_usd"])).sum();
        assert_eq!(
            sum,
            cents(&overview["total_usd"]),
            "the total is its groups' sum"
        );
        assert_eq!(overview["total_local"], overview["total_usd"], "USD is USD");
        let bad = api
            .get(&format!(
                "/v1/account/{account_id}/billing-overview?currency=XYZ"
            ))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.error_message().contains("XYZ"));
    }
);

on_both_backends!(credit_notes_and_void_and_reissue_through_the_api, |db| {
    let api = demo_api(db).await;
    let (_, primary) = acme(&api).await;
    let invoices = api
        .get(&format!("/v1/billing-group/{primary}/invoice"))
        .await
        .json();
    let invoice = invoices["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["state"] != "estimate" && i["total_inc_vat"] != "0.00")
        .unwrap()
        .clone();
    let number = invoice["invoice_number"].as_str().unwrap().to_string();
    assert_eq!(invoice["total_remaining"], invoice["total_inc_vat"]);
    assert!(invoice["total_credited"].is_null());
    let lines = api
        .get(&format!(
            "/v1/billing-group/{primary}/invoice/{number}/lines"
        ))
        .await
        .json();
    let line = lines["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line_type"] == "service_charge")
        .unwrap()
        .clone();
    let line_no = line["line_no"].as_i64().unwrap();
    let base = format!("/v1/billing-group/{primary}/invoice/{number}");

    // Bad input: 400 naming the field, nothing written.
    let bad = api
        .post(
            &format!("{base}/credit-note"),
            json!({"reason": "Too much", "lines": [{"line_no": line_no, "amount": "999999"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.error_message().contains("left to credit"),
        "{}",
        bad.error_message()
    );
    let bad = api
        .post(&format!("{base}/credit-note"), json!({"reason": ""}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let none = api
        .get(&format!("/v1/billing-group/{primary}/credit-note"))
        .await
        .json();
    assert_eq!(none["credit_notes"].as_array().unwrap().len(), 0);

    // A credit note for one euro (or dollar) of a line.
    let credited = api
        .post(
            &format!("{base}/credit-note"),
            json!({"reason": "Goodwill", "lines": [{"line_no": line_no, "amount": "1.00"}]}),
        )
        .await;
    assert_eq!(
        credited.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&credited.body)
    );
    let note = credited.json();
    let note_number = note["credit_note"]["credit_note_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(note["credit_note"]["invoice_number"], number);
    assert_eq!(note["credit_note"]["total_vat_zero"], "-1.00");
    assert_eq!(note["lines"][0]["line_total_local"], "-1.00");
    let after = api.get(&base).await.json();
    assert!(!after["invoice"]["total_credited"].is_null());
    let pdf = api
        .get(&format!(
            "/v1/billing-group/{primary}/credit-note/{note_number}/pdf"
        ))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF"));
    let xml = api
        .get(&format!(
            "/v1/billing-group/{primary}/credit-note/{note_number}/xml"
        ))
        .await;
    assert!(String::from_utf8_lossy(&xml.body).contains("<ram:TypeCode>381</ram:TypeCode>"));

    // Void and reissue: the credit note and the invoice, each naming the other.
    let voided = api
        .post(&format!("{base}/void"), json!({"reason": "Wrong VAT ID"}))
        .await;
    assert_eq!(
        voided.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&voided.body)
    );
    let voided = voided.json();
    let reissued = voided["invoice"]["invoice_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(voided["credit_note"]["kind"], "void");
    assert_eq!(voided["credit_note"]["reissued_as"], reissued);
    assert_eq!(voided["invoice"]["replaces"], number);
    let original = api.get(&base).await.json();
    assert_eq!(original["invoice"]["reissued_as"], reissued);
    assert_eq!(original["invoice"]["total_remaining"], "0.00");
    let again = api
        .post(&format!("{base}/void"), json!({"reason": "Again"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let events = api
        .get(&format!("/v1/billing-group/{primary}/events"))
        .await
        .json();
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    for expected in ["credit_note_issued", "invoice_voided"] {
        assert!(types.contains(&expected), "{types:?}");
    }
    // Another group's credit note is not found.
    let foreign = api
        .get(&format!(
            "/v1/billing-group/00000000-0000-0000-0000-000000000000/credit-note/{note_number}"
        ))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
});

on_both_backends!(
    huge_bodies_and_wrong_content_types_are_refused_in_the_error_shape,
    |db| {
        let api = demo_api(db).await;
        let (account_id, _) = acme(&api).await;
        let huge = json!({"billing_group_name": "x".repeat(2 << 20), "account_id": account_id});
        let answer = api.post("/v1/billing-group", huge).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        answer.error_message();
        let wrong_type = api
            .raw(
                Method::POST,
                "/v1/billing-group",
                "text/plain",
                "billing_group_name=x",
            )
            .await;
        assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        wrong_type.error_message();
        let listed = api.get("/v1/billing-group").await.json();
        assert!(!listed["billing_groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["billing_group_name"] == "x"));
        // NUL (which PostgreSQL cannot store) and other control characters are
        // the caller's mistake: a 400 naming it, and nothing changed.
        let (_, primary) = acme(&api).await;
        let nul = api
            .raw(
                Method::PUT,
                &format!("/v1/billing-group/{primary}"),
                "application/json",
                r#"{"company": "Acme\u0000 Oy"}"#,
            )
            .await;
        assert_eq!(nul.status, StatusCode::BAD_REQUEST);
        assert!(nul.error_message().contains("NUL"));
        let control = api
            .put(
                &format!("/v1/billing-group/{primary}"),
                json!({"company": "Acme\u{1a} Oy", "city": "Oulu"}),
            )
            .await;
        assert_eq!(control.status, StatusCode::BAD_REQUEST);
        assert_eq!(control.json()["errors"][0]["field"], "company");
        let group = api
            .get(&format!("/v1/billing-group/{primary}"))
            .await
            .json();
        assert_ne!(group["billing_group"]["city"], "Oulu");
        assert_eq!(
            api.get("/v1/billing-group/%00").await.status,
            StatusCode::BAD_REQUEST
        );
        // A wrong method is a JSON 405, not an empty answer.
        let wrong = api
            .call(Method::PATCH, "/v1/billing-group", Some(json!({})))
            .await;
        assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
        wrong.error_message();
    }
);

on_both_backends!(pdf_links_expire_and_their_expiry_cannot_be_changed, |db| {
    let api = demo_api(db).await;
    let (_, primary) = acme(&api).await;
    let invoices = api
        .get(&format!("/v1/billing-group/{primary}/invoice"))
        .await
        .json();
    let issued = invoices["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["state"] != "estimate")
        .expect("an issued demo invoice")
        .clone();
    let number = issued["invoice_number"].as_str().unwrap();
    let link = issued["download_cookie"].as_str().unwrap();
    let path = |link: &str| format!("/v1/billing-group/{primary}/invoice/{number}/{link}");
    let at = |days: i64| async move {
        let clock = billing_console::server::clock::Clock::fixed(
            chrono::Utc::now() + chrono::Duration::days(days),
        );
        Api {
            app: crate::common::app_with(db, &[], clock).await,
            token: None,
        }
    };
    // Within its 30 days it works, without a token, on any instance.
    assert_eq!(at(29).await.get(&path(link)).await.status, StatusCode::OK);
    // Afterwards it does not…
    assert_eq!(
        at(31).await.get(&path(link)).await.status,
        StatusCode::NOT_FOUND
    );
    // …and a later expiry written into it breaks its signature.
    let (cookie_and, _) = link.rsplit_once('.').unwrap();
    let (cookie, expiry) = cookie_and.split_once('.').unwrap();
    let extended = link.replacen(
        &format!("{cookie}.{expiry}."),
        &format!(
            "{cookie}.{}.",
            expiry.parse::<i64>().unwrap() + 86_400 * 365
        ),
        1,
    );
    assert_eq!(
        at(31).await.get(&path(&extended)).await.status,
        StatusCode::NOT_FOUND
    );
    // The bare cookie (a link without expiry) no longer opens it.
    assert_eq!(
        at(0).await.get(&path(cookie)).await.status,
        StatusCode::NOT_FOUND
    );
    // DOWNLOAD_LINK_DAYS sets the lifetime.
    let short = crate::common::app_with(
        db,
        &[("DOWNLOAD_LINK_DAYS", "1")],
        billing_console::server::clock::Clock::system(),
    )
    .await;
    let short_api = login(short, demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await;
    let short_link = short_api
        .get(&format!("/v1/billing-group/{primary}/invoice/{number}"))
        .await
        .json()["invoice"]["download_cookie"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        at(0).await.get(&path(&short_link)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        at(2).await.get(&path(&short_link)).await.status,
        StatusCode::NOT_FOUND
    );
});

on_both_backends!(
    creating_a_project_checks_the_role_before_saying_a_name_is_taken,
    |db| {
        let app = crate::common::app(db, "").await;
        let api = login(app.clone(), demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await;
        let (account, _) = acme(&api).await;
        let viewer = login(app.clone(), "viewer@example.com", demo::DEMO_PASSWORD).await;
        let taken = json!({"project": "acme-prod", "account_id": account});
        let answer = viewer.post("/v1/project", taken.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "a viewer learns nothing"
        );
        let fresh = json!({"project": "viewer-made", "account_id": account});
        assert_eq!(
            viewer.post("/v1/project", fresh).await.status,
            StatusCode::FORBIDDEN
        );
        let outsider = login(app.clone(), "viewer@example.com", demo::DEMO_PASSWORD).await;
        let globex = json!({"project": "globex-fleet", "account_id": "a000000000nope"});
        assert_eq!(
            outsider.post("/v1/project", globex).await.status,
            StatusCode::NOT_FOUND
        );
        // Who may create projects there is told the name is taken (409).
        assert_eq!(
            api.post("/v1/project", taken).await.status,
            StatusCode::CONFLICT
        );
        // A cloud name follows Aiven's form; nothing is created otherwise.
        for cloud in ["Google Europe", "google/europe", &"x".repeat(65)] {
            let body = json!({"project": "cloudy", "account_id": account, "cloud": cloud});
            let answer = api.post("/v1/project", body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{cloud:?}");
            assert!(answer.error_message().contains("cloud"), "{cloud:?}");
        }
        let body = json!({"project": "cloudy", "account_id": account, "cloud": "aws-eu-west-1"});
        assert_eq!(api.post("/v1/project", body).await.status, StatusCode::OK);
    }
);

on_both_backends!(members_and_invitations_through_the_api, |db| {
    let api = demo_api(db).await;
    let (acme, _) = acme(&api).await;
    let members = api.get(&format!("/v1/account/{acme}/members")).await;
    assert_eq!(members.status, StatusCode::OK);
    let list = members.json()["members"].as_array().unwrap().clone();
    assert!(list
        .iter()
        .any(|m| m["user_email"] == demo::DEMO_EMAIL && m["role"] == "admin"));
    let viewer_id = list
        .iter()
        .find(|m| m["user_email"] == "viewer@example.com")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Invite: the link comes back once, with the token in its query.
    let invited = api
        .post(
            &format!("/v1/account/{acme}/invitations"),
            json!({"email": "newbie@example.com", "role": "billing"}),
        )
        .await;
    assert_eq!(
        invited.status,
        StatusCode::OK,
        "{}",
        invited.error_message()
    );
    let body = invited.json();
    assert!(body["invite_url"]
        .as_str()
        .unwrap()
        .contains("/invitation?token="));
    let pending = api
        .get(&format!("/v1/account/{acme}/invitations"))
        .await
        .json();
    assert_eq!(pending["invitations"].as_array().unwrap().len(), 1);
    assert!(
        !format!("{pending}").contains("token"),
        "tokens are never listed"
    );
    let twice = api
        .post(
            &format!("/v1/account/{acme}/invitations"),
            json!({"email": "newbie@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(twice.json()["errors"][0]["field"], "email");
    let invitation_id = body["invitation"]["invitation_id"].as_str().unwrap();
    let revoked = api
        .delete(&format!("/v1/account/{acme}/invitations/{invitation_id}"))
        .await;
    assert_eq!(revoked.status, StatusCode::OK);

    // Roles: a change, a bad role, and a viewer who may not.
    let changed = api
        .put(
            &format!("/v1/account/{acme}/members/{viewer_id}"),
            json!({"role": "billing"}),
        )
        .await;
    assert_eq!(changed.json()["member"]["role"], "billing");
    let bad = api
        .put(
            &format!("/v1/account/{acme}/members/{viewer_id}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let viewer = login(api.app.clone(), "viewer@example.com", demo::DEMO_PASSWORD).await;
    let forbidden = viewer
        .post(
            &format!("/v1/account/{acme}/invitations"),
            json!({"email": "x@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let events = api.get(&format!("/v1/account/{acme}/events")).await.json();
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        &types[..3],
        [
            "member_role_changed",
            "invitation_revoked",
            "member_invited"
        ]
    );

    // Removing: the member goes; a foreign account is not found.
    let removed = api
        .delete(&format!("/v1/account/{acme}/members/{viewer_id}"))
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(
        viewer
            .get(&format!("/v1/account/{acme}/members"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
});

on_both_backends!(operators_create_and_rename_accounts_through_the_api, |db| {
    let api = demo_api(db).await;
    let created = api
        .post("/v1/account", json!({"account_name": "Initech"}))
        .await;
    assert_eq!(
        created.status,
        StatusCode::OK,
        "{}",
        created.error_message()
    );
    let account = created.json()["account"].clone();
    assert_eq!(account["account_name"], "Initech");
    assert_eq!(account["role"], "admin");
    let id = account["account_id"].as_str().unwrap();
    let groups = api
        .get(&format!("/v1/account/{id}/billing-group"))
        .await
        .json();
    assert_eq!(groups["billing_groups"][0]["billing_currency"], "USD");
    let renamed = api
        .put(
            &format!("/v1/account/{id}"),
            json!({"account_name": "Initrode"}),
        )
        .await;
    assert_eq!(renamed.json()["account"]["account_name"], "Initrode");
    let bad = api
        .post(
            "/v1/account",
            json!({"account_name": "", "billing_currency": "XXX"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["errors"].as_array().unwrap().len(), 2);
    // Not an operator: 403, nothing created.
    let viewer = login(api.app.clone(), "viewer@example.com", demo::DEMO_PASSWORD).await;
    let refused = viewer
        .post("/v1/account", json!({"account_name": "Mine"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get("/v1/account").await.json()["accounts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
});

/// Reads a FOCUS export: its header and its rows as column → value.
fn focus_rows(answer: &Answer) -> Vec<std::collections::BTreeMap<String, String>> {
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.content_type, "text/csv; charset=utf-8");
    let mut reader = csv::Reader::from_reader(answer.body.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        billing_console::server::billing::focus::COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
    );
    reader
        .records()
        .map(|record| {
            header
                .iter()
                .cloned()
                .zip(record.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

on_both_backends!(
    a_focus_export_adds_up_to_the_invoices_and_credit_notes_to_the_cent,
    |db| {
        use rust_decimal::Decimal;
        let api = demo_api(db).await;
        let (account, primary) = acme(&api).await;
        let invoices = api
            .get(&format!("/v1/billing-group/{primary}/invoice"))
            .await
            .json()["invoices"]
            .as_array()
            .unwrap()
            .clone();
        let issued: Vec<&Value> = invoices
            .iter()
            .filter(|i| i["state"] != "estimate")
            .collect();
        assert!(issued.len() >= 2, "the demo has closed months");
        // A credit note, so corrections are exported too.
        let credited = issued
            .iter()
            .find(|i| i["total_inc_vat"] != "0.00")
            .unwrap();
        let credited_number = credited["invoice_number"].as_str().unwrap();
        let note = api
            .post(
                &format!("/v1/billing-group/{primary}/invoice/{credited_number}/credit-note"),
                json!({"reason": "Goodwill"}),
            )
            .await;
        assert_eq!(
            note.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&note.body)
        );
        let note = note.json()["credit_note"].clone();

        let month = |i: &Value| i["period_begin"].as_str().unwrap()[..7].to_string();
        let first = issued.iter().map(|i| month(i)).min().unwrap();
        let export = api
            .get(&format!(
                "/v1/billing-group/{primary}/focus?from={first}&to={}",
                month(&invoices[0])
            ))
            .await;
        let rows = focus_rows(&export);
        let decimal = |text: &str| text.parse::<Decimal>().unwrap();
        let sum_where = |keep: &dyn Fn(&std::collections::BTreeMap<String, String>) -> bool| {
            rows.iter()
                .filter(|r| keep(r))
                .map(|r| decimal(&r["BilledCost"]))
                .sum::<Decimal>()
        };
        for invoice in &invoices {
            let number = invoice["invoice_number"].as_str().unwrap();
            let own = if number == "estimate" { "" } else { number };
            let billed =
                sum_where(&|r| r["x_InvoiceNumber"] == own && r["x_CreditNoteNumber"].is_empty());
            assert_eq!(
                billed,
                decimal(invoice["total_inc_vat"].as_str().unwrap()),
                "{number}: the rows add up to the invoice"
            );
        }
        let corrected =
            sum_where(&|r| r["x_CreditNoteNumber"] == note["credit_note_number"].as_str().unwrap());
        assert_eq!(corrected, decimal(note["total_inc_vat"].as_str().unwrap()));
        assert!(corrected < Decimal::ZERO);
        assert!(rows
            .iter()
            .filter(|r| !r["x_CreditNoteNumber"].is_empty())
            .all(|r| r["ChargeClass"] == "Correction"));
        let usage = rows
            .iter()
            .find(|r| r["ChargeCategory"] == "Usage")
            .unwrap();
        assert_eq!(usage["BillingAccountId"], primary);
        assert!(!usage["SubAccountId"].is_empty() && usage["ResourceID"].contains('/'));
        assert_eq!(usage["ConsumedUnit"], "Hours");
        assert!(usage["ChargePeriodStart"].ends_with('Z'));
        assert!(rows.iter().any(|r| r["ChargeCategory"] == "Tax"));

        // The account's export holds every group's rows, this one's the same.
        let whole = focus_rows(
            &api.get(&format!(
                "/v1/account/{account}/focus?from={first}&to={}",
                month(&invoices[0])
            ))
            .await,
        );
        let of_primary: Vec<_> = whole
            .iter()
            .filter(|r| r["BillingAccountId"] == primary)
            .cloned()
            .collect();
        assert_eq!(of_primary, rows);
        assert!(whole.iter().any(|r| r["BillingAccountId"] != primary));

        // Bad months are refused naming the parameter; foreign ids are 404.
        for (query, field) in [
            ("month=2026-13", "month"),
            ("month=2999-01", "month"),
            ("from=2026-01", "to"),
            ("month=2026-01&from=2026-01&to=2026-02", "month"),
        ] {
            let refused = api
                .get(&format!("/v1/billing-group/{primary}/focus?{query}"))
                .await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
            assert!(
                refused.json()["errors"][0]["field"] == field
                    || refused.error_message().contains(field),
                "{query}: {}",
                String::from_utf8_lossy(&refused.body)
            );
        }
        let foreign = api.get("/v1/billing-group/not-a-group/focus").await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        let foreign = api.get("/v1/account/not-an-account/focus").await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    }
);

// Issue 29's role for platform engineers: a developer runs services and
// sees costs, and is refused billing, credit and member changes (403); a
// billing manager is refused services.
on_both_backends!(
    a_developer_runs_services_but_changes_no_billing_or_members,
    |db| {
        let app = crate::common::app(db, "").await;
        let admin = login(app.clone(), demo::DEMO_EMAIL, demo::DEMO_PASSWORD).await;
        let (account, primary) = acme(&admin).await;
        let developer = login(app.clone(), "developer@example.com", demo::DEMO_PASSWORD).await;
        let billing = login(app, "billing@example.com", demo::DEMO_PASSWORD).await;
        let service = json!({"service_name": "dev-pg", "service_type": "pg", "plan": "business-4"});

        let created = developer
            .post("/v1/project/acme-prod/service", service.clone())
            .await;
        assert_eq!(
            created.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        let changed = developer
            .put(
                "/v1/project/acme-prod/service/dev-pg",
                json!({"plan": "business-8"}),
            )
            .await;
        assert_eq!(
            changed.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&changed.body)
        );
        assert_eq!(
            developer
                .get(&format!("/v1/billing-group/{primary}/invoice"))
                .await
                .status,
            StatusCode::OK,
            "a developer sees costs"
        );
        for refused in [
            developer
                .put(
                    &format!("/v1/billing-group/{primary}"),
                    json!({"billing_emails": [{"email": "x@example.com"}]}),
                )
                .await,
            developer
                .post(
                    &format!("/v1/account/{account}/invitations"),
                    json!({"email": "new@example.com", "role": "viewer"}),
                )
                .await,
            developer
                .post(
                    &format!("/v1/billing-group/{primary}/credits"),
                    json!({"code": "NOPE"}),
                )
                .await,
            billing
                .post(
                    "/v1/project/acme-prod/service",
                    json!({"service_name": "bea-pg", "service_type": "pg", "plan": "business-4"}),
                )
                .await,
        ] {
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{}",
                String::from_utf8_lossy(&refused.body)
            );
        }
        assert_eq!(
            developer
                .delete("/v1/project/acme-prod/service/dev-pg")
                .await
                .status,
            StatusCode::OK
        );
        // Admins can invite developers.
        let invited = admin
            .post(
                &format!("/v1/account/{account}/invitations"),
                json!({"email": "platform@example.com", "role": "developer"}),
            )
            .await;
        assert_eq!(
            invited.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&invited.body)
        );
    }
);
