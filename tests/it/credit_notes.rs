//! Corrections of issued invoices on both backends (PRODUCT.md §9): credit
//! notes in full or by line, void and reissue, what remains due, and two
//! admins crediting at once.

use crate::common::{after_october, d, t, user, EventsOfGroup, Fixture};
use billing_console::error::AppError;
use billing_console::model::ids::GroupId;
use billing_console::model::invoices::{CreditRequest, CreditedLine, InvoiceDetail};
use billing_console::model::money::Currency;
use billing_console::model::states::{CreditNoteKind, InvoiceState, LineType};
use billing_console::model::Role;
use billing_console::server::billing::billing_info::{self, BillingInfoForm};
use billing_console::server::billing::calendar::parse_period;
use billing_console::server::billing::corrections::Corrector;
use billing_console::server::billing::month_close::close_month;
use billing_console::server::billing::{
    corrections, credit_notes, einvoice, group_page, invoice_files, invoices,
};
use billing_console::server::config::Seller;
use billing_console::server::store::{DynStore, NewService, RunEnd};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

fn october() -> DateTime<Utc> {
    parse_period("2026-10").unwrap()
}

/// A day after the October close, when corrections are made.
fn later() -> DateTime<Utc> {
    after_october() + Duration::days(3)
}

/// Acme's primary group billed in EUR (at 0.9) to a Finnish company (25.5
/// % domestic VAT), pay by invoice to finance@example.com; p1 ran a 1 USD/h
/// service for 10 hours and p2 a 2 USD/h one for 10 hours in October, and
/// October is closed: lines of 9.00 and 18.00 EUR.
async fn closed_october(store: &DynStore) -> (Fixture, InvoiceDetail) {
    let f = Fixture::acme(store, "EUR", "Second", t(1, 0)).await;
    store
        .set_exchange_rate(Currency::EUR, t(1, 0).date_naive(), d("0.9"))
        .await
        .unwrap();
    for (project, service, price) in [("p1", "s1", "1"), ("p2", "s2", "2")] {
        f.project(store, project, None, "", t(1, 0)).await;
        store
            .create_service(
                &NewService {
                    service_id: service.into(),
                    project_name: project.into(),
                    service_name: format!("pg-{project}"),
                    service_type: "pg".into(),
                    plan: "business-4".into(),
                    cloud_name: "google-europe-north1".into(),
                    hourly_price_usd: d(price),
                },
                t(1, 0),
            )
            .await
            .unwrap();
        store
            .record_service_run(service, t(3, 0), Some((t(3, 10), RunEnd::PoweredOff)))
            .await
            .unwrap();
    }
    set_details(store, &f, "FI", "").await;
    close_month(
        store.as_ref(),
        &Seller::demo(),
        crate::common::TEST_LINKS,
        october(),
        after_october(),
        "system",
    )
    .await
    .unwrap();
    let detail = invoice(store, &f, &october_number(store, &f).await).await;
    (f, detail)
}

async fn set_details(store: &DynStore, f: &Fixture, country: &str, vat_id: &str) {
    let form = BillingInfoForm {
        billing_currency: "EUR".into(),
        billing_emails: "finance@example.com".into(),
        company: format!("Acme {country}"),
        address: "Street 1".into(),
        city: "Town".into(),
        zip_code: "00100".into(),
        country_code: country.into(),
        vat_id: vat_id.into(),
        payment_method: "email".into(),
        ..BillingInfoForm::default()
    };
    billing_info::save(store.as_ref(), &f.admin, &f.primary, &form, t(1, 0))
        .await
        .unwrap();
}

async fn october_number(store: &DynStore, f: &Fixture) -> String {
    store
        .invoices_of_group(&f.primary)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.period_begin == october() && i.replaces.is_none())
        .expect("an October invoice")
        .invoice_number
}

async fn invoice(store: &DynStore, f: &Fixture, number: &str) -> InvoiceDetail {
    invoices::invoice_detail(
        store.as_ref(),
        &Seller::demo(),
        &f.admin,
        &f.primary,
        number,
        later(),
    )
    .await
    .unwrap()
}

fn line_no(detail: &InvoiceDetail, project: &str) -> i64 {
    detail
        .lines
        .iter()
        .find(|l| {
            l.project_name.as_deref() == Some(project) && l.line_type == LineType::ServiceCharge
        })
        .expect("the project's line")
        .line_no
}

fn by_line(reason: &str, lines: &[(i64, &str)]) -> CreditRequest {
    CreditRequest {
        reason: reason.into(),
        lines: lines
            .iter()
            .map(|(line_no, amount)| CreditedLine {
                line_no: *line_no,
                amount: amount.to_string(),
            })
            .collect(),
    }
}

