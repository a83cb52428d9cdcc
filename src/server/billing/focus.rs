//! The FOCUS 1.0 cost and usage export (FinOps Foundation, focus.finops.org):
//! one CSV row per invoice line — a service's hours in a project at a
//! price, a credit used, VAT, a rounding — of a billing group or of every
//! group of an account, for a billing month or a range of them.
//!
//! The rows are the invoices' own lines, so BilledCost adds up to the
//! invoices to the cent: a closed month reads the issued invoices (a voided
//! one, its reissue and the credit notes between them all appear, so they
//! net to what is owed), credit notes are rows of ChargeClass `Correction`,
//! and the running month is its estimate so far, drafted as a close would.
//! BillingAccountId is the billing group, SubAccountId the project,
//! ResourceId the service.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::access::{authorize, authorized_group};
use super::calendar::{month_of, parse_period, period_name};
use super::events::{csv_number, csv_text};
use super::invoices::estimate;
use crate::error::{AppError, AppResult};
use crate::model::ids::{AccountId, GroupId};
use crate::model::states::LineType;
use crate::model::{CurrentUser, Role};
use crate::server::config::Seller;
use crate::server::store::{BillingGroupRecord, InvoiceLineRecord, Store};

/// The columns, in order: FOCUS 1.0's, then this console's own (`x_`).
/// (`ResourceID` is spelled as the FinOps Foundation's focus-validator 1.0
/// expects it.)
pub const COLUMNS: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuer",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "Provider",
    "Publisher",
    "RegionId",
    "RegionName",
    "ResourceID",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_InvoiceNumber",
    "x_CreditNoteNumber",
];

/// The months an export is asked for, as a query (`?month=` or
/// `?from=&to=`; neither: the running month).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FocusQuery {
    pub month: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl FocusQuery {
    pub fn months(&self, now: DateTime<Utc>) -> AppResult<Vec<DateTime<Utc>>> {
        months_asked(
            self.month.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
            now,
        )
    }
}

/// The most billing months one export covers.
pub const MAX_MONTHS: usize = 36;

/// Which billing months an export covers: `month`, or `from` to `to`
/// (both included), or (neither) the running month. Months that have not
/// begun are refused.
pub fn months_asked(
    month: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<DateTime<Utc>>> {
    let named = |field: &'static str, text: &str| {
        parse_period(text).map_err(|_| {
            AppError::invalid(
                field,
                format!(
                    "'{}' is not a month; write it as YYYY-MM, like 2026-10.",
                    text.trim()
                ),
            )
        })
    };
    fn present(text: Option<&str>) -> Option<&str> {
        text.map(str::trim).filter(|t| !t.is_empty())
    }
    let running = month_of(now).0;
    let (first, last) = match (present(month), present(from), present(to)) {
        (Some(month), None, None) => {
            let month = named("month", month)?;
            (month, month)
        }
        (None, Some(from), Some(to)) => (named("from", from)?, named("to", to)?),
        (None, None, None) => (running, running),
        (Some(_), _, _) => {
            return Err(AppError::invalid(
                "month",
                "Ask for one month, or for a range with from and to, not both.",
            ))
        }
        (None, _, _) => {
            return Err(AppError::invalid(
                if present(from).is_none() {
                    "from"
                } else {
                    "to"
                },
                "A range needs both from and to (YYYY-MM).",
            ))
        }
    };
    if last > running {
        return Err(AppError::invalid(
            if present(month).is_some() {
                "month"
            } else {
                "to"
            },
            format!(
                "{} has not begun; the latest month is {}.",
                period_name(last),
                period_name(running)
            ),
        ));
    }
    if first > last {
        return Err(AppError::invalid("from", "from must not come after to."));
    }
    let mut months = vec![first];
    while let Some(&latest) = months.last() {
        if latest >= last {
            break;
        }
        months.push(month_of(latest + chrono::Duration::days(32)).0);
        if months.len() > MAX_MONTHS {
            return Err(AppError::invalid(
                "from",
                format!("An export covers at most {MAX_MONTHS} months."),
            ));
        }
    }
    Ok(months)
}

