//! The month close (rule 8): freezes every group's invoice for a month
//! with a sequential number, issue and due dates, once, across instances.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

use rust_decimal::Decimal;

use super::calendar::{month_of, period_name};
use super::costs::{self, Charge};
use super::credit_rule::{credits_for_period, Allocation};
use super::drafts::{draft_invoice, frozen_seller, vat_for};
use super::rates::rate_on;
use crate::error::{AppError, AppResult};
use crate::model::credits::display_code;
use crate::model::ids::{AccountId, GroupId};
use crate::model::money::Currency;
use crate::model::states::{EventType, WebhookEvent};
use crate::server::config::Seller;
use crate::server::store::{
    BillingGroupRecord, CreditRecord, CreditUse, GroupMembershipRecord, InvoiceIssuing, NewEvent,
    NewInvoice, NewMessage, PricedRunRecord, Store,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseSummary {
    pub period: String,
    /// Numbers of the invoices this run issued.
    pub issued: Vec<String>,
    /// Groups whose month an earlier run had invoiced already.
    pub invoiced_earlier: usize,
    /// Groups another run invoiced while this one was working (a parallel
    /// close on another instance).
    pub already_invoiced: usize,
    /// Wall time of each phase, for the log and the benchmark.
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Another instance holds the month's close lease: nothing was done.
    pub another_instance_closing: bool,
}

/// Groups per transaction: each invoice is all-or-nothing (its lines and
/// event commit with it), and a crash loses at most an uncommitted batch.
const GROUPS_PER_TRANSACTION: usize = 250;

/// How long a close's lease lasts without renewal: far longer than one
/// batch takes, short enough that a crashed instance's close is retried
/// within the hour.
const CLOSE_LEASE_MINUTES: i64 = 10;

/// Freezes every group's invoice for the month starting at `period_begin`.
/// One instance at a time: the close takes the month's lease in the
/// database (renewed per batch); while another instance holds it, this one
/// does nothing and says so. Idempotent besides: a group whose month
/// already has an invoice is skipped, so a second run issues nothing twice.
/// Refused before anything is written when the seller's settings are
/// incomplete (an invoice must name its seller and how to pay it), the
/// month has not ended or an exchange rate is missing.
pub async fn close_month(
    store: &dyn Store,
    seller: &Seller,
    link_base: &str,
    period_begin: DateTime<Utc>,
    now: DateTime<Utc>,
    actor: &str,
) -> AppResult<CloseSummary> {
    if let Some(message) = why_issuing_paused(seller) {
        return Err(AppError::Conflict { message });
    }
    let (from, _) = month_of(period_begin);
    let holder = format!("{actor}/{}", uuid::Uuid::new_v4().simple());
    let lease = Lease {
        store,
        period: from,
        holder: &holder,
        started: std::time::Instant::now(),
        now,
    };
    if !lease.renew().await? {
        return Ok(CloseSummary {
            period: period_name(from),
            issued: Vec::new(),
            invoiced_earlier: 0,
            already_invoiced: 0,
            phases: Vec::new(),
            another_instance_closing: true,
        });
    }
    let result = close_month_holding(store, seller, link_base, from, now, actor, &lease).await;
    // A failed release only leaves the lease to lapse.
    if let Err(error) = store.release_close_lease(from, &holder).await {
        tracing::warn!(%error, "month close lease not released; it lapses by itself");
    }
    result
}

/// Why no invoice can be issued, if it cannot: the seller's settings are
/// incomplete, or the fonts invoices are drawn with are missing.
pub fn why_issuing_paused(seller: &Seller) -> Option<String> {
    let missing = seller.missing();
    if !missing.is_empty() {
        return Some(format!(
            "No invoices are issued until the seller's settings are complete: set {} (see README, Start for real).",
            missing.join(", ")
        ));
    }
    // An invoice that cannot be drawn cannot be mailed or downloaded.
    super::pdf_fonts::unavailable().map(|why| format!("No invoices are issued: {why}"))
}

/// The month's close lease as one close holds it.
struct Lease<'a> {
    store: &'a dyn Store,
    period: DateTime<Utc>,
    holder: &'a str,
    started: std::time::Instant,
    /// The close's clock at `started` (tests pass a fixed one).
    now: DateTime<Utc>,
}

