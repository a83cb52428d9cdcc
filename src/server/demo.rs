//! Demo data for an empty database, so a newcomer sees a living console:
//! two accounts, eight projects, services with three months of hourly usage
//! history, three billing groups, members of each role, exchange rates.
//! A database that already holds data is never touched.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId, UserId};
use crate::model::money::Currency;
use crate::model::states::CreditType;
use crate::model::{CurrentUser, Role};
use crate::server::auth::hash_password;
use crate::server::billing::billing_info::{self, BillingInfoForm};
use crate::server::billing::{
    accounts, budgets, credits, groups, members, month_close, prices, projects,
};

/// Where the demo's pay-by-invoice group gets its invoices, and who hears
/// about its budget.
pub const DEMO_INVOICE_EMAIL: &str = "ap@acme.example";
pub const DEMO_CONTACT_EMAIL: &str = "finance@acme.example";

/// The demo's price list (the format `billing-console prices import` reads).
pub const DEMO_PRICES: &str = include_str!("demo_prices.csv");
use crate::server::config::Seller;
use crate::server::store::{NewCredit, NewService, NewUser, RunEnd, Store};

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-billing-2026";
/// The other demo members share the demo password.
pub const DEMO_MEMBERS: [(&str, &str, Role); 4] = [
    ("billing@example.com", "Bea Billing", Role::Billing),
    ("developer@example.com", "Dev Developer", Role::Developer),
    ("viewer@example.com", "Vic Viewer", Role::Viewer),
    ("admin@example.com", "Ada Admin", Role::Admin),
];

/// Exchange rates (local units per USD) seeded for every billing currency.
pub const DEMO_RATES: [(Currency, &str); 12] = [
    (Currency::AUD, "1.52"),
    (Currency::CAD, "1.37"),
    (Currency::CHF, "0.88"),
    (Currency::DKK, "6.87"),
    (Currency::EUR, "0.92"),
    (Currency::GBP, "0.79"),
    (Currency::JPY, "151.2"),
    (Currency::NOK, "10.71"),
    (Currency::NZD, "1.66"),
    (Currency::SEK, "10.52"),
    (Currency::SGD, "1.35"),
    (Currency::USD, "1"),
];

/// (service name, type, plan); the price comes from the demo price list.
type DemoService = (&'static str, &'static str, &'static str);
/// (project name, account id, index of its group in the account, services)
type DemoProject<'a> = (&'static str, &'a str, usize, &'static [DemoService]);
/// A run: start, and end with its reason (None: still running).
type DemoRun = (DateTime<Utc>, Option<(DateTime<Utc>, RunEnd)>);

/// Seeds the demo when the database is empty. Returns false when it held data.
///
/// With `scheduled_close` the past three months are closed as the job
/// would have closed them; without it the last month is left for the
/// operator's `close-month` (and the credits issued for it to use).
pub async fn seed_if_empty(
    store: &dyn Store,
    seller: &Seller,
    link_base: &str,
    now: DateTime<Utc>,
    scheduled_close: bool,
) -> AppResult<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    seed(store, now).await?;
    // The past months are closed as the scheduled job would have closed
    // them, a few minutes into the next month.
    let last = if scheduled_close { 1 } else { 2 };
    for months_back in (last..=3).rev() {
        let period = month_start(now, months_back);
        let closed_at = month_start(now, months_back - 1) + chrono::Duration::minutes(5);
        month_close::close_month(store, seller, link_base, period, closed_at, "system").await?;
    }
    Ok(true)
}

