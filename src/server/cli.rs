//! The operator's commands besides `serve`: each opens the store, calls
//! the rules, and reports in a line (or a line per item).

use crate::error::AppError;
use crate::server::billing::{
    accounts, calendar, credits, month_close, prices, rate_import, setup,
};
use crate::server::config::Config;
use crate::server::startup::open_store;
use crate::server::state::StartupError;

/// A rule's refusal as the command line shows it: `--field: message`.
fn command_error(command: &str, error: AppError) -> StartupError {
    match error {
        AppError::Invalid { errors } => StartupError(
            errors
                .iter()
                .map(|e| format!("--{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        other => StartupError(format!("{command}: {other}")),
    }
}

/// `billing-console close-month`: closes one month and reports what it did.
pub async fn close_month(config: Config, period: Option<String>) -> Result<String, StartupError> {
    let store = open_store(&config).await?;
    let now = config.clock().now();
    let period = match period {
        Some(text) => calendar::parse_period(&text),
        None => Ok(calendar::previous_month(now)),
    }
    .map_err(|e| StartupError(format!("--period: {e}")))?;
    let result = month_close::close_month(
        store.as_ref(),
        &config.seller,
        &crate::server::links::mail_base(&config),
        period,
        now,
        "system",
    )
    .await;
    store.close().await;
    let summary = result.map_err(|e| StartupError(format!("close-month: {e}")))?;
    if summary.another_instance_closing {
        return Ok(format!(
            "{} is being closed by another instance right now; nothing was done here.",
            summary.period
        ));
    }
    Ok(format!(
        "Closed {}: {} invoice(s) issued, {} group(s) already invoiced.",
        summary.period,
        summary.issued.len(),
        summary.already_invoiced
    ))
}

/// `billing-console credits issue …`: new codes, one per line.
pub async fn issue_credits(
    config: Config,
    request: credits::IssueRequest,
) -> Result<Vec<String>, StartupError> {
    let store = open_store(&config).await?;
    let result = credits::issue_credits(store.as_ref(), &request, config.clock().now()).await;
    store.close().await;
    result.map_err(|e| command_error("credits issue", e))
}

/// `billing-console users create …`: a user (an operator with
/// `--operator`) whose password was read from stdin. Creating the first
/// user voids the first-run link.
pub async fn create_user(
    config: Config,
    email: &str,
    name: &str,
    password: &str,
    operator: bool,
) -> Result<String, StartupError> {
    let store = open_store(&config).await?;
    let result = setup::create_user(
        store.as_ref(),
        email,
        name,
        password,
        operator,
        config.clock().now(),
    )
    .await;
    store.close().await;
    let user = result.map_err(|e| command_error("users create", e))?;
    Ok(format!(
        "Created {} {} ({}).",
        if user.is_operator { "operator" } else { "user" },
        user.email,
        user.real_name
    ))
}

/// `billing-console accounts create …`: an account with its first billing
/// group (primary) and an existing user as its first admin.
pub async fn create_account(
    config: Config,
    name: &str,
    currency: &str,
    admin_email: &str,
) -> Result<String, StartupError> {
    let store = open_store(&config).await?;
    let result = async {
        let admin = store
            .user_by_email(&admin_email.trim().to_lowercase())
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "admin",
                    format!("No user has the email '{}'; create it with `billing-console users create` first.", admin_email.trim()),
                )
            })?;
        accounts::create_account(store.as_ref(), &admin.current(), name, currency, config.clock().now())
            .await
    }
    .await;
    store.close().await;
    let (account, group) = result.map_err(|e| command_error("accounts create", e))?;
    Ok(format!(
        "Created account {} ({}) with primary billing group {} in {}; admin {}.",
        account.account_name,
        account.account_id,
        group.billing_group_id,
        group.billing_currency.code(),
        admin_email.trim().to_lowercase()
    ))
}

/// A file's text, or the command's error naming it.
fn read_file(path: &std::path::Path) -> Result<String, StartupError> {
    std::fs::read_to_string(path)
        .map_err(|e| StartupError(format!("cannot read {}: {e}", path.display())))
}

