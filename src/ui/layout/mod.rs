mod menus;
mod top_bar;

pub use menus::close_menus_like_menus;
pub use top_bar::{AppLayout, TopBar};
