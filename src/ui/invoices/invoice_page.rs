use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::state_badge::InvoiceStateBadge;
use crate::api::invoices::{
    get_credit_note, get_invoice, CreditInvoice, SetInvoiceState, VoidInvoice,
};
use crate::model::invoices::{CreditNoteSummary, InvoiceDetail, InvoiceParty, ESTIMATE};
use crate::model::states::{CreditNoteKind, GroupState, InvoiceState, LineType, PaymentMethod};
use crate::model::Role;
use crate::paths::app_url;
use crate::ui::forms::{action_error, described_by, invalid, ActionForm, ErrorSummary, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::ErrorPanel;

/// One invoice: parties, lines grouped by project with subtotals, totals,
/// downloads, and (admin) the state change.
#[component]
pub fn InvoicePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("billing_group_id").unwrap_or_default(),
            p.get("invoice_number").unwrap_or_default(),
        )
    };
    let set_state = ServerAction::<SetInvoiceState>::new();
    let credit = ServerAction::<CreditInvoice>::new();
    let void = ServerAction::<VoidInvoice>::new();
    let detail = Resource::new(
        move || {
            (
                key(),
                set_state.version().get(),
                credit.version().get(),
                void.version().get(),
            )
        },
        |((group, number), ..)| get_invoice(group, number),
    );
    let actions = InvoiceActions {
        set_state,
        credit,
        void,
    };
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading invoice…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <InvoiceView detail actions=Some(actions) /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// One credit note: what it credits and why, its lines (negative) and
/// totals, and its files.
#[component]
pub fn CreditNotePage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("billing_group_id").unwrap_or_default(),
                p.get("credit_note_number").unwrap_or_default(),
            )
        },
        |(group, number)| get_credit_note(group, number),
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading credit note…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <InvoiceView detail actions=None /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// What an admin does on an invoice's page.
#[derive(Clone, Copy)]
struct InvoiceActions {
    set_state: ServerAction<SetInvoiceState>,
    credit: ServerAction<CreditInvoice>,
    void: ServerAction<VoidInvoice>,
}

