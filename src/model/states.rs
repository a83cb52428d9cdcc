//! The closed sets of values the database stores as text: a group's state,
//! payment methods, invoice states, invoice line types, a service's state
//! and why its run ended, event types. Each is an enum with its stored name, so a typo is a
//! compile error, not a comparison that is never true.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stored name that is not one of the enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// Declares an enum of stored names: `as_str`, `parse`, `ALL`, `Display`,
/// `TryFrom<String>` (how records decode it) and serde as the name.
macro_rules! stored_names {
    ($(#[$meta:meta])* $name:ident ($kind:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(value: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(value: String) -> Result<Self, UnknownValue> {
                $name::parse(&value).ok_or(UnknownValue { kind: $kind, value })
            }
        }

        // Decoded as its text, so an optional column reads as `Option<Self>`.
        #[cfg(feature = "ssr")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok($name::try_from(text)?)
            }
        }
    };
}

stored_names! {
    /// What a credit was given for (the issuer's choice; shown on the
    /// Credits tab and invoice lines).
    CreditType ("credit type") {
        Trial = "trial",
        Promotion = "promotion",
        Purchase = "purchase",
        Discount = "discount",
        Outage = "outage",
        Other = "other",
    }
}

stored_names! {
    /// Why a service's run ended.
    RunEnd ("run end") {
        PoweredOff = "powered_off",
        Terminated = "terminated",
        /// Continued by a run on another plan.
        PlanChanged = "plan_changed",
        /// Continued by a run at the price list's new price.
        Repriced = "repriced",
    }
}

stored_names! {
    /// A billing group is active until deleted (rule 4); a deleted group's
    /// invoices and events stay readable.
    GroupState ("group state") {
        Active = "active",
        Deleted = "deleted",
    }
}

stored_names! {
    /// Rule 12: a card, pay by invoice (`email`), or nothing to pay.
    PaymentMethod ("payment method") {
        Card = "card",
        /// Pay by invoice, sent to the billing emails.
        Email = "email",
        NoPaymentExpected = "no_payment_expected",
    }
}

impl PaymentMethod {
    /// How the Billing information tab names it.
    pub fn label(self) -> &'static str {
        match self {
            PaymentMethod::Card => "Card",
            PaymentMethod::Email => "Pay by invoice",
            PaymentMethod::NoPaymentExpected => "No payment expected",
        }
    }
}

stored_names! {
    /// An invoice's state (Aiven's names). `estimate` is the running month,
    /// never stored. Pay by invoice: `issued` at the close, `mailed` once
    /// its email is delivered; by card: `paid` at the close; nothing to pay
    /// on file: `due`.
    InvoiceState ("invoice state") {
        Estimate = "estimate",
        Issued = "issued",
        Mailed = "mailed",
        Due = "due",
        Paid = "paid",
        Waived = "waived",
        Uncollectible = "uncollectible",
    }
}

impl InvoiceState {
    /// The states an admin may set on an issued invoice.
    pub const SETTABLE: [InvoiceState; 3] = [
        InvoiceState::Paid,
        InvoiceState::Waived,
        InvoiceState::Uncollectible,
    ];

    /// What people read for it.
    pub fn label(self) -> &'static str {
        match self {
            InvoiceState::Estimate => "Estimate",
            InvoiceState::Issued => "Issued",
            InvoiceState::Mailed => "Mailed",
            InvoiceState::Due => "Due",
            InvoiceState::Paid => "Paid",
            InvoiceState::Waived => "Waived",
            InvoiceState::Uncollectible => "Uncollectible",
        }
    }

    /// Issued and still to be paid: not paid, waived or uncollectible,
    /// nor the running month's estimate.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            InvoiceState::Issued | InvoiceState::Mailed | InvoiceState::Due
        )
    }

    /// Settled invoices do not change state any more.
    pub fn is_settled(self) -> bool {
        matches!(self, InvoiceState::Paid | InvoiceState::Waived)
    }
}

stored_names! {
    /// What an invoice line is (Aiven's names).
    LineType ("invoice line type") {
        ServiceCharge = "service_charge",
        CreditConsumption = "credit_consumption",
        ExtraCharge = "extra_charge",
        Rounding = "rounding",
        Vat = "vat",
    }
}

stored_names! {
    /// A service's state, from its latest run.
    ServiceState ("service state") {
        Running = "running",
        PoweredOff = "powered_off",
        Terminated = "terminated",
        NeverStarted = "never_started",
    }
}

