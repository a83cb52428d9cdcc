//! `/v1/billing-group/{id}/credits` and `/v1/billing-group/{id}/invoice…`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiQuery, ApiUser};
use super::wire::{
    ClaimCreditRequest, CreditNoteRequest, CreditNoteResponse, CreditNotesResponse, CreditResponse,
    CreditWire, CreditsResponse, InvoiceGroup, InvoiceLinesResponse, InvoiceResponse, InvoiceWire,
    InvoicesQuery, InvoicesResponse, VoidInvoiceRequest, VoidInvoiceResponse, INVOICE_SORTS,
};
use crate::error::AppError;
use crate::model::ids::GroupId;
use crate::model::invoices::{
    sort_invoices, CreditNoteSummary, CreditRequest, CreditedLine, InvoiceDetail, InvoiceSummary,
};
use crate::model::payment::InvoiceSearch;
use crate::server::billing::{corrections, credit_notes, credits, invoice_files, invoices};
use crate::server::state::AppState;

pub async fn credits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<CreditsResponse>> {
    let page = credits::credits_page(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
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
        &GroupId::from(&billing_group_id),
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
        &GroupId::from(&billing_group_id),
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
        billing_group_state: group.group_state,
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
        &GroupId::from(billing_group_id),
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
        &GroupId::from(&billing_group_id),
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

// ---------------------------------------------------------- credit notes --

fn credit_note_request(body: CreditNoteRequest) -> CreditRequest {
    CreditRequest {
        reason: body.reason,
        lines: body
            .lines
            .into_iter()
            .map(|line| CreditedLine {
                line_no: line.line_no,
                amount: line.amount,
            })
            .collect(),
    }
}

/// What a credit note answers with: itself and its lines.
async fn credit_note_response(
    state: &AppState,
    user: &crate::model::CurrentUser,
    billing_group_id: &str,
    summary: CreditNoteSummary,
) -> ApiResult<CreditNoteResponse> {
    let detail = credit_notes::credit_note_detail(
        state.store.as_ref(),
        user,
        &GroupId::from(billing_group_id),
        &summary.credit_note_number,
    )
    .await?;
    Ok(CreditNoteResponse {
        credit_note: summary.into(),
        lines: detail.lines.into_iter().map(Into::into).collect(),
    })
}

/// An admin credits an issued invoice, in full or by line.
pub async fn credit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, invoice_number)): Path<(String, String)>,
    ApiJson(body): ApiJson<CreditNoteRequest>,
) -> ApiResult<Json<CreditNoteResponse>> {
    let summary = corrections::credit_invoice(
        state.store.as_ref(),
        &corrections::Corrector {
            seller: &state.config.seller,
            link_base: &crate::server::links::mail_base(&state.config),
            user: &user,
            now: state.clock.now(),
        },
        &GroupId::from(&billing_group_id),
        &invoice_number,
        &credit_note_request(body),
    )
    .await?;
    Ok(Json(
        credit_note_response(&state, &user, &billing_group_id, summary).await?,
    ))
}

/// An admin voids an issued invoice and reissues it from the group's
/// current billing details.
pub async fn void(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, invoice_number)): Path<(String, String)>,
    ApiJson(body): ApiJson<VoidInvoiceRequest>,
) -> ApiResult<Json<VoidInvoiceResponse>> {
    let (credit_note, reissued) = corrections::void_and_reissue(
        state.store.as_ref(),
        &corrections::Corrector {
            seller: &state.config.seller,
            link_base: &crate::server::links::mail_base(&state.config),
            user: &user,
            now: state.clock.now(),
        },
        &GroupId::from(&billing_group_id),
        &invoice_number,
        &body.reason,
    )
    .await?;
    let detail = detail(&state, &user, &billing_group_id, &reissued).await?;
    let links = download_links(&state).await?;
    let invoice = InvoiceWire::of(
        with_link(detail.summary.clone(), &links),
        &group_of(&detail),
    );
    Ok(Json(VoidInvoiceResponse {
        credit_note: credit_note.into(),
        invoice,
    }))
}

pub async fn credit_note_list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(billing_group_id): Path<String>,
) -> ApiResult<Json<CreditNotesResponse>> {
    let notes = credit_notes::credit_notes_of_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
    )
    .await?;
    Ok(Json(CreditNotesResponse {
        credit_notes: notes.into_iter().map(Into::into).collect(),
    }))
}

pub async fn credit_note_get(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, number)): Path<(String, String)>,
) -> ApiResult<Json<CreditNoteResponse>> {
    let detail = credit_notes::credit_note_detail(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &number,
    )
    .await?;
    let summary = credit_notes::credit_notes_of_group(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
    )
    .await?
    .into_iter()
    .find(|n| n.credit_note_number == detail.summary.invoice_number)
    .ok_or_else(|| ApiError::from(AppError::not_found("Credit note")))?;
    Ok(Json(CreditNoteResponse {
        credit_note: summary.into(),
        lines: detail.lines.into_iter().map(Into::into).collect(),
    }))
}

/// A credit note's document: `pdf`, `csv` or `xml`.
pub async fn credit_note_file(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((billing_group_id, number, format)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let detail = credit_notes::credit_note_detail(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &number,
    )
    .await?;
    let stem = invoice_files::file_stem(&detail);
    let (content_type, body): (&str, Vec<u8>) = match format.as_str() {
        "pdf" => (
            "application/pdf",
            invoice_files::invoice_pdf_off_the_runtime(detail).await?,
        ),
        "csv" => (
            "text/csv; charset=utf-8",
            invoice_files::invoice_csv(&detail).into_bytes(),
        ),
        "xml" => (
            "application/xml; charset=utf-8",
            invoice_files::invoice_xml(&detail)?.into_bytes(),
        ),
        _ => return Err(ApiError::not_found("No such file: pdf, csv or xml.")),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{stem}.{format}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
