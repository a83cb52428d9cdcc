//! `billing-console`: parse the command line and configuration, then hand
//! over to `server::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use billing_console::server::config::{Config, LogFormat, DEFAULT_CONFIG_FILE};
use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: a month close allocates tens of
/// millions of small strings (docs/BENCHMARKS.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "billing-console",
    version,
    about = "Self-hosted billing-groups console"
)]
struct Cli {
    /// Runtime settings file (environment variables override it).
    #[arg(long, env = "LEPTOS_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console (the default).
    Serve {
        /// Seed demo data into an empty database (same as BILLING_DEMO=true).
        #[arg(long)]
        demo: bool,
    },
    /// Freeze every billing group's invoice for a month (idempotent).
    CloseMonth {
        /// The month, YYYY-MM (default: the previous month).
        #[arg(long)]
        period: Option<String>,
    },
    /// Credit codes (operator commands).
    Credits {
        #[command(subcommand)]
        command: CreditsCommand,
    },
    /// Users (operator commands).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Accounts (operator commands).
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// The price list (operator commands).
    Prices {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Exchange rates (operator commands).
    Rates {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Copy the SQLite database to FILE while the server runs (PostgreSQL:
    /// pg_dump, see docs/DEPLOY.md).
    Backup { file: PathBuf },
    /// Put a backup in place of the SQLite database; refused while a
    /// server or command has it open. The replaced database is kept.
    Restore { file: PathBuf },
}

#[derive(Subcommand)]
enum FileCommand {
    /// Import a CSV file (prices: service_type,plan,cloud,hourly_price_usd,
    /// valid_from[,node_count,cpu_count,memory_mb,disk_mb]; rates: the ECB's
    /// eurofxref CSV or date,currency,rate). All or nothing.
    Import { file: PathBuf },
    /// List what is in force.
    List,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user; the password is read from stdin (one line).
    Create {
        #[arg(long)]
        email: String,
        /// The person's name.
        #[arg(long)]
        name: String,
        /// An instance administrator: sees all accounts, creates accounts.
        #[arg(long)]
        operator: bool,
    },
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account with its first (primary) billing group.
    Create {
        #[arg(long)]
        name: String,
        /// The first billing group's currency (default USD).
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Email of an existing user who becomes the account's first admin.
        #[arg(long)]
        admin: String,
    },
}

#[derive(Subcommand)]
enum CreditsCommand {
    /// Issue new credit codes and print them, one per line.
    Issue {
        /// Value of each credit in USD, e.g. 300 or 12.50.
        #[arg(long)]
        value: String,
        /// trial, promotion, purchase, discount, outage or other.
        #[arg(long = "type")]
        credit_type: String,
        /// Last valid day, YYYY-MM-DD (UTC); without it the credit never expires.
        #[arg(long)]
        expires: Option<String>,
        /// First valid day, YYYY-MM-DD (UTC); default: now.
        #[arg(long)]
        starts: Option<String>,
        /// How many codes to issue.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (path, required) = match &cli.config {
        Some(path) => (path.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let mut config = match Config::load(&path, required, |key| std::env::var(key).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("billing-console: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    billing_console::server::billing::pdf_fonts::use_font_dir(&config.invoice_font_dir);

    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    if let Command::Serve { demo } = &command {
        config.demo |= demo;
        config.apply_demo_seller();
    }

    // Every command says which database it works on (stderr: stdout stays
    // the command's own output, such as credit codes).
    if !matches!(command, Command::Serve { .. }) {
        eprintln!(
            "billing-console: database: {}",
            config.database_for_display()
        );
    }

    // SAFETY: no thread exists yet that could be using SQLite.
    unsafe { billing_console::server::store::sqlite::configure_process() };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("billing-console: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Serve { .. } => runtime.block_on(billing_console::server::run(config)),
        Command::CloseMonth { period } => runtime
            .block_on(billing_console::server::cli::close_month(config, period))
            .map(|report| println!("{report}")),
        Command::Credits {
            command:
                CreditsCommand::Issue {
                    value,
                    credit_type,
                    expires,
                    starts,
                    count,
                },
        } => {
            let request = billing_console::server::billing::credits::IssueRequest {
                value,
                credit_type,
                expires,
                starts,
                count,
            };
            runtime
                .block_on(billing_console::server::cli::issue_credits(config, request))
                .map(|codes| {
                    for code in codes {
                        println!("{code}");
                    }
                })
        }
        Command::Users {
            command:
                UsersCommand::Create {
                    email,
                    name,
                    operator,
                },
        } => read_password().and_then(|password| {
            runtime
                .block_on(billing_console::server::cli::create_user(
                    config, &email, &name, &password, operator,
                ))
                .map(|report| println!("{report}"))
        }),
        Command::Prices { command } => {
            use billing_console::server::cli;
            match command {
                FileCommand::Import { file } => runtime.block_on(cli::import_prices(config, &file)),
                FileCommand::List => runtime.block_on(cli::list_prices(config)),
            }
            .map(|report| println!("{report}"))
        }
        Command::Rates { command } => {
            use billing_console::server::cli;
            match command {
                FileCommand::Import { file } => runtime.block_on(cli::import_rates(config, &file)),
                FileCommand::List => runtime.block_on(cli::list_rates(config)),
            }
            .map(|report| println!("{report}"))
        }
        Command::Backup { file } => runtime
            .block_on(billing_console::server::cli::backup(config, &file))
            .map(|report| println!("{report}")),
        Command::Restore { file } => runtime
            .block_on(billing_console::server::cli::restore(config, &file))
            .map(|report| println!("{report}")),
        Command::Accounts {
            command:
                AccountsCommand::Create {
                    name,
                    currency,
                    admin,
                },
        } => runtime
            .block_on(billing_console::server::cli::create_account(
                config, &name, &currency, &admin,
            ))
            .map(|report| println!("{report}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("billing-console: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One line from stdin, without its line break (a password is never an
/// argument: arguments show in process lists and shell history).
fn read_password() -> Result<String, billing_console::server::state::StartupError> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        billing_console::server::state::StartupError(format!(
            "cannot read the password from stdin: {e}"
        ))
    })?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
