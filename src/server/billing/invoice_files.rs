//! An invoice as files: CSV (RFC 4180, one row per line, exact decimals)
//! and PDF (pdf-writer, the PDF base fonts, so nothing to embed).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::events::{csv_number, csv_text};
use crate::model::invoices::InvoiceDetail;
use crate::model::states::{InvoiceState, PaymentMethod};

/// File name stem: the invoice number, or `estimate-YYYY-MM`.
pub fn file_stem(detail: &InvoiceDetail) -> String {
    let number = &detail.summary.invoice_number;
    if number == crate::model::invoices::ESTIMATE {
        format!("estimate-{}", detail.summary.period_begin.format("%Y-%m"))
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
pub fn invoice_csv(detail: &InvoiceDetail) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    for line in &detail.lines {
        let row = [
            csv_text(&detail.summary.invoice_number),
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
            csv_text(detail.summary.state.as_str()),
            csv_text(&detail.summary.period_begin.format("%Y-%m").to_string()),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

// -------------------------------------------------------------------- PDF --

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const ROW: f32 = 13.0;
const BODY_SIZE: f32 = 8.5;

/// Text in the PDF base fonts' WinAnsi encoding; what it cannot show
/// becomes '?'.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '–' => 0x96,
            '—' => 0x97,
            '…' => 0x85,
            c if (c as u32) < 0x100 && !c.is_control() => c as u8,
            _ => b'?',
        })
        .collect()
}

/// Writes pages of text; starts a new page when the current one is full.
struct Pages {
    pages: Vec<Content>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        let mut pages = Pages {
            pages: Vec::new(),
            y: 0.0,
        };
        pages.new_page();
        pages
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_HEIGHT - MARGIN;
    }

    fn current(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.new_page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` points, breaking the page when needed.
    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, font: &[u8], size: f32, text: &str) {
        let y = self.y;
        let bytes = win_ansi(text);
        self.current()
            .begin_text()
            .set_font(Name(font), size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Amounts in Courier (every glyph 0.6 em wide), right-aligned at `right`.
    fn amount(&mut self, right: f32, size: f32, text: &str) {
        let width = text.chars().count() as f32 * 0.6 * size;
        self.text(right - width, b"F3", size, text);
    }

    /// A rule in the gap above the next line's baseline: clear of the
    /// previous line's descenders (about 2 pt below its baseline) and of
    /// the next line's capitals (about 7 pt above its own). At 0.35 of a
    /// row it struck through the first line under it.
    fn rule(&mut self) {
        let y = self.y + ROW * 0.72;
        self.current()
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(PAGE_WIDTH - MARGIN, y)
            .stroke();
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }
}

/// The invoice as a PDF document.
pub fn invoice_pdf(detail: &InvoiceDetail) -> Vec<u8> {
    let s = &detail.summary;
    let currency = s.currency.code();
    let mut pages = Pages::new();
    let is_estimate = s.invoice_number == crate::model::invoices::ESTIMATE;
    let title = if is_estimate {
        format!(
            "Estimate for {} \u{2014} not an invoice",
            s.period_begin.format("%Y-%m")
        )
    } else {
        format!("Invoice {}", s.invoice_number)
    };
    pages.text(MARGIN, b"F2", 18.0, &title);
    pages.down(26.0);
    // Seller left, customer right.
    let parties_top = pages.y;
    let write_party =
        |pages: &mut Pages, x: f32, heading: &str, party: &crate::model::invoices::InvoiceParty| {
            pages.y = parties_top;
            pages.text(x, b"F2", 9.0, heading);
            pages.down(ROW);
            pages.text(x, b"F1", 9.0, &party.name);
            pages.down(ROW);
            for line in &party.address_lines {
                pages.text(x, b"F1", 9.0, line);
                pages.down(ROW);
            }
            if !party.country.is_empty() {
                pages.text(x, b"F1", 9.0, &party.country);
                pages.down(ROW);
            }
            if !party.vat_id.is_empty() {
                pages.text(x, b"F1", 9.0, &format!("VAT ID {}", party.vat_id));
                pages.down(ROW);
            }
            pages.y
        };
    let left = write_party(&mut pages, MARGIN, "From", &detail.seller);
    let right = write_party(&mut pages, 320.0, "Bill to", &detail.customer);
    pages.y = left.min(right) - ROW;
    let facts = [
        ("Billing group", detail.billing_group_name.clone()),
        (
            "Period",
            format!(
                "{} to {}",
                s.period_begin.format("%Y-%m-%d"),
                (s.period_end - chrono::Duration::days(1)).format("%Y-%m-%d")
            ),
        ),
        (
            "Issue date",
            s.issue_date
                .map(|d| d.to_string())
                .unwrap_or("not issued yet".into()),
        ),
        (
            "Due date",
            s.due_date
                .map(|d| d.to_string())
                .unwrap_or("not issued yet".into()),
        ),
        ("State", s.state.to_string()),
        (
            "Exchange rate",
            format!("1 USD = {} {currency}", detail.exchange_rate.normalize()),
        ),
    ];
    for (label, value) in facts {
        pages.text(MARGIN, b"F2", 9.0, label);
        pages.text(140.0, b"F1", 9.0, &value);
        pages.down(ROW);
    }
    pages.down(ROW);

    let header = |pages: &mut Pages| {
        pages.text(MARGIN, b"F2", BODY_SIZE, "Project");
        pages.text(150.0, b"F2", BODY_SIZE, "Service");
        pages.text(235.0, b"F2", BODY_SIZE, "Description");
        pages.text(470.0 - 40.0, b"F2", BODY_SIZE, "USD");
        pages.text(PAGE_WIDTH - MARGIN - 40.0, b"F2", BODY_SIZE, currency);
        pages.down(ROW);
        pages.rule();
    };
    header(&mut pages);
    for (project, lines, subtotal) in detail.lines_by_project() {
        for line in &lines {
            // Each cell wraps within its column; the row is as tall as its
            // tallest cell, and never split across pages.
            let cells = [
                (
                    MARGIN,
                    cell_lines(project.as_deref().unwrap_or_default(), 20),
                ),
                (
                    150.0,
                    cell_lines(line.service_name.as_deref().unwrap_or_default(), 16),
                ),
                (235.0, cell_lines(&line.description, 38)),
            ];
            let height = cells.iter().map(|(_, l)| l.len()).max().unwrap_or(1);
            if pages.y - ROW * (height as f32) < MARGIN {
                pages.new_page();
                header(&mut pages);
            }
            for row in 0..height {
                for (x, text) in &cells {
                    if let Some(text) = text.get(row) {
                        pages.text(*x, b"F1", BODY_SIZE, text);
                    }
                }
                if row == 0 {
                    pages.amount(470.0, BODY_SIZE, &line.line_total_usd.grouped());
                    pages.amount(
                        PAGE_WIDTH - MARGIN,
                        BODY_SIZE,
                        &line.line_total_local.grouped(),
                    );
                }
                pages.down(ROW);
            }
        }
        if let Some(project) = project {
            let label = cell_lines(&format!("Subtotal {project}"), 40);
            pages.need(ROW * label.len() as f32);
            for (row, text) in label.iter().enumerate() {
                pages.text(235.0, b"F2", BODY_SIZE, text);
                if row == 0 {
                    pages.amount(PAGE_WIDTH - MARGIN, BODY_SIZE, &subtotal.grouped());
                }
                pages.down(ROW);
            }
            pages.down(ROW * 0.3);
        }
    }
    pages.need(ROW * 6.0);
    pages.rule();
    let vat_amount = s.total_inc_vat + -s.total_vat_zero;
    let totals = [
        ("Total excl. VAT".to_string(), s.total_vat_zero.shown()),
        (
            format!("VAT {} %", detail.vat_rate.normalize()),
            vat_amount.shown(),
        ),
        ("Total incl. VAT".to_string(), s.total_inc_vat.shown()),
    ];
    for (label, value) in totals {
        pages.text(330.0, b"F2", 10.0, &label);
        pages.amount(PAGE_WIDTH - MARGIN, 10.0, &value);
        pages.down(ROW * 1.2);
    }
    pages.down(ROW);
    let mut notes = Vec::new();
    if !detail.vat_note.is_empty() {
        notes.push(detail.vat_note.clone());
    }
    notes.push(payment_note(detail, is_estimate));
    if !is_estimate {
        if let Some(payment) = &detail.payment {
            notes.push(format!(
                "IBAN {}   BIC {}   {}",
                payment.iban, payment.bic, payment.bank_name
            ));
            notes.push(format!(
                "Payment reference {} (please quote it with your payment).",
                payment.reference
            ));
        }
        let seller = &detail.seller;
        let contact = [
            seller.business_id.as_str(),
            seller.emails.join(", ").as_str(),
        ]
        .iter()
        .filter(|part| !part.is_empty())
        .map(|part| part.to_string())
        .collect::<Vec<_>>();
        if !contact.is_empty() {
            notes.push(format!("{}: {}", seller.name, contact.join(" \u{b7} ")));
        }
    }
    if !detail.customer.extra_text.is_empty() {
        notes.push(detail.customer.extra_text.clone());
    }
    for note in notes {
        for chunk in wrap(&note, 100) {
            pages.need(ROW);
            pages.text(MARGIN, b"F1", 9.0, &chunk);
            pages.down(ROW);
        }
    }
    write_document(&title, pages.pages)
}

/// How the document is (or is not) to be paid.
fn payment_note(detail: &InvoiceDetail, is_estimate: bool) -> String {
    let due = detail
        .summary
        .due_date
        .map(|d| format!("by {d}"))
        .unwrap_or_else(|| "by the due date".into());
    match detail.payment_method {
        _ if is_estimate => {
            "This estimate of the running month is not an invoice: nothing is to be paid on it."
                .to_string()
        }
        _ if detail.summary.state == InvoiceState::Paid => "Paid: nothing is due.".to_string(),
        _ if detail.summary.state == InvoiceState::Waived => "Waived: nothing is due.".to_string(),
        PaymentMethod::Card => "Paid by card at issue.".to_string(),
        PaymentMethod::NoPaymentExpected => {
            format!("No payment method on file: pay by bank transfer {due}.")
        }
        _ if detail.customer.emails.is_empty() => format!("Pay by bank transfer {due}."),
        _ => format!(
            "Pay by bank transfer {due}. Invoice sent to {}.",
            detail.customer.emails.join(", ")
        ),
    }
}

/// A table cell's text in lines of at most `width` characters: broken at
/// spaces, and inside a word only where the word alone is longer (a long
/// project name). Never cut.
fn cell_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for line in wrap(text, width) {
        let chars: Vec<char> = line.chars().collect();
        if chars.len() <= width {
            lines.push(line);
        } else {
            lines.extend(
                chars
                    .chunks(width)
                    .map(|chunk| chunk.iter().collect::<String>()),
            );
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + word.chars().count() + 1 > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

fn write_document(title: &str, contents: Vec<Content>) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    let fonts = [
        (Ref::new(4), b"F1" as &[u8], b"Helvetica" as &[u8]),
        (Ref::new(5), b"F2", b"Helvetica-Bold"),
        (Ref::new(6), b"F3", b"Courier"),
    ];
    let first_page = 7;
    let page_ids: Vec<Ref> = (0..contents.len())
        .map(|i| Ref::new(first_page + 2 * i as i32))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.document_info(info_id)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("billing-console"));
    for (font_id, _, base) in fonts {
        pdf.type1_font(font_id)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (index, content) in contents.into_iter().enumerate() {
        let page_id = page_ids[index];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (font_id, name, _) in fonts {
            font_dict.pair(Name(name), font_id);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        let bytes = content.finish();
        pdf.stream(content_id, &bytes);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_win_ansi_becomes_a_question_mark() {
        assert_eq!(win_ansi("1 € — ä ✓"), b"1 \x80 \x97 \xe4 ?".to_vec());
    }

    #[test]
    fn long_notes_wrap_at_word_boundaries() {
        let lines = wrap("aaa bbb ccc", 7);
        assert_eq!(lines, ["aaa bbb", "ccc"]);
    }
}