#[component]
fn InvoiceView(detail: InvoiceDetail, actions: Option<InvoiceActions>) -> impl IntoView {
    let s = detail.summary.clone();
    let is_estimate = s.invoice_number == ESTIMATE;
    let note = detail.credit_note.clone();
    let title = if is_estimate {
        format!("Estimate for {}", s.period_begin.format("%Y-%m"))
    } else if note.is_some() {
        format!("Credit note {}", s.invoice_number)
    } else {
        format!("Invoice {}", s.invoice_number)
    };
    let group_href = app_url(format!(
        "/billing-group/{}/invoices",
        detail.billing_group_id
    ));
    let invoice_href = {
        let group = detail.billing_group_id.clone();
        move |number: &str| app_url(format!("/billing-group/{group}/invoices/{number}"))
    };
    let files = app_url(format!(
        "/billing-group/{}/{}/{}",
        detail.billing_group_id,
        if note.is_some() {
            "credit-notes"
        } else {
            "invoices"
        },
        s.invoice_number
    ));
    let currency = s.currency;
    let vat_amount = s.total_inc_vat + -s.total_vat_zero;
    let is_admin = detail.role.allows(Role::Admin);
    let set_state = actions.map(|a| a.set_state);
    let can_change_state = !is_estimate && note.is_none() && is_admin && !s.state.is_settled();
    let can_correct = !is_estimate
        && note.is_none()
        && is_admin
        && s.reissued_as.is_none()
        && detail
            .corrections
            .creditable_total
            .is_some_and(|left| left.amount > rust_decimal::Decimal::ZERO);
    let groups = detail.lines_by_project();
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb">
            <a href=group_href>{format!("← {} · Invoices", detail.billing_group_name)}</a>
        </p>
        <header class="page-header">
            <h1>{title}</h1>
            <div class="actions">
                <a class="button-link" href=format!("{files}/pdf") rel="external" download>
                    "Download PDF"
                </a>
                <a class="button-link" href=format!("{files}/csv") rel="external" download>
                    "Download CSV"
                </a>
                {(!is_estimate).then(|| view! {
                    <a
                        class="button-link"
                        href=format!("{files}/xml")
                        rel="external"
                        download
                        title="EN 16931 e-invoice (UN/CEFACT CII), also inside the PDF"
                    >
                        "Download e-invoice (XML)"
                    </a>
                })}
            </div>
        </header>
        {detail.notice.clone().map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <dl class="facts">
            <dt>"Billing group"</dt>
            <dd>
                {detail.billing_group_name.clone()}
                {(detail.billing_group_state == GroupState::Deleted).then(|| view! { <span class="badge">"deleted"</span> })}
            </dd>
            <dt>"Period"</dt>
            <dd>
                {format!(
                    "{} – {}",
                    s.period_begin.format("%Y-%m-%d"),
                    (s.period_end - chrono::Duration::days(1)).format("%Y-%m-%d"),
                )}
            </dd>
            {match note.clone() {
                Some(note) => view! {
                    <dt>"Credits invoice"</dt>
                    <dd>
                        <a href=invoice_href(&note.invoice_number)>{note.invoice_number.clone()}</a>
                        {format!(" of {}", note.invoice_issue_date)}
                    </dd>
                    <dt>"Reason"</dt>
                    <dd>{note.reason.clone()}</dd>
                    {note.reissued_as.clone().map(|number| view! {
                        <dt>"Replaced by"</dt>
                        <dd><a href=invoice_href(&number)>{format!("Invoice {number}")}</a></dd>
                    })}
                    <dt>"Issue date"</dt>
                    <dd>{s.issue_date.map(|d| d.to_string()).unwrap_or_default()}</dd>
                }
                .into_any(),
                None => view! {
                    <dt>"State"</dt>
                    <dd>
                        <InvoiceStateBadge state=s.state overdue_days=s.overdue_days />
                        {(s.standing() != s.state.label()).then(|| view! {
                            " " <span class="state credited">{s.standing()}</span>
                        })}
                    </dd>
                    {s.replaces.clone().map(|number| view! {
                        <dt>"Replaces"</dt>
                        <dd><a href=invoice_href(&number)>{format!("Invoice {number} (void)")}</a></dd>
                    })}
                    {s.reissued_as.clone().map(|number| view! {
                        <dt>"Replaced by"</dt>
                        <dd><a href=invoice_href(&number)>{format!("Invoice {number}")}</a></dd>
                    })}
                    <dt>"Issue date"</dt>
                    <dd>{s.issue_date.map(|d| d.to_string()).unwrap_or_else(|| "When the month closes".into())}</dd>
                    <dt>"Due date"</dt>
                    <dd>{s.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Payment"</dt>
                    <dd>
                        {match detail.payment_method {
                            PaymentMethod::Card => "Card".to_string(),
                            PaymentMethod::NoPaymentExpected => "No payment method on file".to_string(),
                            PaymentMethod::Email => "Pay by invoice".to_string(),
                        }}
                    </dd>
                }
                .into_any(),
            }}
            <dt>"Currency"</dt>
            <dd>{format!("{} (1 USD = {} {})", currency, detail.exchange_rate.normalize(), currency)}</dd>
            {detail
                .payment
                .clone()
                .map(|payment| {
                    view! {
                        <dt>"Pay to"</dt>
                        <dd class="mono">
                            {format!("IBAN {} · BIC {} · {}", payment.iban, payment.bic, payment.bank_name)}
                        </dd>
                        <dt>"Payment reference"</dt>
                        <dd class="mono">{payment.reference}</dd>
                    }
                })}
        </dl>
        <div class="parties">
            <Party heading="From" party=detail.seller.clone() />
            <Party heading="Bill to" party=detail.customer.clone() />
        </div>
        {missing_details(&detail.customer)
            .map(|missing| {
                let billing_info = app_url(format!(
                    "/billing-group/{}/billing-information",
                    detail.billing_group_id
                ));
                view! {
                    <p class="notice">
                        {format!("This invoice's customer has no {missing}.")}
                        {(detail.role.allows(Role::Billing) && detail.billing_group_state != GroupState::Deleted)
                            .then(|| {
                                view! {
                                    " "
                                    <a href=billing_info>"Add them in Billing information"</a>
                                    " for the next invoices."
                                }
                            })}
                    </p>
                }
            })}
        <div class="table-scroll" tabindex="0"><table aria-label="Invoice lines" class="invoice-lines">
            <thead>
                <tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col" class="num">"Hours"</th>
                    <th scope="col" class="num">"USD"</th>
                    <th scope="col" class="num">{currency.code()}</th>
                </tr>
            </thead>
            {groups
                .into_iter()
                .map(|(project, lines, subtotal)| {
                    let has_credits = lines.iter().any(|l| l.line_type == LineType::CreditConsumption);
                    let heading = project.clone().unwrap_or_else(|| {
                        if has_credits { "Credits and tax".into() } else { "Tax".into() }
                    });
                    view! {
                        <tbody>
                            <tr class="group-row">
                                <th scope="rowgroup" colspan="5">
                                    {project.is_some().then_some("Project ")}
                                    {heading.clone()}
                                </th>
                            </tr>
                            {lines
                                .into_iter()
                                .map(|line| {
                                    view! {
                                        <tr>
                                            <td>{line.service_name.clone().unwrap_or_default()}</td>
                                            <td>{line.description.clone()}</td>
                                            <td class="num">{line.hours.map(|h| h.to_string()).unwrap_or_default()}</td>
                                            <td class="num">{line.line_total_usd.grouped()}</td>
                                            <td class="num">{line.line_total_local.grouped()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                            {project
                                .is_some()
                                .then(|| {
                                    view! {
                                        <tr class="subtotal">
                                            <td colspan="4">{format!("Subtotal {heading}")}</td>
                                            <td class="num">{subtotal.grouped()}</td>
                                        </tr>
                                    }
                                })}
                        </tbody>
                    }
                })
                .collect_view()}
        </table></div>
        <dl class="totals" aria-label="Totals">
            <dt>"Total excl. VAT"</dt>
            <dd>{s.total_vat_zero.shown()}</dd>
            <dt>{format!("VAT {} %", detail.vat_rate.normalize())}</dt>
            <dd>{vat_amount.shown()}</dd>
            <dt>"Total incl. VAT"</dt>
            <dd>{s.total_inc_vat.shown()}</dd>
            {s.credited.map(|credited| view! {
                <dt>"Credited"</dt>
                <dd>{(-credited).shown()}</dd>
                <dt>"Remaining due"</dt>
                <dd>{s.remaining_due().shown()}</dd>
            })}
        </dl>
        {(!detail.corrections.credit_notes.is_empty()).then(|| view! {
            <h2>"Credit notes"</h2>
            <CreditNotesTable
                billing_group_id=detail.billing_group_id.clone()
                notes=detail.corrections.credit_notes.clone()
                with_invoice=false
            />
        })}
        {(!detail.vat_note.is_empty()).then(|| view! { <p class="muted">{detail.vat_note.clone()}</p> })}
        {(!detail.customer.extra_text.is_empty())
            .then(|| view! { <p class="muted">{detail.customer.extra_text.clone()}</p> })}
        {actions
            .filter(|_| can_correct)
            .map(|actions| view! { <CorrectInvoice detail=detail.clone() actions /> })}
        {set_state
            .filter(|_| can_change_state)
            .map(|set_state| {
                let state_error = Signal::derive(action_error(set_state));
                view! {
                    <section class="panel" aria-labelledby="state-heading">
                        <h2 id="state-heading">"Change state"</h2>
                        <ActionForm action=set_state attr:class="inline-form">
                            <input type="hidden" name="billing_group_id" value=detail.billing_group_id.clone() />
                            <input type="hidden" name="invoice_number" value=s.invoice_number.clone() />
                            <label for="invoice-state">"New state"</label>
                            <select id="invoice-state" name="state">
                                {InvoiceState::SETTABLE
                                    .iter()
                                    .map(|st| view! { <option value=st.as_str()>{st.label()}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" disabled=move || set_state.pending().get()>
                                "Change state"
                            </button>
                        </ActionForm>
                        <FieldError error=state_error field="state" />
                        <FieldError error=state_error />
                    </section>
                }
            })}
    }
}

/// Credit notes as listed on their invoice and on the Invoices tab.
#[component]
pub fn CreditNotesTable(
    billing_group_id: String,
    notes: Vec<CreditNoteSummary>,
    with_invoice: bool,
) -> impl IntoView {
    let href = move |kind: &str, number: &str| {
        app_url(format!("/billing-group/{billing_group_id}/{kind}/{number}"))
    };
    view! {
        <div class="table-scroll" tabindex="0">
            <table aria-label="Credit notes" class="credit-notes">
                <thead>
                    <tr>
                        <th scope="col">"Credit note"</th>
                        {with_invoice.then(|| view! { <th scope="col">"Invoice"</th> })}
                        <th scope="col">"Issued"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col" class="num">"Amount"</th>
                    </tr>
                </thead>
                <tbody>
                    {notes
                        .into_iter()
                        .map(|n| {
                            let kind = match (n.kind, &n.reissued_as) {
                                (CreditNoteKind::Void, Some(reissue)) => {
                                    format!("Void, reissued as {reissue}")
                                }
                                _ => String::new(),
                            };
                            view! {
                                <tr>
                                    <td>
                                        <a href=href("credit-notes", &n.credit_note_number)>
                                            {n.credit_note_number.clone()}
                                        </a>
                                    </td>
                                    {with_invoice.then(|| view! {
                                        <td>
                                            <a href=href("invoices", &n.invoice_number)>{n.invoice_number.clone()}</a>
                                        </td>
                                    })}
                                    <td>{n.issue_date.to_string()}</td>
                                    <td>
                                        {n.reason.clone()}
                                        {(!kind.is_empty()).then(|| view! { <br /><span class="muted">{kind.clone()}</span> })}
                                    </td>
                                    <td class="num">{n.total_inc_vat.shown()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// An admin's corrections of an issued invoice: a credit note (in full or
/// by line), or void and reissue.
#[component]
fn CorrectInvoice(detail: InvoiceDetail, actions: InvoiceActions) -> impl IntoView {
    let credit = actions.credit;
    let void = actions.void;
    let credit_error = Signal::derive(action_error(credit));
    let void_error = Signal::derive(action_error(void));
    let group = detail.billing_group_id.clone();
    let number = detail.summary.invoice_number.clone();
    let void_group = group.clone();
    let void_number = number.clone();
    let left = detail
        .corrections
        .creditable_total
        .map(|m| m.shown())
        .unwrap_or_default();
    let currency = detail.summary.currency.code();
    let lines = detail.corrections.creditable_lines.clone();
    let written = move || {
        credit.value().get().and_then(Result::ok).map(|n| {
            format!(
                "Credit note {} issued for {}.",
                n.credit_note_number,
                n.total_inc_vat.shown()
            )
        })
    };
    let reissued = move || {
        void.value().get().and_then(Result::ok).map(|(n, reissue)| {
            format!(
                "Invoice voided by credit note {}; reissued as invoice {reissue}.",
                n.credit_note_number
            )
        })
    };
    // Emptied after each credit note written, so a second click is not a
    // second credit.
    let cleared = RwSignal::new(0u32);
    Effect::new(move |_| {
        if credit.value().with(|v| matches!(v, Some(Ok(_)))) {
            cleared.update(|n| *n += 1);
        }
    });
    let empty = move || {
        cleared.track();
        String::new()
    };
    view! {
        <section class="panel corrections" aria-labelledby="correct-heading">
            <h2 id="correct-heading">"Correct this invoice"</h2>
            <p class="muted">
                "An issued invoice is never edited. A credit note takes an amount off it, with its own number; void and reissue replaces it with an invoice to the group's current billing details."
            </p>
            <p role="status" class="notice" hidden=move || written().is_none() && reissued().is_none()>
                {written}
                {reissued}
            </p>
            <details class="correction">
            <summary>"Issue a credit note"</summary>
            <ActionForm action=credit attr:class="stacked-form credit-form">
                <input type="hidden" name="billing_group_id" value=group />
                <input type="hidden" name="invoice_number" value=number />
                <ErrorSummary error=credit_error />
                <label for="reason">"Reason"</label>
                <textarea
                    id="reason"
                    name="reason"
                    rows="2"
                    maxlength="500"
                    required
                    aria-invalid=invalid(credit_error, "reason")
                    aria-describedby=described_by(credit_error, "reason", None)
                    prop:value=empty
                ></textarea>
                <FieldError error=credit_error field="reason" />
                <fieldset>
                    <legend>"What to credit"</legend>
                    <label class="choice">
                        <input type="radio" name="scope" value="full" checked />
                        {format!("Everything that remains ({left} before VAT)")}
                    </label>
                    <label class="choice">
                        <input type="radio" name="scope" value="lines" />
                        "The amounts below, per line"
                    </label>
                </fieldset>
                <div class="table-scroll" tabindex="0">
                    <table aria-label="Amounts to credit per line" class="credit-lines">
                        <thead>
                            <tr>
                                <th scope="col">"Line"</th>
                                <th scope="col" class="num">"Amount"</th>
                                <th scope="col" class="num">"Left to credit"</th>
                                <th scope="col" class="num">{format!("Credit ({currency})")}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {lines
                                .into_iter()
                                .map(|line| {
                                    let label = format!("Credit on line {}: {}", line.line_no, line.description);
                                    view! {
                                        <tr>
                                            <td>{line.description.clone()}</td>
                                            <td class="num">{line.line_total.grouped()}</td>
                                            <td class="num">{line.creditable.grouped()}</td>
                                            <td class="num">
                                                <input type="hidden" name="line_numbers[]" value=line.line_no />
                                                <input
                                                    id=format!("line_{}", line.line_no)
                                                    name="amounts[]"
                                                    inputmode="decimal"
                                                    size="9"
                                                    aria-label=label
                                                    prop:value=empty
                                                />
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
                <button type="submit" disabled=move || credit.pending().get()>
                    "Issue credit note"
                </button>
            </ActionForm>
            </details>
            <details class="correction">
            <summary>"Void and reissue"</summary>
            <p class="muted">
                "For a wrong address or VAT ID: a credit note for everything that remains, and a new invoice for the same month from the current billing details. Each names the other; both are mailed."
            </p>
            <ActionForm action=void attr:class="stacked-form void-form">
                <input type="hidden" name="billing_group_id" value=void_group />
                <input type="hidden" name="invoice_number" value=void_number />
                <ErrorSummary error=void_error />
                <label for="void-reason">"Reason for voiding"</label>
                <textarea id="void-reason" name="reason" rows="2" maxlength="500" required></textarea>
                <button type="submit" disabled=move || void.pending().get()>
                    "Void and reissue"
                </button>
            </ActionForm>
            </details>
        </section>
    }
}

/// What the customer lacks for a proper invoice ("billing address or
/// country"), if anything.
fn missing_details(customer: &InvoiceParty) -> Option<String> {
    let missing: Vec<&str> = [
        ("billing address", customer.address_lines.is_empty()),
        ("country", customer.country.is_empty()),
    ]
    .into_iter()
    .filter_map(|(what, lacking)| lacking.then_some(what))
    .collect();
    (!missing.is_empty()).then(|| missing.join(" or "))
}

#[component]
fn Party(heading: &'static str, party: InvoiceParty) -> impl IntoView {
    view! {
        <section class="party" aria-label=heading>
            <h2>{heading}</h2>
            <p>
                <strong>{party.name}</strong>
                {party.address_lines.into_iter().map(|l| view! { <br />{l} }).collect_view()}
                {(!party.country.is_empty()).then(|| view! { <br />{party.country.clone()} })}
                {(!party.vat_id.is_empty()).then(|| view! { <br />{format!("VAT ID {}", party.vat_id)} })}
            </p>
        </section>
    }
}
