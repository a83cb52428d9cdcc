//! Files behind a signed-in session: the events log as CSV, and an
//! invoice (or the running estimate) as PDF or CSV.

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::model::ids::GroupId;
use crate::model::CurrentUser;
use crate::server::billing;
use crate::server::state::{AppState, SessionUser};

#[derive(serde::Deserialize)]
pub(crate) struct EventsCsvQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    project: Option<String>,
}

/// The request's signed-in user (set by the session layer).
fn signed_in(request: &Request) -> Option<CurrentUser> {
    request
        .extensions()
        .get::<SessionUser>()
        .and_then(|s| s.0.clone())
}

/// A download asked for without a session.
fn sign_in_first() -> Response {
    (StatusCode::UNAUTHORIZED, "Sign in to continue.").into_response()
}

/// The Events tab's log as a CSV download, with the tab's filter, sent as
/// it is read (constant memory, however long the log).
pub(crate) async fn events_csv(
    State(state): State<AppState>,
    Path(billing_group_id): Path<String>,
    Query(query): Query<EventsCsvQuery>,
    request: Request,
) -> Response {
    use futures::StreamExt;
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    let billing_group_id = GroupId::from(billing_group_id);
    let stream = billing::events::events_csv(
        state.store.clone(),
        &user,
        &billing_group_id,
        query.event_type.as_deref(),
        query.project.as_deref(),
    )
    .await;
    match stream {
        Ok(stream) => {
            let body = axum::body::Body::from_stream(stream.map(|chunk| {
                chunk.map_err(|error| {
                    tracing::error!(%error, "events CSV stopped");
                    std::io::Error::other(error.to_string())
                })
            }));
            let filename = billing::events::events_csv_name(&billing_group_id);
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => (error.status(), error.to_string()).into_response(),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct InvoiceListQuery {
    show: String,
    reference: String,
    from: String,
    to: String,
    sort: String,
    dir: String,
}

/// The Invoices tab's list as CSV, with the tab's filter and sort.
pub(crate) async fn invoice_list_csv(
    State(state): State<AppState>,
    Path(billing_group_id): Path<String>,
    Query(query): Query<InvoiceListQuery>,
    request: Request,
) -> Response {
    use crate::model::invoices::{list_sort_field, parse_month, sort_invoices, InvoiceFilter};
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    let refused = |message: String| (StatusCode::BAD_REQUEST, message).into_response();
    let search = match query.reference.trim() {
        "" => None,
        text => match crate::model::payment::InvoiceSearch::parse(text) {
            Ok(search) => Some(search),
            Err(message) => return refused(message),
        },
    };
    let (from, to) = match (parse_month(&query.from), parse_month(&query.to)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(message), _) | (_, Err(message)) => return refused(message),
    };
    let listed = billing::invoices::invoices_of_group(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        state.clock.now(),
    )
    .await;
    let (_, mut list) = match listed {
        Ok(listed) => listed,
        Err(error) => return (error.status(), error.to_string()).into_response(),
    };
    let filter = InvoiceFilter {
        show: query.show,
        search,
        from,
        to,
    };
    list.retain(|invoice| filter.keeps(invoice));
    sort_invoices(&mut list, list_sort_field(&query.sort), query.dir != "asc");
    let filename = format!(
        "invoices-{}.csv",
        billing_group_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect::<String>()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        billing::invoice_files::invoice_list_csv(&list),
    )
        .into_response()
}

/// An invoice (or the running month's estimate) as `pdf` or `csv`; an
/// issued invoice also as its EN 16931 e-invoice, `xml`.
pub(crate) async fn invoice_file(
    State(state): State<AppState>,
    Path((billing_group_id, invoice_number, format)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    if !["pdf", "csv", "xml"].contains(&format.as_str()) {
        return not_a_format();
    }
    let detail = billing::invoices::invoice_detail(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        &GroupId::from(&billing_group_id),
        &invoice_number,
        state.clock.now(),
    )
    .await;
    document_file(detail, &format).await
}

fn not_a_format() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Invoices and credit notes download as pdf, csv or xml.",
    )
        .into_response()
}

/// A credit note as `pdf`, `csv` or `xml`.
pub(crate) async fn credit_note_file(
    State(state): State<AppState>,
    Path((billing_group_id, credit_note_number, format)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let Some(user) = signed_in(&request) else {
        return sign_in_first();
    };
    if !["pdf", "csv", "xml"].contains(&format.as_str()) {
        return not_a_format();
    }
    let detail = billing::credit_notes::credit_note_detail(
        state.store.as_ref(),
        &user,
        &GroupId::from(&billing_group_id),
        &credit_note_number,
    )
    .await;
    document_file(detail, &format).await
}

/// An invoice or credit note (or why not) as the file `format` names.
async fn document_file(
    detail: crate::error::AppResult<crate::model::invoices::InvoiceDetail>,
    format: &str,
) -> Response {
    let detail = match detail {
        Ok(detail) => detail,
        Err(error) => return (error.status(), error.to_string()).into_response(),
    };
    let stem = billing::invoice_files::file_stem(&detail);
    let file = match format {
        "pdf" => billing::invoice_files::invoice_pdf_off_the_runtime(detail.clone())
            .await
            .map(|pdf| ("application/pdf", pdf)),
        "xml" => billing::invoice_files::invoice_xml(&detail)
            .map(|xml| ("application/xml; charset=utf-8", xml.into_bytes())),
        _ => Ok((
            "text/csv; charset=utf-8",
            billing::invoice_files::invoice_csv(&detail).into_bytes(),
        )),
    };
    let (content_type, body) = match file {
        Ok(file) => file,
        Err(error) => return (error.status(), error.to_string()).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{format}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The FOCUS 1.0 export of a group, for the signed-in user (the
/// Invoices tab's form).
pub(crate) async fn group_focus_csv(
    State(state): State<AppState>,
    Path(billing_group_id): Path<String>,
    Query(query): Query<billing::focus::FocusQuery>,
    request: Request,
) -> Response {
    let scope = billing::focus::Scope::BillingGroup(&billing_group_id);
    focus_download(&state, signed_in(&request), scope, &query).await
}

/// The FOCUS 1.0 export of an account's groups (its Billing tab's form).
pub(crate) async fn account_focus_csv(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(query): Query<billing::focus::FocusQuery>,
    request: Request,
) -> Response {
    let scope = billing::focus::Scope::Account(&account_id);
    focus_download(&state, signed_in(&request), scope, &query).await
}

async fn focus_download(
    state: &AppState,
    user: Option<CurrentUser>,
    scope: billing::focus::Scope<'_>,
    query: &billing::focus::FocusQuery,
) -> Response {
    let Some(user) = user else {
        return sign_in_first();
    };
    let export = billing::focus::export(
        state.store.as_ref(),
        &state.config.seller,
        &user,
        scope,
        query,
        state.clock.now(),
    )
    .await;
    match export {
        Ok((file_name, body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(error) => (error.status(), error.to_string()).into_response(),
    }
}