async fn credit(
    store: &DynStore,
    who: &billing_console::model::CurrentUser,
    group: &str,
    number: &str,
    request: &CreditRequest,
) -> Result<billing_console::model::invoices::CreditNoteSummary, AppError> {
    corrections::credit_invoice(
        store.as_ref(),
        &Corrector {
            seller: &Seller::demo(),
            link_base: crate::common::TEST_LINKS,
            user: who,
            now: later(),
        },
        &GroupId::from(group),
        number,
        request,
    )
    .await
}

on_both_backends!(
    credit_notes_take_amounts_off_an_invoice_in_their_own_series_and_never_change_its_lines,
    |db| {
        let store = &db.store;
        let (f, original) = closed_october(store).await;
        let number = original.summary.invoice_number.clone();
        assert_eq!(original.summary.total_vat_zero.amount, d("27.00"));
        assert_eq!(
            original.summary.total_inc_vat.amount,
            d("33.89"),
            "25.5 % of 27.00 is 6.885 → 6.89"
        );
        let p1 = line_no(&original, "p1");

        // A decimal comma is read as one: 4,50 is four and a half euros.
        let first = credit(
            store,
            &f.admin,
            &f.primary,
            &number,
            &by_line("Outage on 3 October", &[(p1, "4,50")]),
        )
        .await
        .unwrap();
        assert!(
            first.credit_note_number.starts_with("CN-"),
            "{}",
            first.credit_note_number
        );
        assert!(first.credit_note_number.ends_with("-0001"));
        assert_eq!(first.kind, CreditNoteKind::Credit);
        assert_eq!(first.total_vat_zero.amount, d("-4.50"));
        assert_eq!(
            first.total_inc_vat.amount,
            d("-5.65"),
            "4.50 + 25.5 % (1.1475 → 1.15)"
        );

        let after = invoice(store, &f, &number).await;
        assert_eq!(
            after.lines, original.lines,
            "the invoice's lines never change"
        );
        assert_eq!(after.summary.credited.map(|m| m.amount), Some(d("5.65")));
        assert_eq!(after.summary.remaining_due().amount, d("28.24"));
        assert_eq!(after.corrections.credit_notes.len(), 1);
        let left_on_p1 = after
            .corrections
            .creditable_lines
            .iter()
            .find(|l| l.line_no == p1)
            .unwrap();
        assert_eq!(left_on_p1.creditable.amount, d("4.50"));
        assert!(after.payment.is_some(), "something remains to be paid");

        // The credit note as a document: negative lines, the original named.
        let note = credit_notes::credit_note_detail(
            store.as_ref(),
            &f.admin,
            &f.primary,
            &first.credit_note_number,
        )
        .await
        .unwrap();
        let facts = note.credit_note.clone().unwrap();
        assert_eq!(facts.invoice_number, number);
        assert_eq!(facts.reason, "Outage on 3 October");
        assert_eq!(
            note.lines
                .iter()
                .map(|l| l.line_total_local.amount)
                .sum::<Decimal>(),
            d("-5.65")
        );
        let xml = invoice_files::invoice_xml(&note).unwrap();
        assert!(xml.contains("<ram:TypeCode>381</ram:TypeCode>"));
        assert!(xml.contains(&format!(
            "<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{number}</ram:IssuerAssignedID>"
        )));
        assert_eq!(einvoice::sums(&note).grand_total.amount, d("-5.65"));
        assert!(
            xml.contains("<ram:GrandTotalAmount>5.65</ram:GrandTotalAmount>"),
            "EN 16931 states a credit note's amounts positive"
        );
        let csv = invoice_files::invoice_csv(&note);
        assert!(csv.starts_with("credit_note_number,invoice_number,"));
        assert!(csv.contains(&format!("{},{number},", first.credit_note_number)));

        // Mailed to the invoice's address, and in the events.
        let mails = store.messages_of_group(&f.primary, 20).await.unwrap();
        let mail = mails
            .iter()
            .find(|m| m.credit_note_number.as_deref() == Some(first.credit_note_number.as_str()))
            .expect("the credit note's mail");
        assert_eq!(mail.recipients.0, vec!["finance@example.com".to_string()]);
        assert!(mail.subject.contains(&number));
        let events = store.events_of_group(&f.primary, 20).await.unwrap();
        assert_eq!(events[0].event_type, "credit_note_issued");
        assert!(events[0].event_desc.contains(&first.credit_note_number));
        assert!(events[0].event_desc.contains("Outage on 3 October"));

        // The rest in full: the invoice is settled by credit notes.
        let rest = credit(
            store,
            &f.admin,
            &f.primary,
            &number,
            &by_line("Goodwill", &[]),
        )
        .await
        .unwrap();
        assert!(
            rest.credit_note_number.ends_with("-0002"),
            "the group's own series"
        );
        assert_eq!(
            rest.total_inc_vat.amount,
            d("-28.24"),
            "the last one takes what remains, to the cent"
        );
        let settled = invoice(store, &f, &number).await;
        assert_eq!(settled.summary.remaining_due().amount, Decimal::ZERO);
        assert_eq!(settled.summary.standing(), "Credited");
        assert!(!settled.summary.is_open());
        assert!(settled.payment.is_none(), "nothing is to be paid");
        let err = credit(store, &f.admin, &f.primary, &number, &by_line("Again", &[]))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
        // Invoice numbering is untouched by the credit notes' series.
        let invoices = store.invoices_of_group(&f.primary).await.unwrap();
        assert_eq!(invoices.len(), 1);
    }
);

