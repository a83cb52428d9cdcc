use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tokens::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::model::tokens::ApiToken;
use crate::ui::forms::{action_error, ActionForm, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::{when, ErrorPanel};

/// `/profile/tokens`: personal API tokens for the REST API and `avn`:
/// create one (shown once), see when each was last used, revoke.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let create_error = Signal::derive(action_error(create));
    let revoke_error = Signal::derive(action_error(revoke));
    // The token exists only in this answer: shown once, never again.
    let created = move || create.value().get().and_then(Result::ok);
    // Before hydration the answer of a plain form post could not be shown,
    // so creating waits for the page to come alive.
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    view! {
        <Title text="API tokens" />
        <AppLayout>
            <h1>"API tokens"</h1>
            <p class="muted">
                "Personal tokens for the REST API and the avn client: send one as "
                <code>"authorization: aivenv1 <token>"</code>
                ". A token acts as you, with your roles on each account."
            </p>
            <section class="panel" aria-labelledby="new-token-heading">
                <h2 id="new-token-heading">"Create a token"</h2>
                <ActionForm action=create attr:class="stack">
                    <label for="token-description">"Description"</label>
                    <input
                        id="token-description"
                        name="description"
                        maxlength="1000"
                        placeholder="CI pipeline"
                    />
                    <FieldError error=create_error field="description" />
                    <button type="submit" disabled=move || !live.get() || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create token" }}
                    </button>
                </ActionForm>
                {move || {
                    (!live.get())
                        .then(|| {
                            view! {
                                <p class="muted">
                                    "Creating a token needs JavaScript: the token is shown once, on this page, and stored nowhere in readable form."
                                </p>
                            }
                        })
                }}
                <FieldError error=create_error />
                {move || {
                    created()
                        .map(|c| {
                            view! {
                                <div class="success" role="status">
                                    <p>
                                        {format!("Token \"{}\" created. Copy it now: it is not shown again.", c.info.description)}
                                    </p>
                                    <label for="new-token">"New token"</label>
                                    <input id="new-token" readonly value=c.token.clone() class="token" />
                                </div>
                            }
                        })
                }}
            </section>
            {move || {
                matches!(revoke.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Token revoked: requests with it are refused from now on."</p> })
            }}
            <Suspense fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable list revoke revoke_error /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn TokenTable(
    list: Vec<ApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    revoke_error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"You have no API tokens."</p> }.into_any();
    }
    view! {
        <FieldError error=revoke_error />
        <div class="table-scroll" tabindex="0"><table>
            <caption>"Your tokens"</caption>
            <thead>
                <tr>
                    <th scope="col">"Token"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|t| {
                        let label = format!("Revoke token {}…", t.token_prefix);
                        view! {
                            <tr>
                                <td><code>{format!("{}…", t.token_prefix)}</code></td>
                                <td>{t.description.clone()}</td>
                                <td>{when(Some(t.create_time))}</td>
                                <td>{when(t.last_used_time)}</td>
                                <td>
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="token_prefix" value=t.token_prefix.clone() />
                                        <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}
