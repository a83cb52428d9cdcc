//! An invoice as files: CSV (RFC 4180, one row per line, exact decimals)
//! and PDF (krilla: PDF/A-3 with embedded fonts and, for an issued
//! invoice, its Factur-X XML).

use chrono::Datelike;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::metadata::{DateTime, Metadata};
use krilla::{Document, SerializeSettings};

use super::events::{csv_number, csv_text};
use crate::error::{AppError, AppResult};
use crate::model::invoices::InvoiceDetail;

/// File name stem: the invoice number, or `estimate-YYYY-MM`.
pub fn file_stem(detail: &InvoiceDetail) -> String {
    let number = &detail.summary.invoice_number;
    if number == crate::model::invoices::ESTIMATE {
        format!("estimate-{}", detail.summary.period_begin.format("%Y-%m"))
    } else if detail.credit_note.is_some() {
        format!("credit-note-{number}")
    } else {
        format!("invoice-{number}")
    }
}

const CSV_COLUMNS: [&str; 16] = [
    "invoice_number",
    "line_type",
    "description",
    "project_name",
    "service_name",
    "service_type",
    "service_plan",
    "cloud_name",
    "hours",
    "timestamp_begin",
    "timestamp_end",
    "line_total_usd",
    "line_total_local",
    "local_currency",
    "invoice_state",
    "period",
];

/// One row per line; the local column sums to `total_inc_vat`. Amounts
/// and other numbers stay numbers; only free text is guarded against
/// spreadsheet formulas.
///
/// A credit note's CSV starts with its own number (`credit_note_number`);
/// `invoice_number` is the invoice it credits and `invoice_state`
/// `credited`.
pub fn invoice_csv(detail: &InvoiceDetail) -> String {
    let note = detail.credit_note.as_ref();
    let mut out = String::new();
    if note.is_some() {
        out.push_str("credit_note_number,");
    }
    out.push_str(&CSV_COLUMNS.join(","));
    out.push_str("\r\n");
    let (invoice_number, state) = match note {
        Some(note) => (note.invoice_number.as_str(), "credited"),
        None => (
            detail.summary.invoice_number.as_str(),
            detail.summary.state.as_str(),
        ),
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    for line in &detail.lines {
        if note.is_some() {
            out.push_str(&csv_text(&detail.summary.invoice_number));
            out.push(',');
        }
        let row = [
            csv_text(invoice_number),
            csv_text(line.line_type.as_str()),
            csv_text(&line.description),
            csv_text(&opt(&line.project_name)),
            csv_text(&opt(&line.service_name)),
            csv_text(&opt(&line.service_type)),
            csv_text(&opt(&line.service_plan)),
            csv_text(&opt(&line.cloud_name)),
            csv_number(&line.hours.map(|h| h.to_string()).unwrap_or_default()),
            csv_text(&time(&line.timestamp_begin)),
            csv_text(&time(&line.timestamp_end)),
            csv_number(&line.line_total_usd.plain()),
            csv_number(&line.line_total_local.plain()),
            csv_text(line.local_currency.code()),
            csv_text(state),
            csv_text(&detail.summary.period_begin.format("%Y-%m").to_string()),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

const LIST_COLUMNS: [&str; 14] = [
    "invoice_number",
    "period",
    "state",
    "standing",
    "currency",
    "total_vat_zero",
    "total_inc_vat",
    "credited",
    "outstanding",
    "issue_date",
    "due_date",
    "paid_date",
    "replaces",
    "reissued_as",
];

/// A list of invoices (the Invoices tab's, as filtered and sorted), one
/// row each, amounts as plain numbers.
pub fn invoice_list_csv(invoices: &[crate::model::invoices::InvoiceSummary]) -> String {
    let mut out = LIST_COLUMNS.join(",");
    out.push_str("\r\n");
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for invoice in invoices {
        let row = [
            csv_text(&invoice.invoice_number),
            csv_text(&invoice.period_begin.format("%Y-%m").to_string()),
            csv_text(invoice.state.as_str()),
            csv_text(invoice.standing()),
            csv_text(invoice.currency.code()),
            csv_number(&invoice.total_vat_zero.plain()),
            csv_number(&invoice.total_inc_vat.plain()),
            csv_number(&invoice.credited.map(|m| m.plain()).unwrap_or_default()),
            csv_number(&invoice.outstanding().map(|m| m.plain()).unwrap_or_default()),
            csv_text(&day(invoice.issue_date)),
            csv_text(&day(invoice.due_date)),
            csv_text(&day(invoice.paid_date)),
            csv_text(invoice.replaces.as_deref().unwrap_or_default()),
            csv_text(invoice.reissued_as.as_deref().unwrap_or_default()),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

// -------------------------------------------------------------------- PDF --

/// The invoice as a PDF/A-3 document (see `invoice_pdf` for the layout);
/// an issued invoice carries its EN 16931 XML (`einvoice`), which makes
/// it a Factur-X invoice. Refused, with the reason, when the fonts are
/// missing.
pub fn invoice_pdf(detail: &InvoiceDetail) -> AppResult<Vec<u8>> {
    let fonts = super::pdf_fonts::fonts().map_err(|message| {
        tracing::error!(%message, "invoice PDF not drawn");
        AppError::Conflict { message }
    })?;
    let failed = |what: String| {
        tracing::error!(invoice = %detail.summary.invoice_number, %what, "invoice PDF not written");
        AppError::Internal
    };
    let pages = super::invoice_pdf::lay_out(detail, fonts);
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| failed(format!("{e:?}")))?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        ..Default::default()
    });
    let issued_at = detail
        .summary
        .issue_date
        .unwrap_or_else(|| detail.summary.period_begin.date_naive());
    let when = DateTime::new(issued_at.year() as u16)
        .month(issued_at.month() as u8)
        .day(issued_at.day() as u8);
    document.set_metadata(
        Metadata::new()
            .title(super::invoice_pdf::title(detail))
            .authors(vec![detail.seller.name.clone()])
            .producer("billing-console".into())
            .language("en".into())
            .creation_date(when),
    );
    super::invoice_pdf::draw(&pages, fonts, &mut document).map_err(failed)?;
    let xml = super::einvoice::cii_xml(detail);
    if let Some(xml) = &xml {
        document
            .embed_file(EmbeddedFile {
                path: super::einvoice::FILE_NAME.into(),
                mime_type: MimeType::new("text/xml"),
                description: Some("Factur-X invoice (EN 16931, UN/CEFACT CII)".into()),
                association_kind: AssociationKind::Alternative,
                data: xml.clone().into_bytes().into(),
                modification_date: Some(when),
                compress: Some(true),
                location: None,
            })
            .ok_or_else(|| failed("the XML attached twice".into()))?;
    }
    let pdf = document.finish().map_err(|e| failed(format!("{e:?}")))?;
    match xml {
        Some(_) => super::einvoice::declare_factur_x(&pdf)
            .ok_or_else(|| failed("the XMP metadata could not be extended".into())),
        None => Ok(pdf),
    }
}

/// [`invoice_pdf`] on the blocking pool: shaping and font subsetting take
/// milliseconds of CPU that the async workers should not wait on.
pub async fn invoice_pdf_off_the_runtime(detail: InvoiceDetail) -> AppResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || invoice_pdf(&detail))
        .await
        .map_err(|_| AppError::Internal)?
}

/// The EN 16931 XML of an issued invoice on its own (`…/xml`).
pub fn invoice_xml(detail: &InvoiceDetail) -> AppResult<String> {
    super::einvoice::cii_xml(detail).ok_or_else(|| AppError::NotFound {
        what: "An e-invoice for the estimate".into(),
    })
}
