//! The billing rules, written once over `dyn Store`: every decision, every
//! amount, every event text. Pages, server functions and the REST API only
//! translate to and from these functions; the store only stores.
//!
//! Layers, bottom up (a module imports only from layers below it):
//! `access`, `calendar`, `rates`, `errors`, `present` · `costs` (the cost
//! engine) · `credit_rule` · `drafts` · `month_to_date` · the features:
//! `accounts`, `projects`, `groups`, `new_group` (the guided flow),
//! `group_page`, `billing_info` (with `card_and_vat`), `invoices`,
//! `month_close`, `credits`, `corrections` and `credit_notes`, `events`,
//! `invoice_files` (with `invoice_pdf`, `pdf_fonts`, `einvoice`), `focus`
//! (the FOCUS cost export); people: `members` (members, invitations, the
//! account's log), `setup` (first run), `profile` (password, sessions);
//! usage: `services`, `prices`, `rate_import`; mail and alerts: `mail`,
//! `budgets`, `webhooks`.

pub mod access;
pub mod accounts;
pub mod billing_info;
pub mod budgets;
pub mod calendar;
pub mod card_and_vat;
pub mod corrections;
pub mod costs;
pub mod credit_notes;
pub mod credit_rule;
pub mod credits;
pub mod drafts;
pub mod einvoice;
pub mod errors;
pub mod events;
pub mod focus;
pub mod group_page;
pub mod groups;
pub mod invoice_files;
pub mod invoice_pdf;
pub mod invoices;
pub mod mail;
pub mod members;
pub mod month_close;
pub mod month_to_date;
pub mod new_group;
pub mod pdf_fonts;
pub mod present;
pub mod prices;
pub mod profile;
pub mod projects;
pub mod rate_import;
pub mod rates;
pub mod services;
pub mod setup;
pub mod webhooks;
