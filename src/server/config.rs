//! Settings: `Leptos.toml` first, then environment variables over it.
//! Validated once at start-up; every problem is one line naming the setting.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the server cannot start with the settings it was given.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub site_root: String,
    pub site_pkg_dir: String,
    pub output_name: String,
    pub database_url: String,
    pub max_connections: u32,
    pub demo: bool,
    pub trusted_proxies: Vec<IpAddr>,
    /// Where the app lives on its host: "" at the root, or "/billing" when
    /// a proxy serves it at a sub-path. Every link, asset, server-function
    /// URL, redirect and the cookie path carry it.
    pub base_path: String,
    /// Where people reach the console (`PUBLIC_URL`, e.g.
    /// `https://billing.example.com/billing`): the origin state-changing
    /// requests must come from, and the start of links the console prints
    /// or mails. None: the request's own host.
    pub public_url: Option<url::Url>,
    /// How long an invoice's download link (the REST API's PDF link) works.
    pub download_link_days: i64,
    pub session_ttl_hours: i64,
    pub log_format: LogFormat,
    pub seller: Seller,
    /// Close each month in the server (first hour of the 1st, UTC). Off
    /// when an operator runs `close-month` from cron instead.
    pub scheduled_close: bool,
    /// Test-only: a file holding the instant the server's clock reads
    /// (`TEST_CLOCK_FILE`; `server::clock`). Refused by release builds.
    pub test_clock_file: Option<PathBuf>,
    pub mail: MailSettings,
    /// Where the invoice PDFs' fonts are (`INVOICE_FONT_DIR`;
    /// `billing::pdf_fonts`).
    pub invoice_font_dir: PathBuf,
    /// After SIGTERM, how long `/readyz` answers 503 while requests are
    /// still served, so a load balancer stops sending new ones before the
    /// server stops accepting them (`SHUTDOWN_DRAIN_SECONDS`).
    pub shutdown_drain_seconds: u64,
    /// `/metrics` on a listener of its own (`METRICS_ADDR`).
    pub metrics_addr: Option<SocketAddr>,
    /// `/metrics` on the main address behind `Authorization: Bearer`
    /// (`METRICS_TOKEN`; also required on `METRICS_ADDR` when both are set).
    pub metrics_token: Option<String>,
    /// Webhooks may post to loopback and private addresses
    /// (`WEBHOOK_ALLOW_PRIVATE_TARGETS`; off: refused, against server-side
    /// request forgery). For a receiver on the same host or network.
    pub webhook_allow_private_targets: bool,
}

/// Who issues the invoices, how they are paid, and their VAT (rule 9).
/// There is no built-in seller: until the settings [`Seller::missing`]
/// names are given, a month close issues nothing. The demo has a seller of
/// its own ([`Seller::demo`]), clearly fictitious.
#[derive(Debug, Clone, PartialEq)]
pub struct Seller {
    /// Legal name.
    pub name: String,
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2; empty while unset.
    pub country_code: String,
    pub vat_id: String,
    /// The company's registration number (in Finland the Y-tunnus).
    pub business_id: String,
    /// Checked (ISO 13616) and grouped by four; empty while unset.
    pub iban: String,
    pub bic: String,
    pub bank_name: String,
    /// Where customers write about invoices.
    pub email: String,
    /// Optional.
    pub phone: String,
    /// Optional.
    pub website: String,
    /// Percent, e.g. 25.5.
    pub vat_rate: rust_decimal::Decimal,
    /// Days from issue to due date.
    pub net_days: i64,
}

impl Default for Seller {
    /// No seller yet: every identity and payment setting empty.
    fn default() -> Self {
        Seller {
            name: String::new(),
            address_lines: Vec::new(),
            country_code: String::new(),
            vat_id: String::new(),
            business_id: String::new(),
            iban: String::new(),
            bic: String::new(),
            bank_name: String::new(),
            email: String::new(),
            phone: String::new(),
            website: String::new(),
            vat_rate: rust_decimal::Decimal::new(255, 1),
            net_days: 14,
        }
    }
}

