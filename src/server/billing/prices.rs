//! The price list (issue 17): an hourly USD price per service type, plan and
//! cloud (or every cloud), in force from a date; imported from CSV by the
//! operator; what `avn service types/plans` lists and what every new run
//! is priced at.
//!
//! **Which price an hour uses.** Each started hour of a run is billed at
//! the price in force when the hour starts. A price takes effect at its
//! `valid_from`, or when it is imported if that is later (the list cannot
//! rewrite hours that already ran); a cloud's own price beats an
//! every-cloud price from the same instant. A run carries its price: when a
//! new price takes effect, the running service's run is continued by a run
//! at the new price from the next hour of its grid (the same split as a plan
//! change), so the hour in progress keeps the old price. The server applies
//! due prices every minute and at each import (`apply_due_prices`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::costs::next_grid_hour;
use crate::error::{AppError, AppResult};
use crate::model::amount::{parse_amount, MAX_HOURLY_PRICE_USD};
use crate::model::states::EventType;
use crate::model::validation;
use crate::server::store::{DbDecimal, NewEvent, OpenRunRecord, PriceRecord, Store};

/// Clouds every price without a cloud of its own applies to (Aiven's
/// names); a cloud named by a price-list row is known as well.
pub const KNOWN_CLOUDS: &[&str] = &[
    "aws-eu-central-1",
    "aws-eu-north-1",
    "aws-eu-west-1",
    "aws-us-east-1",
    "aws-us-west-2",
    "azure-germany-westcentral",
    "azure-westeurope",
    "google-europe-north1",
    "google-europe-west1",
    "google-europe-west3",
    "google-us-central1",
    "upcloud-fi-hel1",
];

/// What `avn service types` calls each type we know; others by their name.
const TYPE_DESCRIPTIONS: &[(&str, &str)] = &[
    ("alloydbomni", "AlloyDB Omni"),
    ("cassandra", "Apache Cassandra"),
    ("clickhouse", "ClickHouse"),
    ("dragonfly", "Dragonfly"),
    ("flink", "Apache Flink"),
    ("grafana", "Grafana"),
    ("kafka", "Apache Kafka"),
    ("kafka_connect", "Apache Kafka Connect"),
    ("kafka_mirrormaker", "Apache Kafka MirrorMaker 2"),
    ("m3db", "M3DB"),
    ("mysql", "MySQL"),
    ("opensearch", "OpenSearch"),
    ("pg", "PostgreSQL"),
    ("redis", "Caching"),
    ("thanos", "Thanos Metrics"),
    ("valkey", "Valkey"),
];

pub fn type_description(service_type: &str) -> String {
    TYPE_DESCRIPTIONS
        .iter()
        .find(|(t, _)| *t == service_type)
        .map_or_else(|| service_type.to_string(), |(_, d)| d.to_string())
}

/// When a row takes effect: its date, or its import if later.
pub fn effective_from(row: &PriceRecord) -> DateTime<Utc> {
    row.valid_from.max(row.imported_at)
}

/// The price list as the rules read it.
#[derive(Debug, Clone, Default)]
pub struct PriceList {
    rows: Vec<PriceRecord>,
}

impl PriceList {
    pub fn new(rows: Vec<PriceRecord>) -> Self {
        PriceList { rows }
    }

    pub async fn load(store: &dyn Store) -> AppResult<Self> {
        Ok(PriceList::new(store.prices().await?))
    }

    pub fn rows(&self) -> &[PriceRecord] {
        &self.rows
    }

    /// The row in force at `at` for this type, plan and cloud.
    pub fn price_at(
        &self,
        service_type: &str,
        plan: &str,
        cloud: &str,
        at: DateTime<Utc>,
    ) -> Option<&PriceRecord> {
        self.rows
            .iter()
            .filter(|r| r.service_type == service_type && r.plan == plan)
            .filter(|r| r.cloud_name == cloud || r.cloud_name.is_empty())
            .filter(|r| effective_from(r) <= at)
            .max_by_key(|r| (effective_from(r), !r.cloud_name.is_empty()))
    }

