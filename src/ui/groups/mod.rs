//! The billing group page: header with accumulated costs and the action
//! menu, and one tab per URL.

mod billing_info_tab;
mod credits_tab;
mod events_tab;
mod header;
mod invoices_tab;
mod overview_tab;
mod page;
mod projects_tab;

pub use page::BillingGroupPage;

/// The tabs, in order: (URL segment, label).
pub const TABS: [(&str, &str); 6] = [
    ("overview", "Overview"),
    ("projects", "Projects"),
    ("invoices", "Invoices"),
    ("credits", "Credits"),
    ("events", "Events"),
    ("billing-information", "Billing information"),
];
