//! The month close's bulk write on PostgreSQL: a batch's invoices, their
//! lines, events and messages each go in one statement, the values passed
//! as one array per column and expanded by `UNNEST` on the server. One
//! invoice at a time cost five to seven round trips (numbering, the row,
//! two line inserts, the event, the messages), which made writing a
//! million-line close take 13 s; a batch of 250 now takes six.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::close_sql;
use super::error::{StoreError, StoreResult, Violation};
use super::records::{InvoiceIssuing, JsonText, NewEvent, NewInvoice, NewMessage};

/// Whether a batch can go in bulk: no credits to check and update, and
/// one invoice per group (the next number of each group is read once).
pub(super) fn fits(invoices: &[NewInvoice]) -> bool {
    let mut groups = HashSet::with_capacity(invoices.len());
    invoices
        .iter()
        .all(|invoice| invoice.credit_uses.is_empty() && groups.insert(&invoice.billing_group_id))
}

/// Issues invoices that use no credits inside the caller's transaction, as
/// `issue_invoice` does one at a time: numbered per group, skipped when the
/// group's month is taken, written with their lines, event and messages.
/// The caller checks [`fits`] first.
pub(super) async fn issue_invoices(
    connection: &mut PgConnection,
    invoices: &[NewInvoice],
    at: DateTime<Utc>,
    issuing: &dyn InvoiceIssuing,
) -> StoreResult<Vec<String>> {
    let sequences = next_sequences(connection, invoices).await?;
    let mut numbered = Vec::with_capacity(invoices.len());
    for invoice in invoices {
        let sequence = sequences
            .get(invoice.billing_group_id.as_str())
            .copied()
            .unwrap_or(1);
        let number = issuing.invoice_number(&invoice.billing_group_id, sequence);
        numbered.push((invoice, number, sequence));
    }
    let inserted = insert_invoices(connection, &numbered, at).await?;
    let mut issued = Vec::with_capacity(inserted.len());
    for (invoice, number, _) in &numbered {
        if inserted.contains(number) {
            issued.push((*invoice, number.as_str()));
            continue;
        }
        let month_taken: i64 = sqlx::query_scalar(close_sql::MONTH_TAKEN)
            .bind(&invoice.billing_group_id)
            .bind(invoice.period_begin)
            .fetch_one(&mut *connection)
            .await?;
        if month_taken == 0 {
            return Err(StoreError::Violation(Violation::Unique(
                "invoices_pkey".into(),
            )));
        }
    }
    insert_lines(connection, &issued).await?;
    let events: Vec<NewEvent> = issued
        .iter()
        .map(|(invoice, number)| issuing.issued_event(invoice, number))
        .collect();
    insert_events(connection, &events).await?;
    let messages: Vec<NewMessage> = issued
        .iter()
        .flat_map(|(invoice, number)| issuing.invoice_messages(invoice, number))
        .collect();
    insert_messages(connection, &messages, at).await?;
    Ok(issued
        .into_iter()
        .map(|(_, number)| number.to_owned())
        .collect())
}

/// Each group's next invoice sequence number, in one query.
async fn next_sequences(
    connection: &mut PgConnection,
    invoices: &[NewInvoice],
) -> StoreResult<HashMap<String, i64>> {
    let groups: Vec<&str> = invoices
        .iter()
        .map(|invoice| invoice.billing_group_id.as_str())
        .collect();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.id, COALESCE((SELECT MAX(sequence_number) FROM invoices
                                WHERE billing_group_id = g.id), 0) + 1
         FROM UNNEST($1::text[]) AS g(id)",
    )
    .bind(groups)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The invoices' rows, as `close_sql::INSERT_INVOICE` writes one (no
