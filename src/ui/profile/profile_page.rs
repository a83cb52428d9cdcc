use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::whoami;
use crate::api::profile::{list_sessions, ChangePassword, SignOutEverywhere, SignOutOtherSessions};
use crate::model::people::SessionInfo;
use crate::model::validation::PASSWORD_MIN_CHARS;
use crate::paths::app_url;
use crate::ui::forms::{action_error, described_by, invalid, ActionForm, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::{when, ErrorPanel};

/// `/profile`: who you are, your password, and the browsers signed in as you.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let others = ServerAction::<SignOutOtherSessions>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let me = Resource::new(|| (), |_| whoami());
    let sessions = Resource::new(
        move || (change.version().get(), others.version().get()),
        |_| list_sessions(),
    );
    let change_error = Signal::derive(action_error(change));
    view! {
        <Title text="Profile" />
        <AppLayout>
            <h1>"Profile"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await
                        .ok()
                        .flatten()
                        .map(|u| {
                            view! {
                                <section class="panel" aria-labelledby="me-heading">
                                    <h2 id="me-heading">{u.real_name.clone()}</h2>
                                    <p>
                                        {u.email.clone()}
                                        {u
                                            .is_operator
                                            .then(|| view! { " " <span class="badge">"Operator"</span> })}
                                    </p>
                                    <p>
                                        <a href=app_url("/profile/tokens")>"API tokens"</a>
                                    </p>
                                </section>
                            }
                        })
                })}
            </Suspense>
            <section class="panel" aria-labelledby="password-heading">
                <h2 id="password-heading">"Change password"</h2>
                <p class="muted">
                    {format!(
                        "At least {PASSWORD_MIN_CHARS} characters. Changing it signs out your other browsers and revokes your API tokens.",
                    )}
                </p>
                <ActionForm action=change attr:class="stack">
                    <label for="current-password">"Current password"</label>
                    <input
                        id="current-password"
                        type="password"
                        name="current_password"
                        autocomplete="current-password"
                        required
                        aria-invalid=invalid(change_error, "current_password")
                        aria-describedby=described_by(change_error, "current_password", None)
                    />
                    <FieldError error=change_error field="current_password" />
                    <label for="new-password">"New password"</label>
                    <input
                        id="new-password"
                        type="password"
                        name="new_password"
                        autocomplete="new-password"
                        minlength=PASSWORD_MIN_CHARS.to_string()
                        required
                        aria-invalid=invalid(change_error, "new_password")
                        aria-describedby=described_by(change_error, "new_password", None)
                    />
                    <FieldError error=change_error field="new_password" />
                    <FieldError error=change_error />
                    <button type="submit" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                </ActionForm>
                {move || {
                    change
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|report| view! { <p class="success" role="status">{report.message()}</p> })
                }}
            </section>
            <section class="panel" aria-labelledby="sessions-heading">
                <h2 id="sessions-heading">"Signed-in browsers"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                    {move || Suspend::new(async move {
                        match sessions.await {
                            Ok(list) => view! { <SessionsTable list /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })}
                </Suspense>
                {move || {
                    others
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|n| {
                            view! {
                                <p class="success" role="status">
                                    {format!("Signed out {n} other browser(s).")}
                                </p>
                            }
                        })
                }}
                <div class="row-actions">
                    <ActionForm action=others>
                        <button type="submit">"Sign out other browsers"</button>
                    </ActionForm>
                    <ActionForm action=everywhere>
                        <button type="submit" class="danger" aria-describedby="tokens-stay">"Sign out everywhere"</button>
                    </ActionForm>
                </div>
                <p class="muted" id="tokens-stay">
                    "Signing out ends browser sessions only: your API tokens keep working until you revoke them on "
                    <a href=app_url("/profile/tokens")>"API tokens"</a>
                    ". Changing your password revokes them all."
                </p>
            </section>
        </AppLayout>
    }
}

#[component]
fn SessionsTable(list: Vec<SessionInfo>) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table>
                <caption class="visually-hidden">"Browsers signed in as you"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Address"</th>
                        <th scope="col">"Expires"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|s| {
                            view! {
                                <tr>
                                    <td>
                                        {when(Some(s.create_time))}
                                        {s
                                            .current
                                            .then(|| view! { " " <span class="badge">"This browser"</span> })}
                                    </td>
                                    <td>{when(s.last_used_time)}</td>
                                    <td>
                                        {if s.client_address.is_empty() {
                                            "unknown".to_string()
                                        } else {
                                            s.client_address.clone()
                                        }}
                                    </td>
                                    <td>{when(Some(s.expire_time))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