impl Seller {
    /// The demo's seller: clearly fictitious (a reserved `.example`
    /// domain, "(demo)" in its name), with an IBAN whose check digits are
    /// valid so the demo's invoices show how a real one reads.
    pub fn demo() -> Seller {
        Seller {
            name: "Demo Seller Ltd (demo, not a real company)".into(),
            address_lines: vec!["1 Example Road".into(), "00100 Helsinki".into()],
            country_code: "FI".into(),
            vat_id: "FI00000019".into(),
            business_id: "0000001-9".into(),
            iban: "FI21 1234 5600 0007 85".into(),
            bic: "DEMOFIHH".into(),
            bank_name: "Demo Bank (fictitious)".into(),
            email: "billing@seller.example".into(),
            phone: String::new(),
            website: "https://seller.example".into(),
            ..Seller::default()
        }
    }

    /// The settings an invoice needs that this seller lacks, by their
    /// environment names: while any is missing, no invoice is issued.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("SELLER_NAME", self.name.is_empty()),
            ("SELLER_ADDRESS", self.address_lines.is_empty()),
            ("SELLER_COUNTRY", self.country_code.is_empty()),
            ("SELLER_VAT_ID", self.vat_id.is_empty()),
            ("SELLER_BUSINESS_ID", self.business_id.is_empty()),
            ("SELLER_IBAN", self.iban.is_empty()),
            ("SELLER_BIC", self.bic.is_empty()),
            ("SELLER_BANK_NAME", self.bank_name.is_empty()),
            ("SELLER_EMAIL", self.email.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect()
    }