/// `replaces`: a close issues originals); the numbers written back.
async fn insert_invoices(
    connection: &mut PgConnection,
    numbered: &[(&NewInvoice, String, i64)],
    at: DateTime<Utc>,
) -> StoreResult<HashSet<String>> {
    let mut number = Vec::with_capacity(numbered.len());
    let mut group = Vec::with_capacity(numbered.len());
    let mut sequence = Vec::with_capacity(numbered.len());
    let mut period_begin = Vec::with_capacity(numbered.len());
    let mut period_end = Vec::with_capacity(numbered.len());
    let mut state = Vec::with_capacity(numbered.len());
    let mut currency = Vec::with_capacity(numbered.len());
    let mut exchange_rate: Vec<Decimal> = Vec::with_capacity(numbered.len());
    let mut vat_rate: Vec<Decimal> = Vec::with_capacity(numbered.len());
    let mut vat_note = Vec::with_capacity(numbered.len());
    let mut total_usd: Vec<Decimal> = Vec::with_capacity(numbered.len());
    let mut total_vat_zero: Vec<Decimal> = Vec::with_capacity(numbered.len());
    let mut total_inc_vat: Vec<Decimal> = Vec::with_capacity(numbered.len());
    let mut issue_date: Vec<NaiveDate> = Vec::with_capacity(numbered.len());
    let mut due_date: Vec<NaiveDate> = Vec::with_capacity(numbered.len());
    let mut download_cookie = Vec::with_capacity(numbered.len());
    let mut payment_method = Vec::with_capacity(numbered.len());
    let mut customer = Vec::with_capacity(numbered.len());
    let mut seller = Vec::with_capacity(numbered.len());
    for (invoice, invoice_number, sequence_number) in numbered {
        number.push(invoice_number.as_str());
        group.push(invoice.billing_group_id.as_str());
        sequence.push(*sequence_number);
        period_begin.push(invoice.period_begin);
        period_end.push(invoice.period_end);
        state.push(invoice.state.as_str());
        currency.push(invoice.currency.code());
        exchange_rate.push(invoice.exchange_rate);
        vat_rate.push(invoice.vat_rate);
        vat_note.push(invoice.vat_note.as_str());
        total_usd.push(invoice.total_usd);
        total_vat_zero.push(invoice.total_vat_zero);
        total_inc_vat.push(invoice.total_inc_vat);
        issue_date.push(invoice.issue_date);
        due_date.push(invoice.due_date);
        download_cookie.push(invoice.download_cookie.as_str());
        payment_method.push(invoice.payment_method.as_str());
        customer.push(JsonText::encode(&invoice.customer));
        seller.push(JsonText::encode(&invoice.seller));
    }
    let written: Vec<String> = sqlx::query_scalar(
        "INSERT INTO invoices (invoice_number, billing_group_id, sequence_number, period_begin,
             period_end, state, currency, exchange_rate, vat_rate, vat_note, total_usd,
             total_vat_zero, total_inc_vat, issue_date, due_date, download_cookie,
             payment_method, customer, seller, create_time)
         SELECT i.*, $20 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::timestamptz[],
             $5::timestamptz[], $6::text[], $7::text[], $8::numeric[], $9::numeric[], $10::text[],
             $11::numeric[], $12::numeric[], $13::numeric[], $14::date[], $15::date[],
             $16::text[], $17::text[], $18::text[], $19::text[]) AS i
         ON CONFLICT DO NOTHING
         RETURNING invoice_number",
    )
    .bind(number)
    .bind(group)
    .bind(sequence)
    .bind(period_begin)
    .bind(period_end)
    .bind(state)
    .bind(currency)
    .bind(exchange_rate)
    .bind(vat_rate)
    .bind(vat_note)
    .bind(total_usd)
    .bind(total_vat_zero)
    .bind(total_inc_vat)
    .bind(issue_date)
    .bind(due_date)
    .bind(download_cookie)
    .bind(payment_method)
    .bind(customer)
    .bind(seller)
    .bind(at)
    .fetch_all(connection)
    .await?;
    Ok(written.into_iter().collect())
}

