//! The HTTP surface in process: sign-in guard, 404, health, cookies, request
//! ids, pages rendered for a signed-in user.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use billing_console::server::demo;
use tower::ServiceExt;

fn get(path: &str) -> Request<Body> {
    with_peer(
        Request::get(path)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap(),
    )
}

fn with_peer(mut request: Request<Body>) -> Request<Body> {
    let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

fn sign_in_request(password: &str, forwarded_https: bool) -> Request<Body> {
    let body = format!("email=demo%40example.com&password={password}&next=%2Fprojects");
    let mut builder = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, "http://localhost/signin?next=%2Fprojects");
    if forwarded_https {
        builder = builder.header("x-forwarded-proto", "https");
    }
    with_peer(builder.body(Body::from(body)).unwrap())
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).to_string()
}

async fn signed_in_cookie(app: &Router) -> String {
    let response = app
        .clone()
        .oneshot(sign_in_request(demo::DEMO_PASSWORD, false))
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("session cookie")
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_string()
}

on_both_backends!(signed_out_pages_redirect_to_sign_in_and_come_back, |db| {
    let app = crate::common::app(db, "").await;
    let response = app.clone().oneshot(get("/projects?tab=x")).await.unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(
        response.headers()[header::LOCATION],
        "/signin?next=/projects%3Ftab%3Dx"
    );
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let signin = app
        .clone()
        .oneshot(get("/signin?next=/projects"))
        .await
        .unwrap();
    assert_eq!(signin.status(), StatusCode::OK);
    let html = body_text(signin).await;
    assert!(
        html.contains("<label for=\"email\">Email</label>"),
        "{html}"
    );
});

on_both_backends!(unknown_routes_are_real_404_pages, |db| {
    let app = crate::common::app(db, "").await;
    let response = app.clone().oneshot(get("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("Page not found"));
});

on_both_backends!(sign_in_sets_a_safe_cookie_and_redirects_to_next, |db| {
    let app = crate::common::app(db, "127.0.0.1").await;
    let response = app
        .clone()
        .oneshot(sign_in_request(demo::DEMO_PASSWORD, false))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], "/projects");
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get a Secure cookie: {cookie}"
    );
    // Behind a trusted TLS proxy the cookie is Secure.
    let behind_tls = app
        .clone()
        .oneshot(sign_in_request(demo::DEMO_PASSWORD, true))
        .await
        .unwrap();
    assert!(behind_tls.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
    // A wrong password goes back to the form with the error in the URL.
    let wrong = app
        .clone()
        .oneshot(sign_in_request("nope", false))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FOUND);
    let location = wrong.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.contains("__err="), "{location}");
    assert!(!wrong.headers().contains_key(header::SET_COOKIE));
});