    /// How the invoice numbered `invoice_number` is paid by transfer.
    pub fn payment(&self, invoice_number: &str) -> crate::model::payment::PaymentInstructions {
        crate::model::payment::PaymentInstructions {
            iban: self.iban.clone(),
            bic: self.bic.clone(),
            bank_name: self.bank_name.clone(),
            reference: crate::model::payment::creditor_reference(invoice_number),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The file's shape. Unknown keys are refused so that a typo is not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    site: SiteSection,
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    invoicing: InvoicingSection,
    #[serde(default)]
    mail: MailSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailSection {
    smtp_url: Option<String>,
    from: Option<String>,
    reply_to: Option<String>,
}

/// Outgoing mail (issue 18). Unset (`smtp_url` None): nothing is sent and
/// messages wait in the outbox until it is set.
#[derive(Clone, PartialEq, Default)]
pub struct MailSettings {
    /// `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (implicit TLS).
    pub smtp_url: Option<String>,
    pub from: String,
    pub reply_to: Option<String>,
}

impl MailSettings {
    pub fn configured(&self) -> bool {
        self.smtp_url.is_some()
    }
}

// The SMTP URL may hold a password: never print it.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoicingSection {
    seller_name: Option<String>,
    seller_address: Option<Vec<String>>,
    seller_country: Option<String>,
    seller_vat_id: Option<String>,
    seller_business_id: Option<String>,
    seller_iban: Option<String>,
    seller_bic: Option<String>,
    seller_bank_name: Option<String>,
    seller_email: Option<String>,
    seller_phone: Option<String>,
    seller_website: Option<String>,
    vat_rate: Option<String>,
    net_days: Option<i64>,
    scheduled_close: Option<bool>,
    download_link_days: Option<i64>,
    font_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteSection {
    addr: Option<String>,
    root: Option<String>,
    pkg_dir: Option<String>,
    output_name: Option<String>,
    base_path: Option<String>,
    public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: Option<String>,
    max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    demo: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    session_ttl_hours: Option<i64>,
    log_format: Option<LogFormat>,
    shutdown_drain_seconds: Option<u64>,
    metrics_addr: Option<String>,
    metrics_token: Option<String>,
    webhook_allow_private_targets: Option<bool>,
}

pub const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";
/// Where the invoice PDFs' Noto fonts are, by default (Debian's packages).
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/billing-console.db";

impl Config {
    /// The demo's own seller, when this is the demo (`BILLING_DEMO` or
    /// `serve --demo`) and no seller setting is given; never in place of a
    /// configured one, even a partly configured one.
    pub fn apply_demo_seller(&mut self) {
        if self.demo && self.seller.missing().len() == Seller::default().missing().len() {
            self.seller = Seller {
                vat_rate: self.seller.vat_rate,
                net_days: self.seller.net_days,
                ..Seller::demo()
            };
        }
    }

    /// Reads `path` (when it exists, or always when `required`) and the
    /// environment through `env`.
    pub fn load(
        path: &Path,
        required: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = read_file(path, required)?;

        let pick = |var: &str, from_file: Option<String>, default: &str| -> String {
            env(var)
                .filter(|v| !v.is_empty())
                .or(from_file)
                .unwrap_or_else(|| default.to_string())
        };

        let addr_text = pick("LEPTOS_SITE_ADDR", file.site.addr, "127.0.0.1:3000");
        let site_addr = addr_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!(
                "LEPTOS_SITE_ADDR / site.addr '{addr_text}' is not an address like 127.0.0.1:3000"
            ))
        })?;

        let base_path = base_path(&pick("BASE_PATH", file.site.base_path, ""))?;
        let public_url = match pick("PUBLIC_URL", file.site.public_url, "") {
            text if text.is_empty() => None,
            text => Some(public_url(&text, &base_path)?),
        };

        let mail = mail_settings(
            pick("SMTP_URL", file.mail.smtp_url, ""),
            pick("MAIL_FROM", file.mail.from, ""),
            pick("MAIL_REPLY_TO", file.mail.reply_to, ""),
        )?;

        let database_url = pick("DATABASE_URL", file.database.url, DEFAULT_DATABASE_URL);
        check_database_url(&database_url)?;

        let max_connections = number_setting(
            &env,
            ("DATABASE_MAX_CONNECTIONS", "database.max_connections"),
            file.database.max_connections,
            16,
            1..=10_000,
        )?;
        let demo = bool_setting(&env, "BILLING_DEMO", file.server.demo, false)?;
        let trusted_proxies = trusted_proxies(&env, file.server.trusted_proxies)?;

        let session_ttl_hours = number_setting(
            &env,
            ("SESSION_TTL_HOURS", "server.session_ttl_hours"),
            file.server.session_ttl_hours,
            168,
            1..=24 * 366,
        )?;
        let shutdown_drain_seconds = number_setting(
            &env,
            ("SHUTDOWN_DRAIN_SECONDS", "server.shutdown_drain_seconds"),
            file.server.shutdown_drain_seconds,
            5,
            0..=300,
        )?;
        let metrics_addr = match pick("METRICS_ADDR", file.server.metrics_addr, "") {
            text if text.is_empty() => None,
            text => Some(text.parse::<SocketAddr>().map_err(|_| {
                ConfigError(format!(
                    "METRICS_ADDR / server.metrics_addr '{text}' is not an address like 127.0.0.1:9464"
                ))
            })?),
        };
        let metrics_token = match pick("METRICS_TOKEN", file.server.metrics_token, "") {
            text if text.is_empty() => None,
            text if text.len() < 16 => {
                return Err(ConfigError(
                    "METRICS_TOKEN / server.metrics_token must be at least 16 characters".into(),
                ))
            }
            text => Some(text),
        };
        let webhook_allow_private_targets = bool_setting(
            &env,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS",
            file.server.webhook_allow_private_targets,
            false,
        )?;
        let log_format = match env("LOG_FORMAT") {
            Some(text) => match text.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError(format!(
                        "LOG_FORMAT '{text}' must be text or json"
                    )))
                }
            },
            None => file.server.log_format.unwrap_or(LogFormat::Text),
        };

        let scheduled_close = bool_setting(
            &env,
            "MONTH_CLOSE_SCHEDULED",
            file.invoicing.scheduled_close,
            true,
        )?;
        let download_link_days = number_setting(
            &env,
            ("DOWNLOAD_LINK_DAYS", "invoicing.download_link_days"),
            file.invoicing.download_link_days,
            30,
            1..=366,
        )?;
        let invoice_font_dir = PathBuf::from(pick(
            "INVOICE_FONT_DIR",
            file.invoicing.font_dir.clone(),
            DEFAULT_FONT_DIR,
        ));
        let seller = seller_settings(file.invoicing, &env)?;

        let test_clock_file = env("TEST_CLOCK_FILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if test_clock_file.is_some() && !cfg!(debug_assertions) {
            return Err(ConfigError(
                "TEST_CLOCK_FILE is a test-only setting; a release build does not run on a test clock"
                    .into(),
            ));
        }

        let mut config = Config {
            seller,
            scheduled_close,
            test_clock_file,
            invoice_font_dir,
            site_addr,
            site_root: pick("LEPTOS_SITE_ROOT", file.site.root, "target/site"),
            site_pkg_dir: pick("LEPTOS_SITE_PKG_DIR", file.site.pkg_dir, "pkg"),
            output_name: pick(
                "LEPTOS_OUTPUT_NAME",
                file.site.output_name,
                "billing-console",
            ),
            database_url,
            max_connections,
            demo,
            trusted_proxies,
            base_path,
            public_url,
            download_link_days,
            session_ttl_hours,
            log_format,
            mail,
            shutdown_drain_seconds,
            metrics_addr,
            metrics_token,
            webhook_allow_private_targets,
        };
        config.apply_demo_seller();
        Ok(config)
    }

    /// The SQLite file's directory, when the database is a SQLite file.
    pub fn sqlite_data_dir(&self) -> Option<PathBuf> {
        self.sqlite_file()
            .map(|file| file.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    /// The SQLite file, when the database is one (not `:memory:`).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let path = rest
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// The database as a command names it: a SQLite file by its absolute
    /// path, a PostgreSQL URL without its password.
    pub fn database_for_display(&self) -> String {
        if let Some(file) = self.sqlite_file() {
            let absolute = std::path::absolute(&file).unwrap_or(file);
            return format!("SQLite file {}", absolute.display());
        }
        match url::Url::parse(&self.database_url) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                format!("PostgreSQL {url}")
            }
            Err(_) => "an in-memory SQLite database".to_string(),
        }
    }
}

