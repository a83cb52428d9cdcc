use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SignOut;
use crate::api::welcome::{get_invitation, AcceptInvitation, JoinWithInvitation};
use crate::model::people::{InvitationState, InvitationView};
use crate::paths::app_url;
use crate::ui::forms::{action_error, ActionForm, FieldError, NewUserFields};
use crate::ui::when;

/// `/invitation?token=…`: what the invitation is, and the way in: a new
/// person sets a name and password; someone with a user signs in and joins.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, get_invitation);
    view! {
        <Title text="Invitation" />
        <main class="signin invitation">
            <h1>"Billing console"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Opening the invitation…"</p> }>
                {move || Suspend::new(async move {
                    match invitation.await {
                        Ok(view) => view! { <InvitationBody view token=token() /> }.into_any(),
                        Err(error) => {
                            let message = error
                                .field_message("token")
                                .unwrap_or_else(|| error.to_string());
                            view! { <p class="error" role="alert">{message}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn InvitationBody(view: InvitationView, token: String) -> impl IntoView {
    let summary = format!(
        "{} invited {} to the account {} as {}.",
        view.invited_by, view.email, view.account_name, view.role
    );
    let closed = match view.state {
        InvitationState::Open => None,
        InvitationState::Accepted => Some("This invitation has already been used.".to_string()),
        InvitationState::Revoked => {
            Some("This invitation was revoked by an account admin; ask them for a new one.".into())
        }
        InvitationState::Expired => Some(format!(
            "This invitation expired on {}; ask an account admin for a new one.",
            when(Some(view.expire_time))
        )),
    };
    let way_in = if let Some(message) = closed {
        view! { <p class="error" role="alert">{message}</p> }.into_any()
    } else {
        match &view.signed_in_as {
            Some(email) if *email == view.email => {
                view! { <AcceptForm token account_name=view.account_name.clone() /> }.into_any()
            }
            Some(email) => {
                let sign_out = ServerAction::<SignOut>::new();
                view! {
                    <p class="error" role="alert">
                        {format!(
                            "This invitation is for {}; you are signed in as {email}. Sign out, then open the link again.",
                            view.email,
                        )}
                    </p>
                    <ActionForm action=sign_out>
                        <button type="submit">"Sign out"</button>
                    </ActionForm>
                }
                    .into_any()
            }
            None if view.user_exists => {
                let next = format!("/invitation?token={token}");
                let href = app_url(format!(
                    "/signin?next={}",
                    crate::paths::encode_query_value(&next)
                ));
                view! {
                    <p>{format!("{} already has a user here.", view.email)}</p>
                    <p>
                        <a class="button" href=href>
                            {format!("Sign in as {} to accept", view.email)}
                        </a>
                    </p>
                }
                .into_any()
            }
            None => view! { <NewUserForm token email=view.email.clone() /> }.into_any(),
        }
    };
    view! {
        <p class="lede">{summary}</p>
        {way_in}
    }
}

#[component]
fn AcceptForm(token: String, account_name: String) -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = Signal::derive(action_error(accept));
    view! {
        <ActionForm action=accept attr:class="stack">
            <input type="hidden" name="token" value=token />
            <FieldError error field="token" />
            <FieldError error />
            <button type="submit" disabled=move || accept.pending().get()>
                {format!("Join {account_name}")}
            </button>
        </ActionForm>
    }
}

#[component]
fn NewUserForm(token: String, email: String) -> impl IntoView {
    let join = ServerAction::<JoinWithInvitation>::new();
    let error = Signal::derive(action_error(join));
    view! {
        <p>{format!("Choose your name and a password to join. You will sign in as {email}.")}</p>
        <ActionForm action=join attr:class="stack" attr:aria-label="Join">
            <input type="hidden" name="token" value=token />
            <NewUserFields id_prefix="join" error />
            <FieldError error field="token" />
            <FieldError error />
            <button type="submit" disabled=move || join.pending().get()>
                {move || if join.pending().get() { "Joining…" } else { "Join" }}
            </button>
        </ActionForm>
    }
}
