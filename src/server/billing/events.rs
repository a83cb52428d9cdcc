//! The Events tab (rule 11): newest first, keyset pages, filters, CSV.

use futures::{Stream, StreamExt};

use crate::error::{AppError, AppResult};
use crate::model::billing::{EventsPage, GroupEvent};
use crate::model::ids::GroupId;
use crate::model::{CurrentUser, Role};
use crate::server::store::{DynStore, EventFilter, EventRecord, Store};

use super::access::authorized_group;

pub const PAGE_SIZE: i64 = 50;

pub async fn events_page(
    store: &dyn Store,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    before: Option<i64>,
    event_type: Option<&str>,
    project_name: Option<&str>,
) -> AppResult<EventsPage> {
    let (group, _) = authorized_group(store, user, billing_group_id, Role::Viewer).await?;
    let clean = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let filter = EventFilter {
        before_id: before,
        event_type: clean(event_type),
        project_name: clean(project_name),
        // One extra row tells whether an older page exists.
        limit: PAGE_SIZE + 1,
    };
    let mut events = store.events(&group.billing_group_id, &filter).await?;
    let has_more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let next_before = if has_more {
        events.last().map(|e| e.log_entry_id)
    } else {
        None
    };
    let event_types = store.event_types_of_group(&group.billing_group_id).await?;
    let project_names = store
        .event_projects_of_group(&group.billing_group_id)
        .await?;
    Ok(EventsPage {
        events: events.into_iter().map(to_model).collect(),
        next_before,
        event_types,
        project_names,
    })
}

fn to_model(e: EventRecord) -> GroupEvent {
    GroupEvent {
        log_entry_id: e.log_entry_id,
        actor: e.actor,
        event_type: e.event_type,
        event_desc: e.event_desc,
        project_name: e.project_name,
        details: e.details,
        create_time: e.create_time,
    }
}

/// Events per page of the CSV download.
const CSV_PAGE: i64 = 1000;

/// The file name of a group's events download.
pub fn events_csv_name(billing_group_id: &GroupId) -> String {
    format!("billing-group-{billing_group_id}-events.csv")
}

/// Every event of the group matching the filter, as RFC 4180 CSV, read
/// and sent a page of 1,000 at a time: the memory it takes does not grow
/// with the log. The caller is checked before the first byte.
pub async fn events_csv(
    store: DynStore,
    user: &CurrentUser,
    billing_group_id: &GroupId,
    event_type: Option<&str>,
    project_name: Option<&str>,
) -> AppResult<impl Stream<Item = AppResult<String>> + Send + 'static> {
    let (group, _) = authorized_group(store.as_ref(), user, billing_group_id, Role::Viewer).await?;
    let clean = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let filter = EventFilter {
        before_id: None,
        event_type: clean(event_type),
        project_name: clean(project_name),
        limit: CSV_PAGE,
    };
    let header = String::from(
        "log_entry_id,create_time,actor,event_type,project_name,event_desc,details\r\n",
    );
    let receiver = store.event_pages(&group.billing_group_id, filter);
    let pages = futures::stream::unfold(receiver, |mut receiver| async move {
        let page = receiver.recv().await?;
        let chunk = page.map(|events| csv_rows(&events)).map_err(AppError::from);
        Some((chunk, receiver))
    })
    .filter(|chunk| futures::future::ready(!matches!(chunk, Ok(text) if text.is_empty())));
    // Fused: the HTTP body may poll once more after the end, which an
    // `unfold` answers with a panic.
    Ok(futures::stream::once(async move { Ok(header) })
        .chain(pages)
        .fuse())
}

/// CSV rows of a page of events.
fn csv_rows(events: &[EventRecord]) -> String {
    let mut csv = String::with_capacity(events.len() * 160);
    for e in events {
        let row = [
            e.log_entry_id.to_string(),
            e.create_time.to_rfc3339(),
            e.actor.clone(),
            e.event_type.clone(),
            e.project_name.clone().unwrap_or_default(),
            e.event_desc.clone(),
            e.details.clone().unwrap_or_default(),
        ];
        csv.push_str(
            &row.iter()
                .map(|f| csv_text(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push_str("\r\n");
    }
    csv
}

/// A free-text field: a leading = + - @ (or tab, carriage return) is
/// prefixed with `'` so spreadsheets do not run it as a formula (OWASP's
/// CSV injection advice), then quoted as RFC 4180 says.
pub fn csv_text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        quoted(&format!("'{value}"))
    } else {
        quoted(value)
    }
}

/// A number (an amount, a count): written as it is, so spreadsheets and
/// finance imports read it as a number and sums come out right.
pub fn csv_number(value: &str) -> String {
    quoted(value)
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn quoted(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_number, csv_text};

    #[test]
    fn csv_fields_are_quoted_per_rfc_4180() {
        assert_eq!(csv_text("plain"), "plain");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn only_free_text_is_guarded_against_formulas_numbers_stay_numbers() {
        assert_eq!(csv_text("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_text("-1+1"), "'-1+1");
        assert_eq!(csv_text("@cmd"), "'@cmd");
        assert_eq!(csv_number("-1087.78"), "-1087.78");
        assert_eq!(csv_number("0.00"), "0.00");
    }
}
