mod project_page;

pub use project_page::{CurrentProjectRedirect, ProjectPage};