/// Whose costs an export holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    BillingGroup(&'a str),
    Account(&'a str),
}

/// The export a query asks for (its months checked first), and its file
/// name: what `/v1` and the pages' downloads answer.
pub async fn export(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    scope: Scope<'_>,
    query: &FocusQuery,
    now: DateTime<Utc>,
) -> AppResult<(String, String)> {
    let months = query.months(now)?;
    match scope {
        Scope::BillingGroup(id) => {
            group_export(store, seller, user, &GroupId::from(id), &months, now).await
        }
        Scope::Account(id) => {
            account_export(store, seller, user, &AccountId::from(id), &months, now).await
        }
    }
}

/// A group's export for `months`, and its file name.
pub async fn group_export(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    months: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> AppResult<(String, String)> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let mut csv = header();
    rows_of_group(store, seller, &group, months, now, &mut csv).await?;
    Ok((file_name(&group.billing_group_id, months), csv))
}

/// An account's export: every group of it, deleted ones too.
pub async fn account_export(
    store: &dyn Store,
    seller: &Seller,
    user: &CurrentUser,
    account_id: &AccountId,
    months: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> AppResult<(String, String)> {
    authorize(store, user, account_id, Role::Viewer).await?;
    let mut groups = store.billing_groups_of_account(account_id).await?;
    groups.extend(store.deleted_groups_of_account(account_id).await?);
    groups.sort_by(|a, b| a.billing_group_id.cmp(&b.billing_group_id));
    let mut csv = header();
    for group in &groups {
        rows_of_group(store, seller, group, months, now, &mut csv).await?;
    }
    Ok((file_name(account_id, months), csv))
}

fn header() -> String {
    let mut csv = COLUMNS.join(",");
    csv.push_str("\r\n");
    csv
}

fn file_name(owner: &str, months: &[DateTime<Utc>]) -> String {
    let owner: String = owner
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    match (months.first(), months.last()) {
        (Some(first), Some(last)) if first != last => format!(
            "focus-{owner}-{}-to-{}.csv",
            period_name(*first),
            period_name(*last)
        ),
        (Some(first), _) => format!("focus-{owner}-{}.csv", period_name(*first)),
        _ => format!("focus-{owner}.csv"),
    }
}

/// What every row of one document (invoice, credit note, estimate) shares.
#[derive(Clone, Copy)]
struct Document<'a> {
    group: &'a BillingGroupRecord,
    period: (DateTime<Utc>, DateTime<Utc>),
    currency: &'a str,
    issuer: &'a str,
    invoice_number: &'a str,
    credit_note_number: &'a str,
}

async fn rows_of_group(
    store: &dyn Store,
    seller: &Seller,
    group: &BillingGroupRecord,
    months: &[DateTime<Utc>],
    now: DateTime<Utc>,
    csv: &mut String,
) -> AppResult<()> {
    let running = month_of(now).0;
    let invoices = store.invoices_of_group(&group.billing_group_id).await?;
    let notes = store.credit_notes_of_group(&group.billing_group_id).await?;
    for &month in months {
        if month == running {
            if group.is_active() {
                let (draft, _) = estimate(store, seller, group.clone(), now).await?;
                let document = Document {
                    group,
                    period: (draft.period_begin, draft.period_end),
                    currency: draft.currency.code(),
                    issuer: &seller.name,
                    invoice_number: "",
                    credit_note_number: "",
                };
                write_rows(&document, &draft.lines, false, csv);
            }
            continue;
        }
        for invoice in invoices.iter().filter(|i| i.period_begin == month) {
            let issuer = if invoice.seller.0.party.name.is_empty() {
                seller.name.as_str()
            } else {
                invoice.seller.0.party.name.as_str()
            };
            let document = Document {
                group,
                period: (invoice.period_begin, invoice.period_end),
                currency: invoice.currency.code(),
                issuer,
                invoice_number: &invoice.invoice_number,
                credit_note_number: "",
            };
            let lines = store.invoice_lines(&invoice.invoice_number).await?;
            write_rows(&document, &lines, false, csv);
            for note in notes
                .iter()
                .filter(|n| n.invoice_number == invoice.invoice_number)
            {
                let lines: Vec<InvoiceLineRecord> = store
                    .credit_note_lines(&note.credit_note_number)
                    .await?
                    .into_iter()
                    .map(|l| l.line)
                    .collect();
                let document = Document {
                    credit_note_number: &note.credit_note_number,
                    ..document
                };
                write_rows(&document, &lines, true, csv);
            }
        }
    }
    Ok(())
}