fn seller_settings(
    file: InvoicingSection,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Seller, ConfigError> {
    let defaults = Seller::default();
    let text = |var: &str, from_file: Option<String>, default: String| {
        env(var)
            .filter(|v| !v.is_empty())
            .or(from_file)
            .map(|v| v.trim().to_string())
            .unwrap_or(default)
    };
    let country_code = text("SELLER_COUNTRY", file.seller_country, defaults.country_code)
        .trim()
        .to_ascii_uppercase();
    if !country_code.is_empty() && crate::model::countries::country_name(&country_code).is_none() {
        return Err(ConfigError(format!(
            "SELLER_COUNTRY / invoicing.seller_country '{country_code}' is not an ISO 3166-1 alpha-2 code"
        )));
    }
    let rate_text = text("VAT_RATE", file.vat_rate, defaults.vat_rate.to_string());
    let vat_rate = crate::model::amount::parse_amount(&rate_text, 2)
        .ok()
        .filter(|r| !r.is_sign_negative() && *r < rust_decimal::Decimal::from(100))
        .ok_or_else(|| {
            ConfigError(format!(
                "VAT_RATE / invoicing.vat_rate '{rate_text}' must be a percentage from 0 to 99.99, like 25.5"
            ))
        })?;
    let net_days = match env("INVOICE_NET_DAYS") {
        Some(days) => days.parse::<i64>().map_err(|_| {
            ConfigError(format!("INVOICE_NET_DAYS '{days}' is not a number of days"))
        })?,
        None => file.net_days.unwrap_or(defaults.net_days),
    };
    if !(0..=365).contains(&net_days) {
        return Err(ConfigError(format!(
            "INVOICE_NET_DAYS / invoicing.net_days must be between 0 and 365 (got {net_days})"
        )));
    }
    // SELLER_ADDRESS: lines separated by `|` (an environment variable
    // holds one line); the file takes a list.
    let address_lines = match env("SELLER_ADDRESS").filter(|v| !v.trim().is_empty()) {
        Some(lines) => lines
            .split('|')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        None => file.seller_address.unwrap_or_default(),
    };
    let iban = text("SELLER_IBAN", file.seller_iban, String::new());
    let iban = if iban.is_empty() {
        iban
    } else {
        crate::model::payment::iban(&iban)
            .map_err(|m| ConfigError(format!("SELLER_IBAN / invoicing.seller_iban: {m}")))?
    };
    let bic = text("SELLER_BIC", file.seller_bic, String::new());
    let bic = if bic.is_empty() {
        bic
    } else {
        crate::model::payment::bic(&bic)
            .map_err(|m| ConfigError(format!("SELLER_BIC / invoicing.seller_bic: {m}")))?
    };
    let email = text("SELLER_EMAIL", file.seller_email, String::new());
    if !email.is_empty() {
        crate::model::validation::email(&email)
            .map_err(|m| ConfigError(format!("SELLER_EMAIL / invoicing.seller_email: {m}")))?;
    }
    Ok(Seller {
        name: text("SELLER_NAME", file.seller_name, defaults.name),
        address_lines,
        country_code,
        vat_id: text("SELLER_VAT_ID", file.seller_vat_id, defaults.vat_id),
        business_id: text("SELLER_BUSINESS_ID", file.seller_business_id, String::new()),
        iban,
        bic,
        bank_name: text("SELLER_BANK_NAME", file.seller_bank_name, String::new()),
        email,
        phone: text("SELLER_PHONE", file.seller_phone, String::new()),
        website: text("SELLER_WEBSITE", file.seller_website, String::new()),
        vat_rate,
        net_days,
    })
}

/// Checks `PUBLIC_URL`: http or https, a host, no query or fragment, and
/// the base path as its path (so links built from it reach this app).
fn public_url(text: &str, base_path: &str) -> Result<url::Url, ConfigError> {
    let bad = |why: &str| {
        ConfigError(format!(
            "PUBLIC_URL / site.public_url '{text}' {why}, like https://billing.example.com{base_path}"
        ))
    };
    let url = url::Url::parse(text).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if url.path().trim_end_matches('/') != base_path {
        return Err(bad("must end in the base path (BASE_PATH)"));
    }
    Ok(url)
}

/// Checks a base path: empty or "/" for the root, otherwise "/a/b" — a
/// leading slash, no trailing one (dropped), and only characters that need
/// no escaping in a URL path, so it can be pasted into links as it is.
fn base_path(text: &str) -> Result<String, ConfigError> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if !trimmed.starts_with('/') {
        return Err(ConfigError(format!(
            "BASE_PATH / site.base_path '{text}' must start with a slash, like /billing"
        )));
    }
    let segments_ok = trimmed[1..].split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    });
    if !segments_ok {
        return Err(ConfigError(format!(
            "BASE_PATH / site.base_path '{text}' may hold only letters, digits, '-', '_', '.', '~' between single slashes"
        )));
    }
    Ok(trimmed.to_string())
}

