//! `/v1/billing-group/{id}/credits` and `/v1/billing-group/{id}/invoice…`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiQuery, ApiUser};
use super::wire::{
    ClaimCreditRequest, CreditResponse, CreditWire, CreditsResponse, InvoiceGroup,
    InvoiceLinesResponse, InvoiceResponse, InvoiceWire, InvoicesQuery, InvoicesResponse,
    INVOICE_SORTS,
};
use crate::error::AppError;
use crate::model::invoices::{sort_invoices, InvoiceDetail, InvoiceSummary};
use crate::model::payment::InvoiceSearch;
use crate::model::states::GroupState;
use crate::server::billing::{credits, invoice_files, invoices};
use crate::server::state::AppState;

pub async fn credits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<CreditsResponse>> {
    let page = credits::credits_page(
        state.store.as_ref(),
        &user,
        &billing_group_id,
        state.clock.now(),
    )
    .await?;
    Ok(Json(CreditsResponse {
        credits: page.credits.into_iter().map(CreditWire::from).collect(),
    }))
}

pub async fn claim_credit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiJson(body): ApiJson<ClaimCreditRequest>,
) -> ApiResult<Json<CreditResponse>> {
    let credit = credits::claim_credit(
        state.store.as_ref(),
        &user,
        &billing_group_id,
        &body.code,
        body.project_name.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(CreditResponse {
        credit: credit.into(),
    }))
}

/// The API's `download_cookie` is the PDF link's key: signed, expiring.
async fn download_links(state: &AppState) -> ApiResult<invoices::DownloadLinks> {
    Ok(invoices::DownloadLinks::load(
        state.store.as_ref(),
        state.clock.now(),
        state.config.download_link_days,
    )
    .await?)
}

fn with_link(mut summary: InvoiceSummary, links: &invoices::DownloadLinks) -> InvoiceSummary {
    summary.download_cookie = summary
        .download_cookie
        .map(|cookie| links.link(&summary.invoice_number, &cookie));
    summary
}

fn group_of(detail: &InvoiceDetail) -> InvoiceGroup<'_> {
    InvoiceGroup {
        billing_group_id: &detail.billing_group_id,
        billing_group_name: &detail.billing_group_name,
        billing_group_state: detail.billing_group_state,
    }
}

pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
    ApiQuery(query): ApiQuery<InvoicesQuery>,
) -> ApiResult<Json<InvoicesResponse>> {
    if let Some(sort) = query.sort.as_deref() {
        if !INVOICE_SORTS.contains(&sort) {
            return Err(ApiError::from(AppError::invalid(
                "sort",
                format!("Sort by one of: {}.", INVOICE_SORTS.join(", ")),
            )));
        }
    }
    let search = match query.reference.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(
            InvoiceSearch::parse(text)
                .map_err(|message| ApiError::from(AppError::invalid("reference", message)))?,
        ),
        _ => None,
    };
    let (group, mut list) = invoices::invoices_of_group(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &billing_group_id,
        state.clock.now(),
    )
    .await?;
    if let Some(search) = &search {
        list.retain(|invoice| search.matches(&invoice.invoice_number));
    }
    // Text fields ascending; periods and amounts newest / largest first.
    if let Some(sort) = query.sort.as_deref() {
        let descending = !matches!(sort, "invoice_number" | "state" | "currency");
        sort_invoices(&mut list, sort, descending);
    }
    let links = download_links(&state).await?;
    let owner = InvoiceGroup {
        billing_group_id: &group.billing_group_id,
        billing_group_name: &group.billing_group_name,
        billing_group_state: if group.state_active {
            GroupState::Active
        } else {
            GroupState::Deleted
        },
    };
    Ok(Json(InvoicesResponse {
        invoices: list
            .into_iter()
            .map(|s| InvoiceWire::of(with_link(s, &links), &owner))
            .collect(),
    }))
}

async fn detail(
    state: &AppState,
    user: &crate::model::CurrentUser,
    billing_group_id: &str,
    invoice_number: &str,
) -> ApiResult<InvoiceDetail> {
    Ok(invoices::invoice_detail(
        state.store.as_ref(),
        &state.config.seller,
        user,
        billing_group_id,
        invoice_number,
        state.clock.now(),
    )
    .await?)
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, invoice_number)): Path<(String, String)>,
) -> ApiResult<Json<InvoiceResponse>> {
    let detail = detail(&state, &user, &billing_group_id, &invoice_number).await?;
    let links = download_links(&state).await?;
    let invoice = InvoiceWire::of(
        with_link(detail.summary.clone(), &links),
        &group_of(&detail),
    );
    Ok(Json(InvoiceResponse { invoice }))
}

pub async fn lines(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, invoice_number)): Path<(String, String)>,
) -> ApiResult<Json<InvoiceLinesResponse>> {
    let detail = detail(&state, &user, &billing_group_id, &invoice_number).await?;
    Ok(Json(InvoiceLinesResponse {
        lines: detail.lines.into_iter().map(Into::into).collect(),
    }))
}

/// An issued invoice's EN 16931 XML, for the caller's group.
pub async fn xml(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, invoice_number)): Path<(String, String)>,
) -> ApiResult<Response> {
    let detail = detail(&state, &user, &billing_group_id, &invoice_number).await?;
    let xml = invoice_files::invoice_xml(&detail)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"{}.xml\"",
                    invoice_files::file_stem(&detail)
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        xml,
    )
        .into_response())
}

/// The PDF behind an invoice's download cookie: the cookie is the
/// credential (a browser opening the link has no token), so it must match
/// this very invoice of this very group; anything else is "not found".
pub async fn pdf(
    State(state): State<AppState>,
    Path((billing_group_id, invoice_number, download_cookie)): Path<(String, String, String)>,
) -> Response {
    let detail = match invoices::invoice_by_download_link(
        state.store.as_ref(),
        &state.config.seller,
        &billing_group_id,
        &invoice_number,
        &download_cookie,
        state.clock.now(),
    )
    .await
    {
        Ok(detail) => detail,
        Err(AppError::NotFound { .. }) => {
            return ApiError::not_found("Invoice not found.").into_response()
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    let filename = invoice_files::file_stem(&detail);
    let pdf = match invoice_files::invoice_pdf_off_the_runtime(detail.clone()).await {
        Ok(pdf) => pdf,
        Err(error) => return ApiError::from(error).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response()
}