on_both_backends!(
    a_bad_credit_is_refused_field_by_field_and_writes_nothing,
    |db| {
        let store = &db.store;
        let (f, original) = closed_october(store).await;
        let number = original.summary.invoice_number.clone();
        let p1 = line_no(&original, "p1");
        let vat = original
            .lines
            .iter()
            .find(|l| l.line_type == LineType::Vat)
            .unwrap()
            .line_no;
        let refused = |request: CreditRequest| {
            let store = store.clone();
            let admin = f.admin.clone();
            let group = f.primary.clone();
            let number = number.clone();
            async move {
                credit(&store, &admin, &group, &number, &request)
                    .await
                    .unwrap_err()
            }
        };
        let err = refused(by_line("  ", &[])).await;
        assert!(err.field_message("reason").is_some(), "{err:?}");
        let err = refused(by_line("Too much", &[(p1, "9.01")])).await;
        assert!(
            err.field_message(&format!("line_{p1}"))
                .unwrap()
                .contains("9.00"),
            "{err:?}"
        );
        let err = refused(by_line("VAT alone", &[(vat, "1")])).await;
        assert!(
            err.field_message(&format!("line_{vat}")).is_some(),
            "{err:?}"
        );
        let err = refused(by_line("No such line", &[(99, "1")])).await;
        assert!(err.field_message("line_99").is_some(), "{err:?}");
        let err = refused(by_line("Negative", &[(p1, "-1")])).await;
        assert!(
            err.field_message(&format!("line_{p1}")).is_some(),
            "{err:?}"
        );
        let err = refused(by_line("Not a number", &[(p1, "1O")])).await;
        assert!(
            err.field_message(&format!("line_{p1}")).is_some(),
            "{err:?}"
        );
        let err = refused(by_line("Blank", &[(p1, " ")])).await;
        assert!(err.field_message("lines").is_some(), "{err:?}");
        // Only admins; another group's invoice is not found.
        let billing = user(store, "billing@example.com").await;
        crate::common::join(store.as_ref(), &f.account_id, &billing, Role::Billing).await;
        let err = credit(store, &billing, &f.primary, &number, &by_line("Mine", &[]))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }), "{err:?}");
        let err = credit(
            store,
            &f.admin,
            &f.second,
            &number,
            &by_line("Elsewhere", &[]),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
        assert!(store
            .credit_notes_of_group(&f.primary)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(invoice(store, &f, &number).await, original);
    }
);