/// Every line of the issued invoices, in one statement.
async fn insert_lines(
    connection: &mut PgConnection,
    issued: &[(&NewInvoice, &str)],
) -> StoreResult<()> {
    let count = issued.iter().map(|(invoice, _)| invoice.lines.len()).sum();
    if count == 0 {
        return Ok(());
    }
    let mut number = Vec::with_capacity(count);
    let mut line_no = Vec::with_capacity(count);
    let mut line_type = Vec::with_capacity(count);
    let mut description = Vec::with_capacity(count);
    let mut project = Vec::with_capacity(count);
    let mut service = Vec::with_capacity(count);
    let mut service_type = Vec::with_capacity(count);
    let mut plan = Vec::with_capacity(count);
    let mut cloud = Vec::with_capacity(count);
    let mut hours = Vec::with_capacity(count);
    let mut begin = Vec::with_capacity(count);
    let mut end = Vec::with_capacity(count);
    let mut total_usd: Vec<Decimal> = Vec::with_capacity(count);
    let mut total_local: Vec<Decimal> = Vec::with_capacity(count);
    let mut currency = Vec::with_capacity(count);
    let mut credit = Vec::with_capacity(count);
    for (invoice, invoice_number) in issued {
        for line in &invoice.lines {
            number.push(*invoice_number);
            line_no.push(line.line_no);
            line_type.push(line.line_type.as_str());
            description.push(line.description.as_str());
            project.push(line.project_name.as_deref());
            service.push(line.service_name.as_deref());
            service_type.push(line.service_type.as_deref());
            plan.push(line.service_plan.as_deref());
            cloud.push(line.cloud_name.as_deref());
            hours.push(line.hours);
            begin.push(line.timestamp_begin);
            end.push(line.timestamp_end);
            total_usd.push(line.line_total_usd.0);
            total_local.push(line.line_total_local.0);
            currency.push(line.local_currency.code());
            credit.push(line.credit_code.as_deref());
        }
    }
    sqlx::query(
        "INSERT INTO invoice_lines (invoice_number, line_no, line_type, description, project_name,
             service_name, service_type, service_plan, cloud_name, hours, timestamp_begin,
             timestamp_end, line_total_usd, line_total_local, local_currency, credit_code)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::timestamptz[],
             $12::timestamptz[], $13::numeric[], $14::numeric[], $15::text[], $16::text[])",
    )
    .bind(number)
    .bind(line_no)
    .bind(line_type)
    .bind(description)
    .bind(project)
    .bind(service)
    .bind(service_type)
    .bind(plan)
    .bind(cloud)
    .bind(hours)
    .bind(begin)
    .bind(end)
    .bind(total_usd)
    .bind(total_local)
    .bind(currency)
    .bind(credit)
    .execute(connection)
    .await?;
    Ok(())
}

/// The events, in one statement; their log ids follow the array's order.
async fn insert_events(connection: &mut PgConnection, events: &[NewEvent]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let details: Vec<Option<String>> = events
        .iter()
        .map(|event| event.details.as_ref().map(|d| d.to_string()))
        .collect();
    sqlx::query(
        "INSERT INTO events (billing_group_id, account_id, actor, event_type, event_desc,
             project_name, details, create_time)
         SELECT grp, account, actor, kind, description, project, details, at
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::timestamptz[]) WITH ORDINALITY
             AS e(grp, account, actor, kind, description, project, details, at, n)
         ORDER BY n",
    )
    .bind(column(events, |e| e.billing_group_id.as_str()))
    .bind(column(events, |e| e.account_id.as_str()))
    .bind(column(events, |e| e.actor.as_str()))
    .bind(column(events, |e| e.event_type.as_str()))
    .bind(column(events, |e| e.event_desc.as_str()))
    .bind(column(events, |e| e.project_name.as_deref()))
    .bind(details)
    .bind(column(events, |e| e.create_time))
    .execute(connection)
    .await?;
    Ok(())
}

/// The messages, queued as `outbox::INSERT_MESSAGE` queues one.
async fn insert_messages(
    connection: &mut PgConnection,
    messages: &[NewMessage],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let recipients: Vec<String> = messages
        .iter()
        .map(|message| JsonText::encode(&message.recipients))
        .collect();
    sqlx::query(
        "INSERT INTO outbox (message_id, kind, account_id, billing_group_id, invoice_number,
             recipients, subject, body, state, attempts, next_attempt_time, create_time,
             credit_note_number, webhook_id)
         SELECT m.id, m.kind, m.account, m.grp, m.invoice, m.recipients, m.subject, m.body,
             'queued', 0, $11, $11, m.credit_note, m.webhook
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::text[])
             AS m(id, kind, account, grp, invoice, recipients, subject, body, credit_note, webhook)",
    )
    .bind(column(messages, |m| m.message_id.as_str()))
    .bind(column(messages, |m| m.kind.as_str()))
    .bind(column(messages, |m| m.account_id.as_str()))
    .bind(column(messages, |m| m.billing_group_id.as_deref()))
    .bind(column(messages, |m| m.invoice_number.as_deref()))
    .bind(recipients)
    .bind(column(messages, |m| m.subject.as_str()))
    .bind(column(messages, |m| m.body.as_str()))
    .bind(column(messages, |m| m.credit_note_number.as_deref()))
    .bind(column(messages, |m| m.webhook_id.as_deref()))
    .bind(at)
    .execute(connection)
    .await?;
    Ok(())
}

/// One column of `rows`, as an array to bind.
fn column<'a, T, V>(rows: &'a [T], value: impl Fn(&'a T) -> V) -> Vec<V> {
    rows.iter().map(value).collect()
}
