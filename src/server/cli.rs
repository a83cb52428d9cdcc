//! The operator's commands besides `serve`: each opens the store, calls
//! the rules, and reports in a line (or a line per item).

use crate::error::AppError;
use crate::server::billing::{
    accounts, calendar, credits, month_close, prices, rate_import, setup,
};
use crate::server::config::Config;
use crate::server::startup::{open_existing_store, open_store, prepare_data_dir};
use crate::server::state::StartupError;
use crate::server::store;

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
    let store = open_existing_store(&config).await?;
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
    let summary = result.map_err(|e| {
        StartupError(format!(
            "close-month refused; no invoice was issued: {}",
            match e {
                AppError::Invalid { errors } => errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            }
        ))
    })?;
    Ok(close_report(&summary))
}

/// What a close did, in a line: issued now, and invoiced before (by an
/// earlier run, or by another instance while this one ran).
pub fn close_report(summary: &month_close::CloseSummary) -> String {
    if summary.another_instance_closing {
        return format!(
            "{} is being closed by another instance right now; nothing was done here.",
            summary.period
        );
    }
    let earlier = summary.invoiced_earlier + summary.already_invoiced;
    format!(
        "Closed {}: {} invoice(s) issued; {} group(s) already invoiced{}.",
        summary.period,
        summary.issued.len(),
        earlier,
        if summary.already_invoiced > 0 {
            format!(
                " ({} by another instance during this run)",
                summary.already_invoiced
            )
        } else {
            String::new()
        }
    )
}

/// `billing-console backup FILE`: a consistent copy of the SQLite database
/// while the server runs, checked (`PRAGMA integrity_check`) before it is
/// reported. Written beside FILE and renamed, so FILE is whole or absent.
pub async fn backup(config: Config, file: &std::path::Path) -> Result<String, StartupError> {
    if file.exists() {
        return Err(StartupError(format!(
            "{} exists already; name a new file",
            file.display()
        )));
    }
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let store = open_existing_store(&config).await?;
    let written = store.back_up_into(&partial).await;
    store.close().await;
    written.map_err(|e| StartupError(format!("backup: {e}")))?;
    let facts = store::sqlite::inspect_backup(&partial)
        .await
        .map_err(|e| StartupError(format!("backup: the copy cannot be read back: {e}")))?;
    if facts.integrity != "ok" {
        return Err(StartupError(format!(
            "backup: the copy at {} failed its integrity check: {}",
            partial.display(),
            facts.integrity
        )));
    }
    std::fs::rename(&partial, file).map_err(|e| {
        StartupError(format!(
            "backup: cannot name the copy {} ({e})",
            file.display()
        ))
    })?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or_default();
    Ok(format!(
        "Backed up to {} ({bytes} bytes; {} invoice(s), {} event(s); integrity ok).",
        file.display(),
        facts.invoices,
        facts.events
    ))
}

/// `billing-console restore FILE`: puts a backup in place of the SQLite
/// database, refusing while a server or command has it open, and keeping
/// the database it replaces beside it.
pub async fn restore(config: Config, file: &std::path::Path) -> Result<String, StartupError> {
    let Some(database) = config.sqlite_file() else {
        return Err(StartupError(
            "restore: a PostgreSQL database is restored with pg_restore (docs/DEPLOY.md, Backup and restore)"
                .into(),
        ));
    };
    let facts = store::sqlite::inspect_backup(file)
        .await
        .map_err(|e| StartupError(format!("restore: {e}")))?;
    if facts.integrity != "ok" {
        return Err(StartupError(format!(
            "restore: {} failed its integrity check ({}); nothing was changed",
            file.display(),
            facts.integrity
        )));
    }
    if facts.newest_migration > store::newest_sqlite_migration() {
        return Err(StartupError(format!(
            "restore: {} was written by a newer release (migration {}); nothing was changed",
            file.display(),
            facts.newest_migration
        )));
    }
    prepare_data_dir(&config)?;
    let stamp = config.clock().now().format("%Y%m%dT%H%M%SZ").to_string();
    let kept = store::sqlite::restore_file(file, &database, &stamp)
        .map_err(|e| StartupError(format!("restore: {e}")))?;
    Ok(format!(
        "Restored {} from {} ({} invoice(s), {} event(s)).{} Start the server to apply any newer migrations.",
        database.display(),
        file.display(),
        facts.invoices,
        facts.events,
        kept.map(|k| format!(" The database it replaced is at {}.", k.display()))
            .unwrap_or_default()
    ))
}

/// `billing-console credits issue …`: new codes, one per line.
pub async fn issue_credits(
    config: Config,
    request: credits::IssueRequest,
) -> Result<Vec<String>, StartupError> {
    let store = open_existing_store(&config).await?;
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
    let store = open_existing_store(&config).await?;
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
    let store = open_existing_store(&config).await?;
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
    let store = open_existing_store(&config).await?;
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
    let store = open_existing_store(&config).await?;
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
