//! The binary's start-up: one clear line and a non-zero exit for bad
//! settings, nothing half-created, demo seeding, health, SIGTERM.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_billing-console"));
    // Isolate from the developer's Leptos.toml and environment.
    command
        .current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env_remove("LEPTOS_SITE_ADDR")
        .env_remove("BILLING_DEMO")
        // SIGTERM stops at once unless a test asks for a drain.
        .env("SHUTDOWN_DRAIN_SECONDS", "0")
        .env("RUST_LOG", "warn");
    command
}

pub(crate) fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bc-startup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("run billing-console")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_port_in_use_is_named_and_nothing_is_created() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = scratch();
    let data = dir.join("data");
    let output = run(binary()
        .env("LEPTOS_SITE_ADDR", taken.local_addr().unwrap().to_string())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite", data.display()),
        ));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("cannot listen on") && message.contains("LEPTOS_SITE_ADDR"),
        "{message}"
    );
    assert!(
        !data.exists(),
        "the data directory was created although start-up failed"
    );
}

#[test]
fn a_bad_database_url_is_named() {
    let output = run(binary().env("DATABASE_URL", "mysql://localhost/billing"));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.starts_with("billing-console: DATABASE_URL"),
        "{message}"
    );
    assert_eq!(message.trim().lines().count(), 1, "{message}");
}

#[test]
fn an_unwritable_data_directory_is_named() {
    let dir = scratch();
    let file = dir.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let output = run(binary()
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/sub/db.sqlite", file.display()),
        ));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("data directory") && message.contains("DATABASE_URL"),
        "{message}"
    );
}

#[test]
fn a_malformed_config_file_is_named() {
    let dir = scratch();
    let config = dir.join("Leptos.toml");
    std::fs::write(&config, "[site\naddr = ").unwrap();
    let output = run(binary().arg("--config").arg(&config));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("Leptos.toml is malformed"), "{message}");
    let missing = run(binary().arg("--config").arg(dir.join("nope.toml")));
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );
}

/// Starts `serve --demo` on a fresh SQLite file and waits until /healthz
/// answers 200 (the response is returned; None when it never did).
fn start_demo(port: u16, extra_env: &[(&str, &str)]) -> (std::process::Child, Option<String>) {
    start_demo_in(&scratch(), port, extra_env)
}

/// The demo server on `port` with its database at `dir/data/db.sqlite`,
/// and its first healthy `/healthz` answer (None: it never got healthy).
pub(crate) fn start_demo_in(
    dir: &std::path::Path,
    port: u16,
    extra_env: &[(&str, &str)],
) -> (std::process::Child, Option<String>) {
    let mut command = binary();
    command
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/data/db.sqlite", dir.display()),
        )
        .arg("serve")
        .arg("--demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
                return (child, Some(response));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, None)
}