on_both_backends!(
    void_and_reissue_replaces_an_invoice_from_the_current_billing_details,
    |db| {
        let store = &db.store;
        let (f, original) = closed_october(store).await;
        let number = original.summary.invoice_number.clone();
        assert_eq!(original.vat_rate, d("25.5"));
        // The customer was in fact a German business with a VAT ID.
        set_details(store, &f, "DE", "DE123456788").await;
        let (note, reissued) = corrections::void_and_reissue(
            store.as_ref(),
            &Corrector {
                seller: &Seller::demo(),
                link_base: crate::common::TEST_LINKS,
                user: &f.admin,
                now: later(),
            },
            &f.primary,
            &number,
            "Wrong country and VAT ID",
        )
        .await
        .unwrap();
        assert_eq!(note.kind, CreditNoteKind::Void);
        assert_eq!(note.reissued_as.as_deref(), Some(reissued.as_str()));
        assert_eq!(note.total_inc_vat.amount, d("-33.89"));
        assert_ne!(reissued, number);

        let void = invoice(store, &f, &number).await;
        assert_eq!(void.summary.reissued_as.as_deref(), Some(reissued.as_str()));
        assert_eq!(void.summary.standing(), "Void");
        assert_eq!(void.summary.remaining_due().amount, Decimal::ZERO);
        assert_eq!(
            void.customer.country_code, "FI",
            "the original keeps what it said"
        );
        let new = invoice(store, &f, &reissued).await;
        assert_eq!(new.summary.replaces.as_deref(), Some(number.as_str()));
        assert_eq!(new.summary.period_begin, october());
        assert_eq!(new.customer.vat_id, "DE123456788");
        assert_eq!(new.vat_rate, Decimal::ZERO, "reverse charge now");
        assert_eq!(new.summary.total_vat_zero.amount, d("27.00"));
        assert_eq!(new.summary.total_inc_vat.amount, d("27.00"));
        assert_eq!(new.summary.issue_date, Some(later().date_naive()));
        assert_eq!(new.summary.state, InvoiceState::Issued);

        // Both mailed; three events, in the same transaction.
        let mails = store.messages_of_group(&f.primary, 20).await.unwrap();
        assert!(mails
            .iter()
            .any(|m| m.credit_note_number.as_deref() == Some(note.credit_note_number.as_str())));
        assert!(mails
            .iter()
            .any(|m| m.invoice_number.as_deref() == Some(reissued.as_str())));
        let types: Vec<String> = store
            .events_of_group(&f.primary, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .take(3)
            .collect();
        for expected in ["credit_note_issued", "invoice_voided", "invoice_issued"] {
            assert!(types.iter().any(|t| t == expected), "{types:?}");
        }
        // Once only, and a month close after it issues nothing more.
        let err = corrections::void_and_reissue(
            store.as_ref(),
            &Corrector {
                seller: &Seller::demo(),
                link_base: crate::common::TEST_LINKS,
                user: &f.admin,
                now: later(),
            },
            &f.primary,
            &number,
            "Again",
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
        close_month(
            store.as_ref(),
            &Seller::demo(),
            crate::common::TEST_LINKS,
            october(),
            later(),
            "system",
        )
        .await
        .unwrap();
        assert_eq!(store.invoices_of_group(&f.primary).await.unwrap().len(), 2);
        // The overview's months count October once.
        let page = group_page::overview(
            store.as_ref(),
            &Seller::demo(),
            &f.admin,
            &f.primary,
            later(),
        )
        .await
        .unwrap();
        // October is listed once, with the replacement's amount.
        let octobers: Vec<_> = page
            .chart
            .months
            .iter()
            .filter(|(m, _)| m == "2026-10")
            .map(|(_, bar)| *bar)
            .collect();
        assert_eq!(
            octobers,
            vec![billing_console::model::invoices::MonthBar::Invoiced(
                new.total_usd.amount
            )],
            "{:?}",
            page.chart.months
        );
    }
);

on_both_backends!(
    two_admins_crediting_one_invoice_at_once_never_credit_more_than_it_totals,
    |db| {
        let store = &db.store;
        let (f, original) = closed_october(store).await;
        let number = original.summary.invoice_number.clone();
        let p2 = line_no(&original, "p2");
        let other = user(store, "other-admin@example.com").await;
        crate::common::join(store.as_ref(), &f.account_id, &other, Role::Admin).await;
        // Rounds of two admins at once, each crediting 60 % of what is left
        // on p2's line: both fit what each read before, only one fits what
        // the other left. The rule runs on the invoice as the store locks
        // it, so exactly one of them writes a credit note each round.
        let mut left = d("18.00");
        for round in 0..5 {
            let amount = (left * d("0.6")).round_dp(2);
            let tasks: Vec<_> = [f.admin.clone(), other.clone()]
                .into_iter()
                .map(|admin| {
                    let store = store.clone();
                    let group = f.primary.clone();
                    let number = number.clone();
                    let amount = amount.to_string();
                    tokio::spawn(async move {
                        credit(
                            &store,
                            &admin,
                            &group,
                            &number,
                            &by_line("Twice?", &[(p2, &amount)]),
                        )
                        .await
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.unwrap());
            }
            assert_eq!(
                outcomes.iter().filter(|o| o.is_ok()).count(),
                1,
                "round {round}: {outcomes:?}"
            );
            let refused = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
            left -= amount;
            assert!(
                refused
                    .field_message(&format!("line_{p2}"))
                    .unwrap()
                    .contains(&left.to_string()),
                "round {round}: {refused:?}"
            );
        }
        let notes = store.credit_notes_of_group(&f.primary).await.unwrap();
        assert_eq!(notes.len(), 5);
        let credited: Decimal = notes.iter().map(|n| -n.total_vat_zero.0).sum();
        assert!(credited <= original.summary.total_vat_zero.amount);
    }
);