impl ServiceState {
    /// What people read for it.
    pub fn label(self) -> &'static str {
        match self {
            ServiceState::Running => "Running",
            ServiceState::PoweredOff => "Powered off",
            ServiceState::Terminated => "Terminated",
            ServiceState::NeverStarted => "Not started",
        }
    }
}

stored_names! {
    /// Every kind of event the logs hold (rule 11).
    EventType ("event type") {
        BillingGroupCreated = "billing_group_created",
        BillingGroupRenamed = "billing_group_renamed",
        BillingGroupDeleted = "billing_group_deleted",
        BillingInfoChanged = "billing_info_changed",
        PrimaryBillingGroupChanged = "primary_billing_group_changed",
        ProjectAdded = "project_added",
        ProjectMovedIn = "project_moved_in",
        ProjectMovedOut = "project_moved_out",
        CreditClaimed = "credit_claimed",
        CreditConsumed = "credit_consumed",
        InvoiceIssued = "invoice_issued",
        InvoiceStateChanged = "invoice_state_changed",
        ServiceCreated = "service_created",
        ServicePoweredOn = "service_powered_on",
        ServicePoweredOff = "service_powered_off",
        ServicePlanChanged = "service_plan_changed",
        ServiceRepriced = "service_repriced",
        ServiceTerminated = "service_terminated",
        InvoiceMailed = "invoice_mailed",
        BudgetChanged = "budget_changed",
        BudgetThresholdReached = "budget_threshold_reached",
        DeliveryRequeued = "delivery_requeued",
        CreditNoteIssued = "credit_note_issued",
        InvoiceVoided = "invoice_voided",
    }
}

stored_names! {
    /// A credit note corrects part of an invoice (`credit`), or all of it
    /// for a reissue in its place (`void`).
    CreditNoteKind ("credit note kind") {
        Credit = "credit",
        Void = "void",
    }
}

stored_names! {
    /// What an outbox message is about.
    MessageKind ("message kind") {
        Invoice = "invoice",
        Invitation = "invitation",
        BudgetAlert = "budget_alert",
        /// A signed POST to an account's webhook endpoint.
        Webhook = "webhook",
    }
}

stored_names! {
    /// What a webhook endpoint can subscribe to (Standard Webhooks' `type`).
    WebhookEvent ("webhook event") {
        InvoiceIssued = "invoice.issued",
        InvoicePaid = "invoice.paid",
        InvoiceOverdue = "invoice.overdue",
        CreditNoteIssued = "credit_note.issued",
        BudgetThresholdReached = "budget.threshold_reached",
        MemberAdded = "member.added",
        MemberRemoved = "member.removed",
    }
}

impl WebhookEvent {
    /// What the Webhooks page says it is.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::InvoiceIssued => "An invoice is issued",
            WebhookEvent::InvoicePaid => "An invoice is marked paid",
            WebhookEvent::InvoiceOverdue => "An invoice becomes overdue",
            WebhookEvent::CreditNoteIssued => "A credit note is issued",
            WebhookEvent::BudgetThresholdReached => "A budget threshold is reached",
            WebhookEvent::MemberAdded => "A member joins the account",
            WebhookEvent::MemberRemoved => "A member leaves or is removed",
        }
    }
}

stored_names! {
    /// Where an outbox message stands: waiting (`queued`, possibly for a
    /// retry), claimed by a sender (`sending`), delivered (`sent`), or given
    /// up after its last try (`failed`).
    DeliveryState ("delivery state") {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
    }
}

stored_names! {
    /// Where a claimed credit stands now (computed from its dates and what
    /// remains; never stored, but named the same way in pages and `/v1`).
    CreditState ("credit state") {
        Active = "active",
        NotStarted = "not started",
        UsedUp = "used up",
        Expired = "expired",
    }
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Queued => "Queued",
            DeliveryState::Sending => "Sending",
            DeliveryState::Sent => "Sent",
            DeliveryState::Failed => "Failed",
        }
    }
}

stored_names! {
    /// What a budget threshold is measured on: the month so far, or the
    /// forecast to its end at the current run rate.
    BudgetMeasure ("budget measure") {
        Actual = "actual",
        Forecast = "forecast",
    }
}

