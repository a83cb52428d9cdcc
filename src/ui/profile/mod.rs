//! The signed-in user's own settings.

mod tokens_page;

pub use tokens_page::ApiTokensPage;
