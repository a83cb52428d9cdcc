//! The integration tests: one binary (linking the server once, not once per
//! file), one module per area, and the fixtures they share in `common`.
#![cfg(feature = "ssr")]

// First, and apart: its macros (on_both_backends!) are in scope for the
// modules declared after it.
#[macro_use]
mod common;

mod amounts_agree;
mod authorization;
mod credit_notes;
mod credits;
mod groups;
mod http;
mod invoice_documents;
mod invoice_properties;
mod invoices;
mod mail;
mod operations;
mod people;
mod rest_api;
mod rules;
mod security;
mod services;
mod sign_in;
mod startup;
mod store_conformance;
mod untrusted_input;
mod upgrade;
mod webhooks;