impl Lease<'_> {
    /// Takes or extends the lease; false when another holder has it.
    async fn renew(&self) -> AppResult<bool> {
        let elapsed = Duration::from_std(self.started.elapsed()).unwrap_or_default();
        let now = self.now + elapsed;
        self.store
            .acquire_close_lease(
                self.period,
                self.holder,
                now,
                now + Duration::minutes(CLOSE_LEASE_MINUTES),
            )
            .await
            .map_err(AppError::from)
    }
}

async fn close_month_holding(
    store: &dyn Store,
    seller: &Seller,
    link_base: &str,
    period_begin: DateTime<Utc>,
    now: DateTime<Utc>,
    actor: &str,
    lease: &Lease<'_>,
) -> AppResult<CloseSummary> {
    let (from, to) = month_of(period_begin);
    let period = period_name(from);
    if to > now {
        return Err(AppError::invalid(
            "period",
            format!(
                "{period} has not ended yet; it can be closed from {} UTC.",
                to.format("%Y-%m-%d %H:%M")
            ),
        ));
    }
    let mut clock = std::time::Instant::now();
    let mut phases = Vec::new();
    let mut lap = |name: &'static str, phases: &mut Vec<_>| {
        phases.push((name, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let invoiced_earlier = usize::try_from(store.invoiced_groups(from).await?).unwrap_or_default();
    let groups = store.groups_to_invoice(from, to).await?;
    lap("groups", &mut phases);
    let issue_date = now.date_naive();
    let mut rates: BTreeMap<Currency, Decimal> = BTreeMap::new();
    for group in &groups {
        if rates.contains_key(&group.billing_currency) {
            continue;
        }
        let rate = rate_on(store, group.billing_currency, issue_date)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "exchange_rate",
                    format!(
                        "No exchange rate for {} is in force on {issue_date}; add one to the exchange_rates table, then close {period} again.",
                        group.billing_currency
                    ),
                )
            })?;
        rates.insert(group.billing_currency, rate);
    }
    if groups.is_empty() {
        // Every group's month is invoiced already: nothing to read.
        store.record_month_close(from, 0, now).await?;
        return Ok(CloseSummary {
            period,
            issued: Vec::new(),
            invoiced_earlier,
            already_invoiced: 0,
            phases,
            another_instance_closing: false,
        });
    }
    let (memberships, runs) = store.usage_between(from, to).await?;
    lap("read usage", &mut phases);
    let charges = costs::charges(&memberships, &runs, from, to);
    lap("charges", &mut phases);
    let mut by_group: BTreeMap<&str, Vec<&Charge>> = BTreeMap::new();
    for charge in &charges {
        by_group
            .entry(charge.billing_group_id.as_str())
            .or_default()
            .push(charge);
    }
    let claimed = store.claimed_credits().await?;
    let mut credits_by_group: BTreeMap<&str, Vec<&CreditRecord>> = BTreeMap::new();
    for credit in &claimed {
        if let Some(group) = credit.billing_group_id.as_deref() {
            credits_by_group.entry(group).or_default().push(credit);
        }
    }
    // What each group's credits pay, before the usage is let go.
    let mut credits_of: BTreeMap<&str, Vec<Allocation>> = BTreeMap::new();
    if !credits_by_group.is_empty() {
        let usage_index = UsageIndex::new(&memberships, &runs);
        for (group, credits) in &credits_by_group {
            let Some(group_charges) = by_group.get(group) else {
                continue;
            };
            let (group_memberships, group_runs) = usage_index.of_group(&GroupId::from(*group));
            credits_of.insert(
                group,
                credits_for_period(
                    &GroupId::from(*group),
                    credits,
                    &group_memberships,
                    &group_runs,
                    group_charges,
                    (from, to),
                ),
            );
        }
    }
    drop(runs);
    lap("credits", &mut phases);
    let subscribers = super::webhooks::Subscribers::by_account(store).await?;
    let batches = Batches {
        store,
        lease,
        seller,
        issuing: Issuing {
            actor,
            at: now,
            seller,
            link_base,
            subscribers: &subscribers,
        },
        rates: &rates,
        by_group: &by_group,
        credits_of: &credits_of,
        period: (from, to),
        issue_date,
        now,
        drafting: std::sync::atomic::AtomicU64::new(0),
    };
    // Each batch is its own transaction; a backend that takes several
    // writers gets the next batch while the last is written.
    let at_once = store.close_batches_at_once().max(1);
    let mut waiting = groups.chunks(GROUPS_PER_TRANSACTION);
    let mut writing = futures::stream::FuturesOrdered::new();
    let mut issued = Vec::new();
    let mut already_invoiced = 0;
    loop {
        while writing.len() < at_once {
            match waiting.next() {
                Some(batch) => writing.push_back(batches.issue(batch)),
                None => break,
            }
        }
        let Some(written) = writing.next().await else {
            break;
        };
        let (taken, numbers) = written?;
        already_invoiced += taken;
        issued.extend(numbers);
    }
    drop(writing);
    let drafting = std::time::Duration::from_nanos(batches.drafting.into_inner());
    lap("draft and write", &mut phases);
    phases.push(("(of which drafting)", drafting));
    store
        .record_month_close(from, issued.len() as i64, now)
        .await?;
    Ok(CloseSummary {
        period,
        issued,
        invoiced_earlier,
        already_invoiced,
        phases,
        another_instance_closing: false,
    })
}

