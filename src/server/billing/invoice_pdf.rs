//! An invoice as a PDF a customer's accountant accepts: one type family
//! with wide Unicode coverage, embedded as a subset (krilla); cells that
//! wrap and are never cut; amounts right-aligned with thousands
//! separators; the table header repeated on every page, each page saying
//! "Page N of M"; rules drawn only in the gaps between lines of text.
//!
//! The layout is computed first as positioned text and rules per page
//! (`Drawn`), then drawn: the page count is known before the footers are
//! written, and the geometry can be checked without reading the PDF back.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};

use super::pdf_fonts::{PdfFonts, Style};
use crate::model::invoices::{InvoiceDetail, InvoiceParty, ESTIMATE};
use crate::model::money::{Currency, Money};
use crate::model::states::{InvoiceState, LineType, PaymentMethod};

pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 42.0;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// The lowest a line box may reach; the footer sits below.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - 18.0;
const BODY: f32 = 8.0;
/// Space between two line boxes, and on each side of a rule.
const LEADING: f32 = 1.6;
const RULE_GAP: f32 = 2.5;
const CELL_GAP: f32 = 6.0;

/// What is drawn on a page, in points from its top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// `baseline` is the text's baseline; `x` its left edge.
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        /// Drawn with Noto Sans CJK (what Noto Sans lacks).
        cjk: bool,
        text: String,
    },
    Rule {
        y: f32,
        from: f32,
        to: f32,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

/// One cell of a row: its column's left edge and width, and its text,
/// already broken into lines that fit.
struct Cell {
    x: f32,
    width: f32,
    align: Align,
    bold: bool,
    lines: Vec<String>,
}

/// A table column: `x` is its left edge.
#[derive(Clone, Copy)]
struct Column {
    x: f32,
    width: f32,
    align: Align,
}

impl Column {
    const fn left(x: f32, width: f32) -> Column {
        Column {
            x,
            width,
            align: Align::Left,
        }
    }
    const fn right(right: f32, width: f32) -> Column {
        Column {
            x: right - width,
            width,
            align: Align::Right,
        }
    }
}

/// Lays marks out top to bottom, page after page.
struct Layout<'f> {
    fonts: &'f PdfFonts,
    pages: Vec<Vec<Mark>>,
    /// The top of the next line box.
    top: f32,
    /// Drawn again at the top of every page the table continues on.
    table_header: Option<(String, Vec<(Column, String)>)>,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f PdfFonts) -> Self {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            top: MARGIN,
            table_header: None,
        }
    }

    fn face(&self, bold: bool) -> &'f Style {
        if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    /// The height of one line of text at `size`, its leading included.
    fn pitch(&self, size: f32) -> f32 {
        let style = &self.fonts.regular;
        (style.ascent() + style.descent()) * size + LEADING
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.face(bold).width(text, size)
    }

    fn mark(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.top = MARGIN;
        if let Some((heading, columns)) = self.table_header.clone() {
            self.line(BODY, &[(MARGIN, Align::Left, true, heading)]);
            self.top += RULE_GAP;
            self.header_row(&columns);
        }
    }

    /// Makes room for `height` points, breaking the page when needed.
    fn need(&mut self, height: f32) {
        if self.top + height > BOTTOM {
            self.new_page();
        }
    }

    /// One line of text pieces at `size`: each at its x (left edge, or
    /// right edge when right-aligned).
    fn line(&mut self, size: f32, pieces: &[(f32, Align, bool, String)]) {
        let baseline = self.top + self.fonts.regular.ascent() * size;
        for (x, align, bold, text) in pieces {
            if text.is_empty() {
                continue;
            }
            let mut left = match align {
                Align::Left => *x,
                Align::Right => *x - self.width(text, size, *bold),
            };
            let style = self.face(*bold);
            for (face, run) in style.runs(text) {
                let width = face.width(&run, size);
                self.mark(Mark::Text {
                    x: left,
                    baseline,
                    size,
                    bold: *bold,
                    cjk: std::ptr::eq(face, &style.cjk),
                    text: run,
                });
                left += width;
            }
        }
        self.top += self.pitch(size);
    }

    /// A row of cells as tall as its tallest cell, kept on one page unless
    /// it is taller than a page (then it continues on the next).
    fn row(&mut self, size: f32, cells: Vec<Cell>) {
        let height = cells.iter().map(|c| c.lines.len()).max().unwrap_or(1);
        let pitch = self.pitch(size);
        let fits_a_page = pitch * height as f32 <= BOTTOM - MARGIN - 3.0 * pitch;
        if fits_a_page {
            self.need(pitch * height as f32);
        }
        for index in 0..height {
            if !fits_a_page {
                self.need(pitch);
            }
            let pieces: Vec<(f32, Align, bool, String)> = cells
                .iter()
                .filter_map(|cell| {
                    let text = cell.lines.get(index)?.clone();
                    let x = match cell.align {
                        Align::Left => cell.x,
                        Align::Right => cell.x + cell.width,
                    };
                    Some((x, cell.align, cell.bold, text))
                })
                .collect();
            self.line(size, &pieces);
        }
    }

    /// A horizontal rule in its own gap, clear of the line boxes around it.
    fn rule(&mut self, from: f32, to: f32) {
        self.top += RULE_GAP;
        let y = self.top;
        self.mark(Mark::Rule { y, from, to });
        self.top += RULE_GAP;
    }

    fn header_row(&mut self, columns: &[(Column, String)]) {
        let cells = columns
            .iter()
            .map(|(column, label)| self.cell(*column, true, BODY, label))
            .collect();
        self.row(BODY, cells);
        self.rule(MARGIN, RIGHT);
    }

    /// `text` in `column`, broken into lines that fit its width.
    fn cell(&self, column: Column, bold: bool, size: f32, text: &str) -> Cell {
        Cell {
            x: column.x,
            width: column.width,
            align: column.align,
            bold,
            lines: fit(self.face(bold), size, text, column.width),
        }
    }

    /// A paragraph across `width` from `x`.
    fn paragraph(&mut self, x: f32, width: f32, size: f32, bold: bool, text: &str) {
        for line in fit(self.face(bold), size, text, width) {
            self.need(self.pitch(size));
            self.line(size, &[(x, Align::Left, bold, line)]);
        }
    }
}

