//! The API's JSON, in Aiven's field names (PRODUCT.md §1 and §7). Money is
//! a string with two decimals; times are RFC 3339 in UTC. Request bodies
//! refuse unknown fields, so a typo is a 400, not silently ignored.

mod accounts;
mod budgets;
mod common;
mod credits;
mod groups;
mod invoices;
mod projects;
mod services;

pub use accounts::*;
pub use budgets::*;
pub use common::*;
pub use credits::*;
pub use groups::*;
pub use invoices::*;
pub use projects::*;
pub use services::*;
