//! Security and robustness (issue 15) through HTTP, in process: where a
//! sign-in may send the browser, statuses of server-function errors,
//! cross-origin writes, and random bytes posted to every server function
//! and form (no panic, no 5xx).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use billing_console::server::clock::Clock;
use billing_console::server::demo;
use tower::ServiceExt;

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn with_peer(mut request: Request<Body>, peer: &str) -> Request<Body> {
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// A plain (no-JavaScript) sign-in form post.
fn form_sign_in(next: &str, peer: &str) -> Request<Body> {
    let body = format!(
        "email=demo%40example.com&password={}&next={}",
        demo::DEMO_PASSWORD,
        percent_encode(next)
    );
    with_peer(
        Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, "http://localhost/signin")
            .body(Body::from(body))
            .unwrap(),
        peer,
    )
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).to_string()
}

on_both_backends!(
    a_sign_in_sends_the_browser_only_to_a_path_of_this_site,
    |db| {
        let app = crate::common::app(db, "").await;
        let hostile = [
            "/\t/example.org",
            "/\n/example.org",
            "/\r\n/example.org",
            "//example.org",
            "/\\/example.org",
            "\\\\example.org",
            "/%09/example.org",
            "/%5C/example.org",
            "/%2F/example.org",
            "https://example.org/",
            "/\n",
            " /\t/example.org",
        ];
        for (i, next) in hostile.iter().enumerate() {
            let response = app
                .clone()
                .oneshot(form_sign_in(next, &format!("10.9.0.{i}:5000")))
                .await
                .unwrap();
            // Signed in and sent home or to a path here: never away, never a
            // dropped connection.
            if response.status() != StatusCode::FOUND {
                let status = response.status();
                panic!("{next:?}: {status} {}", body_text(response).await);
            }
            let location = response.headers()[header::LOCATION].to_str().unwrap();
            let resolved = url::Url::parse("http://app.invalid/")
                .unwrap()
                .join(location)
                .unwrap();
            assert_eq!(
                resolved.host_str(),
                Some("app.invalid"),
                "{next:?} → {location}"
            );
            assert!(
                location.starts_with('/') && !location.starts_with("//"),
                "{next:?} → {location}"
            );
        }
        // A NUL anywhere in a request is refused before it reaches the
        // form (no text here can hold one): an answer, not a dropped line.
        let nul = app
            .clone()
            .oneshot(form_sign_in("/\u{0}/example.org", "10.9.1.2:5000"))
            .await
            .unwrap();
        assert_eq!(nul.status(), StatusCode::BAD_REQUEST);
        assert!(nul.headers().get(header::LOCATION).is_none());
        let kept = app
            .clone()
            .oneshot(form_sign_in("/projects?x=1", "10.9.1.1:5000"))
            .await
            .unwrap();
        assert_eq!(kept.headers()[header::LOCATION], "/projects?x=1");
    }
);

/// A server function call as the hydrated page makes it: a form body,
/// asking for JSON.
fn fetch_call(endpoint: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    with_peer(
        request.body(Body::from(body.to_string())).unwrap(),
        "10.8.0.1:4000",
    )
}