async fn seed(store: &dyn Store, now: DateTime<Utc>) -> AppResult<()> {
    let password_hash = hash_password(DEMO_PASSWORD)?;
    // History starts on the first day of the month three months back.
    let start = month_start(now, 3);
    let add_user = |email: &'static str, name: &'static str| {
        let hash = password_hash.clone();
        async move {
            let user = store
                .create_user(
                    &NewUser {
                        user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                        email: email.into(),
                        real_name: name.into(),
                        password_hash: hash,
                        // The demo user also shows the operators' page.
                        is_operator: email == DEMO_EMAIL,
                    },
                    start,
                )
                .await?;
            Ok::<_, AppError>(user.current())
        }
    };
    let demo = add_user(DEMO_EMAIL, "Dana Demo").await?;

    for (currency, rate) in DEMO_RATES {
        let rate: Decimal = rate.parse().map_err(|_| AppError::Internal)?;
        store
            .set_exchange_rate(currency, start.date_naive(), rate)
            .await?;
    }

    // Account 1: three groups, EUR primary.
    let (acme, acme_primary) =
        accounts::create_account(store, &demo, "Acme Analytics", "EUR", start).await?;
    let acme_research = groups::create_group(
        store,
        &demo,
        &acme.account_id,
        "Research & Development",
        None,
        start,
    )
    .await?;
    // Acme's primary group pays by invoice: each month's invoice is mailed
    // to its invoice email, and its budget alerts go to finance.
    billing_info::save(
        store,
        &demo,
        &acme_primary.billing_group_id,
        &BillingInfoForm {
            payment_method: "email".into(),
            company: "Acme Analytics Oy".into(),
            address: "Mannerheimintie 1".into(),
            city: "Helsinki".into(),
            zip_code: "00100".into(),
            country_code: "FI".into(),
            vat_id: "FI12345671".into(),
            billing_emails: DEMO_INVOICE_EMAIL.into(),
            billing_contact_emails: DEMO_CONTACT_EMAIL.into(),
            billing_currency: "EUR".into(),
            ..Default::default()
        },
        start,
    )
    .await?;
    budgets::set_budget(
        store,
        &demo,
        &acme_primary.billing_group_id,
        "3000",
        "",
        start,
    )
    .await?;
    // Account 2: the demo user is a viewer there, to show a second role.
    let (globex, _) =
        accounts::create_account(store, &demo, "Globex Logistics", "GBP", start).await?;

    for (email, name, role) in DEMO_MEMBERS {
        let member = add_user(email, name).await?;
        store
            .add_member(
                &acme.account_id,
                &member.user_id,
                role,
                &members::added_event(&acme.account_id, &demo.email, &member.email, role, start),
                start,
            )
            .await?;
    }
    // The demo user created Globex (admin); Bea administers it day to day.

    let acme_groups = [
        acme_primary.billing_group_id.as_str(),
        acme_research.billing_group_id.as_str(),
    ];
    let plan: [DemoProject; 8] = [
        (
            "acme-prod",
            acme.account_id.as_str(),
            0,
            &[
                ("pg-orders", "pg", "business-4"),
                ("kafka-events", "kafka", "business-8"),
                ("redis-cache", "redis", "startup-4"),
            ],
        ),
        (
            "acme-staging",
            acme.account_id.as_str(),
            0,
            &[
                ("pg-orders-stg", "pg", "startup-4"),
                ("opensearch-logs", "opensearch", "startup-8"),
            ],
        ),
        (
            "acme-analytics",
            acme.account_id.as_str(),
            0,
            &[("mysql-reports", "mysql", "business-4")],
        ),
        (
            "acme-ml-lab",
            acme.account_id.as_str(),
            1,
            &[
                ("pg-features", "pg", "business-8"),
                ("kafka-ingest", "kafka", "startup-2"),
            ],
        ),
        (
            "acme-sandbox",
            acme.account_id.as_str(),
            1,
            &[("redis-scratch", "redis", "hobbyist")],
        ),
        (
            "globex-fleet",
            globex.account_id.as_str(),
            0,
            &[
                ("pg-fleet", "pg", "premium-8"),
                ("kafka-telemetry", "kafka", "business-4"),
            ],
        ),
        (
            "globex-routing",
            globex.account_id.as_str(),
            0,
            &[("opensearch-routes", "opensearch", "business-4")],
        ),
        (
            "globex-web",
            globex.account_id.as_str(),
            0,
            &[("redis-sessions", "redis", "startup-4")],
        ),
    ];
    // The demo's services are priced from its price list, as real ones are.
    prices::import_prices(store, DEMO_PRICES, start)
        .await
        .map_err(|errors| {
            tracing::error!(?errors, "the demo price list is invalid");
            AppError::Internal
        })?;
    let price_list = prices::PriceList::load(store).await?;
    for (index, (project_name, account_id, group_index, services)) in plan.iter().enumerate() {
        let group = if *account_id == acme.account_id.as_str() {
            Some(acme_groups[*group_index])
        } else {
            None
        };
        projects::create_project(
            store,
            &demo,
            &AccountId::from(*account_id),
            project_name,
            group,
            "google-europe-north1",
            start,
        )
        .await?;
        for (service_index, (service_name, service_type, service_plan)) in
            services.iter().enumerate()
        {
            let service_id = uuid::Uuid::new_v4().to_string();
            let price = price_list
                .price_at(service_type, service_plan, "google-europe-north1", start)
                .ok_or(AppError::Internal)?
                .hourly_price_usd
                .0;
            store
                .create_service(
                    &NewService {
                        service_id: service_id.clone(),
                        project_name: project_name.to_string(),
                        service_name: service_name.to_string(),
                        service_type: service_type.to_string(),
                        plan: service_plan.to_string(),
                        cloud_name: "google-europe-north1".into(),
                        hourly_price_usd: price,
                    },
                    start,
                )
                .await?;
            for (run_start, run_end) in demo_runs(start, now, index * 7 + service_index) {
                store
                    .record_service_run(&service_id, run_start, run_end)
                    .await?;
            }
        }
    }
    seed_credits(
        store,
        &demo,
        [
            &acme_primary.billing_group_id,
            &acme_research.billing_group_id,
        ],
        start,
        now,
    )
    .await?;
    tracing::info!(email = DEMO_EMAIL, "demo data seeded");
    Ok(())
}

