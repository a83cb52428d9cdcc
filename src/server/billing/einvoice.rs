//! The machine-readable invoice (issue 27): EN 16931 as UN/CEFACT Cross
//! Industry Invoice (CII D16B) in the Factur-X / ZUGFeRD "EN 16931"
//! profile. It travels inside the PDF (PDF/A-3, attached as
//! `factur-x.xml`, declared in the XMP metadata) and on its own at
//! `…/invoices/{number}/xml`. Figures are the stored invoice's, never
//! recomputed: lines in the invoice currency, credits as document-level
//! allowances, one VAT breakdown at the invoice's rate.

use rust_decimal::Decimal;

use super::drafts::{EXPORT_NOTE, REVERSE_CHARGE_NOTE};
use crate::model::invoices::{InvoiceDetail, InvoiceParty, ESTIMATE};
use crate::model::money::Money;
use crate::model::states::{LineType, PaymentMethod};

/// The attachment's name, as Factur-X requires it.
pub const FILE_NAME: &str = "factur-x.xml";
/// The Factur-X profile, in its XMP spelling.
pub const CONFORMANCE_LEVEL: &str = "EN 16931";
const GUIDELINE: &str = "urn:cen.eu:en16931:2017";

/// The invoice's VAT category (EN 16931 BT-118) and, at 0 %, why.
struct VatCategory {
    code: &'static str,
    exemption: Option<(&'static str, &'static str)>,
}

fn vat_category(detail: &InvoiceDetail) -> VatCategory {
    if detail.vat_rate > Decimal::ZERO {
        VatCategory {
            code: "S",
            exemption: None,
        }
    } else if detail.vat_note == REVERSE_CHARGE_NOTE {
        VatCategory {
            code: "AE",
            exemption: Some(("Reverse charge", "VATEX-EU-AE")),
        }
    } else if detail.vat_note == EXPORT_NOTE {
        VatCategory {
            code: "G",
            exemption: Some(("Export outside the EU", "VATEX-EU-G")),
        }
    } else {
        // The seller's own rate is 0 %.
        VatCategory {
            code: "Z",
            exemption: None,
        }
    }
}

/// Text content, escaped for XML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn amount(money: Money) -> String {
    money.plain()
}

fn date(day: chrono::NaiveDate) -> String {
    format!(
        "<udt:DateTimeString format=\"102\">{}</udt:DateTimeString>",
        day.format("%Y%m%d")
    )
}

/// Appends `<tag>text</tag>` when `text` is not empty.
fn element(out: &mut String, tag: &str, text: &str) {
    if !text.is_empty() {
        out.push_str(&format!("<{tag}>{}</{tag}>", esc(text)));
    }
}

/// `country` stands in for a party without one (a customer who gave none
/// is domestic, rule 9).
fn party(out: &mut String, tag: &str, party: &InvoiceParty, country: &str) {
    out.push_str(&format!("<ram:{tag}>"));
    element(out, "ram:Name", &party.name);
    if !party.business_id.is_empty() {
        out.push_str("<ram:SpecifiedLegalOrganization>");
        element(out, "ram:ID", &party.business_id);
        out.push_str("</ram:SpecifiedLegalOrganization>");
    }
    {
        out.push_str("<ram:PostalTradeAddress>");
        // At most three address lines; any more join the third.
        let lines = &party.address_lines;
        let tags = ["ram:LineOne", "ram:LineTwo", "ram:LineThree"];
        for (index, tag) in tags.iter().enumerate() {
            let text = if index == 2 {
                lines
                    .get(2..)
                    .map(|rest| rest.join(", "))
                    .unwrap_or_default()
            } else {
                lines.get(index).cloned().unwrap_or_default()
            };
            element(out, tag, &text);
        }
        let code = if party.country_code.is_empty() {
            country
        } else {
            &party.country_code
        };
        element(out, "ram:CountryID", code);
        out.push_str("</ram:PostalTradeAddress>");
    }
    if let Some(email) = party.emails.first() {
        out.push_str(&format!(
            "<ram:URIUniversalCommunication><ram:URIID schemeID=\"EM\">{}</ram:URIID></ram:URIUniversalCommunication>",
            esc(email)
        ));
    }
    if !party.vat_id.is_empty() {
        out.push_str(&format!(
            "<ram:SpecifiedTaxRegistration><ram:ID schemeID=\"VA\">{}</ram:ID></ram:SpecifiedTaxRegistration>",
            esc(&party.vat_id)
        ));
    }
    out.push_str(&format!("</ram:{tag}>"));
}