/// Refusals of a file, one per line, each naming its line and column.
fn file_errors(path: &std::path::Path, errors: Vec<String>) -> StartupError {
    StartupError(format!(
        "{} was not imported (nothing was written):\n{}",
        path.display(),
        errors
            .iter()
            .map(|e| format!("  {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// `billing-console prices import FILE`.
pub async fn import_prices(config: Config, path: &std::path::Path) -> Result<String, StartupError> {
    let text = read_file(path)?;
    let store = open_store(&config).await?;
    let result = prices::import_prices(store.as_ref(), &text, config.clock().now()).await;
    store.close().await;
    let report = result.map_err(|errors| file_errors(path, errors))?;
    let mut out = Vec::new();
    out.extend(report.added.iter().map(|r| format!("added   {r}")));
    out.extend(report.changed.iter().map(|r| format!("changed {r}")));
    out.push(format!(
        "{} added, {} changed, {} unchanged; {} running service(s) moved to a new price.",
        report.added.len(),
        report.changed.len(),
        report.unchanged,
        report.repriced
    ));
    Ok(out.join("\n"))
}

/// `billing-console prices list`: each price row, and when it takes effect.
pub async fn list_prices(config: Config) -> Result<String, StartupError> {
    let store = open_store(&config).await?;
    let result = store.prices().await;
    store.close().await;
    let rows = result.map_err(|e| StartupError(format!("prices list: {e}")))?;
    if rows.is_empty() {
        return Ok(
            "The price list is empty: import one with `billing-console prices import FILE`.".into(),
        );
    }
    let mut out = vec![format!(
        "{:<14} {:<16} {:<26} {:>12}  {}",
        "SERVICE_TYPE", "PLAN", "CLOUD", "USD/HOUR", "IN FORCE FROM"
    )];
    for row in rows {
        out.push(format!(
            "{:<14} {:<16} {:<26} {:>12}  {}",
            row.service_type,
            row.plan,
            if row.cloud_name.is_empty() {
                "(every cloud)"
            } else {
                &row.cloud_name
            },
            row.hourly_price_usd.0.normalize().to_string(),
            prices::effective_from(&row).format("%Y-%m-%d %H:%M UTC")
        ));
    }
    Ok(out.join("\n"))
}

/// `billing-console rates import FILE` (ECB eurofxref or date,currency,rate).
pub async fn import_rates(config: Config, path: &std::path::Path) -> Result<String, StartupError> {
    let text = read_file(path)?;
    let store = open_store(&config).await?;
    let result = rate_import::import_rates(store.as_ref(), &text).await;
    store.close().await;
    let report = result.map_err(|errors| file_errors(path, errors))?;
    let mut out = Vec::new();
    out.extend(report.added.iter().map(|r| format!("added   {r}")));
    out.extend(report.changed.iter().map(|r| format!("changed {r}")));
    out.push(format!(
        "{} added, {} changed, {} unchanged (local units per USD).",
        report.added.len(),
        report.changed.len(),
        report.unchanged
    ));
    if !report.skipped.is_empty() {
        out.push(format!(
            "Skipped (not billing currencies): {}",
            report.skipped.join(", ")
        ));
    }
    Ok(out.join("\n"))
}

/// `billing-console rates list`: the latest rate of each currency.
pub async fn list_rates(config: Config) -> Result<String, StartupError> {
    let store = open_store(&config).await?;
    let result = rate_import::latest_rates(store.as_ref()).await;
    store.close().await;
    let rates = result.map_err(|e| StartupError(format!("rates list: {e}")))?;
    let mut out = vec![format!("{:<8} {:>14}  {}", "CURRENCY", "PER USD", "SINCE")];
    out.push(format!("{:<8} {:>14}  {}", "USD", "1", "(always)"));
    for (currency, day, rate) in rates {
        out.push(format!(
            "{:<8} {:>14}  {day}",
            currency.code(),
            rate.normalize().to_string()
        ));
    }
    Ok(out.join("\n"))
}
