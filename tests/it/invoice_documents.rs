//! The documents a customer receives (issue 27), from a real month close:
//! the demo's groups plus a 60-line invoice to a company whose name needs
//! more than Latin-1. Each PDF parses, shows its figures and the name as
//! written, says "Page N of M", and carries its EN 16931 XML with the same
//! totals. With `INVOICE_DOCUMENTS_OUT` set the files are also written
//! there, with the API's figures beside them, for `.ci/pdf-test.sh`
//! (pdfplumber geometry, the `factur-x` XSD check).

use crate::common::{d, t, user, Fixture};
use billing_console::model::ids::GroupId;
use billing_console::model::invoices::{CreditRequest, CreditedLine, InvoiceDetail, ESTIMATE};
use billing_console::model::money::Currency;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::calendar::parse_period;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{
    corrections, credit_notes, einvoice, invoice_files, invoices,
};
use billing_console::server::config::Seller;
use billing_console::server::demo;
use billing_console::server::store::{DynStore, NewService};
use chrono::{TimeZone, Utc};

pub const UNICODE_COMPANY: &str = "Müller & Søn Łódź 株式会社";

/// A new account's primary group: 12 projects of 5 services each, with long names,
/// billed to the Unicode company in Germany (reverse charge).
async fn sixty_line_group(store: &DynStore) -> (Fixture, String) {
    // Not Acme's admin: the demo already has one.
    let admin = user(store, "finance@mueller-soen.example").await;
    let (account, primary) = billing_console::server::billing::accounts::create_account(
        store.as_ref(),
        &admin,
        "Müller",
        "EUR",
        t(1, 0),
    )
    .await
    .unwrap();
    // A group with nothing to bill: its invoice still has a line (BR-16).
    let idle = billing_console::server::billing::groups::create_group(
        store.as_ref(),
        &admin,
        &account.account_id,
        "Idle",
        None,
        t(1, 0),
    )
    .await
    .unwrap();
    let f = Fixture {
        admin,
        account_id: account.account_id,
        primary: primary.billing_group_id.clone(),
        second: idle.billing_group_id,
    };
    for p in 0..12 {
        let project = format!("analytics-platform-production-eu-{p:02}");
        f.project(store, &project, None, "", t(1, 0)).await;
        for s in 0..5 {
            let id = format!("svc-{p}-{s}");
            store
                .create_service(
                    &NewService {
                        service_id: id.clone(),
                        project_name: project.clone(),
                        service_name: format!("kafka-events-ingest-pipeline-{s}"),
                        service_type: "kafka".into(),
                        plan: "business-8".into(),
                        cloud_name: "aws-eu-central-1".into(),
                        hourly_price_usd: d(&format!("{}.1234", 3 + s)),
                    },
                    t(1, 0),
                )
                .await
                .unwrap();
            store.record_service_run(&id, t(1, 0), None).await.unwrap();
        }
    }
    let form = BillingInfoForm {
        billing_currency: "EUR".into(),
        billing_emails: "rechnung@mueller-soen.example".into(),
        company: UNICODE_COMPANY.into(),
        address: "Königsallee 1, Hinterhaus, 3. Obergeschoss, Büro 314 (Eingang über den Hof)"
            .into(),
        city: "Düsseldorf".into(),
        zip_code: "40212".into(),
        country_code: "DE".into(),
        vat_id: "DE123456789".into(),
        payment_method: "email".into(),
        ..BillingInfoForm::default()
    };
    billing_info::save(store.as_ref(), &f.admin, &f.primary, &form, t(1, 0))
        .await
        .unwrap();
    let primary = f.primary.clone();
    (f, String::from(primary))
}

/// The text of every page of a PDF.
fn pdf_text(pdf: &[u8]) -> (usize, String) {
    let document = lopdf::Document::load_mem(pdf).expect("a PDF that parses");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document.extract_text(&pages).unwrap_or_default();
    (pages.len(), text)
}

/// The value of the first `<ram:{tag}>` in `xml`.
fn xml_value<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<ram:{tag}");
    let start = xml.find(&open).expect(tag);
    let start = start + xml[start..].find('>').unwrap() + 1;
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