on_both_backends!(
    server_function_errors_answer_4xx_and_plain_forms_still_redirect,
    |db| {
        let app = crate::common::app(db, "").await;
        // Wrong password, asked for by a hydrated page: 401 with the error.
        let wrong = app
            .clone()
            .oneshot(fetch_call(
                "sign_in",
                "email=demo%40example.com&password=wrong",
                None,
            ))
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(body_text(wrong).await.contains("invalid_credentials"));
        // Signed out: 401; a bad field: 400; a foreign or unknown group: 404.
        let signed_out = app
            .clone()
            .oneshot(fetch_call("group_header", "billing_group_id=x", None))
            .await
            .unwrap();
        assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
        let cookie = {
            let response = app
                .clone()
                .oneshot(fetch_call(
                    "sign_in",
                    &format!("email=demo%40example.com&password={}", demo::DEMO_PASSWORD),
                    None,
                ))
                .await
                .unwrap();
            response.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        };
        let missing = app
            .clone()
            .oneshot(fetch_call(
                "group_header",
                "billing_group_id=nope",
                Some(&cookie),
            ))
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let accounts = app
            .clone()
            .oneshot(fetch_call("list_accounts", "", Some(&cookie)))
            .await
            .unwrap();
        let accounts: serde_json::Value = serde_json::from_str(&body_text(accounts).await).unwrap();
        let account_id = accounts[0]["account_id"].as_str().unwrap().to_string();
        let empty_name = app
            .clone()
            .oneshot(fetch_call(
                "create_billing_group_guided",
                &format!("account_id={account_id}&billing_group_name=+++"),
                Some(&cookie),
            ))
            .await
            .unwrap();
        assert_eq!(empty_name.status(), StatusCode::BAD_REQUEST);
        // A malformed body is the caller's mistake too.
        let garbled = app
            .clone()
            .oneshot(fetch_call(
                "create_billing_group_guided",
                "%%%&&==",
                Some(&cookie),
            ))
            .await
            .unwrap();
        assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);
        // The same wrong password from a plain form: back to the page (302)
        // with the error in the URL, as before.
        let plain = app
            .clone()
            .oneshot(with_peer(
                Request::post("/api/sign_in")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "text/html")
                    .header(header::REFERER, "http://localhost/signin")
                    .body(Body::from("email=demo%40example.com&password=wrong"))
                    .unwrap(),
                "10.8.0.2:4000",
            ))
            .await
            .unwrap();
        assert_eq!(plain.status(), StatusCode::FOUND);
        assert!(plain.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("__err="));
    }
);

/// A sign-in as a browser on `origin` would post it to `host`.
fn sign_in_from(origin: Option<&str>, referer: Option<&str>, host: &str) -> Request<Body> {
    let mut request = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::HOST, host);
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    if let Some(referer) = referer {
        request = request.header(header::REFERER, referer);
    }
    let body = format!("email=demo%40example.com&password={}", demo::DEMO_PASSWORD);
    with_peer(request.body(Body::from(body)).unwrap(), "10.7.0.1:4000")
}

async fn status_of(app: &Router, request: Request<Body>) -> StatusCode {
    app.clone().oneshot(request).await.unwrap().status()
}

on_both_backends!(writes_from_another_site_are_refused_login_included, |db| {
    let app = crate::common::app(db, "").await;
    let host = "billing.example.com";
    let ours = "http://billing.example.com";
    // Same origin, by Origin or Referer, and clients that send neither.
    assert_eq!(
        status_of(&app, sign_in_from(Some(ours), None, host)).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            &app,
            sign_in_from(None, Some("http://billing.example.com/signin"), host)
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, sign_in_from(None, None, host)).await,
        StatusCode::OK
    );
    // Another site, a sibling on the same domain, another port or
    // scheme, an opaque origin: refused.
    for foreign in [
        "http://evil.example",
        "http://tools.example.com",
        "http://billing.example.com:8080",
        "https://billing.example.com",
        "null",
    ] {
        assert_eq!(
            status_of(&app, sign_in_from(Some(foreign), None, host)).await,
            StatusCode::FORBIDDEN,
            "{foreign}"
        );
    }
    assert_eq!(
        status_of(
            &app,
            sign_in_from(None, Some("http://evil.example/page"), host)
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // Sec-Fetch-Site alone: a browser that sends no Origin (a form post
    // some browsers make without one) still says where the request is from.
    let fetched_from = |site: &str, origin: Option<&str>| {
        let mut request = sign_in_from(origin, None, host);
        request
            .headers_mut()
            .insert("sec-fetch-site", site.parse().unwrap());
        request
    };
    for (site, origin, expected) in [
        ("cross-site", None, StatusCode::FORBIDDEN),
        ("cross-site", Some(ours), StatusCode::FORBIDDEN),
        ("same-site", None, StatusCode::FORBIDDEN),
        (
            "same-site",
            Some("http://tools.example.com"),
            StatusCode::FORBIDDEN,
        ),
        ("same-origin", None, StatusCode::OK),
        ("same-origin", Some(ours), StatusCode::OK),
        ("none", None, StatusCode::OK),
    ] {
        assert_eq!(
            status_of(&app, fetched_from(site, origin)).await,
            expected,
            "Sec-Fetch-Site: {site}, Origin: {origin:?}"
        );
    }
    // A REST write from a browser on another site too.
    let api = with_peer(
        Request::post("/v1/billing-group")
            .header(header::HOST, host)
            .header(header::ORIGIN, "http://evil.example")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap(),
        "10.7.0.2:4000",
    );
    assert_eq!(status_of(&app, api).await, StatusCode::FORBIDDEN);
    // With PUBLIC_URL, its origin is the one expected, whatever the Host.
    let public = crate::common::app_with(
        db,
        &[("PUBLIC_URL", "https://billing.example.com")],
        Clock::system(),
    )
    .await;
    assert_eq!(
        status_of(
            &public,
            sign_in_from(Some("https://billing.example.com"), None, "10.0.0.5:3000")
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            &public,
            sign_in_from(Some("http://10.0.0.5:3000"), None, "10.0.0.5:3000")
        )
        .await,
        StatusCode::FORBIDDEN
    );
});

/// A small deterministic generator (xorshift64*), so a failure repeats.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Random bytes, often shaped like a form or JSON, with control
    /// characters, percent signs, quotes and invalid UTF-8 mixed in.
    fn body(&mut self) -> Vec<u8> {
        let len = (self.next() % 300) as usize;
        let shape = self.next() % 4;
        let alphabet: &[u8] = b"=&%+;\"'{}[]:,\\/\t\n\r\x00\x01\x7fabcxyz019 -._@";
        let mut out: Vec<u8> = match shape {
            0 => Vec::new(),
            1 => b"email=".to_vec(),
            2 => b"{\"".to_vec(),
            _ => b"billing_group_id=".to_vec(),
        };
        for _ in 0..len {
            let pick = self.next();
            out.push(if pick.is_multiple_of(5) {
                (pick >> 8) as u8
            } else {
                alphabet[(pick >> 8) as usize % alphabet.len()]
            });
        }
        out
    }
}

