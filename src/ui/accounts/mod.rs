mod account_page;
mod all_accounts;
mod invoices_page;
mod members_page;
mod new_group_page;
mod projects_and_accounts;
mod webhooks_page;

pub use account_page::{AccountBillingPage, AccountSettingsPage};
pub use all_accounts::AllAccountsPage;
pub use invoices_page::AccountInvoicesPage;
pub use members_page::AccountMembersPage;
pub use new_group_page::NewBillingGroupPage;
pub use projects_and_accounts::ProjectsAndAccountsPage;
pub use webhooks_page::AccountWebhooksPage;
