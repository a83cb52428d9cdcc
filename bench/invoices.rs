//! Invoice benchmarks (issue 4), release build on SQLite (a file path) or
//! PostgreSQL (a `postgres://` URL of an empty database):
//! - month close of G groups × P projects × S services (default 10,000 ×
//!   10 × 10 = one million invoice lines), timed in process;
//! - the PDF of a 1,000-line invoice, mean of 20 renders.
//!
//!   cargo run --release --features ssr --example bench-invoices -- /tmp/close.db 10000 10 10 [C]
//!
//! With C, the first C groups each hold two claimed credits (issue 5): one
//! for all projects that expires mid-month (so the engine runs again on the
//! two halves of the month) and one earmarked for a project.

use std::time::Instant;

/// The server binary's allocator (src/main.rs), so the figures are its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use billing_console::model::invoices::{InvoiceDetail, InvoiceLine, InvoiceParty, InvoiceSummary};
use billing_console::model::money::{Currency, Money};
use billing_console::model::states::{GroupState, InvoiceState, LineType, PaymentMethod};
use billing_console::model::Role;
use billing_console::server::billing::{drafts, invoice_files, month_close};
use billing_console::server::config::Seller;
use billing_console::server::store;
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;

/// The seeding, written once for either backend's pool.
macro_rules! seed {
    ($options:expr, $defer_foreign_keys:expr, $url:expr, $groups:expr, $projects:expr, $services:expr, $credited:expr, $period:expr, $created:expr) => {{
    let (url, groups, projects, services, credited, period, created) = ($url, $groups, $projects, $services, $credited, $period, $created);
    let pool = $options.max_connections(1).connect(&url).await.expect("pool");
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query($defer_foreign_keys)
        .execute(&mut *tx)
        .await
        .ok();
    let account = "bench-account";
    sqlx::query("INSERT INTO accounts (account_id, account_name, primary_billing_group_id, create_time, update_time) VALUES ($1, 'Bench', 'g00000', $2, $2)")
        .bind(account)
        .bind(created)
        .execute(&mut *tx)
        .await
        .expect("account");
    for chunk in (0..groups).collect::<Vec<_>>().chunks(1000) {
        let mut sql = String::from("INSERT INTO billing_groups (billing_group_id, account_id, billing_group_name, billing_currency, payment_method, billing_emails, create_time, update_time) VALUES ");
        for (i, g) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('g{g:05}', '{account}', 'Group {g}', 'EUR', 'email', '[\"ap@example.com\"]', $1, $1)"
            ));
        }
        sqlx::query(&sql)
            .bind(created)
            .execute(&mut *tx)
            .await
            .expect("groups");
    }
    let project_rows: Vec<(usize, usize)> = (0..groups)
        .flat_map(|g| (0..projects).map(move |p| (g, p)))
        .collect();
    for chunk in project_rows.chunks(2000) {
        let mut sql = String::from("INSERT INTO projects (project_name, account_id, billing_group_id, default_cloud, create_time) VALUES ");
        let mut history = String::from("INSERT INTO project_group_history (project_name, billing_group_id, valid_from) VALUES ");
        for (i, (g, p)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
                history.push(',');
            }
            sql.push_str(&format!(
                "('p{g:05}-{p:02}', '{account}', 'g{g:05}', 'c', $1)"
            ));
            history.push_str(&format!("('p{g:05}-{p:02}', 'g{g:05}', $1)"));
        }
        sqlx::query(&sql)
            .bind(created)
            .execute(&mut *tx)
            .await
            .expect("projects");
        sqlx::query(&history)
            .bind(created)
            .execute(&mut *tx)
            .await
            .expect("history");
    }
    let service_rows: Vec<(usize, usize, usize)> = project_rows
        .iter()
        .flat_map(|&(g, p)| (0..services).map(move |s| (g, p, s)))
        .collect();
    for chunk in service_rows.chunks(2000) {
        let mut sql = String::from("INSERT INTO services (service_id, project_name, service_name, service_type, plan, cloud_name, hourly_price_usd, create_time) VALUES ");
        let mut runs = String::from("INSERT INTO service_runs (service_id, started_at, plan, hourly_price_usd, billed_from) VALUES ");
        for (i, (g, p, s)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
                runs.push(',');
            }
            sql.push_str(&format!(
                "('s{g:05}-{p:02}-{s:02}', 'p{g:05}-{p:02}', 'svc-{s:02}', 'pg', 'business-4', 'c', '0.{:03}', $1)",
                100 + s * 37
            ));
            runs.push_str(&format!(
                "('s{g:05}-{p:02}-{s:02}', $1, 'business-4', '0.{:03}', $1)",
                100 + s * 37
            ));
        }
        sqlx::query(&sql)
            .bind(created)
            .execute(&mut *tx)
            .await
            .expect("services");
        sqlx::query(&runs)
            .bind(created)
            .execute(&mut *tx)
            .await
            .expect("runs");
    }
    sqlx::query(
        "INSERT INTO exchange_rates (currency, valid_from, usd_rate) VALUES ('EUR', $1, '0.92')",
    )
    .bind(created.date_naive())
    .execute(&mut *tx)
    .await
    .expect("rate");
    for chunk in (0..credited.min(groups)).collect::<Vec<_>>().chunks(1000) {
        let mut sql = String::from("INSERT INTO credits (code, credit_type, value_usd, remaining_value_usd, start_time, expire_time, issue_time, billing_group_id, earmarked_project_name, claim_time) VALUES ");
        for (i, g) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('HALF{g:012}', 'trial', '500', '500', $1, $2, $1, 'g{g:05}', NULL, $1),\
                 ('EARM{g:012}', 'promotion', '300', '300', $1, NULL, $1, 'g{g:05}', 'p{g:05}-00', $1)"
            ));
        }
        sqlx::query(&sql)
            .bind(created)
            .bind(period + Duration::days(15))
            .execute(&mut *tx)
            .await
            .expect("credits");
    }
    tx.commit().await.expect("commit");
    pool.close().await;
    }};
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/bench-close.db".into());
    let groups: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let projects: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let services: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(10);
    let credited: usize = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(0);
    // A PostgreSQL URL (an empty database), or a SQLite file made afresh.
    let url = if path.starts_with("postgres") {
        path.clone()
    } else {
        let _ = std::fs::remove_file(&path);
        format!("sqlite://{path}")
    };
    // SAFETY: as in src/main.rs, before any connection exists.
    unsafe { store::sqlite::configure_process() };
    let store = store::connect(&url, 4).await.expect("open database");
    let period = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let created = period - Duration::days(30);

    // Seeding goes straight to SQL, many rows per statement: a million
    // services through the store's one-row API would take far longer than
    // the close being measured.
    let seed_started = Instant::now();
    if url.starts_with("postgres") {
        seed!(
            PgPoolOptions::new(),
            "SET CONSTRAINTS ALL DEFERRED",
            &url,
            groups,
            projects,
            services,
            credited,
            period,
            created
        );
    } else {
        seed!(
            SqlitePoolOptions::new(),
            "PRAGMA defer_foreign_keys = ON",
            &url,
            groups,
            projects,
            services,
            credited,
            period,
            created
        );
    }
    println!(
        "seeded {groups} groups × {projects} projects × {services} services in {:.1} s",
        seed_started.elapsed().as_secs_f64()
    );

    let seller = Seller::demo();
    let started = Instant::now();
    let summary = month_close::close_month(
        store.as_ref(),
        &seller,
        "https://console.example",
        period,
        period + Duration::days(31) + Duration::minutes(5),
        "bench",
    )
    .await
    .expect("close");
    let close_seconds = started.elapsed().as_secs_f64();
    let lines = groups * projects * services;
    println!(
        "month close: {} invoices, {lines} service lines, credits in {credited} groups, in {close_seconds:.2} s",
        summary.issued.len()
    );
    for (phase, took) in &summary.phases {
        println!("  {phase}: {:.2} s", took.as_secs_f64());
    }
    let started = Instant::now();
    let again = month_close::close_month(
        store.as_ref(),
        &seller,
        "https://console.example",
        period,
        period + Duration::days(31) + Duration::minutes(5),
        "bench",
    )
    .await
    .expect("close again");
    println!(
        "second close (idempotent): {} invoices in {:.2} s",
        again.issued.len(),
        started.elapsed().as_secs_f64()
    );

    // PDF of a 1,000-line invoice.
    let detail = thousand_line_invoice();
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..20 {
        bytes = invoice_files::invoice_pdf(&detail)
            .expect("the PDF is drawn")
            .len();
    }
    println!(
        "PDF of a 1,000-line invoice: {:.1} ms mean of 20, {bytes} bytes",
        started.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
}