fn line_tax(out: &mut String, tag: &str, category: &VatCategory, rate: Decimal) {
    out.push_str(&format!(
        "<ram:{tag}><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>{}</ram:CategoryCode><ram:RateApplicablePercent>{}</ram:RateApplicablePercent></ram:{tag}>",
        category.code,
        rate.normalize()
    ));
}

/// The sums the XML states, from the stored lines: charges (service and
/// other positive-or-negative lines), credits used (allowances), VAT.
pub struct Sums {
    pub line_total: Money,
    pub allowances: Money,
    pub tax_basis: Money,
    pub tax: Money,
    pub grand_total: Money,
    pub prepaid: Money,
    pub due: Money,
}

pub fn sums(detail: &InvoiceDetail) -> Sums {
    let s = &detail.summary;
    let zero = Money::zero(s.currency);
    let mut line_total = zero;
    let mut allowances = zero;
    for line in &detail.lines {
        match line.line_type {
            LineType::Vat => {}
            LineType::CreditConsumption => allowances = allowances + -line.line_total_local,
            _ => line_total = line_total + line.line_total_local,
        }
    }
    let prepaid = if detail.payment_method == PaymentMethod::Card {
        s.total_inc_vat
    } else {
        zero
    };
    Sums {
        line_total,
        allowances,
        tax_basis: s.total_vat_zero,
        tax: s.total_inc_vat + -s.total_vat_zero,
        grand_total: s.total_inc_vat,
        prepaid,
        due: s.total_inc_vat + -prepaid,
    }
}

/// A credit note as EN 16931 states it: type 381 with its amounts
/// positive (the type says they are taken off), where the document shows
/// them negative.
fn as_stated(detail: &InvoiceDetail) -> InvoiceDetail {
    let mut stated = detail.clone();
    let s = &mut stated.summary;
    s.total_vat_zero = -s.total_vat_zero;
    s.total_inc_vat = -s.total_inc_vat;
    stated.total_usd = -stated.total_usd;
    for line in &mut stated.lines {
        line.line_total_local = -line.line_total_local;
        line.line_total_usd = -line.line_total_usd;
    }
    stated
}

