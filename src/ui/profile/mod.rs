//! The signed-in user's own settings.

mod profile_page;
mod tokens_page;

pub use profile_page::ProfilePage;
pub use tokens_page::ApiTokensPage;