/// What each batch of a close needs, shared by the batches in flight.
struct Batches<'a> {
    store: &'a dyn Store,
    lease: &'a Lease<'a>,
    seller: &'a Seller,
    issuing: Issuing<'a>,
    rates: &'a BTreeMap<Currency, Decimal>,
    by_group: &'a BTreeMap<&'a str, Vec<&'a Charge>>,
    credits_of: &'a BTreeMap<&'a str, Vec<Allocation>>,
    period: (DateTime<Utc>, DateTime<Utc>),
    issue_date: chrono::NaiveDate,
    now: DateTime<Utc>,
    /// Nanoseconds spent drafting, for the phases.
    drafting: std::sync::atomic::AtomicU64,
}

impl Batches<'_> {
    /// Drafts and issues one batch in its own transaction: (groups whose
    /// month was invoiced meanwhile, numbers issued).
    async fn issue(&self, batch: &[BillingGroupRecord]) -> AppResult<(usize, Vec<String>)> {
        // Still ours? (A lease that lapsed while this instance stalled may
        // have passed to another; then that one carries on.)
        if !self.lease.renew().await? {
            return Err(AppError::Conflict {
                message: format!(
                    "The close of {} passed to another instance after this one stalled; that instance finishes it.",
                    period_name(self.period.0)
                ),
            });
        }
        let draft_started = std::time::Instant::now();
        let seller = self.seller;
        let drafts: Vec<NewInvoice> = batch
            .iter()
            .map(|group| {
                let rate = self
                    .rates
                    .get(&group.billing_currency)
                    .copied()
                    .unwrap_or(Decimal::ONE);
                let vat = vat_for(seller, &group.country_code, &group.vat_id);
                let group_charges = self
                    .by_group
                    .get(group.billing_group_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let group_credits = self
                    .credits_of
                    .get(group.billing_group_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut draft =
                    draft_invoice(group, group_charges, self.period, rate, &vat, group_credits);
                draft.issue_date = self.issue_date;
                draft.due_date = self.issue_date + Duration::days(seller.net_days);
                draft.seller = frozen_seller(seller);
                draft.download_cookie = download_cookie();
                draft
            })
            .collect();
        let took = u64::try_from(draft_started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.drafting
            .fetch_add(took, std::sync::atomic::Ordering::Relaxed);
        let numbers = self
            .store
            .issue_invoices(&drafts, self.now, &self.issuing)
            .await?;
        Ok((drafts.len() - numbers.len(), numbers))
    }
}

/// The month's usage by project, so a group with credits gets its own
/// share without a scan of everything (stretches shorter than the month
/// need the engine run again on it).
struct UsageIndex<'a> {
    memberships: &'a [GroupMembershipRecord],
    projects_of_group: std::collections::HashMap<&'a str, std::collections::BTreeSet<&'a str>>,
    groups_of_project: std::collections::HashMap<&'a str, Vec<usize>>,
    runs_of_project: std::collections::HashMap<&'a str, Vec<&'a PricedRunRecord>>,
}

impl<'a> UsageIndex<'a> {
    fn new(memberships: &'a [GroupMembershipRecord], runs: &'a [PricedRunRecord]) -> Self {
        let mut groups_of_project: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        let mut projects_of_group: std::collections::HashMap<
            &str,
            std::collections::BTreeSet<&str>,
        > = Default::default();
        for (index, membership) in memberships.iter().enumerate() {
            projects_of_group
                .entry(membership.billing_group_id.as_str())
                .or_default()
                .insert(membership.project_name.as_str());
            groups_of_project
                .entry(membership.project_name.as_str())
                .or_default()
                .push(index);
        }
        let mut runs_of_project: std::collections::HashMap<&str, Vec<&PricedRunRecord>> =
            Default::default();
        for run in runs {
            runs_of_project
                .entry(run.project_name.as_str())
                .or_default()
                .push(run);
        }
        UsageIndex {
            memberships,
            projects_of_group,
            groups_of_project,
            runs_of_project,
        }
    }

    /// Memberships and runs of the projects that were in the group.
    fn of_group(
        &self,
        billing_group_id: &GroupId,
    ) -> (Vec<GroupMembershipRecord>, Vec<PricedRunRecord>) {
        let mut memberships = Vec::new();
        let mut runs = Vec::new();
        for project in self
            .projects_of_group
            .get(billing_group_id.as_str())
            .into_iter()
            .flatten()
            .copied()
        {
            for index in self.groups_of_project.get(project).into_iter().flatten() {
                memberships.push(self.memberships[*index].clone());
            }
            for run in self.runs_of_project.get(project).into_iter().flatten() {
                runs.push((*run).clone());
            }
        }
        (memberships, runs)
    }
}

/// Unguessable (128 random bits): the key of the invoice's download link.
pub fn download_cookie() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Sequential per group, readable, and unique across groups: the group
/// id's first 12 hex digits and the sequence number.
pub fn invoice_number(billing_group_id: &GroupId, sequence: i64) -> String {
    let prefix: String = billing_group_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    format!("{}-{sequence:04}", prefix.to_ascii_uppercase())
}

/// How a close numbers its invoices and words their events, applied by the
/// store inside the transaction that writes them.
struct Issuing<'a> {
    actor: &'a str,
    at: DateTime<Utc>,
    seller: &'a Seller,
    /// Where the invoice's page is (`PUBLIC_URL`), for its mail.
    link_base: &'a str,
    /// Each account's webhook endpoints, read when the close began.
    subscribers: &'a HashMap<AccountId, super::webhooks::Subscribers>,
}

