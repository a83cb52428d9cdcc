//! Running it: readiness and its drain on SIGTERM, commands that say which
//! database they use and refuse to make a new one, a truthful month close
//! report, and backup and restore of the SQLite database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use billing_console::model::ids::UserId;
use billing_console::server::store::{self, NewUser};
use sqlx::Connection;

use super::startup::{binary, free_port, run, scratch, start_demo_in, stderr, terminate};

/// One HTTP/1.0 GET: the whole answer (status line, headers, body).
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(stream, "GET {path} HTTP/1.0\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn status_of(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or_default()
}

/// A site folder holding the three bundle files a page needs.
fn site_with_bundle(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    for name in [
        "billing-console.js",
        "billing-console_bg.wasm",
        "billing-console.css",
    ] {
        std::fs::write(site.join("pkg").join(name), b"").unwrap();
    }
    site
}

#[test]
fn readyz_answers_503_while_the_server_drains_after_sigterm() {
    let dir = scratch();
    let site = site_with_bundle(&dir);
    let port = free_port();
    let (child, health) = start_demo_in(
        &dir,
        port,
        &[
            ("LEPTOS_SITE_ROOT", site.to_str().unwrap()),
            ("SHUTDOWN_DRAIN_SECONDS", "3"),
        ],
    );
    assert!(health.is_some(), "server never became healthy");
    let ready = get(port, "/readyz");
    assert_eq!(status_of(&ready), "200", "{ready}");
    assert!(ready.contains(r#""status":"ready""#), "{ready}");

    let signalled = Instant::now();
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    let draining = get(port, "/readyz");
    assert_eq!(status_of(&draining), "503", "{draining}");
    assert!(draining.contains("shutting down"), "{draining}");
    // Still serving while it drains: liveness stays green.
    assert_eq!(status_of(&get(port, "/healthz")), "200");

    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        signalled.elapsed() >= Duration::from_secs(3),
        "the server stopped before its drain ended ({:?})",
        signalled.elapsed()
    );
}

#[test]
fn readyz_names_a_missing_browser_bundle() {
    let dir = scratch();
    let port = free_port();
    let empty_site = dir.join("no-site");
    let (child, health) = start_demo_in(
        &dir,
        port,
        &[("LEPTOS_SITE_ROOT", empty_site.to_str().unwrap())],
    );
    let answer = get(port, "/readyz");
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    assert!(health.is_some(), "{}", stderr(&output));
    assert_eq!(status_of(&answer), "503", "{answer}");
    assert!(answer.contains("browser bundle missing"), "{answer}");
}

#[test]
fn an_import_without_a_database_refuses_and_creates_nothing() {
    let dir = scratch();
    let prices = dir.join("prices.csv");
    std::fs::write(
        &prices,
        "service_type,plan,cloud,hourly_price_usd,valid_from\npg,startup-4,,0.1,2026-01-01\n",
    )
    .unwrap();
    let rates = dir.join("rates.csv");
    std::fs::write(&rates, "date,currency,rate\n2026-01-01,EUR,0.9\n").unwrap();
    // No DATABASE_URL: the default file, relative to where it runs.
    for args in [
        vec!["prices", "import", prices.to_str().unwrap()],
        vec!["rates", "import", rates.to_str().unwrap()],
        vec!["prices", "list"],
        vec!["close-month", "--period", "2026-11"],
        vec!["backup", "copy.db"],
    ] {
        let output = run(binary().current_dir(&dir).args(&args));
        let message = stderr(&output);
        assert!(!output.status.success(), "{args:?}: {message}");
        let expected = dir.join("data/billing-console.db");
        assert!(
            message.contains(&format!("database: SQLite file {}", expected.display())),
            "{args:?} does not say which database it uses: {message}"
        );
        assert!(
            message.contains("no database at")
                && message.contains("set DATABASE_URL or start the server once"),
            "{args:?}: {message}"
        );
        assert!(
            !expected.exists(),
            "{args:?} created {}",
            expected.display()
        );
    }
}

#[test]
fn a_second_close_month_says_every_group_was_already_invoiced() {
    let dir = scratch();
    let port = free_port();
    let (child, health) = start_demo_in(&dir, port, &[("MONTH_CLOSE_SCHEDULED", "false")]);
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    assert!(health.is_some(), "{}", stderr(&output));
    let database = format!("sqlite://{}/data/db.sqlite", dir.display());
    // The default period: last month, which the demo leaves open when the
    // scheduled close is off.
    let close = || {
        run(binary()
            .env("DATABASE_URL", &database)
            .env("BILLING_DEMO", "true")
            .arg("close-month"))
    };
    let first = close();
    assert!(first.status.success(), "{}", stderr(&first));
    let first = String::from_utf8_lossy(&first.stdout).trim().to_string();
    // "Closed YYYY-MM: N invoice(s) issued; M group(s) already invoiced."
    let words: Vec<&str> = first.split(' ').collect();
    assert_eq!(words.first(), Some(&"Closed"), "{first}");
    let period = words[1].trim_end_matches(':');
    let issued: usize = words[2].parse().unwrap_or_else(|_| panic!("{first}"));
    let earlier: usize = words[5].parse().unwrap_or_else(|_| panic!("{first}"));
    assert!(issued > 0, "the demo leaves last month to close: {first}");
    let second = close();
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        format!(
            "Closed {period}: 0 invoice(s) issued; {} group(s) already invoiced.",
            issued + earlier
        ),
        "first run: {first}"
    );
}

