//! Pages reached by a link instead of a sign-in: first-run setup and
//! invitations.

mod invitation_page;
mod setup_page;

pub use invitation_page::InvitationPage;
pub use setup_page::SetupPage;