impl InvoiceIssuing for Issuing<'_> {
    fn invoice_number(&self, billing_group_id: &GroupId, sequence: i64) -> String {
        invoice_number(billing_group_id, sequence)
    }

    fn invoice_messages(&self, invoice: &NewInvoice, number: &str) -> Vec<NewMessage> {
        let mut messages: Vec<NewMessage> =
            super::mail::invoice_message(invoice, number, self.seller, self.link_base)
                .into_iter()
                .collect();
        if let Some(subscribers) = self.subscribers.get(&invoice.account_id) {
            messages.extend(subscribers.notices(
                WebhookEvent::InvoiceIssued,
                Some(&invoice.billing_group_id),
                super::webhooks::issued_invoice_data(invoice, number),
                self.at,
            ));
        }
        messages
    }

    fn issued_event(&self, invoice: &NewInvoice, number: &str) -> NewEvent {
        let total = invoice.currency.plain(invoice.total_inc_vat);
        NewEvent {
            billing_group_id: invoice.billing_group_id.clone(),
            account_id: invoice.account_id.clone(),
            actor: self.actor.to_string(),
            event_type: EventType::InvoiceIssued,
            event_desc: format!(
                "Invoice {number} issued for {}: {total} {}",
                period_name(invoice.period_begin),
                invoice.currency
            ),
            project_name: None,
            details: Some(serde_json::json!({
                "after": {
                    "invoice_number": number,
                    "state": invoice.state,
                    "total_inc_vat": total,
                    "currency": invoice.currency,
                }
            })),
            create_time: self.at,
        }
    }

    fn credit_consumed_event(
        &self,
        invoice: &NewInvoice,
        number: &str,
        credit_use: &CreditUse,
    ) -> NewEvent {
        let remaining = credit_use.remaining_before - credit_use.amount_usd;
        let usd = |amount: Decimal| Currency::USD.plain(amount);
        NewEvent {
            billing_group_id: invoice.billing_group_id.clone(),
            account_id: invoice.account_id.clone(),
            actor: self.actor.to_string(),
            event_type: EventType::CreditConsumed,
            event_desc: format!(
                "Credit {} paid {} USD of invoice {number}; {} USD remains",
                display_code(&credit_use.code),
                usd(credit_use.amount_usd),
                usd(remaining)
            ),
            project_name: credit_use.earmarked_project_name.clone(),
            details: Some(serde_json::json!({
                "before": {"remaining_value_usd": credit_use.remaining_before.to_string()},
                "after": {
                    "remaining_value_usd": remaining.to_string(),
                    "invoice_number": number,
                    "consumed_usd": credit_use.amount_usd.to_string(),
                },
            })),
            create_time: self.at,
        }
    }
}
