use leptos::prelude::*;

use super::{group_id, GroupActions, ProjectCosts, TabError};
use crate::api::groups::get_group_overview;
use crate::api::mail::SetBudget;
use crate::model::billing::{BudgetStatus, GroupOverview};
use crate::model::credits::AppliedCredit;
use crate::model::invoices::ESTIMATE;
use crate::model::states::BudgetMeasure;
use crate::paths::app_url;
use crate::ui::forms::{action_error, described_by, invalid, ActionForm, ErrorSummary, FieldError};
use crate::ui::invoices::{days_text, CostChartView, InvoiceTable};

/// Overview: the group's projects with this month's costs so far, the cost
/// chart, the estimate and latest invoices, and the credits they use.
#[component]
pub fn OverviewTab() -> impl IntoView {
    let id = group_id();
    let actions = GroupActions::of_layout();
    let set_budget = ServerAction::<SetBudget>::new();
    let overview = Resource::new(
        move || (id(), actions.versions(), set_budget.version().get()),
        |(id, ..)| get_group_overview(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the overview…"</p> }>
            {move || {
                Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <Overview overview set_budget /> }.into_any(),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Overview(overview: GroupOverview, set_budget: ServerAction<SetBudget>) -> impl IntoView {
    let id = overview.billing_group_id.clone();
    let invoices_href = app_url(format!("/billing-group/{id}/invoices"));
    let overdue_href = app_url(format!("/billing-group/{id}/invoices?show=overdue"));
    let overdue = overview.overdue.map(|(count, oldest)| {
        let text = match count {
            1 => format!("1 invoice is overdue by {}.", days_text(oldest)),
            _ => format!(
                "{count} invoices are overdue, the oldest by {}.",
                days_text(oldest)
            ),
        };
        view! {
            <p class="notice overdue-notice">
                {text} " " <a href=overdue_href>"Show overdue invoices"</a>
            </p>
        }
    });
    view! {
        <BudgetPanel
            billing_group_id=id.clone()
            budget=overview.budget.clone()
            can_set=overview.can_set_budget
            set_budget
        />
        <section class="panel" aria-labelledby="overview-projects">
            <h2 id="overview-projects">"Projects"</h2>
            <ProjectCosts projects=overview.projects.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-costs">
            <h2 id="overview-costs">"Costs"</h2>
            <CostChartView chart=overview.chart.clone() />
        </section>
        <section class="panel" aria-labelledby="overview-invoices">
            <h2 id="overview-invoices">"Invoices"</h2>
            {overdue}
            <InvoiceTable billing_group_id=id.clone() invoices=overview.invoices.clone() compact=true />
            <p>
                <a href=invoices_href>"All invoices"</a>
            </p>
        </section>
        <section class="panel" aria-labelledby="overview-credits">
            <h2 id="overview-credits">"Applied credits"</h2>
            <AppliedCredits billing_group_id=id.clone() credits=overview.applied_credits.clone() />
        </section>
    }
}

/// Credits the running month is expected to use, then those issued
/// invoices used.
#[component]
fn AppliedCredits(billing_group_id: String, credits: Vec<AppliedCredit>) -> impl IntoView {
    let credits_href = app_url(format!("/billing-group/{billing_group_id}/credits"));
    if credits.is_empty() {
        return view! {
            <p class="muted">
                "No credits applied yet. " <a href=credits_href>"Claim a credit code"</a>
                " on the Credits tab."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0"><table aria-label="Applied credits">
            <thead>
                <tr>
                    <th scope="col">"Invoice"</th>
                    <th scope="col">"Period"</th>
                    <th scope="col">"Credit"</th>
                    <th scope="col">"Project"</th>
                    <th scope="col" class="num">"Applied (USD)"</th>
                    <th scope="col" class="num">"Applied"</th>
                </tr>
            </thead>
            <tbody>
                {credits
                    .into_iter()
                    .map(|c| {
                        let href = app_url(format!(
                            "/billing-group/{billing_group_id}/invoices/{}",
                            c.invoice_number
                        ));
                        let number_class = (c.invoice_number != ESTIMATE).then_some("invoice-number");
                        let label = if c.invoice_number == ESTIMATE {
                            crate::model::invoices::ESTIMATE_LABEL.to_string()
                        } else {
                            c.invoice_number.clone()
                        };
                        view! {
                            <tr>
                                <td><a class=number_class href=href>{label}</a></td>
                                <td>{c.period_begin.format("%Y-%m").to_string()}</td>
                                <td><code>{c.code.clone()}</code></td>
                                <td>{c.project_name.clone().unwrap_or_else(|| "All projects".into())}</td>
                                <td class="num">{c.amount_usd.grouped()}</td>
                                <td class="num">{c.amount_local.shown()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
        <p>
            <a href=credits_href>"All credits"</a>
        </p>
    }
    .into_any()
}

/// Percent of `part` in `whole`, rounded down (0 when `whole` is zero).
fn percent(part: rust_decimal::Decimal, whole: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    if whole.is_zero() {
        return 0;
    }
    // Checked: a stored amount may be as large as Decimal allows.
    part.checked_mul(rust_decimal::Decimal::from(100))
        .and_then(|hundredfold| hundredfold.checked_div(whole))
        .and_then(|share| share.floor().to_i64())
        .unwrap_or(i64::MAX)
        .clamp(0, 100_000)
}

/// The month's cost against the budget: a bar with the forecast marked and
/// the thresholds as ticks (SVG: no inline styles under the page's CSP),
/// the figures in words, and the form to set it.
#[component]
fn BudgetPanel(
    billing_group_id: String,
    budget: Option<BudgetStatus>,
    can_set: bool,
    set_budget: ServerAction<SetBudget>,
) -> impl IntoView {
    let error = Signal::derive(action_error(set_budget));
    let summary = budget.as_ref().map(|b| {
        let amount = b.amount.amount;
        match (&b.actual, &b.forecast) {
            (Some(actual), Some(forecast)) => {
                let scale = amount.max(actual.amount).max(forecast.amount);
                let x = |value: rust_decimal::Decimal| percent(value, scale) * 10;
                let label = format!(
                    "{} of {} this month ({} %); forecast to month end {} ({} %)",
                    actual.shown(),
                    b.amount.shown(),
                    percent(actual.amount, amount),
                    forecast.shown(),
                    percent(forecast.amount, amount)
                );
                let ticks = b
                    .thresholds
                    .iter()
                    .map(|t| {
                        let at = percent(amount, scale).saturating_mul(i64::from(*t)) / 10;
                        view! { <line class="budget-tick" x1=at x2=at y1="0" y2="28" /> }
                    })
                    .collect_view();
                let alerted = b
                    .alerted
                    .iter()
                    .map(|(measure, t)| match measure {
                        BudgetMeasure::Actual => format!("{t} % reached"),
                        BudgetMeasure::Forecast => format!("{t} % forecast"),
                    })
                    .collect::<Vec<_>>();
                view! {
                    <svg
                        class="budget-bar"
                        viewBox="0 0 1000 28"
                        preserveAspectRatio="none"
                        role="img"
                        aria-label=format!("Budget: {label}")
                    >
                        <rect class="budget-track" x="0" y="4" width="1000" height="20" />
                        <rect class="budget-forecast" x="0" y="4" width=x(forecast.amount) height="20" />
                        <rect class="budget-actual" x="0" y="4" width=x(actual.amount) height="20" />
                        <line class="budget-limit" x1=x(amount) x2=x(amount) y1="0" y2="28" />
                        {ticks}
                    </svg>
                    <p class="budget-figures">{label}"."</p>
                    <ul class="legend">
                        <li><span class="swatch swatch-actual"></span>"This month so far"</li>
                        <li><span class="swatch swatch-forecast"></span>"Forecast to month end"</li>
                        <li><span class="swatch swatch-limit"></span>"Budget"</li>
                    </ul>
                    {(!alerted.is_empty())
                        .then(|| view! { <p class="muted">{format!("Alerts this month: {}.", alerted.join(", "))}</p> })}
                    {b.next_evaluation.map(|at| view! {
                        <p class="muted next-evaluation">
                            "Thresholds are checked every 15 minutes and mailed together; next check "
                            <time datetime=at.to_rfc3339()>{crate::ui::when(Some(at))}</time>
                            "."
                        </p>
                    })}
                }
                    .into_any()
            }
            _ => view! {
                <p class="notice">"The budget cannot be compared yet: the group's currency has no exchange rate."</p>
            }
            .into_any(),
        }
    });
    let no_budget = budget.is_none();
    let amount_value = budget
        .as_ref()
        .map(|b| b.amount.plain())
        .unwrap_or_default();
    let thresholds_value = budget
        .as_ref()
        .map(|b| {
            b.thresholds
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "50, 90, 100".into());
    view! {
        <section class="panel" aria-labelledby="overview-budget">
            <h2 id="overview-budget">"Budget"</h2>
            {match summary {
                Some(view) => view.into_any(),
                None => view! { <p class="muted">"No monthly budget is set for this billing group."</p> }.into_any(),
            }}
            {can_set
                .then(|| {
                    view! {
                        <details class="budget-edit" open=move || no_budget || error.with(Option::is_some)>
                            <summary>{if no_budget { "Set a budget" } else { "Change budget" }}</summary>
                            <ErrorSummary error />
                            <ActionForm action=set_budget attr:class="inline-form">
                                <input type="hidden" name="billing_group_id" value=billing_group_id />
                                <label for="amount">"Monthly budget"</label>
                                <input
                                    id="amount"
                                    name="amount"
                                    inputmode="decimal"
                                    value=amount_value
                                    aria-invalid=invalid(error, "amount")
                                    aria-describedby=described_by(error, "amount", None)
                                />
                                <label for="thresholds">"Alert at (%)"</label>
                                <input
                                    id="thresholds"
                                    name="thresholds"
                                    value=thresholds_value
                                    aria-invalid=invalid(error, "thresholds")
                                    aria-describedby=described_by(error, "thresholds", None)
                                />
                                <button type="submit" disabled=move || set_budget.pending().get()>"Save budget"</button>
                            </ActionForm>
                            <p class="muted">
                                "Alerts go to the billing contact emails once per threshold and month, on the cost so far and on the forecast. Save an empty amount to remove the budget."
                            </p>
                        </details>
                        <FieldError error field="amount" />
                        <FieldError error field="thresholds" />
                        <FieldError error />
                        {move || {
                            matches!(set_budget.value().get(), Some(Ok(())))
                                .then(|| view! { <p role="status">"Budget saved."</p> })
                        }}
                    }
                })}
        </section>
    }
}
