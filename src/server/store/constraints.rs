//! Constraint names out of SQLite's messages. PostgreSQL reports the name
//! of a violated constraint directly; SQLite only inside fixed message
//! forms: `CHECK constraint failed: <name>`, `UNIQUE constraint failed:
//! <table>.<col>, …` and, for our triggers, the name alone. This turns them
//! into the names `migrations/postgres` uses.

/// The constraint named by SQLite's message and extended result code
/// (both the sqlx path and the bulk path of `sqlite_bulk` see these).
pub(super) fn sqlite_constraint_name(message: &str, extended_code: i32) -> Option<String> {
    if let Some(name) = message.strip_prefix("CHECK constraint failed: ") {
        return Some(name.trim().to_string());
    }
    if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
        return Some(unique_constraint_name(columns));
    }
    if message.starts_with("FOREIGN KEY constraint failed") {
        return Some("foreign_key".to_string());
    }
    // RAISE(ABORT, '<name>') inside a trigger: extended code SQLITE_CONSTRAINT_TRIGGER.
    if extended_code == SQLITE_CONSTRAINT_TRIGGER {
        return Some(message.trim().to_string());
    }
    None
}

const SQLITE_CONSTRAINT_TRIGGER: i32 = 1811;

fn unique_constraint_name(columns: &str) -> String {
    match columns.trim() {
        "users.email" => "users_email_key".into(),
        "projects.project_name" => "projects_pkey".into(),
        "services.project_name, services.service_name" => "services_project_name_key".into(),
        "memberships.user_id, memberships.account_id" => "memberships_pkey".into(),
        "accounts.account_id" => "accounts_pkey".into(),
        "billing_groups.billing_group_id" => "billing_groups_pkey".into(),
        "service_runs.service_id" => "service_runs_one_open".into(),
        "credits.code" => "credits_pkey".into(),
        "invitations.account_id, invitations.email" => "invitations_open_key".into(),
        "invitations.token_hash" => "invitations_token_key".into(),
        "invoice_lines.invoice_number, invoice_lines.line_no" => "invoice_lines_pkey".into(),
        other => {
            let table = other.split('.').next().unwrap_or("unknown");
            format!("{table}_unique_key")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_the_postgres_constraint() {
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: users.email", 2067).as_deref(),
            Some("users_email_key")
        );
        assert_eq!(
            sqlite_constraint_name("CHECK constraint failed: invoice_lines_type_check", 275)
                .as_deref(),
            Some("invoice_lines_type_check")
        );
        assert_eq!(
            sqlite_constraint_name("billing_group_has_projects", SQLITE_CONSTRAINT_TRIGGER)
                .as_deref(),
            Some("billing_group_has_projects")
        );
        assert_eq!(sqlite_constraint_name("disk I/O error", 10), None);
    }
}
