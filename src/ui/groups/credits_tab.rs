use leptos::prelude::*;

use super::TabError;
use crate::api::credits::{get_credits, ClaimCredit};
use crate::model::credits::{last_valid_day, Credit, CreditsPage};
use crate::model::Role;
use crate::ui::forms::{action_error, ActionForm, FieldError};

/// Credits: the group's credits with what remains of them, a form to claim a
/// code (optionally earmarked for a project), and the burn-down forecast.
#[component]
pub fn CreditsTab() -> impl IntoView {
    let billing_group_id = super::group_id()();
    let claim = ServerAction::<ClaimCredit>::new();
    let id = billing_group_id.clone();
    let credits = Resource::new(
        move || (id.clone(), claim.version().get()),
        |(id, _)| get_credits(id),
    );
    let claim_error = Signal::derive(action_error(claim));
    let claimed = move || {
        claim.value().get().and_then(Result::ok).map(|credit| {
            format!(
                "Credit {} claimed: {} USD ({}).",
                credit.code,
                credit.value_usd.grouped(),
                credit.credit_type
            )
        })
    };
    view! {
        <h2>"Credits"</h2>
        <p class="muted">
            "Credits pay this group's charges at month close, soonest-expiring first, for the hours used while they are valid. An earmarked credit pays only its project."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading credits…"</p> }>
            {move || {
                Suspend::new(async move {
                    match credits.await {
                        Ok(page) => {
                            let can_claim = page.group_active && page.role.allows(Role::Billing);
                            view! {
                                {can_claim
                                    .then(|| {
                                        view! {
                                            <ClaimForm
                                                page=page.clone()
                                                claim
                                                claim_error
                                                claimed=Signal::derive(claimed)
                                            />
                                        }
                                    })}
                                <CreditTable credits=page.credits.clone() />
                                <BurnDown page />
                            }
                                .into_any()
                        }
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn ClaimForm(
    page: CreditsPage,
    claim: ServerAction<ClaimCredit>,
    claim_error: Signal<Option<crate::error::AppError>>,
    claimed: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="claim-heading">
            <h3 id="claim-heading">"Claim a credit"</h3>
            <ActionForm action=claim attr:class="stack">
                <input type="hidden" name="billing_group_id" value=page.billing_group_id.clone() />
                <label for="credit-code">"Credit code"</label>
                <input
                    id="credit-code"
                    name="code"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="ABCD-EFGH-JKMN-PQRS"
                    aria-describedby="credit-code-help"
                />
                <p id="credit-code-help" class="muted">
                    "16 letters and digits; spaces, dashes and case do not matter."
                </p>
                <FieldError error=claim_error field="code" />
                <label for="credit-earmark">"Earmark for project"</label>
                <select id="credit-earmark" name="earmarked_project_name">
                    <option value="">"All projects in this billing group"</option>
                    {page
                        .projects
                        .iter()
                        .map(|p| view! { <option value=p.clone()>{p.clone()}</option> })
                        .collect_view()}
                </select>
                <FieldError error=claim_error field="earmarked_project_name" />
                <button type="submit" disabled=move || claim.pending().get()>
                    {move || if claim.pending().get() { "Claiming…" } else { "Claim credit" }}
                </button>
            </ActionForm>
            <FieldError error=claim_error />
            {move || claimed.get().map(|m| view! { <p class="success" role="status">{m}</p> })}
        </section>
    }
}

fn day(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d").to_string()
}

fn state_text(credit: &Credit) -> String {
    use crate::model::states::CreditState;
    match credit.state {
        CreditState::Expired => format!("Expired ({} USD used)", credit.consumed_usd.grouped()),
        CreditState::UsedUp => "Used up".into(),
        CreditState::NotStarted => format!("Starts {}", day(credit.start_time)),
        CreditState::Active => "Active".into(),
    }
}

#[component]
fn CreditTable(credits: Vec<Credit>) -> impl IntoView {
    if credits.is_empty() {
        return view! { <p class="muted">"No credits have been claimed into this billing group."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0"><table aria-label="Credits">
            <thead>
                <tr>
                    <th scope="col">"Code"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col" class="num">"Value (USD)"</th>
                    <th scope="col" class="num">"Remaining value (USD)"</th>
                    <th scope="col" class="num">"Expected use this month (USD)"</th>
                    <th scope="col">"Start"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Earmarked for"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                {credits
                    .into_iter()
                    .map(|c| {
                        let state = state_text(&c);
                        view! {
                            <tr>
                                <th scope="row"><code>{c.code.clone()}</code></th>
                                <td>{c.credit_type.as_str()}</td>
                                <td class="num">{c.value_usd.grouped()}</td>
                                <td class="num">{c.remaining_value_usd.grouped()}</td>
                                <td class="num">{c.expected_this_month_usd.grouped()}</td>
                                <td>{day(c.start_time)}</td>
                                <td>
                                    {c
                                        .expire_time
                                        .map(|e| last_valid_day(e).to_string())
                                        .unwrap_or_else(|| "Never".into())}
                                </td>
                                <td>
                                    {c
                                        .earmarked_project_name
                                        .clone()
                                        .unwrap_or_else(|| "All projects".into())}
                                </td>
                                <td>{state}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

#[component]
fn BurnDown(page: CreditsPage) -> impl IntoView {
    let currency = page.currency;
    view! {
        <section class="panel" aria-labelledby="burn-down-heading">
            <h3 id="burn-down-heading">"Burn-down forecast"</h3>
            {page.notice.clone().map(|n| view! { <p class="notice">{n}</p> })}
            {if page.forecast.is_empty() {
                view! { <p class="muted">"No active credit has value left to forecast."</p> }.into_any()
            } else {
                let total = page.total_expiring_unused.shown();
                view! {
                    <p>
                        {format!(
                            "At the current run rate of {} USD per hour (the services running now), ",
                            page.run_rate_usd.normalize(),
                        )}
                        <strong>{total}</strong>
                        " of credit will expire unused."
                    </p>
                    <div class="table-scroll" tabindex="0"><table aria-label="Burn-down forecast">
                        <thead>
                            <tr>
                                <th scope="col">"Credit"</th>
                                <th scope="col" class="num">{format!("Left after this month so far ({currency})")}</th>
                                <th scope="col">"Runs out"</th>
                                <th scope="col" class="num">{format!("Expires unused ({currency})")}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .forecast
                                .iter()
                                .map(|f| {
                                    view! {
                                        <tr>
                                            <th scope="row"><code>{f.code.clone()}</code></th>
                                            <td class="num">{f.remaining_after_month_to_date.grouped()}</td>
                                            <td>
                                                {f
                                                    .runs_out_on
                                                    .map(|d| d.to_string())
                                                    .unwrap_or_else(|| "Not before it expires".into())}
                                            </td>
                                            <td class="num">{f.expires_unused.grouped()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table></div>
                }
                    .into_any()
            }}
        </section>
    }
}