fn write_out(detail: &InvoiceDetail, pdf: &[u8], xml: Option<&str>) {
    let Ok(dir) = std::env::var("INVOICE_DOCUMENTS_OUT") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    let stem = format!(
        "{}-{}",
        detail.billing_group_name.replace(' ', "_"),
        invoice_files::file_stem(detail)
    );
    std::fs::write(dir.join(format!("{stem}.pdf")), pdf).unwrap();
    if let Some(xml) = xml {
        std::fs::write(dir.join(format!("{stem}.xml")), xml).unwrap();
    }
    let s = &detail.summary;
    let facts = serde_json::json!({
        "invoice_number": s.invoice_number,
        "estimate": s.invoice_number == ESTIMATE,
        "credit_note": detail.credit_note.as_ref().map(|n| n.invoice_number.clone()),
        "currency": s.currency.code(),
        "total_vat_zero": s.total_vat_zero.plain(),
        "total_inc_vat": s.total_inc_vat.plain(),
        "total_inc_vat_grouped": s.total_inc_vat.grouped(),
        "customer": detail.customer.name,
        "payment_reference": detail.payment.as_ref().map(|p| p.reference.clone()),
        "iban": detail.payment.as_ref().map(|p| p.iban.clone()),
    });
    std::fs::write(dir.join(format!("{stem}.json")), facts.to_string()).unwrap();
}