/// The CII XML of an issued invoice or a credit note; `None` for the
/// estimate.
pub fn cii_xml(detail: &InvoiceDetail) -> Option<String> {
    if detail.summary.invoice_number == ESTIMATE {
        return None;
    }
    let stated;
    let detail = if detail.credit_note.is_some() {
        stated = as_stated(detail);
        &stated
    } else {
        detail
    };
    let s = &detail.summary;
    let issue_date = s.issue_date?;
    let category = vat_category(detail);
    let currency = s.currency.code();
    let mut out = String::with_capacity(4096 + detail.lines.len() * 900);
    out.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<rsm:CrossIndustryInvoice",
        " xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\"",
        " xmlns:qdt=\"urn:un:unece:uncefact:data:standard:QualifiedDataType:100\"",
        " xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\"",
        " xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\">",
    ));
    out.push_str(&format!(
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{GUIDELINE}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>"
    ));
    out.push_str("<rsm:ExchangedDocument>");
    element(&mut out, "ram:ID", &s.invoice_number);
    let type_code = if detail.credit_note.is_some() {
        381
    } else {
        380
    };
    out.push_str(&format!("<ram:TypeCode>{type_code}</ram:TypeCode>"));
    out.push_str(&format!(
        "<ram:IssueDateTime>{}</ram:IssueDateTime>",
        date(issue_date)
    ));
    let reason = detail
        .credit_note
        .as_ref()
        .map(|note| format!("Reason: {}", note.reason))
        .unwrap_or_default();
    for note in [&reason, &detail.vat_note, &detail.customer.extra_text] {
        if !note.is_empty() {
            out.push_str(&format!(
                "<ram:IncludedNote><ram:Content>{}</ram:Content></ram:IncludedNote>",
                esc(note)
            ));
        }
    }
    out.push_str("</rsm:ExchangedDocument>");

    out.push_str("<rsm:SupplyChainTradeTransaction>");
    let charges: Vec<_> = detail
        .lines
        .iter()
        .filter(|l| !matches!(l.line_type, LineType::Vat | LineType::CreditConsumption))
        .collect();
    if charges.is_empty() {
        // EN 16931 wants a line (BR-16): a month without usage says so.
        out.push_str("<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument><ram:SpecifiedTradeProduct><ram:Name>No usage in the period</ram:Name></ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>0</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode=\"C62\">1</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery><ram:SpecifiedLineTradeSettlement>");
        line_tax(&mut out, "ApplicableTradeTax", &category, detail.vat_rate);
        out.push_str(&format!(
            "<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>",
            amount(Money::zero(s.currency))
        ));
    }
    for (index, line) in charges.into_iter().enumerate() {
        let total = line.line_total_local;
        // A price is never negative (BR-27): a negative line is a negative
        // quantity at a positive price.
        let (quantity, unit) = match line.hours {
            Some(hours) if hours > 0 => (Decimal::from(hours), "HUR"),
            _ => (Decimal::ONE, "C62"),
        };
        let quantity = if total.amount < Decimal::ZERO {
            -quantity
        } else {
            quantity
        };
        let price = (total.amount / quantity).round_dp(6).normalize();
        let name = match (&line.project_name, &line.service_name) {
            (Some(project), Some(service)) => format!("{project} / {service}"),
            _ => line.description.clone(),
        };
        out.push_str("<ram:IncludedSupplyChainTradeLineItem>");
        out.push_str(&format!(
            "<ram:AssociatedDocumentLineDocument><ram:LineID>{}</ram:LineID></ram:AssociatedDocumentLineDocument>",
            index + 1
        ));
        out.push_str("<ram:SpecifiedTradeProduct>");
        element(&mut out, "ram:Name", &name);
        element(&mut out, "ram:Description", &line.description);
        out.push_str("</ram:SpecifiedTradeProduct>");
        out.push_str(&format!(
            "<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>{price}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
        ));
        out.push_str(&format!(
            "<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode=\"{unit}\">{}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>",
            quantity.normalize()
        ));
        out.push_str("<ram:SpecifiedLineTradeSettlement>");
        line_tax(&mut out, "ApplicableTradeTax", &category, detail.vat_rate);
        out.push_str(&format!(
            "<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>",
            amount(total)
        ));
        out.push_str("</ram:SpecifiedLineTradeSettlement>");
        out.push_str("</ram:IncludedSupplyChainTradeLineItem>");
    }

    out.push_str("<ram:ApplicableHeaderTradeAgreement>");
    let home = detail.seller.country_code.as_str();
    party(&mut out, "SellerTradeParty", &detail.seller, home);
    party(&mut out, "BuyerTradeParty", &detail.customer, home);
    out.push_str("</ram:ApplicableHeaderTradeAgreement>");
    out.push_str("<ram:ApplicableHeaderTradeDelivery/>");

    let sums = sums(detail);
    out.push_str("<ram:ApplicableHeaderTradeSettlement>");
    if let Some(payment) = &detail.pay_to {
        element(
            &mut out,
            "ram:PaymentReference",
            &payment.reference.replace(' ', ""),
        );
    }
    element(&mut out, "ram:InvoiceCurrencyCode", currency);
    match (&detail.pay_to, detail.payment_method) {
        (_, PaymentMethod::Card) => {
            out.push_str("<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>48</ram:TypeCode></ram:SpecifiedTradeSettlementPaymentMeans>");
        }
        (Some(payment), _) => {
            // SEPA credit transfer for euros, a credit transfer otherwise.
            let code = if s.currency.code() == "EUR" { 58 } else { 30 };
            out.push_str(&format!(
                "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>{code}</ram:TypeCode>"
            ));
            out.push_str(&format!(
                "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>",
                esc(&payment.iban.replace(' ', ""))
            ));
            if !payment.bic.is_empty() {
                out.push_str(&format!(
                    "<ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>{}</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>",
                    esc(&payment.bic)
                ));
            }
            out.push_str("</ram:SpecifiedTradeSettlementPaymentMeans>");
        }
        (None, _) => {}
    }
    out.push_str("<ram:ApplicableTradeTax>");
    out.push_str(&format!(
        "<ram:CalculatedAmount>{}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>",
        amount(sums.tax)
    ));
    if let Some((reason, _)) = category.exemption {
        element(&mut out, "ram:ExemptionReason", reason);
    }
    out.push_str(&format!(
        "<ram:BasisAmount>{}</ram:BasisAmount><ram:CategoryCode>{}</ram:CategoryCode>",
        amount(sums.tax_basis),
        category.code
    ));
    if let Some((_, code)) = category.exemption {
        element(&mut out, "ram:ExemptionReasonCode", code);
    }
    out.push_str(&format!(
        "<ram:RateApplicablePercent>{}</ram:RateApplicablePercent></ram:ApplicableTradeTax>",
        detail.vat_rate.normalize()
    ));
    let last_day = (s.period_end - chrono::Duration::days(1)).date_naive();
    out.push_str(&format!(
        "<ram:BillingSpecifiedPeriod><ram:StartDateTime>{}</ram:StartDateTime><ram:EndDateTime>{}</ram:EndDateTime></ram:BillingSpecifiedPeriod>",
        date(s.period_begin.date_naive()),
        date(last_day)
    ));
    for line in detail
        .lines
        .iter()
        .filter(|l| l.line_type == LineType::CreditConsumption)
    {
        out.push_str("<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>");
        out.push_str(&format!(
            "<ram:ActualAmount>{}</ram:ActualAmount>",
            amount(-line.line_total_local)
        ));
        element(&mut out, "ram:Reason", &line.description);
        line_tax(&mut out, "CategoryTradeTax", &category, detail.vat_rate);
        out.push_str("</ram:SpecifiedTradeAllowanceCharge>");
    }
    if let Some(due) = s.due_date {
        out.push_str(&format!(
            "<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>{}</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>",
            date(due)
        ));
    } else if let Some(note) = &detail.credit_note {
        // BR-CO-25: an amount due states its terms.
        out.push_str("<ram:SpecifiedTradePaymentTerms>");
        element(
            &mut out,
            "ram:Description",
            &format!("Credited against invoice {}.", note.invoice_number),
        );
        out.push_str("</ram:SpecifiedTradePaymentTerms>");
    }
    out.push_str("<ram:SpecifiedTradeSettlementHeaderMonetarySummation>");
    out.push_str(&format!(
        "<ram:LineTotalAmount>{}</ram:LineTotalAmount><ram:ChargeTotalAmount>{}</ram:ChargeTotalAmount><ram:AllowanceTotalAmount>{}</ram:AllowanceTotalAmount><ram:TaxBasisTotalAmount>{}</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID=\"{currency}\">{}</ram:TaxTotalAmount><ram:GrandTotalAmount>{}</ram:GrandTotalAmount><ram:TotalPrepaidAmount>{}</ram:TotalPrepaidAmount><ram:DuePayableAmount>{}</ram:DuePayableAmount>",
        amount(sums.line_total),
        amount(Money::zero(s.currency)),
        amount(sums.allowances),
        amount(sums.tax_basis),
        amount(sums.tax),
        amount(sums.grand_total),
        amount(sums.prepaid),
        amount(sums.due),
    ));
    out.push_str("</ram:SpecifiedTradeSettlementHeaderMonetarySummation>");
    if let Some(note) = &detail.credit_note {
        // BT-25, BT-26: the invoice this credit note corrects.
        out.push_str("<ram:InvoiceReferencedDocument>");
        element(&mut out, "ram:IssuerAssignedID", &note.invoice_number);
        out.push_str(&format!(
            "<ram:FormattedIssueDateTime><qdt:DateTimeString format=\"102\">{}</qdt:DateTimeString></ram:FormattedIssueDateTime>",
            note.invoice_issue_date.format("%Y%m%d")
        ));
        out.push_str("</ram:InvoiceReferencedDocument>");
    }
    out.push_str("</ram:ApplicableHeaderTradeSettlement>");
    out.push_str("</rsm:SupplyChainTradeTransaction>");
    out.push_str("</rsm:CrossIndustryInvoice>\n");
    Some(out)
}