/// The settings file, or the defaults when there is none and none was
/// asked for.
fn read_file(path: &Path, required: bool) -> Result<FileConfig, ConfigError> {
    if !path.exists() {
        return if required {
            Err(ConfigError(format!(
                "config file {} does not exist (--config / LEPTOS_CONFIG)",
                path.display()
            )))
        } else {
            Ok(FileConfig::default())
        };
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read {} ({e}); fix the file or pass --config",
            path.display()
        ))
    })?;
    toml::from_str::<FileConfig>(&text).map_err(|e| {
        let first_line = e.to_string().lines().next().unwrap_or_default().to_string();
        let message = e.message().to_string();
        ConfigError(format!(
            "{} is malformed: {message} ({first_line})",
            path.display()
        ))
    })
}

/// A yes/no setting from the environment (first) or the file.
fn bool_setting(
    env: &impl Fn(&str) -> Option<String>,
    var: &str,
    from_file: Option<bool>,
    default: bool,
) -> Result<bool, ConfigError> {
    match env(var) {
        Some(text) => parse_bool(&text)
            .ok_or_else(|| ConfigError(format!("{var} '{text}' must be true or false"))),
        None => Ok(from_file.unwrap_or(default)),
    }
}

/// The proxies whose `X-Forwarded-For` is believed: a comma-separated
/// list in the environment, or the file's list.
fn trusted_proxies(
    env: &impl Fn(&str) -> Option<String>,
    from_file: Option<Vec<String>>,
) -> Result<Vec<IpAddr>, ConfigError> {
    let proxies: Vec<String> = match env("TRUSTED_PROXIES") {
        Some(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        None => from_file.unwrap_or_default(),
    };
    proxies
        .iter()
        .map(|p| {
            p.parse::<IpAddr>().map_err(|_| {
                ConfigError(format!(
                    "TRUSTED_PROXIES / server.trusted_proxies: '{p}' is not an IP address"
                ))
            })
        })
        .collect()
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A whole-number setting from the environment (first) or the file, within
/// `range`; one line naming both spellings when it is not.
fn number_setting<T>(
    env: &impl Fn(&str) -> Option<String>,
    (var, key): (&str, &str),
    from_file: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let value = match env(var).filter(|v| !v.is_empty()) {
        Some(text) => text
            .trim()
            .parse::<T>()
            .map_err(|_| ConfigError(format!("{var} '{text}' is not a whole number")))?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(ConfigError(format!(
            "{var} / {key} must be between {} and {} (got {value})",
            range.start(),
            range.end()
        )));
    }
    Ok(value)
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if known.iter().any(|prefix| url.starts_with(prefix)) {
        Ok(())
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(ConfigError(format!(
            "DATABASE_URL / database.url must start with sqlite: or postgres:// (got '{scheme}:…')"
        )))
    }
}

impl Config {
    /// The server's clock: the system's, or the test clock's file.
    pub fn clock(&self) -> crate::server::clock::Clock {
        match &self.test_clock_file {
            Some(path) => crate::server::clock::Clock::from_file(path.clone()),
            None => crate::server::clock::Clock::system(),
        }
    }
}

/// Checks the mail settings: a URL of a known scheme, and a sender address
/// whenever mail is on.
fn mail_settings(
    smtp_url: String,
    from: String,
    reply_to: String,
) -> Result<MailSettings, ConfigError> {
    if smtp_url.is_empty() {
        return Ok(MailSettings::default());
    }
    let parsed = url::Url::parse(&smtp_url).map_err(|_| {
        ConfigError(
            "SMTP_URL / mail.smtp_url is not a URL (like smtp://mail.example.com:587?tls=required)"
                .into(),
        )
    })?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
        return Err(ConfigError(
            "SMTP_URL / mail.smtp_url must be smtp://host[:port] (STARTTLS with ?tls=required) or smtps://host[:port]".into(),
        ));
    }
    let address = |text: &str, name: &str| {
        crate::model::validation::email(
            text.rsplit('<')
                .next()
                .unwrap_or(text)
                .trim_end_matches('>'),
        )
        .map(|_| text.trim().to_string())
        .map_err(|_| ConfigError(format!("{name} '{text}' is not an email address")))
    };
    if from.trim().is_empty() {
        return Err(ConfigError(
            "MAIL_FROM / mail.from is needed when SMTP_URL is set (the sender address)".into(),
        ));
    }
    Ok(MailSettings {
        smtp_url: Some(smtp_url),
        from: address(&from, "MAIL_FROM / mail.from")?,
        reply_to: match reply_to.trim() {
            "" => None,
            text => Some(address(text, "MAIL_REPLY_TO / mail.reply_to")?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_with(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("bc-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("Leptos.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let result = Config::load(&path, false, |k| vars.get(k).cloned());
        std::fs::remove_dir_all(&dir).ok();
        result
    }

    #[test]
    fn defaults_are_safe_without_a_file() {
        let config = load_with(None, &[]).unwrap();
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(!config.demo, "demo data must be off by default");
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.sqlite_data_dir(), Some(PathBuf::from("data")));
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "[database]\nurl = \"sqlite://from-file.db\"\n[server]\ndemo = true\n";
        let config = load_with(Some(file), &[("DATABASE_URL", "postgres://db/x")]).unwrap();
        assert_eq!(config.database_url, "postgres://db/x");
        assert!(config.demo);
    }

    #[test]
    fn malformed_file_names_the_file() {
        let err = load_with(Some("[site\naddr = 1"), &[]).unwrap_err();
        assert!(err.0.contains("Leptos.toml is malformed"), "{}", err.0);
        let err = load_with(Some("[server]\ndmeo = true\n"), &[]).unwrap_err();
        assert!(err.0.contains("dmeo"), "{}", err.0);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let err = load_with(None, &[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(err.0.starts_with("DATABASE_URL"), "{}", err.0);
        let err = load_with(None, &[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err();
        assert!(err.0.starts_with("LEPTOS_SITE_ADDR"), "{}", err.0);
        let err = load_with(None, &[("TRUSTED_PROXIES", "10.0.0.1, nope")]).unwrap_err();
        assert!(err.0.contains("'nope'"), "{}", err.0);
        let err = load_with(None, &[("BASE_PATH", "billing")]).unwrap_err();
        assert!(err.0.starts_with("BASE_PATH"), "{}", err.0);
        assert!(err.0.contains("must start with a slash"), "{}", err.0);
        let err = load_with(None, &[("BASE_PATH", "/bill ing")]).unwrap_err();
        assert!(err.0.starts_with("BASE_PATH"), "{}", err.0);
        let err = load_with(None, &[("BASE_PATH", "/a//b")]).unwrap_err();
        assert!(err.0.starts_with("BASE_PATH"), "{}", err.0);
        let err = load_with(None, &[("BILLING_DEMO", "maybe")]).unwrap_err();
        assert!(err.0.starts_with("BILLING_DEMO"), "{}", err.0);
        let err = load_with(None, &[("VAT_RATE", "25.5.1")]).unwrap_err();
        assert!(err.0.starts_with("VAT_RATE"), "{}", err.0);
        // A decimal comma is read as one (model::amount), never as 255.
        let read = load_with(None, &[("VAT_RATE", "25,5")]).unwrap();
        assert_eq!(read.seller.vat_rate, rust_decimal::Decimal::new(255, 1));
        let err = load_with(None, &[("SELLER_COUNTRY", "XX")]).unwrap_err();
        assert!(err.0.starts_with("SELLER_COUNTRY"), "{}", err.0);
        let err = load_with(None, &[("SHUTDOWN_DRAIN_SECONDS", "301")]).unwrap_err();
        assert_eq!(
            err.0,
            "SHUTDOWN_DRAIN_SECONDS / server.shutdown_drain_seconds must be between 0 and 300 (got 301)"
        );
        let err = load_with(None, &[("SESSION_TTL_HOURS", "a week")]).unwrap_err();
        assert!(err.0.starts_with("SESSION_TTL_HOURS 'a week'"), "{}", err.0);
        let err = load_with(None, &[("METRICS_ADDR", "9464")]).unwrap_err();
        assert!(err.0.starts_with("METRICS_ADDR"), "{}", err.0);
        let err = load_with(None, &[("METRICS_TOKEN", "short")]).unwrap_err();
        assert!(err.0.starts_with("METRICS_TOKEN"), "{}", err.0);
    }

    #[test]
    fn commands_name_the_database_without_its_password() {
        let config = load_with(
            None,
            &[(
                "DATABASE_URL",
                "postgres://billing:s3cret@db-host:5432/billing",
            )],
        )
        .unwrap();
        assert_eq!(
            config.database_for_display(),
            "PostgreSQL postgres://billing:***@db-host:5432/billing"
        );
        let config = load_with(None, &[]).unwrap();
        let shown = config.database_for_display();
        assert!(
            shown.starts_with("SQLite file /") && shown.ends_with("/data/billing-console.db"),
            "{shown}"
        );
        assert_eq!(load_with(None, &[]).unwrap().shutdown_drain_seconds, 5);
        assert_eq!(load_with(None, &[]).unwrap().metrics_addr, None);
    }

    #[test]
    fn base_path_defaults_to_the_root_and_drops_a_trailing_slash() {
        assert_eq!(load_with(None, &[]).unwrap().base_path, "");
        assert_eq!(
            load_with(None, &[("BASE_PATH", "/")]).unwrap().base_path,
            ""
        );
        let config = load_with(None, &[("BASE_PATH", "/tools/billing/")]).unwrap();
        assert_eq!(config.base_path, "/tools/billing");
        let config = load_with(Some("[site]\nbase_path = \"/billing\"\n"), &[]).unwrap();
        assert_eq!(config.base_path, "/billing");
    }

    #[test]
    fn there_is_no_built_in_seller_and_a_given_one_is_checked() {
        let config = load_with(None, &[]).unwrap();
        assert_eq!(config.seller.missing().len(), 9, "nothing but the VAT rate");
        assert!(config.seller.name.is_empty() && config.seller.iban.is_empty());
        assert_eq!(config.seller.vat_rate.to_string(), "25.5");
        let file = "[invoicing]\nseller_country = \"se\"\nvat_rate = \"25\"\nnet_days = 30\n";
        let config = load_with(Some(file), &[]).unwrap();
        assert_eq!(
            (config.seller.country_code.as_str(), config.seller.net_days),
            ("SE", 30)
        );
        let complete = [
            ("SELLER_NAME", "Seller Oy"),
            ("SELLER_ADDRESS", "Street 1 | 00100 Helsinki"),
            ("SELLER_COUNTRY", "FI"),
            ("SELLER_VAT_ID", "FI00000019"),
            ("SELLER_BUSINESS_ID", "0000001-9"),
            ("SELLER_IBAN", "fi2112345600000785"),
            ("SELLER_BIC", "ndeafihh"),
            ("SELLER_BANK_NAME", "Bank"),
            ("SELLER_EMAIL", "billing@seller.example"),
        ];
        let config = load_with(None, &complete).unwrap();
        assert!(config.seller.missing().is_empty());
        assert_eq!(config.seller.iban, "FI21 1234 5600 0007 85");
        assert_eq!(config.seller.bic, "NDEAFIHH");
        assert_eq!(config.seller.address_lines, ["Street 1", "00100 Helsinki"]);
        let err = load_with(None, &[("SELLER_IBAN", "FI21 1234 5600 0007 86")]).unwrap_err();
        assert!(
            err.0.starts_with("SELLER_IBAN") && err.0.contains("check digits"),
            "{}",
            err.0
        );
        // The demo's seller fills in for an unset one, never for a set one.
        let demo = load_with(None, &[("BILLING_DEMO", "true")]).unwrap();
        assert!(demo.seller.missing().is_empty());
        assert!(demo.seller.name.contains("demo"));
        let mut own = complete.to_vec();
        own.push(("BILLING_DEMO", "true"));
        assert_eq!(load_with(None, &own).unwrap().seller.name, "Seller Oy");
    }

    #[test]
    fn mail_settings_name_the_setting_that_is_wrong() {
        let off = load_with(None, &[]).unwrap();
        assert!(off.mail.smtp_url.is_none(), "no SMTP_URL: mail is off");
        let error = load_with(None, &[("SMTP_URL", "http://mail.example.com")]).unwrap_err();
        assert!(error.0.contains("SMTP_URL"), "{}", error.0);
        let error = load_with(None, &[("SMTP_URL", "smtp://mail.example.com")]).unwrap_err();
        assert!(error.0.contains("MAIL_FROM"), "{}", error.0);
        let error = load_with(
            None,
            &[
                ("SMTP_URL", "smtp://mail.example.com"),
                ("MAIL_FROM", "billing"),
            ],
        )
        .unwrap_err();
        assert!(error.0.contains("MAIL_FROM"), "{}", error.0);
        let on = load_with(
            None,
            &[
                ("SMTP_URL", "smtp://mail.example.com:587?tls=required"),
                ("MAIL_FROM", "Billing <billing@example.com>"),
            ],
        )
        .unwrap();
        assert_eq!(on.mail.from, "Billing <billing@example.com>");
        assert_eq!(on.mail.reply_to, None);
    }
}