/// Two claimed credits: a trial on Acme's primary group that expired in
/// the middle of a month, and a promotion earmarked for one research
/// project that is still running down.
async fn seed_credits(
    store: &dyn Store,
    demo: &CurrentUser,
    [primary, research]: [&str; 2],
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let credits = [
        (
            primary,
            CreditType::Trial,
            "500",
            start + Duration::days(45),
            None,
        ),
        (
            research,
            CreditType::Promotion,
            "5000",
            now + Duration::days(90),
            Some("acme-ml-lab"),
        ),
    ];
    for (group, credit_type, value, expires, earmark) in credits {
        let code = credits::generate_code();
        store
            .insert_credits(
                &[NewCredit {
                    code: code.clone(),
                    credit_type,
                    value_usd: value.parse().map_err(|_| AppError::Internal)?,
                    start_time: start,
                    expire_time: Some(expires),
                }],
                start,
            )
            .await?;
        credits::claim_credit(
            store,
            demo,
            &GroupId::from(group),
            &crate::model::credits::display_code(&code),
            earmark,
            start,
        )
        .await?;
    }
    Ok(())
}

/// Run intervals for one service: mostly on, with a few power-offs, and a
/// staging-like service terminated near the end, varied by `seed`.
fn demo_runs(start: DateTime<Utc>, now: DateTime<Utc>, seed: usize) -> Vec<DemoRun> {
    let mut runs = Vec::new();
    let mut cursor = start + Duration::hours((seed % 5) as i64 * 7);
    let mut step = 0usize;
    while cursor < now {
        step += 1;
        // Runs of 9 to 27 days, then 1 to 3 days off.
        let length =
            Duration::hours(24 * (9 + ((seed * 5 + step * 7) % 19) as i64) + (seed % 11) as i64);
        let end = cursor + length;
        if end >= now {
            runs.push((cursor, None));
            break;
        }
        let terminated = seed % 9 == 4 && end > now - Duration::days(20);
        let reason = if terminated {
            RunEnd::Terminated
        } else {
            RunEnd::PoweredOff
        };
        runs.push((cursor, Some((end, reason))));
        if terminated {
            break;
        }
        cursor = end + Duration::hours(24 * (1 + (step % 3) as i64) + 5);
    }
    runs
}

/// Midnight UTC on the first day of the month `months_back` before `now`.
fn month_start(now: DateTime<Utc>, months_back: u32) -> DateTime<Utc> {
    let total = now.year() * 12 + now.month0() as i32 - months_back as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let day = NaiveDate::from_ymd_opt(year, month0 + 1, 1).unwrap_or_default();
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_start_goes_back_across_years() {
        let now = Utc.with_ymd_and_hms(2026, 2, 14, 10, 0, 0).unwrap();
        assert_eq!(
            month_start(now, 3),
            Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn demo_runs_do_not_overlap_and_end_before_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let start = month_start(now, 3);
        for seed in 0..60 {
            let runs = demo_runs(start, now, seed);
            assert!(!runs.is_empty());
            let mut previous_end = start;
            for (from, end) in &runs {
                assert!(*from >= previous_end, "seed {seed} overlaps");
                if let Some((to, _)) = end {
                    assert!(to > from && *to < now);
                    previous_end = *to;
                }
            }
        }
    }
}