    /// Every cloud a price applies to.
    pub fn clouds(&self) -> BTreeSet<String> {
        let mut clouds: BTreeSet<String> = KNOWN_CLOUDS.iter().map(|c| c.to_string()).collect();
        clouds.extend(
            self.rows
                .iter()
                .filter(|r| !r.cloud_name.is_empty())
                .map(|r| r.cloud_name.clone()),
        );
        clouds
    }

    pub fn service_types(&self) -> BTreeSet<String> {
        self.rows.iter().map(|r| r.service_type.clone()).collect()
    }

    pub fn plans_of(&self, service_type: &str) -> BTreeSet<String> {
        self.rows
            .iter()
            .filter(|r| r.service_type == service_type)
            .map(|r| r.plan.clone())
            .collect()
    }

    /// Per plan of the type, the price in force at `at` in each cloud that
    /// has one: what `avn service plans` shows.
    pub fn plan_prices(
        &self,
        service_type: &str,
        at: DateTime<Utc>,
    ) -> Vec<(String, BTreeMap<String, PriceRecord>)> {
        let clouds = self.clouds();
        self.plans_of(service_type)
            .into_iter()
            .map(|plan| {
                let regions = clouds
                    .iter()
                    .filter_map(|cloud| {
                        self.price_at(service_type, &plan, cloud, at)
                            .map(|row| (cloud.clone(), row.clone()))
                    })
                    .collect();
                (plan, regions)
            })
            .collect()
    }