/// The Factur-X properties, in a description of their own.
const FACTUR_X_PROPERTIES: &str = concat!(
    "<rdf:Description rdf:about=\"\" xmlns:fx=\"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#\">",
    "<fx:DocumentType>INVOICE</fx:DocumentType>",
    "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
    "<fx:Version>1.0</fx:Version>",
    "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
    "</rdf:Description>",
);

/// The `fx` schema's PDF/A description: one more entry in the extension
/// schemas krilla already lists (a second `pdfaExtension:schemas` on the
/// same subject would be a duplicate property, which XMP parsers refuse).
const FACTUR_X_SCHEMA: &str = concat!(
    "<rdf:li rdf:parseType=\"Resource\">",
    "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>",
    "<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>",
    "<pdfaSchema:prefix>fx</pdfaSchema:prefix>",
    "<pdfaSchema:property><rdf:Seq>",
    "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>DocumentFileName</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The name of the embedded XML document</pdfaProperty:description></rdf:li>",
    "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>DocumentType</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The type of the hybrid document in capital letters, e.g. INVOICE or ORDER</pdfaProperty:description></rdf:li>",
    "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>Version</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The actual version of the standard applying to the embedded XML document</pdfaProperty:description></rdf:li>",
    "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>ConformanceLevel</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The conformance level of the embedded XML document</pdfaProperty:description></rdf:li>",
    "</rdf:Seq></pdfaSchema:property>",
    "</rdf:li>",
);

