use leptos::prelude::*;

use super::{group_id, TabError};
use crate::api::mail::{get_deliveries, SendAgain};
use crate::model::billing::{Deliveries, Delivery};
use crate::model::states::{DeliveryState, MessageKind};
use crate::ui::forms::{action_error, ActionForm, FieldError};
use crate::ui::when;

/// Deliveries (admins): the group's emails — invoices and budget alerts —
/// with their state, tries and last error, and "Send again".
#[component]
pub fn DeliveriesTab() -> impl IntoView {
    let id = group_id();
    let send_again = ServerAction::<SendAgain>::new();
    let key = id.clone();
    let deliveries = Resource::new(
        move || (key(), send_again.version().get()),
        |(id, _)| get_deliveries(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
            {move || {
                let billing_group_id = id();
                Suspend::new(async move {
                    match deliveries.await {
                        Ok(list) => view! { <DeliveriesView list send_again billing_group_id /> }.into_any(),
                        Err(error) => view! { <TabError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Invoice => "Invoice",
        MessageKind::Invitation => "Invitation",
        MessageKind::BudgetAlert => "Budget alert",
        MessageKind::Webhook => "Webhook",
    }
}

#[component]
fn DeliveriesView(
    list: Deliveries,
    send_again: ServerAction<SendAgain>,
    billing_group_id: String,
) -> impl IntoView {
    let error = Signal::derive(action_error(send_again));
    let notice = (!list.mail_configured).then(|| {
        view! {
            <p class="notice" role="note">
                "Mail is not configured on this server (SMTP_URL): emails wait in the queue and go out once it is."
            </p>
        }
    });
    let table = if list.deliveries.is_empty() {
        view! { <p class="muted">"No emails yet: invoices of groups that pay by invoice, and budget alerts, show here."</p> }
            .into_any()
    } else {
        view! {
            <div class="table-scroll" tabindex="0">
                <table aria-label="Deliveries">
                    <thead>
                        <tr>
                            <th scope="col">"Email"</th>
                            <th scope="col">"To"</th>
                            <th scope="col">"State"</th>
                            <th scope="col" class="num">"Tries"</th>
                            <th scope="col">"Queued"</th>
                            <th scope="col">"Sent"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .deliveries
                            .into_iter()
                            .map(|d| view! { <DeliveryRow delivery=d send_again billing_group_id=billing_group_id.clone() /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Deliveries"</h2>
            {notice}
            <FieldError error />
            {move || {
                matches!(send_again.value().get(), Some(Ok(())))
                    .then(|| view! { <p role="status">"Queued to be sent again."</p> })
            }}
            {table}
        </section>
    }
}

#[component]
fn DeliveryRow(
    delivery: Delivery,
    send_again: ServerAction<SendAgain>,
    billing_group_id: String,
) -> impl IntoView {
    let state = match (&delivery.state, &delivery.last_error) {
        (DeliveryState::Queued, Some(error)) => format!(
            "Retrying at {} — {error}",
            when(Some(delivery.next_attempt_time))
        ),
        (DeliveryState::Failed, Some(error)) => format!("Failed — {error}"),
        (DeliveryState::Sent, _) => match &delivery.server_response {
            Some(answer) => format!("Sent — the mail server answered “{answer}”"),
            None => DeliveryState::Sent.label().to_string(),
        },
        (state, _) => state.label().to_string(),
    };
    let resend = delivery.can_resend.then(|| {
        let label = format!("Send again: {}", delivery.subject);
        let id = delivery.message_id.clone();
        view! {
            <ActionForm action=send_again>
                <input type="hidden" name="billing_group_id" value=billing_group_id.clone() />
                <input type="hidden" name="message_id" value=id />
                <button type="submit" aria-label=label>"Send again"</button>
            </ActionForm>
        }
    });
    view! {
        <tr>
            <td>
                <span class="muted">{kind_label(delivery.kind)}</span>
                <br />
                {delivery.subject.clone()}
            </td>
            <td>{delivery.recipients.join(", ")}</td>
            <td class=format!("delivery {}", delivery.state)>{state}</td>
            <td class="num">{delivery.attempts}</td>
            <td>{when(Some(delivery.create_time))}</td>
            <td>{when(delivery.sent_time)}</td>
            <td>{resend}</td>
        </tr>
    }
}
