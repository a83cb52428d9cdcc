use leptos::prelude::*;
use leptos_meta::Title;

use super::account_page::{account_id, AccountTabs};
use crate::api::webhooks::{get_webhooks, AddWebhook, RemoveWebhook, ResendWebhook};
use crate::model::states::{DeliveryState, WebhookEvent};
use crate::model::webhooks::{Webhook, WebhookDelivery, WebhooksPage};
use crate::ui::forms::{action_error, described_by, invalid, ActionForm, ErrorSummary, FieldError};
use crate::ui::layout::AppLayout;
use crate::ui::{when, ErrorPanel};

#[derive(Clone, Copy)]
struct WebhookActions {
    add: ServerAction<AddWebhook>,
    remove: ServerAction<RemoveWebhook>,
    resend: ServerAction<ResendWebhook>,
}

/// The account's Webhooks tab (admins): endpoints that receive signed
/// events, adding and removing them, and every delivery with its tries.
#[component]
pub fn AccountWebhooksPage() -> impl IntoView {
    let id = account_id();
    let actions = WebhookActions {
        add: ServerAction::new(),
        remove: ServerAction::new(),
        resend: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                id(),
                actions.add.version().get(),
                actions.remove.version().get(),
                actions.resend.version().get(),
            )
        },
        |(id, ..)| get_webhooks(id),
    );
    view! {
        <Title text="Webhooks" />
        <AppLayout>
            <Suspense fallback=|| view! { <p class="muted">"Loading webhooks…"</p> }>
                {move || {
                    let account_id = id();
                    Suspend::new(async move {
                        match data.await {
                            Ok(page) => view! { <WebhooksView page account_id actions /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn WebhooksView(page: WebhooksPage, account_id: String, actions: WebhookActions) -> impl IntoView {
    let remove_error = Signal::derive(action_error(actions.remove));
    let endpoints = if page.endpoints.is_empty() {
        view! { <p class="muted">"No endpoints yet. Add one below to receive events as signed HTTPS POSTs."</p> }
            .into_any()
    } else {
        let rows = page
            .endpoints
            .into_iter()
            .map(|webhook| view! { <EndpointRow webhook account_id=account_id.clone() actions /> })
            .collect_view();
        view! {
            <div class="table-scroll" tabindex="0">
                <table class="cards">
                    <caption class="visually-hidden">"Webhook endpoints"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"URL"</th>
                            <th scope="col">"Events"</th>
                            <th scope="col">"Added"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <h1>{page.account_name.clone()}</h1>
        <AccountTabs account_id=account_id.clone() active="webhooks" />
        <section class="panel" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">"Endpoints"</h2>
            <p class="muted">
                "Each event is POSTed as JSON and signed as the Standard Webhooks specification says (headers webhook-id, webhook-timestamp and webhook-signature). A delivery that fails is tried again after 10 s, 30 s, 1 min, 5 min, 15 min, 1 h and 3 h."
            </p>
            <FieldError error=remove_error />
            {move || {
                matches!(actions.remove.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Endpoint removed: nothing more is sent to it."</p> })
            }}
            {endpoints}
        </section>
        <AddEndpointForm account_id=account_id.clone() actions />
        <Deliveries deliveries=page.deliveries account_id actions />
    }
}

#[component]
fn EndpointRow(webhook: Webhook, account_id: String, actions: WebhookActions) -> impl IntoView {
    let label = format!("Remove the endpoint {}", webhook.url);
    let events = webhook
        .events
        .iter()
        .map(|e| view! { <li><code>{e.as_str()}</code></li> })
        .collect_view();
    let description = (!webhook.description.is_empty())
        .then(|| view! { <br /><span class="muted">{webhook.description.clone()}</span> });
    view! {
        <tr>
            <td data-label="URL" class="card-text">
                <span class="mono">{webhook.url.clone()}</span>
                {description}
            </td>
            <td data-label="Events"><ul class="plain">{events}</ul></td>
            <td data-label="Added">{when(Some(webhook.create_time))} " by " {webhook.created_by.clone()}</td>
            <td class="card-actions">
                <ActionForm action=actions.remove>
                    <input type="hidden" name="account_id" value=account_id />
                    <input type="hidden" name="webhook_id" value=webhook.webhook_id.clone() />
                    <button type="submit" class="danger" aria-label=label>"Remove"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn AddEndpointForm(account_id: String, actions: WebhookActions) -> impl IntoView {
    let error = Signal::derive(action_error(actions.add));
    // The secret exists only in this answer: shown once, never again.
    let created = move || actions.add.value().get().and_then(Result::ok);
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    let choices = WebhookEvent::ALL
        .iter()
        .map(|event| {
            view! {
                <label class="choice">
                    <input type="checkbox" name="events[]" value=event.as_str() />
                    <span>
                        <code>{event.as_str()}</code>
                        " — "
                        {event.label()}
                    </span>
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="add-endpoint-heading">
            <h2 id="add-endpoint-heading">"Add an endpoint"</h2>
            <ActionForm action=actions.add attr:class="stacked-form">
                <input type="hidden" name="account_id" value=account_id />
                <ErrorSummary error />
                <label for="url">"URL"</label>
                <input
                    id="url"
                    type="url"
                    name="url"
                    required
                    maxlength="2000"
                    placeholder="https://erp.example.com/hooks/billing"
                    aria-invalid=invalid(error, "url")
                    aria-describedby=described_by(error, "url", Some("webhook-url-help"))
                />
                <p id="webhook-url-help" class="muted">
                    "It must resolve to a public address: loopback, private and link-local addresses are refused."
                </p>
                <FieldError error field="url" />
                <label for="description">"Description (optional)"</label>
                <input
                    id="description"
                    name="description"
                    maxlength="200"
                    aria-invalid=invalid(error, "description")
                    aria-describedby=described_by(error, "description", None)
                />
                <FieldError error field="description" />
                <fieldset
                    id="events"
                    tabindex="-1"
                    aria-describedby=described_by(error, "events", None)
                >
                    <legend>"Events"</legend>
                    {choices}
                </fieldset>
                <FieldError error field="events" />
                <FieldError error />
                <div>
                    <button
                        type="submit"
                        class="primary"
                        disabled=move || !live.get() || actions.add.pending().get()
                    >
                        {move || if actions.add.pending().get() { "Adding…" } else { "Add endpoint" }}
                    </button>
                </div>
            </ActionForm>
            {move || {
                (!live.get())
                    .then(|| {
                        view! {
                            <p class="muted">
                                "Adding an endpoint needs JavaScript: its signing secret is shown once, on this page."
                            </p>
                        }
                    })
            }}
            {move || {
                created()
                    .map(|c| {
                        view! {
                            <div class="success" role="status">
                                <p>
                                    {format!(
                                        "Endpoint {} added. Verify each delivery's signature with this secret; it is not shown again.",
                                        c.webhook.url,
                                    )}
                                </p>
                                <label for="webhook-secret">"Signing secret"</label>
                                <input id="webhook-secret" readonly value=c.secret.clone() class="token" />
                            </div>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn Deliveries(
    deliveries: Vec<WebhookDelivery>,
    account_id: String,
    actions: WebhookActions,
) -> impl IntoView {
    let error = Signal::derive(action_error(actions.resend));
    let body = if deliveries.is_empty() {
        view! { <p class="muted">"No deliveries yet: each event an endpoint subscribes to shows here with every try."</p> }
            .into_any()
    } else {
        let rows = deliveries
            .into_iter()
            .map(
                |delivery| view! { <DeliveryRow delivery account_id=account_id.clone() actions /> },
            )
            .collect_view();
        view! {
            <div class="table-scroll" tabindex="0">
                <table class="cards">
                    <caption class="visually-hidden">"Webhook deliveries"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Event"</th>
                            <th scope="col">"Endpoint"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Tries"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="webhook-deliveries-heading">
            <h2 id="webhook-deliveries-heading">"Deliveries"</h2>
            <FieldError error />
            {move || {
                matches!(actions.resend.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Queued to be sent again."</p> })
            }}
            {body}
        </section>
    }
}

#[component]
fn DeliveryRow(
    delivery: WebhookDelivery,
    account_id: String,
    actions: WebhookActions,
) -> impl IntoView {
    let state = match delivery.state {
        DeliveryState::Queued if !delivery.attempts.is_empty() => {
            format!("Retrying at {}", when(Some(delivery.next_attempt_time)))
        }
        DeliveryState::Sent => format!("Delivered {}", when(delivery.sent_time)),
        state => state.label().to_string(),
    };
    let tries = delivery.attempts.len();
    let attempts = delivery
        .attempts
        .iter()
        .map(|a| {
            view! {
                <li class=if a.succeeded { "ok" } else { "failed" }>
                    {format!(
                        "#{} {} — {}{}",
                        a.attempt,
                        when(Some(a.attempt_time)),
                        if a.succeeded { "" } else { "failed: " },
                        a.detail
                    )}
                </li>
            }
        })
        .collect_view();
    let resend = delivery.can_resend.then(|| {
        let label = format!("Send again: {} to {}", delivery.event, delivery.url);
        view! {
            <ActionForm action=actions.resend>
                <input type="hidden" name="account_id" value=account_id />
                <input type="hidden" name="message_id" value=delivery.message_id.clone() />
                <button type="submit" aria-label=label>"Send again"</button>
            </ActionForm>
        }
    });
    view! {
        <tr>
            <td data-label="Event">
                <code>{delivery.event.clone()}</code>
                <br />
                <span class="muted">{when(Some(delivery.create_time))}</span>
            </td>
            <td data-label="Endpoint" class="card-text"><span class="mono">{delivery.url.clone()}</span></td>
            <td data-label="State" class=format!("delivery {}", delivery.state)>{state}</td>
            <td data-label="Tries">
                {if tries == 0 {
                    view! { <span class="muted">"Not tried yet"</span> }.into_any()
                } else {
                    view! {
                        <details>
                            <summary>{format!("{tries} {}", if tries == 1 { "try" } else { "tries" })}</summary>
                            <ol class="attempts">{attempts}</ol>
                        </details>
                    }
                    .into_any()
                }}
            </td>
            <td class="card-actions">{resend}</td>
        </tr>
    }
}
