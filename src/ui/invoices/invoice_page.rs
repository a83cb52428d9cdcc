use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::state_badge::InvoiceStateBadge;
use crate::api::invoices::{get_invoice, SetInvoiceState};
use crate::model::invoices::{InvoiceDetail, InvoiceParty, ESTIMATE};
use crate::model::states::{GroupState, InvoiceState, LineType, PaymentMethod};
use crate::model::Role;
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError};
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
    let detail = Resource::new(
        move || (key(), set_state.version().get()),
        |((group, number), _)| get_invoice(group, number),
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading invoice…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <InvoiceView detail set_state /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn InvoiceView(detail: InvoiceDetail, set_state: ServerAction<SetInvoiceState>) -> impl IntoView {
    let s = detail.summary.clone();
    let is_estimate = s.invoice_number == ESTIMATE;
    let title = if is_estimate {
        format!("Estimate for {}", s.period_begin.format("%Y-%m"))
    } else {
        format!("Invoice {}", s.invoice_number)
    };
    let group_href = app_url(format!(
        "/billing-group/{}/invoices",
        detail.billing_group_id
    ));
    let files = app_url(format!(
        "/billing-group/{}/invoices/{}",
        detail.billing_group_id, s.invoice_number
    ));
    let currency = s.currency;
    let vat_amount = s.total_inc_vat + -s.total_vat_zero;
    let can_change_state = !is_estimate && detail.role.allows(Role::Admin) && !s.state.is_settled();
    let state_error = Signal::derive(action_error(set_state));
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
            <dt>"State"</dt>
            <dd>
                <InvoiceStateBadge state=s.state overdue_days=s.overdue_days />
            </dd>
            <dt>"Issue date"</dt>
            <dd>{s.issue_date.map(|d| d.to_string()).unwrap_or_else(|| "When the month closes".into())}</dd>
            <dt>"Due date"</dt>
            <dd>{s.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Currency"</dt>
            <dd>{format!("{} (1 USD = {} {})", currency, detail.exchange_rate.normalize(), currency)}</dd>
            <dt>"Payment"</dt>
            <dd>
                {match detail.payment_method {
                    PaymentMethod::Card => "Card".to_string(),
                    PaymentMethod::NoPaymentExpected => "No payment method on file".to_string(),
                    PaymentMethod::Email => "Pay by invoice".to_string(),
                }}
            </dd>
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
        </dl>
        {(!detail.vat_note.is_empty()).then(|| view! { <p class="muted">{detail.vat_note.clone()}</p> })}
        {(!detail.customer.extra_text.is_empty())
            .then(|| view! { <p class="muted">{detail.customer.extra_text.clone()}</p> })}
        {can_change_state
            .then(|| {
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