/// Where krilla's list of extension schemas ends.
const SCHEMAS_END: &str = "</rdf:Bag></pdfaExtension:schemas>";

/// krilla's XMP with the Factur-X schema and properties added; `None`
/// when it is not shaped as expected.
pub fn factur_x_xmp(xmp: &str) -> Option<String> {
    if xmp.matches(SCHEMAS_END).count() != 1 {
        return None;
    }
    let with_schema = xmp.replacen(SCHEMAS_END, &format!("{FACTUR_X_SCHEMA}{SCHEMAS_END}"), 1);
    let rdf_end = with_schema.rfind("</rdf:RDF>")?;
    Some(format!(
        "{}{FACTUR_X_PROPERTIES}{}",
        &with_schema[..rdf_end],
        &with_schema[rdf_end..]
    ))
}

/// Declares the attached XML in the PDF's XMP metadata, by an incremental
/// update (allowed in PDF/A): a new metadata stream and a new catalog
/// pointing at it, appended after the document krilla wrote. `None` when
/// the document is not laid out as expected (nothing is half-changed).
pub fn declare_factur_x(pdf: &[u8]) -> Option<Vec<u8>> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    // The trailer: the catalog's number, the size, the ID, the old xref.
    let trailer_at = find_last(pdf, b"trailer")?;
    let trailer = text(&pdf[trailer_at..]);
    let root = number_after(&trailer, "/Root")?;
    let size = number_after(&trailer, "/Size")?;
    let previous_xref = number_after(&trailer, "startxref")?;
    let id = trailer
        .find("/ID")
        .and_then(|at| trailer[at..].find(']').map(|end| &trailer[at..=at + end]))
        .map(str::to_string);
    let info = trailer
        .find("/Info")
        .and_then(|at| {
            trailer[at..]
                .find(" R")
                .map(|end| &trailer[at..at + end + 2])
        })
        .map(str::to_string);
    // The catalog's dictionary, and the XMP it points at, found by the
    // cross-reference table (never by searching binary streams).
    let catalog_start = object_offset(pdf, previous_xref as usize, root)?;
    let catalog_end = catalog_start + find_first(&pdf[catalog_start..], b"endobj")?;
    let catalog = text(&pdf[catalog_start..catalog_end]);
    let dict_start = catalog.find("<<")?;
    let dict_end = catalog.rfind(">>")? + 2;
    let dictionary = &catalog[dict_start..dict_end];
    let metadata = number_after(dictionary, "/Metadata")?;
    let metadata_start = object_offset(pdf, previous_xref as usize, metadata)?;
    let metadata_end = metadata_start + find_first(&pdf[metadata_start..], b"endstream")?;
    let metadata_object = &pdf[metadata_start..metadata_end];
    if find_first(metadata_object, b"/Filter").is_some() {
        return None;
    }
    let packet_start = metadata_start + find_first(metadata_object, b"<?xpacket begin")?;
    let packet_end =
        packet_start + find_first(&pdf[packet_start..metadata_end], b"<?xpacket end=\"r\"?>")? + 19;
    let xmp = text(&pdf[packet_start..packet_end]);
    let new_xmp = factur_x_xmp(&xmp)?;
    let new_dictionary = dictionary.replacen(
        &format!("/Metadata {metadata} 0 R"),
        &format!("/Metadata {size} 0 R"),
        1,
    );
    if new_dictionary == dictionary {
        return None;
    }

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let stream_offset = out.len();
    out.extend_from_slice(
        format!(
            "{size} 0 obj\n<<\n  /Type /Metadata\n  /Subtype /XML\n  /Length {}\n>>\nstream\n",
            new_xmp.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(new_xmp.as_bytes());
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let catalog_offset = out.len();
    out.extend_from_slice(format!("{root} 0 obj\n{new_dictionary}\nendobj\n").as_bytes());
    let xref_offset = out.len();
    let mut xref = format!("xref\n{root} 1\n{catalog_offset:010} 00000 n\r\n");
    xref.push_str(&format!("{size} 1\n{stream_offset:010} 00000 n\r\n"));
    xref.push_str(&format!(
        "trailer\n<<\n  /Size {}\n  /Root {root} 0 R\n",
        size + 1
    ));
    if let Some(info) = info {
        xref.push_str(&format!("  {info}\n"));
    }
    if let Some(id) = id {
        xref.push_str(&format!("  {id}\n"));
    }
    xref.push_str(&format!(
        "  /Prev {previous_xref}\n>>\nstartxref\n{xref_offset}\n%%EOF\n"
    ));
    out.extend_from_slice(xref.as_bytes());
    Some(out)
}

/// Where object `number` starts, by the classic cross-reference table at
/// `xref` (`xref`, `0 N`, then 20-byte entries).
fn object_offset(pdf: &[u8], xref: usize, number: u64) -> Option<usize> {
    let table = pdf.get(xref..)?;
    if !table.starts_with(b"xref") {
        return None;
    }
    // Skip "xref" and the subsection line "0 N".
    let mut at = 0;
    for _ in 0..2 {
        at += find_first(&table[at..], b"\n")? + 1;
    }
    let entry = table.get(at + 20 * number as usize..at + 20 * number as usize + 18)?;
    let entry = std::str::from_utf8(entry).ok()?;
    if !entry.ends_with('n') {
        return None;
    }
    entry.get(..10)?.parse().ok()
}

fn find_first(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The first whole number after `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factur_x_schema_joins_the_one_list_of_extension_schemas() {
        let krilla = concat!(
            "<x:xmpmeta><rdf:RDF><rdf:Description rdf:about=\"\">",
            "<pdfaExtension:schemas><rdf:Bag><rdf:li>pdf</rdf:li></rdf:Bag></pdfaExtension:schemas>",
            "<pdfaid:part>3</pdfaid:part></rdf:Description></rdf:RDF></x:xmpmeta>"
        );
        let xmp = factur_x_xmp(krilla).unwrap();
        assert_eq!(xmp.matches("<pdfaExtension:schemas>").count(), 1);
        let bag = &xmp[xmp.find("<rdf:Bag>").unwrap()..xmp.find("</rdf:Bag>").unwrap()];
        assert!(bag.contains("urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"));
        assert!(xmp.contains(
            "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel></rdf:Description></rdf:RDF>"
        ));
        // Not what krilla writes: left alone rather than guessed at.
        assert!(factur_x_xmp("<rdf:RDF></rdf:RDF>").is_none());
    }
}