on_both_backends!(forwarded_proto_from_an_untrusted_peer_is_ignored, |db| {
    let app = crate::common::app(db, "10.9.9.9").await;
    let response = app
        .clone()
        .oneshot(sign_in_request(demo::DEMO_PASSWORD, true))
        .await
        .unwrap();
    assert!(!response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Secure"));
});

on_both_backends!(signed_in_users_see_their_accounts_and_projects, |db| {
    let app = crate::common::app(db, "").await;
    let cookie = signed_in_cookie(&app).await;
    let mut request = get("/projects");
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = body_text(response).await;
    for text in [
        "Projects &amp; accounts",
        "Acme Analytics",
        "Globex Logistics",
        "acme-prod",
        "globex-fleet",
        "See all projects &amp; accounts",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    let mut foreign = get("/project/not-mine");
    foreign
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    assert_eq!(
        app.clone().oneshot(foreign).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Signing out ends the session for every instance.
    let mut sign_out = with_peer(
        Request::post("/api/sign_out")
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    );
    sign_out.headers_mut().insert(
        header::REFERER,
        "http://localhost/projects".parse().unwrap(),
    );
    let response = app.clone().oneshot(sign_out).await.unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/signin");
    let mut after = get("/projects");
    after
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    assert!(app
        .clone()
        .oneshot(after)
        .await
        .unwrap()
        .status()
        .is_redirection());
});

on_both_backends!(health_reports_the_database, |db| {
    let app = crate::common::app(db, "").await;
    let response = app.clone().oneshot(get("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_text(response).await,
        r#"{"status":"ok","database":"ok"}"#
    );
    db.store.close().await;
    let response = app.clone().oneshot(get("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
});

on_both_backends!(
    invoice_files_download_for_members_and_404_for_others,
    |db| {
        use billing_console::server::billing::accounts;
        let app = crate::common::app(db, "").await;
        let cookie = signed_in_cookie(&app).await;
        let demo_user = db
            .store
            .user_by_email(demo::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap();
        let accounts_of_demo = db.store.accounts_of_user(&demo_user.user_id).await.unwrap();
        let group_of = |name: &str| {
            let account = accounts_of_demo
                .iter()
                .find(|a| a.account_name == name)
                .unwrap();
            account.primary_billing_group_id.clone()
        };
        let (acme, globex) = (group_of("Acme Analytics"), group_of("Globex Logistics"));
        let acme_invoice = db.store.invoices_of_group(&acme).await.unwrap()[0]
            .invoice_number
            .clone();
        let globex_invoice = db.store.invoices_of_group(&globex).await.unwrap()[0]
            .invoice_number
            .clone();
        let stranger = crate::common::user(&db.store, "stranger@example.com").await;
        let (_, stranger_group) = accounts::create_account(
            db.store.as_ref(),
            &stranger,
            "Stranger Inc",
            "USD",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let fetch = |path: String, cookie: Option<String>| {
            let app = app.clone();
            async move {
                let mut request = get(&path);
                if let Some(cookie) = cookie {
                    request
                        .headers_mut()
                        .insert(header::COOKIE, cookie.parse().unwrap());
                }
                let response = app.oneshot(request).await.unwrap();
                let status = response.status();
                let content_type = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
                    .await
                    .unwrap();
                (status, content_type, bytes)
            }
        };
        let base = format!("/billing-group/{acme}/invoices/{acme_invoice}");
        let (status, kind, pdf) = fetch(format!("{base}/pdf"), Some(cookie.clone())).await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        let (status, kind, csv) = fetch(format!("{base}/csv"), Some(cookie.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("text/csv"));
        assert!(csv.starts_with(b"invoice_number,line_type,"));
        let (status, kind, xml) = fetch(format!("{base}/xml"), Some(cookie.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("application/xml"));
        assert!(xml.starts_with(b"<?xml"));
        let (status, ..) = fetch(format!("{base}/json"), Some(cookie.clone())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Another group's invoice through this group, and a stranger's group.
        let (status, ..) = fetch(
            format!("/billing-group/{acme}/invoices/{globex_invoice}/pdf"),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, ..) = fetch(
            format!(
                "/billing-group/{}/invoices/estimate/csv",
                stranger_group.billing_group_id
            ),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, ..) = fetch(format!("{base}/pdf"), None).await;
        assert_ne!(status, StatusCode::OK, "signed out: no invoice");
    }
);

on_both_backends!(
    pages_carry_a_nonce_policy_and_every_response_the_security_headers,
    |db| {
        let app = crate::common::app(db, "").await;
        let response = app.clone().oneshot(get("/signin")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .expect("a page has a policy")
            .to_str()
            .unwrap()
            .to_string();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the policy")
            .to_string();
        // Every inline script of the page carries that nonce.
        let html = body_text(response).await;
        let scripts = html.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "{html}"
        );
        assert!(
            !html.contains("style=\""),
            "no inline styles: the policy forbids them"
        );
        // A second page gets another nonce.
        let again = app.clone().oneshot(get("/signin")).await.unwrap();
        assert_ne!(
            again.headers().get(header::CONTENT_SECURITY_POLICY),
            headers.get(header::CONTENT_SECURITY_POLICY)
        );
        for (name, value) in [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ] {
            assert_eq!(headers.get(&name).unwrap(), value);
        }
        // Not a page: the default policy, and the same headers.
        let health = app.clone().oneshot(get("/healthz")).await.unwrap();
        let policy = health
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("nonce"));
        assert_eq!(
            health
                .headers()
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .unwrap(),
            "nosniff"
        );
    }
);

on_both_backends!(oversized_bodies_are_refused, |db| {
    let app = crate::common::app(db, "").await;
    let body = format!(
        "email=demo%40example.com&password={}",
        "x".repeat(2 * 1024 * 1024)
    );
    let request = with_peer(
        Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    );
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "without a length"
    );
    let body = "x".repeat(2 * 1024 * 1024);
    let request = with_peer(
        Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap(),
    );
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "with its length"
    );
    // A normal form still works.
    let response = app
        .oneshot(sign_in_request(demo::DEMO_PASSWORD, false))
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
});

/// Every `href`, `src` and `action` in the page, as written.
fn urls_in(html: &str) -> Vec<String> {
    ["href=\"", "src=\"", "action=\""]
        .iter()
        .flat_map(|attr| {
            html.split(attr)
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

on_both_backends!(
    a_base_path_puts_every_page_link_form_and_asset_under_it,
    |db| {
        let app = crate::common::app_at(db, "", "/billing").await;

        // Signed out: sign-in under the base, `next` is the app path.
        let response = app.clone().oneshot(get("/billing/projects")).await.unwrap();
        assert!(response.status().is_redirection());
        assert_eq!(
            response.headers()[header::LOCATION],
            "/billing/signin?next=/projects"
        );

        // The sign-in page: assets, the form's no-JS action, and the base for the browser.
        let html = body_text(app.clone().oneshot(get("/billing/signin")).await.unwrap()).await;
        assert!(
            html.contains(r#"<meta name="base-path" content="/billing">"#),
            "{html}"
        );
        assert!(html.contains(r#"action="/billing/api/sign_in""#), "{html}");
        assert!(
            html.contains(
                r#"<link rel="stylesheet" id="leptos" href="/billing/pkg/billing-console."#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<link rel="modulepreload" href="/billing/pkg/billing-console."#),
            "hydration scripts under the base: {html}"
        );

        // Signing in (a plain form post under the base): the cookie is scoped to
        // the base and the browser goes on to `next` under the base.
        let body = "email=demo%40example.com&password=".to_string()
            + demo::DEMO_PASSWORD
            + "&next=%2Fprojects";
        let response = app
            .clone()
            .oneshot(with_peer(
                Request::post("/billing/api/sign_in")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "text/html")
                    .header(header::REFERER, "http://localhost/billing/signin")
                    .body(Body::from(body))
                    .unwrap(),
            ))
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{:?}",
            response.status()
        );
        assert_eq!(response.headers()[header::LOCATION], "/billing/projects");
        let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(set_cookie.contains("; Path=/billing;"), "{set_cookie}");
        let cookie = set_cookie.split(';').next().unwrap().to_string();

        // Pages: every in-app URL carries the base; none escapes to the root.
        let page = |path: &str| {
            let app = app.clone();
            let mut request = get(path);
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
            async move { app.oneshot(request).await.unwrap() }
        };
        let projects = page("/billing/projects").await;
        assert_eq!(projects.status(), StatusCode::OK);
        let html = body_text(projects).await;
        let account_link = urls_in(&html)
            .into_iter()
            .find(|u| u.starts_with("/billing/account/") && u.ends_with("/billing"))
            .expect("a link to an account's Billing tab");
        let account = body_text(page(&account_link).await).await;
        let group_link = urls_in(&account)
            .into_iter()
            .find(|u| u.starts_with("/billing/billing-group/"))
            .expect("a link to a billing group");
        let mut checked = 0;
        for tab in [
            "",
            "/projects",
            "/invoices",
            "/credits",
            "/events",
            "/billing-information",
        ] {
            let response = page(&format!("{group_link}{tab}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{group_link}{tab}");
            for url in urls_in(&body_text(response).await) {
                if url.starts_with('/') {
                    assert!(url.starts_with("/billing/"), "{url} on {group_link}{tab}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} URLs seen");
        let csv = page(&format!("{group_link}/events.csv")).await;
        assert_eq!(csv.status(), StatusCode::OK);
        let csv = body_text(csv).await;
        assert!(csv.starts_with("log_entry_id,create_time,"), "{csv}");
        assert!(csv.lines().count() > 2, "{csv}");
        // The Invoices tab's FOCUS form and the account's: CSV downloads.
        let invoices_tab = body_text(page(&format!("{group_link}/invoices")).await).await;
        assert!(
            invoices_tab.contains(&format!(r#"action="{group_link}/focus.csv""#)),
            "the Invoices tab has the FOCUS form"
        );
        for link in [
            format!("{group_link}/focus.csv"),
            format!("{}/focus.csv", account_link.trim_end_matches("/billing")),
        ] {
            let focus = page(&link).await;
            assert_eq!(focus.status(), StatusCode::OK, "{link}");
            assert!(focus.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment; filename=\"focus-"));
            let text = body_text(focus).await;
            assert!(text.starts_with("BilledCost,BillingAccountId,"), "{text}");
            assert!(text.lines().count() > 2, "{link}: {text}");
        }
        let refused = page(&format!("{group_link}/focus.csv?from=2026-11")).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(body_text(refused)
            .await
            .contains("A range needs both from and to"));

        // Outside the base: not ours, apart from health and a pointer at the base.
        assert_eq!(page("/projects").await.status(), StatusCode::NOT_FOUND);
        let root = page("/").await;
        assert!(root.status().is_redirection());
        assert_eq!(root.headers()[header::LOCATION], "/billing/");
        assert_eq!(page("/healthz").await.status(), StatusCode::OK);
        assert_eq!(page("/billing/healthz").await.status(), StatusCode::OK);
        // Readiness answers at the root too, never behind the sign-in (200
        // or 503 as the site folder has the bundle or not).
        let ready = page("/readyz").await;
        assert!(
            matches!(
                ready.status(),
                StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{:?}",
            ready.status()
        );
        assert!(body_text(ready).await.contains(r#""status":"#));
        assert_eq!(
            page("/billingx/projects").await.status(),
            StatusCode::NOT_FOUND
        );
        let missing = page("/billing/no/such/page").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(body_text(missing).await.contains("/billing/projects"));
    }
);

/// `POST /v1/userauth` for a wrong password, from the test peer (127.0.0.1),
/// claiming to come from `forwarded_for`.
async fn failed_login(app: &Router, email: &str, forwarded_for: &str) -> StatusCode {
    let body = format!(r#"{{"email": "{email}", "password": "wrong"}}"#);
    let request = with_peer(
        Request::post("/v1/userauth")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", forwarded_for)
            .body(Body::from(body))
            .unwrap(),
    );
    app.clone().oneshot(request).await.unwrap().status()
}

on_both_backends!(
    sign_in_throttling_believes_x_forwarded_for_only_from_a_trusted_proxy,
    |db| {
        use billing_console::server::sign_in::PAIR_FREE_FAILURES;
        // Untrusted peer: its X-Forwarded-For is ignored, so changing it does
        // not escape the back-off of its (email, address) pair.
        let app = crate::common::app(db, "").await;
        for i in 0..PAIR_FREE_FAILURES {
            let status = failed_login(&app, "ann@example.com", &format!("198.51.100.{i}")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        assert_eq!(
            failed_login(&app, "ann@example.com", "198.51.100.250").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Behind a trusted proxy the forwarded address counts: another visitor
        // behind the same proxy is not held up by the first one's failures.
        let proxied = crate::common::app(db, "127.0.0.2, 127.0.0.1").await;
        assert_eq!(
            failed_login(&proxied, "ann@example.com", "198.51.100.251").await,
            StatusCode::UNAUTHORIZED
        );
    }
);

/// A site folder as `cargo leptos build --release --precompress` leaves it:
/// hashed bundle names, each with a brotli and a gzip copy.
fn built_site(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let site = std::env::temp_dir().join(format!("bc-site-{name}-{}-{n}", std::process::id()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (file, text) in [
        ("billing-console.Js1.js", "export default 1;"),
        ("billing-console.Wasm2.wasm", "\0asm-raw"),
        ("billing-console.Css3.css", "body{}"),
    ] {
        std::fs::write(pkg.join(file), text).unwrap();
        std::fs::write(pkg.join(format!("{file}.br")), format!("br:{text}")).unwrap();
        std::fs::write(pkg.join(format!("{file}.gz")), format!("gz:{text}")).unwrap();
    }
    site
}

on_both_backends!(
    the_bundle_is_served_precompressed_under_hashed_names_and_cached_for_good,
    |db| {
        let site = built_site("hashed");
        let app = crate::common::app_with(
            db,
            &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())],
            billing_console::server::clock::Clock::system(),
        )
        .await;

        // Pages name the files the site folder holds.
        let page = app.clone().oneshot(get("/signin")).await.unwrap();
        assert_eq!(page.headers()[header::CACHE_CONTROL], "private, no-cache");
        let html = body_text(page).await;
        for name in [
            "/pkg/billing-console.Css3.css",
            "/pkg/billing-console.Js1.js",
            "billing-console.Wasm2.wasm",
        ] {
            assert!(html.contains(name), "{name} in {html}");
        }

        // The brotli copy as it was built, for a year, without page headers.
        let wasm = |encoding: &'static str| {
            let mut request = get("/pkg/billing-console.Wasm2.wasm");
            request
                .headers_mut()
                .insert(header::ACCEPT_ENCODING, encoding.parse().unwrap());
            app.clone().oneshot(request)
        };
        let response = wasm("br, gzip").await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert!(!response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(body_text(response).await, "br:\0asm-raw");
        let response = wasm("gzip").await.unwrap();
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body_text(response).await, "gz:\0asm-raw");
        let response = wasm("identity").await.unwrap();
        assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body_text(response).await, "\0asm-raw");

        // A name that is not in the folder is a page's 404, not cached.
        let missing = app
            .clone()
            .oneshot(get("/pkg/billing-console.Old0.wasm"))
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            missing.headers()[header::CACHE_CONTROL],
            "private, no-cache"
        );
        std::fs::remove_dir_all(&site).unwrap();
    }
);

on_both_backends!(a_bundle_with_plain_names_is_revalidated, |db| {
    // `cargo leptos watch` / a build without hash-files: same names on every
    // build, so browsers must ask again.
    let site = built_site("plain");
    for extension in ["js", "wasm", "css"] {
        let pkg = site.join("pkg");
        let hashed = std::fs::read_dir(&pkg)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(&format!(".{extension}")))
            .unwrap();
        std::fs::rename(
            pkg.join(&hashed),
            pkg.join(format!("billing-console.{extension}")),
        )
        .unwrap();
    }
    let app = crate::common::app_with(
        db,
        &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())],
        billing_console::server::clock::Clock::system(),
    )
    .await;
    let html = body_text(app.clone().oneshot(get("/signin")).await.unwrap()).await;
    assert!(
        html.contains(r#"href="/pkg/billing-console.css""#),
        "{html}"
    );
    let response = app
        .clone()
        .oneshot(get("/pkg/billing-console.wasm"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    std::fs::remove_dir_all(&site).unwrap();
});

on_both_backends!(the_guided_flow_puts_no_billing_detail_in_a_url, |db| {
    let app = crate::common::app(db, "").await;
    let cookie = crate::common::signed_in_cookie(&app, "demo@example.com").await;
    let user = db
        .store
        .user_by_email("demo@example.com")
        .await
        .unwrap()
        .unwrap();
    let account = db.store.accounts_of_user(&user.user_id).await.unwrap()[0]
        .account_id
        .clone();
    // The projects step posts every answer so far, as a form without
    // JavaScript does.
    let form = format!(
        "account_id={account}&step=3&billing_group_name=Secret+Research&company=Hidden+Oy\
         &vat_id=FI12345671&billing_emails=ap%40hidden.example&projects%5B%5D=acme-prod"
    );
    let mut step = with_peer(
        Request::post("/api/new_group_step")
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &cookie)
            .body(Body::from(form))
            .unwrap(),
    );
    step.headers_mut().insert(
        header::REFERER,
        format!("http://localhost/account/{account}/new-billing-group?step=2")
            .parse()
            .unwrap(),
    );
    let response = app.clone().oneshot(step).await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let prefix = format!("/account/{account}/new-billing-group?draft=");
    let rest = location.strip_prefix(&prefix).expect(&location);
    let (draft, step) = rest.split_once('&').expect(&location);
    assert!(
        draft.len() == 32 && draft.chars().all(|c| c.is_ascii_hexdigit()),
        "{location}"
    );
    assert_eq!(step, "step=3");
    for secret in ["Secret", "Hidden", "FI123", "hidden.example", "acme-prod"] {
        assert!(!location.contains(secret), "{secret} in {location}");
    }
    // The page it names shows the answers, for this user.
    let mut page = get(&location);
    page.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let response = app.clone().oneshot(page).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = body_text(response).await;
    assert!(
        html.contains("Hidden Oy"),
        "the draft's answers on its page"
    );
});
