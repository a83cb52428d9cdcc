use leptos::prelude::*;
use leptos_meta::Title;

use super::account_page::{account_id, AccountTabs};
use crate::api::people::{
    get_members, ChangeMemberRole, InviteMember, RemoveMember, RevokeInvitation,
};
use crate::model::people::{Member, MembersPage, PendingInvitation};
use crate::model::Role;
use crate::ui::forms::{action_error, described_by, invalid, ActionForm, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::{when, ErrorPanel};

/// The actions of the Members tab, shared by its parts.
#[derive(Clone, Copy)]
struct MemberActions {
    invite: ServerAction<InviteMember>,
    change_role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeInvitation>,
}

/// The account's Members tab: who is in the account and with which role;
/// admins invite, change roles, remove members and revoke invitations.
#[component]
pub fn AccountMembersPage() -> impl IntoView {
    let id = account_id();
    let actions = MemberActions {
        invite: ServerAction::new(),
        change_role: ServerAction::new(),
        remove: ServerAction::new(),
        revoke: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                id(),
                actions.invite.version().get(),
                actions.change_role.version().get(),
                actions.remove.version().get(),
                actions.revoke.version().get(),
            )
        },
        |(id, ..)| get_members(id),
    );
    view! {
        <Title text="Members" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <MembersView page actions /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn MembersView(page: MembersPage, actions: MemberActions) -> impl IntoView {
    let is_admin = page.role.allows(Role::Admin);
    let change_error = Signal::derive(action_error(actions.change_role));
    let remove_error = Signal::derive(action_error(actions.remove));
    let account_id = page.account_id.clone();
    view! {
        <h1>{page.account_name.clone()}</h1>
        <AccountTabs account_id=page.account_id.clone() active="members" />
        <section class="panel" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members"</h2>
            <dl class="facts roles" aria-label="What each role may do">
                {Role::ALL
                    .into_iter()
                    .map(|role| view! { <dt>{role.as_str()}</dt><dd>{role.description()}</dd> })
                    .collect_view()}
            </dl>
            <FieldError error=change_error field="role" />
            <FieldError error=change_error />
            <FieldError error=remove_error field="role" />
            <FieldError error=remove_error />
            {move || {
                actions
                    .change_role
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|m| {
                        view! {
                            <p class="success" role="status">
                                {format!("{} is now {}.", m.email, m.role)}
                            </p>
                        }
                    })
            }}
            {move || {
                matches!(actions.remove.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Member removed. Their sessions no longer reach this account."</p> })
            }}
            <div class="table-scroll" tabindex="0">
                <table class="cards">
                    <caption class="visually-hidden">"Members of the account"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Joined"</th>
                            <th scope="col">"Last sign-in"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {page
                            .members
                            .into_iter()
                            .map(|member| {
                                view! {
                                    <MemberRow
                                        member
                                        account_id=account_id.clone()
                                        is_admin
                                        actions
                                    />
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        {is_admin
            .then(|| {
                view! {
                    <InviteForm account_id=page.account_id.clone() mail_configured=page.mail_configured actions />
                    <PendingInvitations
                        account_id=page.account_id.clone()
                        invitations=page.invitations.clone()
                        actions
                    />
                }
            })}
    }
}

#[component]
fn MemberRow(
    member: Member,
    account_id: String,
    is_admin: bool,
    actions: MemberActions,
) -> impl IntoView {
    let you = member
        .is_you
        .then(|| view! { <span class="badge">"You"</span> });
    let remove_label = if member.is_you {
        "Leave the account".to_string()
    } else {
        format!("Remove {}", member.email)
    };
    // Admins remove anyone and leave; others may only leave.
    let (remove_account, remove_user) = (account_id.clone(), member.user_id.clone());
    let remove = (is_admin || member.is_you).then(move || {
        view! {
            <ActionForm action=actions.remove>
                <input type="hidden" name="account_id" value=remove_account />
                <input type="hidden" name="user_id" value=remove_user />
                <button type="submit" class="danger" aria-label=remove_label>
                    {if member.is_you { "Leave" } else { "Remove" }}
                </button>
            </ActionForm>
        }
    });
    let controls = if is_admin {
        let select_id = format!("role-{}", member.user_id);
        let select_label = format!("Role of {}", member.email);
        let button_label = format!("Change role of {}", member.email);
        let options = Role::ALL
            .into_iter()
            .map(|role| {
                view! {
                    <option value=role.as_str() selected=role == member.role>
                        {role.as_str()}
                    </option>
                }
            })
            .collect_view();
        view! {
            <div class="row-actions">
                <ActionForm action=actions.change_role attr:class="inline-form compact">
                    <input type="hidden" name="account_id" value=account_id.clone() />
                    <input type="hidden" name="user_id" value=member.user_id.clone() />
                    <label for=select_id.clone() class="visually-hidden">
                        {select_label}
                    </label>
                    <select id=select_id name="role">
                        {options}
                    </select>
                    <button type="submit" aria-label=button_label>
                        "Change role"
                    </button>
                </ActionForm>
                {remove}
            </div>
        }
        .into_any()
    } else {
        remove.into_any()
    };
    view! {
        <tr>
            <td data-label="Name">{member.real_name.clone()} " " {you}</td>
            <td data-label="Email">{member.email.clone()}</td>
            <td data-label="Role">{member.role.as_str()}</td>
            <td data-label="Joined">{when(Some(member.joined))}</td>
            <td data-label="Last sign-in">{when(member.last_sign_in)}</td>
            <td class="card-actions">{controls}</td>
        </tr>
    }
}

#[component]
fn InviteForm(account_id: String, mail_configured: bool, actions: MemberActions) -> impl IntoView {
    let error = Signal::derive(action_error(actions.invite));
    // The link exists only in this answer: shown once, never again.
    let created = move || actions.invite.value().get().and_then(Result::ok);
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    view! {
        <section class="panel" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite a member"</h2>
            <p class="muted">
                {if mail_configured {
                    "The invitation is emailed, and its link shown to you once."
                } else {
                    "Mail is not configured on this server: send the link shown after inviting yourself."
                }}
            </p>
            <ActionForm action=actions.invite attr:class="inline-form">
                <input type="hidden" name="account_id" value=account_id />
                <label for="invite-email">"Email"</label>
                <input
                    id="invite-email"
                    type="email"
                    name="email"
                    required
                    maxlength="254"
                    aria-invalid=invalid(error, "email")
                    aria-describedby=described_by(error, "email", None)
                />
                <label for="invite-role">"Role"</label>
                // Least access first, so the default is the safest.
                <select id="invite-role" name="role">
                    {Role::ALL
                        .into_iter()
                        .rev()
                        .map(|role| view! { <option value=role.as_str()>{role.as_str()}</option> })
                        .collect_view()}
                </select>
                <button
                    type="submit"
                    disabled=move || !live.get() || actions.invite.pending().get()
                >
                    {move || {
                        if actions.invite.pending().get() { "Inviting…" } else { "Invite" }
                    }}
                </button>
            </ActionForm>
            {move || {
                (!live.get())
                    .then(|| {
                        view! {
                            <p class="muted">
                                "Inviting needs JavaScript: the invitation link is shown once, on this page."
                            </p>
                        }
                    })
            }}
            <FieldError error field="email" />
            <FieldError error field="role" />
            <FieldError error />
            {move || {
                created()
                    .map(|c| {
                        view! {
                            <div class="success" role="status">
                                <p>
                                    {format!(
                                        "{} is invited as {}. Send them this link; it works once, until {}, and is not shown again.",
                                        c.invitation.email,
                                        c.invitation.role,
                                        when(Some(c.invitation.expire_time)),
                                    )}
                                </p>
                                <label for="invitation-link">"Invitation link"</label>
                                <input id="invitation-link" readonly value=c.link.clone() class="token" />
                            </div>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn PendingInvitations(
    account_id: String,
    invitations: Vec<PendingInvitation>,
    actions: MemberActions,
) -> impl IntoView {
    let error = Signal::derive(action_error(actions.revoke));
    let body = if invitations.is_empty() {
        view! { <p class="muted">"No pending invitations."</p> }.into_any()
    } else {
        view! {
            <div class="table-scroll" tabindex="0">
                <table class="cards">
                    <caption class="visually-hidden">"Pending invitations"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Invited by"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {invitations
                            .into_iter()
                            .map(|i| {
                                let account_id = account_id.clone();
                                let label = format!("Revoke the invitation of {}", i.email);
                                let invitation_id = i.invitation_id.clone();
                                let mail = match &i.mail {
                                    None => "Link shown to the inviter".to_string(),
                                    Some((state, Some(error))) if *state != crate::model::states::DeliveryState::Sent => {
                                        format!("{} — {error}", state.label())
                                    }
                                    Some((state, _)) => state.label().to_string(),
                                };
                                let expires = if i.expired {
                                    format!("Expired {}", when(Some(i.expire_time)))
                                } else {
                                    when(Some(i.expire_time))
                                };
                                view! {
                                    <tr>
                                        <td data-label="Email">{i.email.clone()}</td>
                                        <td data-label="Role">{i.role.as_str()}</td>
                                        <td data-label="Invited by">{i.invited_by.clone()}</td>
                                        <td data-label="Expires">{expires}</td>
                                        <td data-label="Email sent">{mail}</td>
                                        <td class="card-actions">
                                            <ActionForm action=actions.revoke>
                                                <input type="hidden" name="account_id" value=account_id />
                                                <input type="hidden" name="invitation_id" value=invitation_id />
                                                <button type="submit" class="danger" aria-label=label>
                                                    "Revoke"
                                                </button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="pending-heading">
            <h2 id="pending-heading">"Pending invitations"</h2>
            <FieldError error />
            {move || {
                matches!(actions.revoke.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Invitation revoked: its link no longer works."</p> })
            }}
            {body}
        </section>
    }
}
