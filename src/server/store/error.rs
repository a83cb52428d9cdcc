//! What can go wrong in the store: a rule the database refused (by
//! constraint name, the same in both schemas), a rule run inside the
//! store's transaction that refused, or the database itself.

use crate::error::AppError;

/// A rule the database refused, identified by constraint name (the names are
/// the same in `migrations/sqlite` and `migrations/postgres`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    EmailTaken,
    ProjectNameTaken,
    ServiceNameTaken,
    MemberExists,
    GroupHasProjects,
    GroupIsPrimary,
    GroupDeleted,
    /// A group that is not of the project's (or account's) own account.
    GroupOfOtherAccount,
    EventsInsertOnly,
    /// Power on for a service that runs (its one open run exists).
    ServiceAlreadyRunning,
    /// Power off for a service without an open run.
    ServiceNotRunning,
    /// A credit whose code another group (of any account) claimed first.
    CreditAlreadyClaimed,
    /// A credit's remaining value changed while a close was using it.
    CreditBalanceChanged,
    /// A credit code that exists already (issuing).
    CreditCodeTaken,
    /// The change would leave an account without an admin.
    LastAdmin,
    /// An open invitation for this email exists on the account.
    InvitationOpen,
    /// Another named check; the name tells which.
    Check(String),
    /// A foreign key without a more specific meaning.
    ForeignKey(String),
    Unique(String),
}

impl Violation {
    /// Maps a constraint name from either backend to its meaning.
    pub fn from_constraint_name(name: &str) -> Violation {
        match name {
            "users_email_key" => Violation::EmailTaken,
            "projects_pkey" => Violation::ProjectNameTaken,
            "services_project_name_key" => Violation::ServiceNameTaken,
            "memberships_pkey" => Violation::MemberExists,
            "billing_group_has_projects" => Violation::GroupHasProjects,
            "billing_group_is_primary" => Violation::GroupIsPrimary,
            "billing_group_deleted" => Violation::GroupDeleted,
            "projects_group_same_account_fkey" | "accounts_primary_group_fkey" => {
                Violation::GroupOfOtherAccount
            }
            "events_insert_only" => Violation::EventsInsertOnly,
            "service_runs_one_open" => Violation::ServiceAlreadyRunning,
            "credits_pkey" => Violation::CreditCodeTaken,
            "memberships_last_admin" => Violation::LastAdmin,
            "invitations_open_key" => Violation::InvitationOpen,
            other if other.ends_with("_fkey") || other == "foreign_key" => {
                Violation::ForeignKey(other.to_string())
            }
            other if other.ends_with("_key") || other.ends_with("_pkey") => {
                Violation::Unique(other.to_string())
            }
            other => Violation::Check(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("constraint violated: {0:?}")]
    Violation(Violation),
    #[error("not found")]
    NotFound,
    /// A rule handed in by the rules layer, run inside the store's transaction on
    /// the rows as locked, refused the change; nothing was written.
    #[error("refused: {0}")]
    Refused(AppError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// An error of SQLite's own API on the month close's bulk path.
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("{0}")]
    Migration(String),
    #[error("{0}")]
    Config(String),
    /// No database where one was expected (a command that must not create one).
    #[error("{0}")]
    Missing(String),
    #[error("stored value is malformed: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<AppError> for StoreError {
    fn from(error: AppError) -> Self {
        StoreError::Refused(error)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = error {
            return StoreError::NotFound;
        }
        if let Some(name) = error.as_database_error().and_then(constraint_name) {
            return StoreError::Violation(Violation::from_constraint_name(&name));
        }
        StoreError::Database(error)
    }
}

/// The name of the constraint a database error reports, on either backend.
fn constraint_name(error: &dyn sqlx::error::DatabaseError) -> Option<String> {
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.constraint().map(str::to_string);
    }
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        let extended_code = error.code().and_then(|code| code.parse().ok());
        return super::constraints::sqlite_constraint_name(
            error.message(),
            extended_code.unwrap_or_default(),
        );
    }
    None
}
