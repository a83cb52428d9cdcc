mod account_page;
mod projects_and_accounts;

pub use account_page::{AccountBillingPage, AccountSettingsPage};
pub use projects_and_accounts::ProjectsAndAccountsPage;
