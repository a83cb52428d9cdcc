mod projects_and_accounts;

pub use projects_and_accounts::ProjectsAndAccountsPage;
