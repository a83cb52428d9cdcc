//! First run (issue 16): on a database without users, a one-time setup
//! link creates the first user — an operator — and the first account. The
//! token is kept hashed in the database, so any instance accepts it; each
//! start replaces it while no user exists, and the first user voids it.

use chrono::{DateTime, Utc};

use super::accounts::new_account;
use crate::error::{AppError, AppResult, FieldError};
use crate::model::ids::UserId;
use crate::model::validation;
use crate::server::auth::{hash_password_off_runtime, new_secret, secret_hash};
use crate::server::store::{NewUser, Store, UserRecord};

/// What the setup form sends.
#[derive(Debug, Clone, Default)]
pub struct SetupForm {
    pub token: String,
    pub real_name: String,
    pub email: String,
    pub password: String,
    pub account_name: String,
    pub billing_currency: String,
}

/// At start-up: while no user exists, a new setup token replaces any
/// earlier one; the answer is the token to print (None once users exist).
pub async fn new_setup_token(store: &dyn Store, now: DateTime<Utc>) -> AppResult<Option<String>> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let token = new_secret();
    Ok(store
        .replace_setup_token(&secret_hash(&token), now)
        .await?
        .then_some(token))
}

fn invalid_token() -> AppError {
    AppError::invalid(
        "token",
        "This setup link is not valid: setup is done already, or the server printed a newer link when it restarted.",
    )
}

/// Whether the setup page may show its form for this token.
pub async fn check_token(store: &dyn Store, token: &str) -> AppResult<()> {
    if store.user_count().await? == 0 && store.setup_token_is(&secret_hash(token.trim())).await? {
        Ok(())
    } else {
        Err(invalid_token())
    }
}

/// Creates the operator and the first account, with the operator as its
/// admin. A wrong or used token, or any user existing already, writes
/// nothing.
pub async fn complete_setup(
    store: &dyn Store,
    form: &SetupForm,
    now: DateTime<Utc>,
) -> AppResult<UserRecord> {
    check_token(store, &form.token).await?;
    let mut errors = Vec::new();
    let real_name = validation::display_name(&form.real_name, "Name", 128)
        .map_err(|m| errors.push(FieldError::new("real_name", m)))
        .ok();
    let email = validation::email(&form.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Err(m) = validation::password(&form.password, &form.email) {
        errors.push(FieldError::new("password", m));
    }
    let operator = NewUser {
        user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
        email: email.clone().unwrap_or_default(),
        real_name: real_name.clone().unwrap_or_default(),
        password_hash: String::new(),
        is_operator: true,
    };
    let records = new_account(
        &crate::model::CurrentUser {
            user_id: operator.user_id.clone(),
            email: operator.email.clone(),
            real_name: operator.real_name.clone(),
            is_operator: true,
        },
        &form.account_name,
        &form.billing_currency,
        now,
    );
    let records = match records {
        Ok(records) => Some(records),
        Err(AppError::Invalid { errors: more }) => {
            errors.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let Some((account, events, account_event)) = records.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid { errors });
    };
    let operator = NewUser {
        password_hash: hash_password_off_runtime(form.password.clone()).await?,
        ..operator
    };
    store
        .complete_setup(
            &secret_hash(form.token.trim()),
            &operator,
            &account,
            &events,
            &account_event,
            now,
        )
        .await?
        .ok_or_else(invalid_token)
}

/// The command line's `users create`: a user (an operator with
/// `operator`), with a password read by the caller.
pub async fn create_user(
    store: &dyn Store,
    email: &str,
    real_name: &str,
    password: &str,
    operator: bool,
    now: DateTime<Utc>,
) -> AppResult<UserRecord> {
    let mut errors = Vec::new();
    let real_name = validation::display_name(real_name, "Name", 128)
        .map_err(|m| errors.push(FieldError::new("name", m)))
        .ok();
    let email = validation::email(email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Err(m) = validation::password(password, email.as_deref().unwrap_or_default()) {
        errors.push(FieldError::new("password", m));
    }
    let (Some(real_name), Some(email)) = (real_name, email) else {
        return Err(AppError::Invalid { errors });
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid { errors });
    }
    let password_hash = hash_password_off_runtime(password.to_string()).await?;
    Ok(store
        .create_user(
            &NewUser {
                user_id: UserId::from(uuid::Uuid::new_v4().to_string()),
                email,
                real_name,
                password_hash,
                is_operator: operator,
            },
            now,
        )
        .await?)
}