stored_names! {
    /// What an account's own log holds: the account and its members.
    AccountEventType ("account event type") {
        AccountCreated = "account_created",
        AccountRenamed = "account_renamed",
        MemberInvited = "member_invited",
        InvitationRevoked = "invitation_revoked",
        MemberJoined = "member_joined",
        MemberAdded = "member_added",
        MemberRoleChanged = "member_role_changed",
        MemberRemoved = "member_removed",
        MemberLeft = "member_left",
        WebhookAdded = "webhook_added",
        WebhookRemoved = "webhook_removed",
        WebhookResent = "webhook_resent",
    }
}

impl EventType {
    /// What people read for it (the log and the API keep the stored name).
    pub fn label(self) -> &'static str {
        match self {
            EventType::BillingGroupCreated => "Billing group created",
            EventType::BillingGroupRenamed => "Billing group renamed",
            EventType::BillingGroupDeleted => "Billing group deleted",
            EventType::BillingInfoChanged => "Billing information changed",
            EventType::PrimaryBillingGroupChanged => "Primary billing group changed",
            EventType::ProjectAdded => "Project added",
            EventType::ProjectMovedIn => "Project moved in",
            EventType::ProjectMovedOut => "Project moved out",
            EventType::CreditClaimed => "Credit claimed",
            EventType::CreditConsumed => "Credit used",
            EventType::InvoiceIssued => "Invoice issued",
            EventType::InvoiceStateChanged => "Invoice state changed",
            EventType::ServiceCreated => "Service created",
            EventType::ServicePoweredOn => "Service powered on",
            EventType::ServicePoweredOff => "Service powered off",
            EventType::ServicePlanChanged => "Service plan changed",
            EventType::ServiceRepriced => "Service repriced",
            EventType::ServiceTerminated => "Service terminated",
            EventType::InvoiceMailed => "Invoice mailed",
            EventType::BudgetChanged => "Budget changed",
            EventType::BudgetThresholdReached => "Budget threshold reached",
            EventType::DeliveryRequeued => "Email sent again",
            EventType::CreditNoteIssued => "Credit note issued",
            EventType::InvoiceVoided => "Invoice voided",
        }
    }
}

impl AccountEventType {
    /// What people read for it (the log keeps the stored name).
    pub fn label(self) -> &'static str {
        match self {
            AccountEventType::AccountCreated => "Account created",
            AccountEventType::AccountRenamed => "Account renamed",
            AccountEventType::MemberInvited => "Member invited",
            AccountEventType::InvitationRevoked => "Invitation revoked",
            AccountEventType::MemberJoined => "Member joined",
            AccountEventType::MemberAdded => "Member added",
            AccountEventType::MemberRoleChanged => "Member's role changed",
            AccountEventType::MemberRemoved => "Member removed",
            AccountEventType::MemberLeft => "Member left",
            AccountEventType::WebhookAdded => "Webhook added",
            AccountEventType::WebhookRemoved => "Webhook removed",
            AccountEventType::WebhookResent => "Webhook delivery sent again",
        }
    }
}

/// A stored event type as people read it: its label, or for a name this
/// build does not know (a newer instance wrote it), the name in words.
pub fn event_type_label(stored: &str) -> String {
    if let Some(known) = EventType::parse(stored) {
        return known.label().to_string();
    }
    if let Some(known) = AccountEventType::parse(stored) {
        return known.label().to_string();
    }
    let words = stored.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_as_words() {
        for stored in EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .chain(AccountEventType::ALL.iter().map(|t| t.as_str()))
            .chain(["some_future_event"])
        {
            let label = event_type_label(stored);
            assert!(!label.contains('_'), "{stored} → {label}");
            assert!(label.starts_with(|c: char| c.is_uppercase()), "{label}");
        }
        assert_eq!(
            event_type_label("budget_threshold_reached"),
            "Budget threshold reached"
        );
    }

    #[test]
    fn stored_names_round_trip_and_refuse_strangers() {
        for state in InvoiceState::ALL {
            assert_eq!(InvoiceState::parse(state.as_str()), Some(*state));
        }
        assert_eq!(
            PaymentMethod::try_from("email".to_string()),
            Ok(PaymentMethod::Email)
        );
        let error = LineType::try_from("discount".to_string()).unwrap_err();
        assert_eq!(error.to_string(), "unknown invoice line type 'discount'");
        assert_eq!(
            serde_json::to_string(&PaymentMethod::NoPaymentExpected).unwrap(),
            "\"no_payment_expected\""
        );
    }
}
