//! The API's error answer, Aiven's shape:
//! `{"message": "...", "errors": [{"message": "...", "status": 400}]}` —
//! never a 2xx carrying an error, never a 500 for bad input.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::AppError;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorItem {
    pub message: String,
    pub status: u16,
    /// The request field the message is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorBody {
    pub message: String,
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status,
            body: ErrorBody {
                errors: vec![ErrorItem {
                    message: message.clone(),
                    status: status.as_u16(),
                    field: None,
                }],
                message,
            },
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status = error.status();
        match error {
            // One item per field, each named, so a script can tell which.
            AppError::Invalid { errors } => {
                let message = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join(" ");
                ApiError {
                    status,
                    body: ErrorBody {
                        message,
                        errors: errors
                            .into_iter()
                            .map(|e| ErrorItem {
                                message: e.message,
                                status: status.as_u16(),
                                field: Some(e.field),
                            })
                            .collect(),
                    },
                }
            }
            AppError::Unauthenticated => Self::new(
                status,
                "Send a valid API token: authorization: aivenv1 <token>.",
            ),
            other => Self::new(status, other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("aivenv1"),
            );
        }
        response
    }
}
