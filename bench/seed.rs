//! Benchmark data: one account with N projects spread over G billing groups,
//! each project with two services running since the start of the month.
//! Prints the id of the largest group (the one the group-page benchmark hits).
//!
//!   cargo run --release --features ssr --example bench-seed -- \
//!       sqlite://bench.db 2000 20

use billing_console::model::ids::UserId;
use billing_console::model::money::Currency;
use billing_console::server::auth::hash_password;
use billing_console::server::billing::{accounts, calendar, groups, projects};
use billing_console::server::store::{self, NewService, NewUser};
use chrono::Utc;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "sqlite://bench.db".into());
    let project_count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let group_count: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20);
    let store = store::connect(&url, 8).await.expect("open database");
    let now = Utc::now();
    let (month_start, _) = calendar::month_of(now);

    let record = store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email: "bench@example.com".into(),
                real_name: "Bench".into(),
                password_hash: hash_password("bench-password").expect("hash"),
                is_operator: true,
            },
            month_start,
        )
        .await
        .expect("user");
    let user = record.current();
    let (account, primary) =
        accounts::create_account(store.as_ref(), &user, "Bench Corp", "EUR", month_start)
            .await
            .expect("account");
    store
        .set_exchange_rate(
            Currency::EUR,
            month_start.date_naive(),
            "0.92".parse().unwrap(),
        )
        .await
        .expect("rate");
    let mut group_ids = vec![primary.billing_group_id.clone()];
    for i in 1..group_count {
        let g = groups::create_group(
            store.as_ref(),
            &user,
            &account.account_id,
            &format!("Group {i:02}"),
            None,
            month_start,
        )
        .await
        .expect("group");
        group_ids.push(g.billing_group_id);
    }
    for i in 0..project_count {
        let group = &group_ids[i % group_ids.len()];
        let name = format!("bench-project-{i:05}");
        projects::create_project(
            store.as_ref(),
            &user,
            &account.account_id,
            &name,
            Some(group),
            "",
            month_start,
        )
        .await
        .expect("project");
        for (service, price) in [("pg", "0.822"), ("kafka", "1.370")] {
            let id = uuid::Uuid::new_v4().to_string();
            store
                .create_service(
                    &NewService {
                        service_id: id.clone(),
                        project_name: name.clone(),
                        service_name: format!("{service}-{i}"),
                        service_type: service.into(),
                        plan: "business-4".into(),
                        cloud_name: "google-europe-north1".into(),
                        hourly_price_usd: price.parse().unwrap(),
                    },
                    month_start,
                )
                .await
                .expect("service");
            store
                .record_service_run(&id, month_start, None)
                .await
                .expect("run");
        }
    }
    println!("{}", group_ids[0]);
}