pub(crate) fn terminate(child: &std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

#[test]
fn demo_start_serves_health_and_stops_cleanly_on_sigterm() {
    let (child, health) = start_demo(free_port(), &[]);
    terminate(&child);
    let output = child.wait_with_output().unwrap();
    let health =
        health.unwrap_or_else(|| panic!("server never became healthy: {}", stderr(&output)));
    assert!(health.contains(r#""database":"ok""#), "{health}");
    assert!(
        output.status.success(),
        "SIGTERM should exit 0: {}",
        stderr(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("demo@example.com") && stdout.contains("demo-billing-2026"),
        "{stdout}"
    );
}

/// A request still arriving when SIGTERM comes is answered in full; new
/// connections are no longer taken; then the process exits 0. Served at a
/// base path, so the binary's BASE_PATH is exercised end to end too.
#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    use std::io::{Read, Write};
    let port = free_port();
    let (child, health) = start_demo(port, &[("BASE_PATH", "/billing")]);
    if health.is_none() {
        terminate(&child);
        let output = child.wait_with_output().unwrap();
        panic!("server never became healthy: {}", stderr(&output));
    }
    let body = format!(
        "email=demo%40example.com&password=demo-billing-2026&next=%2Fprojects&pad={}",
        "x".repeat(2000)
    );
    let (first, rest) = body.split_at(100);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /billing/api/sign_in HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    terminate(&child);
    std::thread::sleep(Duration::from_millis(500));
    let refused = std::net::TcpStream::connect(("127.0.0.1", port))
        .and_then(|mut late| {
            late.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")?;
            let mut answer = String::new();
            late.read_to_string(&mut answer)?;
            Ok(answer)
        })
        .map_or(true, |answer| answer.is_empty());
    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();

    let output = child.wait_with_output().unwrap();
    assert!(
        response.starts_with("HTTP/1.1 302") || response.starts_with("HTTP/1.1 303"),
        "the in-flight sign-in was not answered: {response:?} {}",
        stderr(&output)
    );
    assert!(response.contains("Path=/billing;"), "{response}");
    assert!(refused, "a new connection was served after SIGTERM");
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Runs the binary with `stdin` as its input.
pub(crate) fn run_with_input(command: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run billing-console");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_first_operator_and_account_can_be_created_from_the_command_line() {
    let dir = scratch();
    let db = format!("sqlite://{}/cli.db", dir.display());
    let create = |password: &str, email: &str| {
        run_with_input(
            binary().env("DATABASE_URL", &db).args([
                "users",
                "create",
                "--email",
                email,
                "--name",
                "Ops Person",
                "--operator",
            ]),
            &format!("{password}\n"),
        )
    };
    // A weak password: the field is named, nothing is created.
    let weak = create("password1234", "ops@example.com");
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("--password:"), "{}", stderr(&weak));
    let made = create("correct horse battery", "Ops@Example.com");
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(String::from_utf8_lossy(&made.stdout).contains("Created operator ops@example.com"));
    let again = create("correct horse battery", "ops@example.com");
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let account = run(binary().env("DATABASE_URL", &db).args([
        "accounts",
        "create",
        "--name",
        "Acme",
        "--currency",
        "EUR",
        "--admin",
        "ops@example.com",
    ]));
    assert!(account.status.success(), "{}", stderr(&account));
    let out = String::from_utf8_lossy(&account.stdout);
    assert!(
        out.contains("Created account Acme") && out.contains("in EUR"),
        "{out}"
    );
    let unknown = run(binary().env("DATABASE_URL", &db).args([
        "accounts",
        "create",
        "--name",
        "X",
        "--admin",
        "nobody@example.com",
    ]));
    assert!(
        stderr(&unknown).contains("--admin:"),
        "{}",
        stderr(&unknown)
    );

    // With a user, the server prints no setup link.
    let port = free_port();
    let mut server = binary()
        .env("DATABASE_URL", &db)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The port is bound before start-up ends; an answer from /healthz
    // means start-up (where a setup link would be printed) is over.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !answers_health(port) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains("/setup?token="), "{printed}");
}

#[test]
fn an_empty_database_prints_a_setup_link_again_at_each_start() {
    let dir = scratch();
    let db = format!("sqlite://{}/empty.db", dir.display());
    let mut links = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let mut server = binary()
            .env("DATABASE_URL", &db)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The port is bound before the link is printed: wait for the line
        // itself, not for the port.
        let lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
        let (sender, printed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stdout = String::new();
        let link = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match printed.recv_timeout(left) {
                Ok(line) => {
                    if let Some(link) = line
                        .split_whitespace()
                        .find(|w| w.contains("/setup?token="))
                    {
                        break link.to_string();
                    }
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
                Err(_) => panic!("no setup link in {stdout}"),
            }
        };
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(link.starts_with(&format!("http://127.0.0.1:{port}/setup?token=")));
        links.push(link);
    }
    assert_ne!(links[0], links[1], "a restart prints a new link");
}

/// Whether the server on `port` answers `GET /healthz` with 200.
fn answers_health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