on_both_backends!(
    a_month_close_gives_pdfs_with_their_e_invoice_and_every_name_as_written,
    |db| {
        let store = &db.store;
        let seller = Seller::demo();
        let now = Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0).unwrap();
        demo::seed_if_empty(
            store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            now,
            true,
        )
        .await
        .unwrap();
        let (f, unicode_group) = sixty_line_group(store).await;
        store
            .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), d("0.92"))
            .await
            .unwrap();
        let october = parse_period("2026-10").unwrap();
        close_month(
            store.as_ref(),
            &seller,
            crate::common::TEST_LINKS,
            october,
            now,
            "system",
        )
        .await
        .unwrap();

        let mut documents = 0;
        let mut idle_seen = false;
        let mut accounts = store.all_accounts().await.unwrap();
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        for account in accounts {
            for group in store
                .billing_groups_of_account(&account.account_id)
                .await
                .unwrap()
            {
                for invoice in store
                    .invoices_of_group(&group.billing_group_id)
                    .await
                    .unwrap()
                {
                    let detail = invoices::invoice_for_mail(
                        store.as_ref(),
                        &seller,
                        &invoice.invoice_number,
                    )
                    .await
                    .unwrap();
                    let pdf = invoice_files::invoice_pdf(&detail).unwrap();
                    let xml = einvoice::cii_xml(&detail).expect("an issued invoice has its XML");
                    let s = &detail.summary;
                    assert_eq!(xml_value(&xml, "GrandTotalAmount"), s.total_inc_vat.plain());
                    assert_eq!(
                        xml_value(&xml, "TaxBasisTotalAmount"),
                        s.total_vat_zero.plain()
                    );
                    assert!(
                        pdf.windows(einvoice::FILE_NAME.len())
                            .any(|w| w == einvoice::FILE_NAME.as_bytes()),
                        "the XML is attached"
                    );
                    assert!(
                        pdf.windows(16).any(|w| w == b"fx:ConformanceLe"),
                        "the XMP declares Factur-X"
                    );
                    let (pages, text) = pdf_text(&pdf);
                    assert!(
                        text.contains(&s.total_inc_vat.grouped()),
                        "{}: the total in the PDF",
                        s.invoice_number
                    );
                    assert!(text.contains(&format!("Page {pages} of {pages}")));
                    assert!(!text.contains('\u{2026}'), "nothing cut with an ellipsis");
                    if let Some(payment) = &detail.payment {
                        assert!(text.contains(&payment.reference), "the RF reference");
                        assert!(text.contains(&payment.iban), "the IBAN");
                    }
                    if group.billing_group_id == unicode_group {
                        assert!(pages >= 2, "60 lines take more than a page: {pages}");
                        // lopdf ends a line at each change of face (Noto Sans,
                        // then Noto Sans CJK); pdfplumber reads the line whole
                        // (.ci/pdf-check.py).
                        let squeezed = |t: &str| t.split_whitespace().collect::<String>();
                        assert!(
                            squeezed(&text).contains(&squeezed(UNICODE_COMPANY)),
                            "the company name extracts as written: {text}"
                        );
                        assert!(text.contains("analytics-platform-production-eu-11"));
                        assert!(xml.contains(&UNICODE_COMPANY.replace('&', "&amp;")));
                        assert_eq!(xml_value(&xml, "CategoryCode"), "AE", "reverse charge");
                    }
                    if group.billing_group_id == f.second {
                        assert!(xml.contains("No usage in the period"), "{xml}");
                        idle_seen = true;
                    }
                    write_out(&detail, &pdf, Some(&xml));
                    documents += 1;
                }
            }
        }
        assert!(
            documents >= 4,
            "the demo's invoices and Acme's: {documents}"
        );
        assert!(idle_seen, "the idle group was invoiced");

        // The estimate: no XML, says what it is, asks for no payment.
        let estimate = invoices::invoice_detail(
            store.as_ref(),
            &seller,
            &f.admin,
            &GroupId::from(&unicode_group),
            ESTIMATE,
            now,
        )
        .await
        .unwrap();
        assert!(einvoice::cii_xml(&estimate).is_none());
        let pdf = invoice_files::invoice_pdf(&estimate).unwrap();
        let (_, text) = pdf_text(&pdf);
        assert!(text.contains("not an invoice"));
        assert!(!text.contains("IBAN"));
        write_out(&estimate, &pdf, None);

        // Corrections of the Unicode invoice: a credit note for part of a
        // line, then void and reissue; each document as the others.
        let number = store
            .invoices_of_group(&GroupId::from(&unicode_group))
            .await
            .unwrap()
            .remove(0)
            .invoice_number;
        let first_line = invoices::invoice_for_mail(store.as_ref(), &seller, &number)
            .await
            .unwrap()
            .lines[0]
            .line_no;
        let by = corrections::Corrector {
            seller: &seller,
            link_base: crate::common::TEST_LINKS,
            user: &f.admin,
            now: now + chrono::Duration::days(2),
        };
        let partial = corrections::credit_invoice(
            store.as_ref(),
            &by,
            &GroupId::from(&unicode_group),
            &number,
            &CreditRequest {
                reason: "Service credit for the outage of 14 October (SLA, 99.9 %)".into(),
                lines: vec![CreditedLine {
                    line_no: first_line,
                    amount: "10.00".into(),
                }],
            },
        )
        .await
        .unwrap();
        let (void, reissued) = corrections::void_and_reissue(
            store.as_ref(),
            &by,
            &GroupId::from(&unicode_group),
            &number,
            "Billed to the wrong address",
        )
        .await
        .unwrap();
        for note in [&partial.credit_note_number, &void.credit_note_number] {
            let detail = credit_notes::credit_note_for_mail(store.as_ref(), note)
                .await
                .unwrap();
            let pdf = invoice_files::invoice_pdf(&detail).unwrap();
            let xml = einvoice::cii_xml(&detail).unwrap();
            assert_eq!(
                xml_value(&xml, "GrandTotalAmount"),
                (-detail.summary.total_inc_vat).plain()
            );
            assert_eq!(xml_value(&xml, "IssuerAssignedID"), number);
            let (pages, text) = pdf_text(&pdf);
            assert!(text.contains(&format!("Credit note {note}")));
            assert!(text.contains(&detail.summary.total_inc_vat.grouped()));
            assert!(text.contains(&format!("Page {pages} of {pages}")));
            assert!(!text.contains("IBAN"), "a credit note asks for no payment");
            write_out(&detail, &pdf, Some(&xml));
        }
        let detail = invoices::invoice_for_mail(store.as_ref(), &seller, &reissued)
            .await
            .unwrap();
        assert_eq!(detail.summary.replaces.as_deref(), Some(number.as_str()));
        let pdf = invoice_files::invoice_pdf(&detail).unwrap();
        let xml = einvoice::cii_xml(&detail).unwrap();
        write_out(&detail, &pdf, Some(&xml));
    }
);
