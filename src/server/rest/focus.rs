//! `/v1/billing-group/{id}/focus` and `/v1/account/{id}/focus`: the FOCUS
//! 1.0 cost and usage export as CSV (`billing::focus`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiResult;
use super::extract::{ApiQuery, ApiUser};
use crate::server::billing::focus::{self, FocusQuery, Scope};
use crate::server::state::AppState;

pub async fn of_group(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiQuery(query): ApiQuery<FocusQuery>,
) -> ApiResult<Response> {
    answer(
        &state,
        &user,
        Scope::BillingGroup(&billing_group_id),
        &query,
    )
    .await
}

pub async fn of_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(account_id): Path<String>,
    ApiQuery(query): ApiQuery<FocusQuery>,
) -> ApiResult<Response> {
    answer(&state, &user, Scope::Account(&account_id), &query).await
}

/// The export as a download: `text/csv`, named.
async fn answer(
    state: &AppState,
    user: &crate::model::CurrentUser,
    scope: Scope<'_>,
    query: &FocusQuery,
) -> ApiResult<Response> {
    let (file_name, body) = focus::export(
        state.store.as_ref(),
        &state.config.seller,
        user,
        scope,
        query,
        state.clock.now(),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
