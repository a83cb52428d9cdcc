use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::people::{
    get_all_accounts, get_instance_issuing_paused, CreateAccount, JoinAccount,
};
use crate::model::people::AccountOverview;
use crate::paths::app_url;
use crate::ui::forms::{
    action_error, described_by, invalid, ActionForm, CurrencySelect, FieldError,
};
use crate::ui::invoices::IssuingPausedNotice;
use crate::ui::layout::AppLayout;
use crate::ui::{when, ErrorPanel};

/// `/admin/accounts` (operators): every account with its admins, creating
/// an account, and joining one as admin to see its data.
#[component]
pub fn AllAccountsPage() -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let join = ServerAction::<JoinAccount>::new();
    let accounts = Resource::new(
        move || (create.version().get(), join.version().get()),
        |_| get_all_accounts(),
    );
    let create_error = Signal::derive(action_error(create));
    let join_error = Signal::derive(action_error(join));
    let paused = Resource::new(|| (), |_| get_instance_issuing_paused());
    view! {
        <Title text="All accounts" />
        <AppLayout>
            <h1>"All accounts"</h1>
            <IssuingPausedNotice paused />
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Ok(list) => {
                            view! {
                                <section class="panel" aria-labelledby="new-account-heading">
                                    <h2 id="new-account-heading">"Create account"</h2>
                                    <p class="muted">
                                        "The account starts with one billing group, its primary one, and you as its admin."
                                    </p>
                                    <ActionForm action=create attr:class="inline-form">
                                        <label for="new-account-name">"Account name"</label>
                                        <input
                                            id="new-account-name"
                                            name="account_name"
                                            maxlength="128"
                                            required
                                            aria-invalid=invalid(create_error, "account_name")
                                            aria-describedby=described_by(create_error, "account_name", None)
                                        />
                                        <label for="new-account-currency">"Billing currency"</label>
                                        <CurrencySelect id="new-account-currency" />
                                        <button type="submit" disabled=move || create.pending().get()>
                                            "Create account"
                                        </button>
                                    </ActionForm>
                                    <FieldError error=create_error field="account_name" />
                                    <FieldError error=create_error field="billing_currency" />
                                    <FieldError error=create_error />
                                </section>
                                <section class="panel" aria-labelledby="accounts-heading">
                                    <h2 id="accounts-heading">"Accounts"</h2>
                                    <FieldError error=join_error />
                                    <AccountsTable list join />
                                </section>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn AccountsTable(list: Vec<AccountOverview>, join: ServerAction<JoinAccount>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No accounts yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="cards">
                <caption class="visually-hidden">"Every account of this instance"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Admins"</th>
                        <th scope="col" class="num">"Billing groups"</th>
                        <th scope="col" class="num">"Members"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"You"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|a| {
                            let you = match a.your_role {
                                Some(role) => {
                                    view! {
                                        <a href=app_url(format!("/account/{}/billing", a.account_id))>
                                            {format!("Open ({role})")}
                                        </a>
                                    }
                                        .into_any()
                                }
                                None => {
                                    let id = a.account_id.clone();
                                    let label = format!("Join {} as admin", a.account_name);
                                    view! {
                                        <ActionForm action=join>
                                            <input type="hidden" name="account_id" value=id />
                                            <button type="submit" aria-label=label>
                                                "Join as admin"
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                            };
                            view! {
                                <tr>
                                    <td class="card-text" data-label="Account">
                                        {a.account_name.clone()}
                                        <br />
                                        <code class="muted">{a.account_id.clone()}</code>
                                    </td>
                                    <td data-label="Admins">{a.admins.join(", ")}</td>
                                    <td class="num" data-label="Billing groups">{a.billing_group_count}</td>
                                    <td class="num" data-label="Members">{a.member_count}</td>
                                    <td data-label="Created">{when(Some(a.create_time))}</td>
                                    <td class="card-actions">{you}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