/// A FOCUS decimal: always with a decimal point, so a file whose amounts
/// happen to be whole (yen, whole hours) still reads as decimals.
fn decimal(value: Decimal) -> String {
    let text = value.to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn write_rows(
    document: &Document<'_>,
    lines: &[InvoiceLineRecord],
    correction: bool,
    csv: &mut String,
) {
    for line in lines {
        let amount = line.line_total_local.0;
        // A zero VAT line (reverse charge, or nothing to tax) is no charge.
        if amount.is_zero() && line.line_type != LineType::ServiceCharge {
            continue;
        }
        csv.push_str(&row(document, line, amount, correction).join(","));
        csv.push_str("\r\n");
    }
}

fn row(
    document: &Document<'_>,
    line: &InvoiceLineRecord,
    amount: Decimal,
    correction: bool,
) -> Vec<String> {
    let text = |value: &str| csv_text(value);
    let cost = csv_number(&decimal(amount));
    let usage = line.line_type == LineType::ServiceCharge;
    let (category, frequency, service_name, service_category) = match line.line_type {
        LineType::ServiceCharge => {
            let kind = line.service_type.as_deref().unwrap_or_default();
            (
                "Usage",
                "Usage-Based",
                service_name(kind),
                service_category(kind),
            )
        }
        LineType::CreditConsumption => ("Credit", "One-Time", "Credits".to_string(), "Other"),
        LineType::Vat => ("Tax", "One-Time", "VAT".to_string(), "Other"),
        _ => ("Adjustment", "One-Time", "Adjustment".to_string(), "Other"),
    };
    let charge_begin = line.timestamp_begin.unwrap_or(document.period.0);
    let charge_end = line.timestamp_end.unwrap_or(document.period.1);
    let hours = if usage {
        line.hours
            .map(|h| decimal(Decimal::from(h)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let hours_unit = if usage && line.hours.is_some() {
        "Hours"
    } else {
        ""
    };
    let project = line.project_name.as_deref().unwrap_or_default();
    let service = line.service_name.as_deref().unwrap_or_default();
    let service_type = line.service_type.as_deref().unwrap_or_default();
    let plan = line.service_plan.as_deref().unwrap_or_default();
    let cloud = line.cloud_name.as_deref().unwrap_or_default();
    let resource_id = if usage && !service.is_empty() {
        format!("{project}/{service}")
    } else {
        String::new()
    };
    let sku = if usage && !plan.is_empty() {
        format!("{service_type}:{plan}")
    } else {
        String::new()
    };
    let sku_price = if sku.is_empty() {
        String::new()
    } else {
        format!("{sku}:{cloud}")
    };
    let tags = if project.is_empty() {
        "{}".to_string()
    } else {
        serde_json::json!({ "project": project }).to_string()
    };
    vec![
        cost.clone(),
        text(&document.group.billing_group_id),
        text(&document.group.billing_group_name),
        text(document.currency),
        timestamp(document.period.1),
        timestamp(document.period.0),
        category.to_string(),
        if correction { "Correction" } else { "" }.to_string(),
        text(&line.description),
        frequency.to_string(),
        timestamp(charge_end),
        timestamp(charge_begin),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        hours.clone(),
        hours_unit.to_string(),
        cost.clone(),
        String::new(),
        cost.clone(),
        text(document.issuer),
        cost,
        String::new(),
        if usage { "Standard" } else { "" }.to_string(),
        hours,
        hours_unit.to_string(),
        text(document.issuer),
        text(document.issuer),
        text(cloud),
        text(cloud),
        text(&resource_id),
        text(if usage { service } else { "" }),
        text(if usage { service_type } else { "" }),
        service_category.to_string(),
        text(&service_name),
        text(&sku),
        text(&sku_price),
        text(project),
        text(project),
        text(&tags),
        text(document.invoice_number),
        text(document.credit_note_number),
    ]
}

/// The service's product name as people know it.
fn service_name(service_type: &str) -> String {
    match service_type {
        "pg" => "PostgreSQL",
        "mysql" => "MySQL",
        "kafka" => "Apache Kafka",
        "kafka_connect" => "Apache Kafka Connect",
        "opensearch" => "OpenSearch",
        "redis" => "Redis",
        "valkey" => "Valkey",
        "cassandra" => "Apache Cassandra",
        "clickhouse" => "ClickHouse",
        "grafana" => "Grafana",
        "m3db" => "M3DB",
        "flink" => "Apache Flink",
        "" => "Service",
        other => other,
    }
    .to_string()
}

/// FOCUS 1.0's ServiceCategory of a service type.
fn service_category(service_type: &str) -> &'static str {
    match service_type {
        "kafka" | "kafka_connect" | "kafka_mirrormaker" | "flink" => "Integration",
        "opensearch" | "clickhouse" => "Analytics",
        "grafana" => "Management and Governance",
        _ => "Databases",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn months_asked_reads_one_month_a_range_or_the_running_month() {
        let now = at(2026, 12, 7);
        let one = months_asked(Some("2026-11"), None, None, now).unwrap();
        assert_eq!(
            one.iter().map(|m| period_name(*m)).collect::<Vec<_>>(),
            ["2026-11"]
        );
        let range = months_asked(None, Some("2026-10"), Some("2027-01"), at(2027, 1, 2)).unwrap();
        assert_eq!(
            range.iter().map(|m| period_name(*m)).collect::<Vec<_>>(),
            ["2026-10", "2026-11", "2026-12", "2027-01"]
        );
        let running = months_asked(None, None, Some(""), now).unwrap();
        assert_eq!(period_name(running[0]), "2026-12");
    }

    #[test]
    fn amounts_and_hours_always_read_as_decimals() {
        // A yen invoice's whole amounts and whole hours: an all-integer
        // column would be read as integers and fail FOCUS's decimal type.
        assert_eq!(decimal(Decimal::new(1200, 0)), "1200.0");
        assert_eq!(decimal(Decimal::new(-1250, 2)), "-12.50");
        assert_eq!(decimal(Decimal::from(720)), "720.0");
    }

    #[test]
    fn months_asked_refuses_with_the_field_named() {
        let now = at(2026, 12, 7);
        let field = |result: AppResult<Vec<DateTime<Utc>>>| match result {
            Err(AppError::Invalid { errors }) => errors[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(months_asked(Some("12,2026"), None, None, now)),
            "month"
        );
        assert_eq!(
            field(months_asked(Some("2027-01"), None, None, now)),
            "month"
        );
        assert_eq!(field(months_asked(None, Some("2026-11"), None, now)), "to");
        assert_eq!(
            field(months_asked(None, Some("2026-11"), Some("2026-10"), now)),
            "from"
        );
        assert_eq!(
            field(months_asked(None, Some("2020-01"), Some("2026-12"), now)),
            "from"
        );
        assert_eq!(
            field(months_asked(
                Some("2026-11"),
                Some("2026-10"),
                Some("2026-11"),
                now
            )),
            "month"
        );
    }
}