    /// The price a service of this type, plan and cloud would start at
    /// now, or a field-level refusal naming what is unknown.
    pub fn price_for_new_run(
        &self,
        service_type: &str,
        plan: &str,
        cloud: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Decimal> {
        if !self.service_types().contains(service_type) {
            let known: Vec<String> = self.service_types().into_iter().collect();
            return Err(AppError::invalid(
                "service_type",
                format!(
                    "'{service_type}' is not a service type of the price list ({}).",
                    if known.is_empty() {
                        "which is empty".into()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        if !self.plans_of(service_type).contains(plan) {
            let known: Vec<String> = self.plans_of(service_type).into_iter().collect();
            return Err(AppError::invalid(
                "plan",
                format!(
                    "'{plan}' is not a plan of {service_type} (plans: {}).",
                    known.join(", ")
                ),
            ));
        }
        if !self.clouds().contains(cloud) {
            return Err(AppError::invalid(
                "cloud",
                format!("'{cloud}' is not a cloud of this console."),
            ));
        }
        self.price_at(service_type, plan, cloud, at)
            .map(|row| row.hourly_price_usd.0)
            .ok_or_else(|| {
                AppError::invalid(
                    "plan",
                    format!("{service_type} {plan} has no price in {cloud} yet."),
                )
            })
    }
}

// ------------------------------------------------------------- CSV import --

/// The columns of a price-list file; the last four are optional.
pub const CSV_COLUMNS: [&str; 9] = [
    "service_type",
    "plan",
    "cloud",
    "hourly_price_usd",
    "valid_from",
    "node_count",
    "cpu_count",
    "memory_mb",
    "disk_mb",
];

/// What an import did (or, refused, why: every bad line and column).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceImport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: usize,
    /// Running services moved to a new price by this import.
    pub repriced: usize,
}

fn describe(row: &PriceRecord) -> String {
    format!(
        "{} {} in {} from {}: {} USD/h",
        row.service_type,
        row.plan,
        if row.cloud_name.is_empty() {
            "every cloud"
        } else {
            &row.cloud_name
        },
        row.valid_from.format("%Y-%m-%d"),
        row.hourly_price_usd.0.normalize()
    )
}

/// `valid_from`: a day (from its start, UTC) or an RFC 3339 instant.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Splits one CSV line into fields (quoted fields allowed).
pub(super) fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            other => field.push(other),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Parses a price-list file. Every problem is reported as `line N, column
/// C: …`; any problem refuses the whole file.
pub fn parse_price_csv(
    text: &str,
    imported_at: DateTime<Utc>,
) -> Result<Vec<PriceRecord>, Vec<String>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Err(vec!["the file is empty: expected a header line".into()]);
    };
    let header = csv_fields(header);
    let mut errors = Vec::new();
    let position = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    for required in &CSV_COLUMNS[..5] {
        if position(required).is_none() {
            errors.push(format!(
                "line {header_line}: the header has no column '{required}'"
            ));
        }
    }
    for name in &header {
        if !CSV_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            errors.push(format!(
                "line {header_line}: unknown column '{name}' (columns: {})",
                CSV_COLUMNS.join(", ")
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows: Vec<PriceRecord> = Vec::new();
    let mut seen: BTreeMap<(String, String, String, DateTime<Utc>), usize> = BTreeMap::new();
    for (number, line) in lines {
        let fields = csv_fields(line);
        if fields.len() != header.len() {
            errors.push(format!(
                "line {number}: {} fields, the header has {}",
                fields.len(),
                header.len()
            ));
            continue;
        }
        let get = |name: &str| position(name).map(|i| fields[i].as_str());
        let mut fail = |column: &str, message: String| {
            errors.push(format!("line {number}, column {column}: {message}"));
        };
        let service_type = get("service_type").unwrap_or_default().to_string();
        if service_type.is_empty()
            || service_type.len() > 64
            || !service_type
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            fail(
                "service_type",
                format!("'{service_type}' is not a service type (lowercase letters, digits, _)"),
            );
        }
        let plan = get("plan").unwrap_or_default().to_string();
        if plan.is_empty()
            || plan.len() > 64
            || !plan
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            fail(
                "plan",
                format!("'{plan}' is not a plan name (lowercase letters, digits, -, _)"),
            );
        }
        let cloud = match get("cloud").unwrap_or_default() {
            "" | "*" => String::new(),
            cloud => match validation::cloud_name(cloud) {
                Ok(cloud) => cloud,
                Err(message) => {
                    fail("cloud", message);
                    String::new()
                }
            },
        };
        let price_text = get("hourly_price_usd").unwrap_or_default();
        let price = match parse_amount(price_text, 6) {
            Ok(price) if price >= Decimal::ZERO && price <= Decimal::from(MAX_HOURLY_PRICE_USD) => {
                Some(price)
            }
            Ok(_) => {
                fail(
                    "hourly_price_usd",
                    format!(
                        "'{price_text}' is out of range: an hourly price is 0 to {MAX_HOURLY_PRICE_USD} USD"
                    ),
                );
                None
            }
            Err(message) => {
                fail(
                    "hourly_price_usd",
                    format!("{message} (a price in USD, at most 6 decimals)"),
                );
                None
            }
        };
        let valid_text = get("valid_from").unwrap_or_default();
        let valid_from = parse_instant(valid_text);
        if valid_from.is_none() {
            fail(
                "valid_from",
                format!("'{valid_text}' is not a date (YYYY-MM-DD) or an RFC 3339 time"),
            );
        }
        let mut number_of = |column: &str, default: i64, min: i64| -> i64 {
            match get(column).filter(|v| !v.is_empty()) {
                None => default,
                Some(text) => match text.parse::<i64>() {
                    Ok(value) if value >= min => value,
                    _ => {
                        errors.push(format!(
                            "line {number}, column {column}: '{text}' is not a whole number ≥ {min}"
                        ));
                        default
                    }
                },
            }
        };
        let node_count = number_of("node_count", 1, 1);
        let cpu_count = number_of("cpu_count", 1, 1);
        let memory_mb = number_of("memory_mb", 1024, 0);
        let disk_mb = number_of("disk_mb", 0, 0);
        if let (Some(price), Some(valid_from)) = (price, valid_from) {
            let key = (
                service_type.clone(),
                plan.clone(),
                cloud.clone(),
                valid_from,
            );
            if let Some(first) = seen.insert(key, number) {
                errors.push(format!(
                    "line {number}: the same type, plan, cloud and valid_from as line {first}"
                ));
            }
            rows.push(PriceRecord {
                service_type,
                plan,
                cloud_name: cloud,
                valid_from,
                hourly_price_usd: DbDecimal(price),
                node_count,
                cpu_count,
                memory_mb,
                disk_mb,
                imported_at,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Imports a price-list file: rows equal to the stored ones change
/// nothing (so importing twice is harmless); others are added or replace
/// the row of the same type, plan, cloud and date. Then due prices reach
/// running services. A bad file writes nothing.
pub async fn import_prices(
    store: &dyn Store,
    text: &str,
    now: DateTime<Utc>,
) -> Result<PriceImport, Vec<String>> {
    let rows = parse_price_csv(text, now)?;
    let stored = store
        .prices()
        .await
        .map_err(|e| vec![AppError::from(e).to_string()])?;
    let mut report = PriceImport::default();
    let mut to_save = Vec::new();
    for row in rows {
        let same_key = stored.iter().find(|s| {
            s.service_type == row.service_type
                && s.plan == row.plan
                && s.cloud_name == row.cloud_name
                && s.valid_from == row.valid_from
        });
        match same_key {
            Some(old)
                if old.hourly_price_usd.0 == row.hourly_price_usd.0
                    && (old.node_count, old.cpu_count, old.memory_mb, old.disk_mb)
                        == (row.node_count, row.cpu_count, row.memory_mb, row.disk_mb) =>
            {
                report.unchanged += 1;
            }
            Some(old) => {
                report.changed.push(format!(
                    "{} (was {} USD/h)",
                    describe(&row),
                    old.hourly_price_usd.0.normalize()
                ));
                to_save.push(row);
            }
            None => {
                report.added.push(describe(&row));
                to_save.push(row);
            }
        }
    }
    if !to_save.is_empty() {
        store
            .save_prices(&to_save)
            .await
            .map_err(|e| vec![AppError::from(e).to_string()])?;
    }
    report.repriced = apply_due_prices(store, now)
        .await
        .map_err(|e| vec![e.to_string()])?;
    Ok(report)
}

/// Moves every running service whose price in force differs from its
/// run's to that price, from the next hour of its grid after the price took
/// effect. Idempotent, and safe on several instances at once: a run is
/// continued only if it is still the open run at the price it was read with.
pub async fn apply_due_prices(store: &dyn Store, now: DateTime<Utc>) -> AppResult<usize> {
    let list = PriceList::load(store).await?;
    let mut repriced = 0;
    for run in store.open_runs().await? {
        let Some(row) = list.price_at(&run.service_type, &run.plan, &run.cloud_name, now) else {
            continue;
        };
        if row.hourly_price_usd.0 == run.hourly_price_usd.0 {
            continue;
        }
        let effective = effective_from(row).max(run.started_at);
        let billed_from = next_grid_hour(run.billed_from, effective);
        let event = repriced_event(&run, row.hourly_price_usd.0, billed_from, now);
        // One run that cannot be moved is logged and left for the next
        // pass; the others are moved all the same.
        match store
            .reprice_run(
                &run,
                effective,
                (row.hourly_price_usd.0, billed_from),
                &event,
            )
            .await
        {
            Ok(true) => repriced += 1,
            Ok(false) => {}
            Err(error) => tracing::error!(
                service_id = %run.service_id,
                billing_group_id = %run.billing_group_id,
                error = %AppError::from(error),
                "service not moved to its new price; tried again next pass"
            ),
        }
    }
    Ok(repriced)
}

fn repriced_event(
    run: &OpenRunRecord,
    price: Decimal,
    billed_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewEvent {
    NewEvent {
        billing_group_id: run.billing_group_id.clone(),
        account_id: run.account_id.clone(),
        actor: "price list".into(),
        event_type: EventType::ServiceRepriced,
        event_desc: format!(
            "Service '{}' ({} {}) is billed at {} USD/h from {} (was {} USD/h)",
            run.service_name,
            run.service_type,
            run.plan,
            price.normalize(),
            billed_from.format("%Y-%m-%d %H:%M UTC"),
            run.hourly_price_usd.0.normalize()
        ),
        project_name: Some(run.project_name.clone()),
        details: Some(serde_json::json!({
            "before": {"hourly_price_usd": run.hourly_price_usd.0.to_string()},
            "after": {"hourly_price_usd": price.to_string(), "billed_from": billed_from},
        })),
        create_time: now,
    }
}

/// How often the server applies due prices.
pub const APPLY_EVERY: Duration = Duration::minutes(1);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_bad_price_file_names_every_line_and_column() {
        let text = "service_type,plan,cloud,hourly_price_usd,valid_from\n\
                    pg,business-4,,0.5,2026-11-01\n\
                    pg,Business 8,,x,2026-13-01\n\
                    kafka,startup-2,aws-eu-west-1,0.1\n\
                    pg,business-4,,0.6,2026-11-01\n";
        let errors = parse_price_csv(text, t("2026-11-30T00:00:00Z")).unwrap_err();
        assert!(
            errors.iter().any(|e| e.starts_with("line 3, column plan:")),
            "{errors:?}"
        );
        assert!(errors
            .iter()
            .any(|e| e.starts_with("line 3, column hourly_price_usd:")));
        assert!(errors
            .iter()
            .any(|e| e.starts_with("line 3, column valid_from:")));
        assert!(errors.iter().any(|e| e.starts_with("line 4: 4 fields")));
        assert!(errors
            .iter()
            .any(|e| e.contains("line 5: the same type") && e.contains("line 2")));
        let missing = parse_price_csv("service_type,plan,price\n", Utc::now()).unwrap_err();
        assert!(missing.iter().any(|e| e.contains("no column 'cloud'")));
    }

    #[test]
    fn the_price_in_force_is_the_latest_to_take_effect_and_a_cloud_beats_every_cloud() {
        let imported = t("2026-10-01T00:00:00Z");
        let rows = parse_price_csv(
            "service_type,plan,cloud,hourly_price_usd,valid_from\n\
             pg,b4,,0.50,2026-10-01\n\
             pg,b4,aws-eu-west-1,0.55,2026-10-01\n\
             pg,b4,,0.60,2026-11-15\n",
            imported,
        )
        .unwrap();
        let list = PriceList::new(rows);
        let price = |cloud: &str, at: &str| {
            list.price_at("pg", "b4", cloud, t(at))
                .map(|r| r.hourly_price_usd.0.to_string())
        };
        assert_eq!(price("google-europe-north1", "2026-09-30T00:00:00Z"), None);
        assert_eq!(
            price("google-europe-north1", "2026-10-02T00:00:00Z").unwrap(),
            "0.50"
        );
        assert_eq!(
            price("aws-eu-west-1", "2026-10-02T00:00:00Z").unwrap(),
            "0.55"
        );
        assert_eq!(
            price("aws-eu-west-1", "2026-11-16T00:00:00Z").unwrap(),
            "0.60"
        );
        // A price imported after its date takes effect at its import.
        let late = PriceRecord {
            imported_at: t("2026-11-20T12:00:00Z"),
            valid_from: t("2026-11-01T00:00:00Z"),
            ..list.rows()[0].clone()
        };
        assert_eq!(effective_from(&late), t("2026-11-20T12:00:00Z"));
    }
}