#[test]
fn backup_while_the_server_runs_and_restore_only_when_it_has_stopped() {
    let dir = scratch();
    let port = free_port();
    let (child, health) = start_demo_in(&dir, port, &[]);
    let database = format!("sqlite://{}/data/db.sqlite", dir.display());
    let copy = dir.join("backup.db");
    let backup = run(binary()
        .env("DATABASE_URL", &database)
        .arg("backup")
        .arg(&copy));
    let restore_while_running = run(binary()
        .env("DATABASE_URL", &database)
        .arg("restore")
        .arg(&copy));
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    assert!(health.is_some(), "{}", stderr(&output));
    assert!(backup.status.success(), "{}", stderr(&backup));
    let report = String::from_utf8_lossy(&backup.stdout);
    assert!(report.contains("integrity ok"), "{report}");
    assert!(
        !restore_while_running.status.success()
            && stderr(&restore_while_running).contains("is in use"),
        "{}",
        stderr(&restore_while_running)
    );
    // A second backup to the same name is refused: it would overwrite.
    let again = run(binary()
        .env("DATABASE_URL", &database)
        .arg("backup")
        .arg(&copy));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let restore = run(binary()
        .env("DATABASE_URL", &database)
        .arg("restore")
        .arg(&copy));
    assert!(restore.status.success(), "{}", stderr(&restore));
    let said = String::from_utf8_lossy(&restore.stdout);
    assert!(said.contains("The database it replaced is at"), "{said}");
    let kept = std::fs::read_dir(dir.join("data"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains(".before-restore-"));
    assert!(kept, "the replaced database was not kept");
    // The restored database serves.
    let port = free_port();
    let (child, health) = start_demo_in(&dir, port, &[]);
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    assert!(health.is_some(), "restored database: {}", stderr(&output));
}

#[test]
fn restore_refuses_a_file_that_is_not_a_sound_database() {
    let dir = scratch();
    let junk = dir.join("junk.db");
    std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
    let database = dir.join("data/db.sqlite");
    let output = run(binary()
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .arg("restore")
        .arg(&junk));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("restore:"), "{}", stderr(&output));
    assert!(!database.exists(), "nothing may be written");
}

/// Writers keep adding users while the backup runs; every write
/// acknowledged before the backup began is in the copy, and the copy passes
/// SQLite's integrity check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_holds_every_acknowledged_write() {
    let dir = scratch();
    let url = format!("sqlite://{}/load.db", dir.display());
    let db = store::connect(&url, 8).await.unwrap();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (db, acknowledged, stop) = (db.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let email = format!("w{writer}-{n}@example.com");
                db.create_user(
                    &NewUser {
                        user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                        email: email.clone(),
                        real_name: "Load".into(),
                        password_hash: "x".into(),
                        is_operator: false,
                    },
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
                acknowledged.lock().unwrap().push(email);
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let copy = dir.join("copy.db");
    db.back_up_into(&copy).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    let total = acknowledged.lock().unwrap().len();
    assert!(
        before.len() > 10,
        "the load was too light: {}",
        before.len()
    );

    let facts = store::sqlite::inspect_backup(&copy).await.unwrap();
    assert_eq!(facts.integrity, "ok");
    let mut copy_db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&mut copy_db)
        .await
        .unwrap();
    let missing: Vec<&String> = before.iter().filter(|e| !emails.contains(e)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged write(s) missing from the copy, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert!(emails.len() < total, "writes went on during the backup");
}

/// `/metrics` exists only when asked for, and with METRICS_TOKEN only for
/// a bearer of it; it counts requests by route pattern (not by raw path)
/// and reads the outbox and the pool when scraped.
#[tokio::test]
async fn metrics_need_their_token_and_count_requests_by_route() {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    let db = crate::common::TestDb::sqlite().await;
    let clock = billing_console::server::clock::Clock::system();
    let token = "metrics-token-0123456789";
    let app = crate::common::app_with(&db, &[("METRICS_TOKEN", token)], clock.clone()).await;
    let scrape = |authorization: Option<String>| {
        let mut request = Request::get("/metrics");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(Body::empty()).unwrap()
    };
    let text = |response: axum::response::Response| async move {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8_lossy(&bytes).to_string()
    };

    let refused = app.clone().oneshot(scrape(None)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .clone()
        .oneshot(scrape(Some("Bearer metrics-token-wrong-guess".into())))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let bearer = Some(format!("Bearer {token}"));
    let first = app.clone().oneshot(scrape(bearer.clone())).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    for path in ["/healthz", "/v1/billing-group/no-such-group"] {
        app.clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
    }
    let answer = app.clone().oneshot(scrape(bearer)).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = text(answer).await;
    assert!(
        body.contains(r#"billing_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{body}"
    );
    assert!(
        body.contains(r#"route="/v1/billing-group/{billing_group_id}""#),
        "requests are counted by route pattern: {body}"
    );
    assert!(
        !body.contains("no-such-group"),
        "raw paths leak into labels"
    );
    for name in [
        "billing_http_request_duration_seconds_bucket",
        "billing_db_pool_max_connections",
        "billing_db_pool_acquire_seconds",
    ] {
        assert!(body.contains(name), "{name} missing: {body}");
    }

    // Without METRICS_TOKEN or METRICS_ADDR there is no /metrics.
    let plain = crate::common::app_with(&db, &[], clock).await;
    let none = plain.oneshot(scrape(None)).await.unwrap();
    assert_ne!(none.status(), StatusCode::OK);
    db.finish().await;
}
