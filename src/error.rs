//! The one error type of the app. It crosses the wire to the browser (server
//! functions) intact, so the page can put a message next to the right field.

use serde::{Deserialize, Serialize};

/// A message about one input field; `field` is the form field's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// Deliberately the same for an unknown email and a wrong password.
    #[error("Wrong email or password.")]
    InvalidCredentials,
    #[error(
        "Too many failed sign-ins for this email. Try again in {retry_after_seconds} seconds."
    )]
    TooManyAttempts { retry_after_seconds: u64 },
    /// Also the answer for IDs of accounts the caller does not belong to.
    #[error("{what} not found.")]
    NotFound { what: String },
    #[error("Your role on this account ({role}) does not allow this; ask an account admin.")]
    Forbidden { role: String },
    /// An instance-wide action (all accounts, creating accounts).
    #[error("Only operators (instance administrators) can do this.")]
    OperatorsOnly,
    #[error("{}", join_messages(.errors))]
    Invalid { errors: Vec<FieldError> },
    #[error("{message}")]
    Conflict { message: String },
    #[error("Something went wrong on the server; it has been logged. Try again.")]
    Internal,
    #[error("Could not reach the server: {message}")]
    Transport { message: String },
}

fn join_messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    /// The message for one field, if this error carries one.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { errors } => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// HTTP status for the REST API and plain responses.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Forbidden { .. } | AppError::OperatorsOnly => StatusCode::FORBIDDEN,
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // A malformed argument is the caller's input, not our failure.
            E::Args(message) | E::MissingArg(message) => AppError::invalid("request", message),
            // On the server, a body that does not decode is the caller's too.
            #[cfg(feature = "ssr")]
            E::Deserialization(message) => AppError::invalid("request", message),
            other => AppError::Transport {
                message: other.to_string(),
            },
        }
    }
}
