//! Personal API tokens as the user sees them: never the token itself,
//! apart from once, right after it is created.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A token in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The token's first characters: enough to tell tokens apart.
    pub token_prefix: String,
    pub description: String,
    pub create_time: DateTime<Utc>,
    pub last_used_time: Option<DateTime<Utc>>,
}

/// A token just created: `token` is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: String,
    pub info: ApiToken,
}
