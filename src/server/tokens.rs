//! Personal API tokens (PRODUCT.md §6): created and revoked by their user,
//! shown once, stored as SHA-256 with a short prefix to tell them apart,
//! sent as `authorization: aivenv1 <token>`.

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::model::tokens::{ApiToken, CreatedApiToken};
use crate::model::CurrentUser;
use crate::server::auth::{new_secret, secret_hash};
use crate::server::store::{ApiTokenRecord, Store};

/// How many leading characters of a token are kept to name it.
pub const PREFIX_LEN: usize = 8;
/// The scheme word of the Authorization header, as `avn` sends it.
pub const SCHEME: &str = "aivenv1";

fn to_model(record: ApiTokenRecord) -> ApiToken {
    ApiToken {
        token_prefix: record.token_prefix,
        description: record.description,
        create_time: record.create_time,
        last_used_time: record.last_used_time,
    }
}

/// Creates a token for the user; the token is in the answer and nowhere else.
pub async fn create(
    store: &dyn Store,
    user: &CurrentUser,
    description: &str,
    now: DateTime<Utc>,
) -> AppResult<CreatedApiToken> {
    let description = description.trim();
    if description.is_empty() {
        return Err(AppError::invalid(
            "description",
            "Say what the token is for, e.g. \"CI pipeline\".",
        ));
    }
    if let Err(message) =
        crate::model::validation::plain_text(description, "The description", false)
    {
        return Err(AppError::invalid("description", message));
    }
    if description.chars().count() > 1000 {
        return Err(AppError::invalid(
            "description",
            "The description can be at most 1000 characters.",
        ));
    }
    let token = new_secret();
    let prefix = token[..PREFIX_LEN].to_string();
    store
        .create_api_token(
            &secret_hash(&token),
            &prefix,
            &user.user_id,
            description,
            now,
        )
        .await?;
    Ok(CreatedApiToken {
        token,
        info: ApiToken {
            token_prefix: prefix,
            description: description.to_string(),
            create_time: now,
            last_used_time: None,
        },
    })
}

pub async fn list(store: &dyn Store, user: &CurrentUser) -> AppResult<Vec<ApiToken>> {
    Ok(store
        .api_tokens_of_user(&user.user_id)
        .await?
        .into_iter()
        .map(to_model)
        .collect())
}

/// Revokes one of the user's own tokens; another user's prefix is "not found".
pub async fn revoke(
    store: &dyn Store,
    user: &CurrentUser,
    token_prefix: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let revoked = store
        .revoke_api_token(&user.user_id, token_prefix.trim(), now)
        .await?;
    if revoked {
        Ok(())
    } else {
        Err(AppError::not_found("API token"))
    }
}

/// The user behind an `Authorization` header value; anything but a live
/// token of ours is "unauthenticated".
pub async fn user_of_header(
    store: &dyn Store,
    header: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<CurrentUser> {
    let token = header
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case(SCHEME) || scheme.eq_ignore_ascii_case("bearer")
        })
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or(AppError::Unauthenticated)?;
    let user = store
        .api_token_user(&secret_hash(token), now, now - chrono::Duration::minutes(1))
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(user.current())
}