fn thousand_line_invoice() -> InvoiceDetail {
    let begin = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let end = begin + Duration::days(31);
    let lines: Vec<InvoiceLine> = (0..1000)
        .map(|i| InvoiceLine {
            line_no: i + 1,
            line_type: LineType::ServiceCharge,
            description: format!("pg business-4 in google-europe-north1: 744 h at 0.{i:03} USD/h"),
            project_name: Some(format!("project-{:03}", i / 10)),
            service_name: Some(format!("service-{i:04}")),
            service_type: Some("pg".into()),
            service_plan: Some("business-4".into()),
            cloud_name: Some("google-europe-north1".into()),
            hours: Some(744),
            timestamp_begin: Some(begin),
            timestamp_end: Some(end),
            line_total_usd: Money::usd(Decimal::new(74_400 + i, 2)),
            line_total_local: Money::of(Decimal::new(68_448 + i, 2), Currency::EUR),
            local_currency: Currency::EUR,
            credit_code: None,
        })
        .collect();
    let total = Money::of(
        lines.iter().map(|l| l.line_total_local.amount).sum(),
        Currency::EUR,
    );
    InvoiceDetail {
        summary: InvoiceSummary {
            invoice_number: "BENCH0000001-0001".into(),
            period_begin: begin,
            period_end: end,
            state: InvoiceState::Mailed,
            currency: Currency::EUR,
            total_vat_zero: total,
            total_inc_vat: total,
            issue_date: Some(end.date_naive()),
            due_date: Some(end.date_naive() + Duration::days(14)),
            overdue_days: None,
            download_cookie: None,
            credited: None,
            replaces: None,
            reissued_as: None,
            paid_date: None,
        },
        billing_group_id: "g".into(),
        billing_group_name: "Bench".into(),
        billing_group_state: GroupState::Active,
        role: Role::Admin,
        exchange_rate: Decimal::new(92, 2),
        vat_rate: Decimal::ZERO,
        vat_note: String::new(),
        total_usd: Money::zero(Currency::USD),
        payment_method: PaymentMethod::Email,
        seller: drafts::seller_party(&Seller::demo()),
        customer: InvoiceParty {
            name: "Bench Corp".into(),
            ..InvoiceParty::default()
        },
        lines,
        notice: None,
        payment: None,
        pay_to: None,
        credit_note: None,
        corrections: Default::default(),
    }
}