/// `text` in lines no wider than `width`: broken at spaces, and inside a
/// word only where the word alone is wider (a long name, or CJK text
/// without spaces). Never cut, never an ellipsis.
pub fn fit(face: &Style, size: f32, text: &str, width: f32) -> Vec<String> {
    // Each word is shaped once and lines are summed from their words (a
    // 1,000-line invoice shaped every candidate line: 0.7 s). Kerning
    // across a space is not counted, hence the half-point to spare.
    let limit = width - 0.5;
    let space = face.width(" ", size);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in paragraph.split_whitespace() {
            let word_width = face.width(word, size);
            let joined = if line.is_empty() {
                word_width
            } else {
                line_width + space + word_width
            };
            if joined <= limit {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width = joined;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= limit {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // A word wider than the cell: as many characters per line as fit.
            for c in word.chars() {
                let c_width = face.width(c.encode_utf8(&mut [0; 4]), size);
                if !line.is_empty() && line_width + c_width > limit {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += c_width;
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Whether a document is an invoice or the running month's estimate.
fn is_estimate(detail: &InvoiceDetail) -> bool {
    detail.summary.invoice_number == ESTIMATE
}

pub fn title(detail: &InvoiceDetail) -> String {
    let s = &detail.summary;
    if is_estimate(detail) {
        format!(
            "Estimate for {} \u{2014} not an invoice",
            s.period_begin.format("%Y-%m")
        )
    } else if detail.credit_note.is_some() {
        format!("Credit note {}", s.invoice_number)
    } else {
        format!("Invoice {}", s.invoice_number)
    }
}

/// The pages of `detail`, laid out: the marks per page, footers included.
pub fn lay_out(detail: &InvoiceDetail, fonts: &PdfFonts) -> Vec<Vec<Mark>> {
    let s = &detail.summary;
    let mut layout = Layout::new(fonts);
    let title = title(detail);
    layout.line(16.0, &[(MARGIN, Align::Left, true, title.clone())]);
    layout.top += 6.0;

    // Seller left, customer right, each wrapped to its half.
    let half = (RIGHT - MARGIN) / 2.0 - CELL_GAP;
    let parties_top = layout.top;
    let mut bottom: f32 = parties_top;
    for (x, heading, party) in [
        (MARGIN, "From", &detail.seller),
        (MARGIN + half + 2.0 * CELL_GAP, "Bill to", &detail.customer),
    ] {
        layout.top = parties_top;
        // Side by side at the top of the first page: never broken across
        // pages (the names and addresses are bounded where they are typed).
        layout.line(9.0, &[(x, Align::Left, true, heading.to_string())]);
        for line in party_lines(party) {
            for piece in fit(&fonts.regular, 9.0, &line, half) {
                layout.line(9.0, &[(x, Align::Left, false, piece)]);
            }
        }
        bottom = bottom.max(layout.top);
    }
    layout.top = bottom + 8.0;

    let label_width = 92.0;
    for (label, value) in facts(detail) {
        let value_lines = fit(&fonts.regular, 9.0, &value, RIGHT - MARGIN - label_width);
        let cells = vec![
            Cell {
                x: MARGIN,
                width: label_width,
                align: Align::Left,
                bold: true,
                lines: vec![label.to_string()],
            },
            Cell {
                x: MARGIN + label_width,
                width: RIGHT - MARGIN - label_width,
                align: Align::Left,
                bold: false,
                lines: value_lines,
            },
        ];
        layout.row(9.0, cells);
    }
    layout.top += 10.0;

    // The table: a USD column only when the invoice is not in USD.
    let in_usd = s.currency == Currency::USD;
    let local = Column::right(RIGHT, 70.0);
    let usd = Column::right(local.x - CELL_GAP, 62.0);
    let hours_right = if in_usd { local.x } else { usd.x } - CELL_GAP;
    let hours = Column::right(hours_right, 30.0);
    let project = Column::left(MARGIN, 84.0);
    let service = Column::left(project.x + project.width + CELL_GAP, 78.0);
    let description_x = service.x + service.width + CELL_GAP;
    let description = Column::left(description_x, hours.x - CELL_GAP - description_x);
    let mut columns = vec![
        (project, "Project".to_string()),
        (service, "Service".to_string()),
        (description, "Plan, cloud and price".to_string()),
        (hours, "Hours".to_string()),
    ];
    if !in_usd {
        columns.push((usd, "USD".to_string()));
    }
    columns.push((local, s.currency.code().to_string()));
    layout.header_row(&columns);
    layout.table_header = Some((format!("{title} (continued)"), columns));

    for (project_name, lines, subtotal) in detail.lines_by_project() {
        let lines: Vec<_> = lines
            .into_iter()
            .filter(|l| l.line_type != LineType::Vat)
            .collect();
        if lines.is_empty() {
            continue;
        }
        for line in &lines {
            let mut cells = vec![
                layout.cell(
                    project,
                    false,
                    BODY,
                    line.project_name.as_deref().unwrap_or_default(),
                ),
                layout.cell(
                    service,
                    false,
                    BODY,
                    line.service_name.as_deref().unwrap_or_default(),
                ),
                layout.cell(description, false, BODY, &line.description),
                layout.cell(
                    hours,
                    false,
                    BODY,
                    &line.hours.map(|h| h.to_string()).unwrap_or_default(),
                ),
            ];
            if !in_usd {
                cells.push(layout.cell(usd, false, BODY, &line.line_total_usd.grouped()));
            }
            cells.push(layout.cell(local, false, BODY, &line.line_total_local.grouped()));
            layout.row(BODY, cells);
        }
        if let Some(name) = project_name {
            let usd_subtotal = lines
                .iter()
                .fold(Money::zero(Currency::USD), |sum, l| sum + l.line_total_usd);
            let label = Column::left(service.x, hours.x + hours.width - service.x);
            let mut cells = vec![layout.cell(label, true, BODY, &format!("Subtotal {name}"))];
            if !in_usd {
                cells.push(layout.cell(usd, true, BODY, &usd_subtotal.grouped()));
            }
            cells.push(layout.cell(local, true, BODY, &subtotal.grouped()));
            layout.row(BODY, cells);
            layout.top += 3.0;
        }
    }
    layout.table_header = None;

    // Totals: excl. VAT, a tax line per rate, incl. VAT.
    let totals_label = Column::left(300.0, local.x - CELL_GAP - 300.0);
    layout.need(layout.pitch(10.0) * 4.0 + 2.0 * RULE_GAP);
    layout.rule(totals_label.x, RIGHT);
    let vat_amount = s.total_inc_vat + -s.total_vat_zero;
    let vat_label = format!(
        "VAT {} % of {}",
        detail.vat_rate.normalize(),
        s.total_vat_zero.grouped()
    );
    for (label, amount, bold) in [
        ("Total excl. VAT".to_string(), s.total_vat_zero, false),
        (vat_label, vat_amount, false),
        (
            format!("Total incl. VAT ({})", s.currency),
            s.total_inc_vat,
            true,
        ),
    ] {
        let cells = vec![
            layout.cell(totals_label, bold, 9.5, &label),
            layout.cell(local, bold, 9.5, &amount.grouped()),
        ];
        layout.row(9.5, cells);
    }
    layout.top += 10.0;
    for note in notes(detail) {
        layout.paragraph(MARGIN, RIGHT - MARGIN, 8.5, false, &note);
        layout.top += 2.0;
    }

    // Footers, now that the page count is known.
    let count = layout.pages.len();
    let footer_baseline = PAGE_HEIGHT - MARGIN;
    let label = if is_estimate(detail) {
        format!("Estimate {}", s.period_begin.format("%Y-%m"))
    } else {
        title.clone()
    };
    for (index, page) in layout.pages.iter_mut().enumerate() {
        let text = format!("Page {} of {count}", index + 1);
        let width = fonts.regular.width(&text, 7.5);
        for (x, text) in [(MARGIN, label.clone()), (RIGHT - width, text)] {
            page.push(Mark::Text {
                x,
                baseline: footer_baseline,
                size: 7.5,
                bold: false,
                cjk: false,
                text,
            });
        }
    }
    layout.pages
}

fn party_lines(party: &InvoiceParty) -> Vec<String> {
    let mut lines = vec![party.name.clone()];
    lines.extend(party.address_lines.iter().cloned());
    if !party.country.is_empty() {
        lines.push(party.country.clone());
    }
    if !party.vat_id.is_empty() {
        lines.push(format!("VAT ID {}", party.vat_id));
    }
    if !party.business_id.is_empty() {
        lines.push(format!("Business ID {}", party.business_id));
    }
    lines
}

fn facts(detail: &InvoiceDetail) -> Vec<(&'static str, String)> {
    let s = &detail.summary;
    if let Some(note) = &detail.credit_note {
        let mut facts = vec![
            (
                "Credits invoice",
                format!("{} of {}", note.invoice_number, note.invoice_issue_date),
            ),
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
                s.issue_date.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("Reason", note.reason.clone()),
        ];
        if let Some(reissue) = &note.reissued_as {
            facts.push(("Replaced by", format!("invoice {reissue}")));
        }
        return facts;
    }
    let not_issued = || "not issued yet".to_string();
    let mut facts = vec![
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
                .unwrap_or_else(not_issued),
        ),
        (
            "Due date",
            s.due_date.map(|d| d.to_string()).unwrap_or_else(not_issued),
        ),
        ("State", s.state.to_string()),
        (
            "Exchange rate",
            format!(
                "1 USD = {} {}",
                detail.exchange_rate.normalize(),
                s.currency
            ),
        ),
    ];
    if let Some(payment) = detail.payment.as_ref().filter(|_| !is_estimate(detail)) {
        facts.push(("Payment reference", payment.reference.clone()));
    }
    facts
}

/// VAT, how (or whether) to pay, the seller's contact, the customer's text.
fn notes(detail: &InvoiceDetail) -> Vec<String> {
    let mut notes = Vec::new();
    if !detail.vat_note.is_empty() {
        notes.push(detail.vat_note.clone());
    }
    notes.push(payment_note(detail));
    if !is_estimate(detail) {
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
        let contact: Vec<String> = [seller.business_id.clone(), seller.emails.join(", ")]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect();
        if !contact.is_empty() {
            notes.push(format!("{}: {}", seller.name, contact.join(" \u{b7} ")));
        }
    }
    if !detail.customer.extra_text.is_empty() {
        notes.push(detail.customer.extra_text.clone());
    }
    notes
}

/// How the document is (or is not) to be paid.
fn payment_note(detail: &InvoiceDetail) -> String {
    let due = detail
        .summary
        .due_date
        .map(|d| format!("by {d}"))
        .unwrap_or_else(|| "by the due date".into());
    if let Some(note) = &detail.credit_note {
        let voided = match &note.reissued_as {
            Some(reissue) => format!(
                " Invoice {} is void; invoice {reissue} replaces it.",
                note.invoice_number
            ),
            None => String::new(),
        };
        return format!(
            "This credit note reduces invoice {} by {}; nothing is to be paid on it.{voided}",
            note.invoice_number,
            (-detail.summary.total_inc_vat).shown()
        );
    }
    match detail.payment_method {
        _ if is_estimate(detail) => {
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

/// Draws laid-out pages into a PDF; `attach` adds files (the e-invoice)
/// and document-level settings before it is written.
pub fn draw(
    pages: &[Vec<Mark>],
    fonts: &PdfFonts,
    document: &mut krilla::Document,
) -> Result<(), String> {
    for marks in pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| "page size".to_string())?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(Fill {
            paint: rgb::Color::new(0, 0, 0).into(),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(0x66, 0x66, 0x66).into(),
            width: 0.5,
            ..Default::default()
        }));
        for mark in marks {
            match mark {
                Mark::Text {
                    x,
                    baseline,
                    size,
                    bold,
                    cjk,
                    text,
                } => {
                    let style = if *bold { &fonts.bold } else { &fonts.regular };
                    let face = if *cjk { &style.cjk } else { &style.main };
                    surface.draw_glyphs(
                        Point::from_xy(*x, *baseline),
                        &face.glyphs(text),
                        face.pdf.clone(),
                        text,
                        *size,
                        false,
                    );
                }
                Mark::Rule { y, from, to } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*from, *y);
                    path.line_to(*to, *y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.draw_path(&path);
                        surface.set_fill(Some(Fill {
                            paint: rgb::Color::new(0, 0, 0).into(),
                            opacity: NormalizedF32::ONE,
                            rule: Default::default(),
                        }));
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> &'static PdfFonts {
        super::super::pdf_fonts::fonts()
            .expect("Noto fonts installed (.ci/install-tools.sh installs them)")
    }

    #[test]
    fn long_words_break_inside_and_nothing_is_cut() {
        let fonts = fonts();
        let text = "kafka startup-2 in aws-eu-west-1: 720 h at 0.123 USD/h averyveryverylongprojectnamewithoutspaces";
        let lines = fit(&fonts.regular, 8.0, text, 90.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(fonts.regular.width(line, 8.0) <= 90.0, "{line}");
        }
        let rejoined: String = lines
            .concat()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(rejoined, original);
    }
}