on_both_backends!(
    random_bytes_posted_to_every_server_function_and_form_never_panic_or_fail,
    |db| {
        let app = crate::common::app(db, "").await;
        let cookie = {
            let response = app
                .clone()
                .oneshot(fetch_call(
                    "sign_in",
                    &format!("email=demo%40example.com&password={}", demo::DEMO_PASSWORD),
                    None,
                ))
                .await
                .unwrap();
            response.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        };
        let mut endpoints: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect();
        endpoints.sort();
        assert!(endpoints.len() >= 20, "{endpoints:?}");
        let mut random = Bytes(0x5eed_2026_1130);
        let mut peer = 0u32;
        for endpoint in &endpoints {
            for case in 0..24 {
                let body = random.body();
                let content_type = [
                    "application/x-www-form-urlencoded",
                    "application/json",
                    "application/octet-stream",
                    "text/plain",
                ][case % 4];
                let accept = if case % 3 == 0 {
                    "text/html"
                } else {
                    "application/json"
                };
                let mut request = Request::post(*endpoint)
                    .header(header::CONTENT_TYPE, content_type)
                    .header(header::ACCEPT, accept)
                    .header(header::REFERER, "http://localhost/");
                if case % 2 == 0 {
                    request = request.header(header::COOKIE, cookie.clone());
                }
                // Each try from its own address: the sign-in throttling's
                // slower path is not what this test is about.
                peer += 1;
                let request = with_peer(
                    request.body(Body::from(body.clone())).unwrap(),
                    &format!(
                        "10.{}.{}.{}:4000",
                        peer >> 16 & 255,
                        peer >> 8 & 255,
                        peer & 255
                    ),
                );
                let response = app.clone().oneshot(request).await.unwrap();
                assert!(
                    response.status().as_u16() < 500,
                    "{endpoint} answered {} to {:?}: {}",
                    response.status(),
                    String::from_utf8_lossy(&body),
                    body_text(response).await
                );
            }
        }
    }
);

async fn boom() -> &'static str {
    panic!("a bug on a request path")
}

/// A handler that panics answers 500 with a plain message, logged, and the
/// connection is not dropped: the same layer the server's router uses.
#[tokio::test]
async fn a_panic_in_a_handler_answers_500_instead_of_dropping_the_connection() {
    use tower_http::catch_panic::CatchPanicLayer;
    let app: Router = Router::new()
        .route("/boom", axum::routing::get(boom))
        .layer(CatchPanicLayer::custom(
            billing_console::server::security::panic_response,
        ));
    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = crate::common::body_text(response).await;
    assert!(text.contains("has been logged"), "{text}");
    assert!(
        !text.contains("a bug on a request path"),
        "no internals shown"
    );
}
