//! The REST API under `/v1`, compatible with Aiven's (PRODUCT.md §7) so
//! the real `avn` client works against us. Handlers are thin: they
//! authenticate the token, call the same rules as the pages
//! (`server::billing`), and shape the answer in Aiven's field names.
//!
//! One table ([`endpoints`]) drives both the router and the OpenAPI
//! document, and each entry's response type is checked against its
//! handler's return type at compile time, so the two cannot disagree.

mod accounts;
mod billing_groups;
mod budgets;
pub mod endpoint;
pub mod error;
mod extract;
mod focus;
mod invoices;
pub mod openapi;
mod people;
mod services;
mod webhooks;
mod wire;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

pub use error::ApiResult;

use crate::server::state::AppState;
use endpoint::{Endpoint, QueryParam, Returns};
use error::ApiError;

/// Compile-time proof that a handler answers `Json<T>` (see [`endpoints!`]).
trait AnswersJson<T, Args> {}
macro_rules! answers_json {
    ($($arg:ident),*) => {
        impl<F, Fut, T, $($arg),*> AnswersJson<T, ($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: std::future::Future<Output = ApiResult<Json<T>>>,
        {
        }
    };
}
answers_json!();
answers_json!(A);
answers_json!(A, B);
answers_json!(A, B, C);
answers_json!(A, B, C, D);
answers_json!(A, B, C, D, E);

fn answering<T, Args, H: AnswersJson<T, Args>>(handler: H) -> H {
    handler
}

macro_rules! schema_of {
    ($ty:ty) => {
        |generator: &mut schemars::SchemaGenerator| generator.subschema_for::<$ty>()
    };
}

/// Declares every endpoint once: `routes()` builds the router from the
/// list, `endpoints()` hands it to the OpenAPI document.
macro_rules! endpoints {
    ($(
        $method:ident $path:literal => $handler:path {
            id: $id:literal, summary: $summary:literal, tag: $tag:literal,
            token: $token:literal,
            body: $body:tt,
            query: [$($qname:literal: $qschema:expr, $qdesc:literal);*],
            returns: $returns:tt,
            errors: [$($status:literal),*] $(,)?
        }
    )*) => {
        fn routes() -> Router<AppState> {
            let mut router = Router::new();
            $(
                router = router.route(
                    $path,
                    $method(endpoints!(@check $returns, $handler)),
                );
            )*
            router
        }

        pub fn endpoints() -> Vec<Endpoint> {
            vec![$(Endpoint {
                method: stringify!($method),
                path: $path,
                operation_id: $id,
                summary: $summary,
                tag: $tag,
                needs_token: $token,
                body: endpoints!(@body $body),
                query: &[$(QueryParam { name: $qname, description: $qdesc, schema: $qschema }),*],
                returns: endpoints!(@returns $returns),
                errors: &[$($status),*],
            }),*]
        }
    };
    (@check (pdf), $handler:path) => { $handler };
    (@check (xml), $handler:path) => { $handler };
    (@check (csv), $handler:path) => { $handler };
    (@check ($ty:ty), $handler:path) => { answering::<$ty, _, _>($handler) };
    (@body ()) => { None };
    (@body ($ty:ty)) => { Some(schema_of!($ty)) };
    (@returns (pdf)) => { Returns::Pdf };
    (@returns (xml)) => { Returns::Xml };
    (@returns (csv)) => { Returns::Csv };
    (@returns ($ty:ty)) => { Returns::Json(schema_of!($ty)) };
}

fn month_schema() -> serde_json::Value {
    serde_json::json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
}

fn integer(minimum: i64, maximum: i64, default: i64) -> serde_json::Value {
    serde_json::json!({"type": "integer", "minimum": minimum, "maximum": maximum, "default": default})
}

endpoints! {
    post "/userauth" => accounts::user_auth {
        id: "UserAuth", summary: "Sign in with email and password; answers a new API token", tag: "user",
        token: false, body: (wire::UserAuthRequest), query: [],
        returns: (wire::UserAuthResponse), errors: [400, 401, 429],
    }
    get "/account" => accounts::list_accounts {
        id: "AccountList", summary: "Accounts you are a member of", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::AccountsResponse), errors: [401],
    }
    post "/account" => people::create_account {
        id: "AccountCreate", summary: "Create an account (operators): its first billing group is its primary one, and you its admin", tag: "account",
        token: true, body: (wire::CreateAccountRequest), query: [],
        returns: (wire::AccountResponse), errors: [400, 401, 403],
    }
    put "/account/{account_id}" => people::update_account {
        id: "AccountUpdate", summary: "Rename an account (admins)", tag: "account",
        token: true, body: (wire::UpdateAccountRequest), query: [],
        returns: (wire::AccountResponse), errors: [400, 401, 403, 404],
    }
    get "/account/{account_id}/members" => people::list_members {
        id: "AccountMemberList", summary: "Members of an account with their roles", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::MembersResponse), errors: [401, 404],
    }
    put "/account/{account_id}/members/{user_id}" => people::change_role {
        id: "AccountMemberUpdate", summary: "Change a member's role (admins; the last admin keeps theirs)", tag: "account",
        token: true, body: (wire::ChangeRoleRequest), query: [],
        returns: (wire::MemberResponse), errors: [400, 401, 403, 404],
    }
    delete "/account/{account_id}/members/{user_id}" => people::remove_member {
        id: "AccountMemberDelete", summary: "Remove a member (admins), or leave the account yourself; the last admin stays", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [400, 401, 403, 404],
    }
    get "/account/{account_id}/invitations" => people::list_invitations {
        id: "AccountInvitationList", summary: "Pending invitations of an account (admins)", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::InvitationsResponse), errors: [401, 403, 404],
    }
    post "/account/{account_id}/invitations" => people::invite {
        id: "AccountInvitationCreate", summary: "Invite an email with a role (admins); answers the single-use link, valid 7 days", tag: "account",
        token: true, body: (wire::InviteRequest), query: [],
        returns: (wire::InvitationResponse), errors: [400, 401, 403, 404],
    }
    delete "/account/{account_id}/invitations/{invitation_id}" => people::revoke_invitation {
        id: "AccountInvitationDelete", summary: "Revoke a pending invitation (admins)", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [400, 401, 403, 404],
    }
    get "/account/{account_id}/webhooks" => webhooks::list {
        id: "AccountWebhookList", summary: "The account's webhook endpoints (admins)", tag: "account",
        token: true, body: (), query: [],
        returns: (webhooks::WebhooksResponse), errors: [401, 403, 404],
    }
    post "/account/{account_id}/webhooks" => webhooks::create {
        id: "AccountWebhookCreate", summary: "Add a webhook endpoint (admins): its URL must resolve to public addresses; answers the Standard Webhooks signing secret, shown once", tag: "account",
        token: true, body: (webhooks::WebhookRequest), query: [],
        returns: (webhooks::WebhookCreatedResponse), errors: [400, 401, 403, 404],
    }
    delete "/account/{account_id}/webhooks/{webhook_id}" => webhooks::remove {
        id: "AccountWebhookDelete", summary: "Remove a webhook endpoint (admins); its queued deliveries are dropped, its history stays", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [401, 403, 404],
    }
    get "/account/{account_id}/webhook-deliveries" => webhooks::deliveries {
        id: "AccountWebhookDeliveryList", summary: "The account's latest webhook deliveries with every attempt (admins)", tag: "account",
        token: true, body: (), query: [],
        returns: (webhooks::DeliveriesResponse), errors: [401, 403, 404],
    }
    post "/account/{account_id}/webhook-deliveries/{message_id}/resend" => webhooks::resend {
        id: "AccountWebhookDeliveryResend", summary: "Send a sent or failed webhook delivery again (admins)", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [401, 403, 404, 409],
    }
    get "/account/{account_id}/events" => people::account_events {
        id: "AccountEventList", summary: "The account's own log: created, renamed, members changed", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::AccountEventsResponse), errors: [401, 404],
    }
    get "/account/{account_id}/billing-overview" => accounts::billing_overview {
        id: "AccountBillingOverview", summary: "Each billing group's month to date and the account's total in a currency of your choice", tag: "account",
        token: true, body: (),
        query: ["currency": || serde_json::json!({"type": "string", "enum": crate::model::money::Currency::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()}), "The currency of the total (default: the primary group's)"],
        returns: (wire::BillingOverviewResponse), errors: [400, 401, 404],
    }
    get "/account/{account_id}/billing-group" => billing_groups::list_of_account {
        id: "AccountBillingGroupList", summary: "Billing groups of an account", tag: "account",
        token: true, body: (), query: [],
        returns: (wire::BillingGroupsResponse), errors: [401, 404],
    }
    get "/project" => accounts::list_projects {
        id: "ProjectList", summary: "Projects of your accounts", tag: "project",
        token: true, body: (), query: [],
        returns: (wire::ProjectsResponse), errors: [401],
    }
    post "/project" => accounts::create_project {
        id: "ProjectCreate", summary: "Create a project; it lands in the account's primary billing group unless one is named", tag: "project",
        token: true, body: (wire::CreateProjectRequest), query: [],
        returns: (wire::ProjectResponse), errors: [400, 401, 403, 404, 409],
    }
    get "/project/{project}/service" => services::list {
        id: "ServiceList", summary: "Services of a project (terminated ones are gone)", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::ServicesResponse), errors: [401, 404],
    }
    post "/project/{project}/service" => services::create {
        id: "ServiceCreate", summary: "Create a service (admins): it runs and is billed per started hour from now, at the price list's price", tag: "service",
        token: true, body: (wire::CreateServiceRequest), query: [],
        returns: (wire::ServiceResponse), errors: [400, 401, 403, 404, 409],
    }
    get "/project/{project}/service/{service_name}" => services::get_one {
        id: "ServiceGet", summary: "One service", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::ServiceResponse), errors: [401, 404],
    }
    put "/project/{project}/service/{service_name}" => services::update {
        id: "ServiceUpdate", summary: "Change a service's plan (billed from the next full hour) or power it off or on (admins)", tag: "service",
        token: true, body: (wire::UpdateServiceRequest), query: [],
        returns: (wire::ServiceResponse), errors: [400, 401, 403, 404, 409],
    }
    delete "/project/{project}/service/{service_name}" => services::terminate {
        id: "ServiceDelete", summary: "Terminate a service (admins)", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [401, 403, 404],
    }
    get "/project/{project}/service_types" => services::types_of_project {
        id: "ProjectServiceTypes", summary: "Service types and plans with their hourly prices per cloud", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::ServiceTypesResponse), errors: [401, 404],
    }
    get "/project/{project}/service-types/{service_type}" => services::one_type {
        id: "ProjectServiceTypeGet", summary: "One service type with its plans", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::ServiceTypeResponse), errors: [401, 404],
    }
    get "/service_types" => services::types {
        id: "ServiceTypes", summary: "The price list: service types and plans with their hourly prices per cloud", tag: "service",
        token: false, body: (), query: [],
        returns: (wire::ServiceTypesResponse), errors: [],
    }
    get "/project/{project}/vpcs" => services::vpcs {
        id: "ProjectVpcList", summary: "Project VPCs (none: services use the public internet)", tag: "service",
        token: true, body: (), query: [],
        returns: (wire::VpcsResponse), errors: [401, 404],
    }
    get "/billing-group" => billing_groups::list {
        id: "BillingGroupList", summary: "Billing groups of all your accounts", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::BillingGroupsResponse), errors: [401],
    }
    post "/billing-group" => billing_groups::create {
        id: "BillingGroupCreate", summary: "Create a billing group", tag: "billing_group",
        token: true, body: (wire::CreateBillingGroupRequest), query: [],
        returns: (wire::BillingGroupResponse), errors: [400, 401, 403, 404],
    }
    get "/billing-group/{billing_group_id}" => billing_groups::get_one {
        id: "BillingGroupGet", summary: "One billing group", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::BillingGroupResponse), errors: [401, 404],
    }
    put "/billing-group/{billing_group_id}" => billing_groups::update {
        id: "BillingGroupUpdate", summary: "Change a billing group's name or billing information (all or nothing)", tag: "billing_group",
        token: true, body: (wire::UpdateBillingGroupRequest), query: [],
        returns: (wire::BillingGroupResponse), errors: [400, 401, 403, 404],
    }
    delete "/billing-group/{billing_group_id}" => billing_groups::remove {
        id: "BillingGroupDelete", summary: "Delete an empty billing group that is not the primary one", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [401, 403, 404, 409],
    }
    get "/billing-group/{billing_group_id}/projects" => billing_groups::projects {
        id: "BillingGroupProjectList", summary: "Projects in a billing group", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::ProjectsResponse), errors: [401, 404],
    }
    post "/billing-group/{billing_group_id}/projects-assign" => billing_groups::assign_projects {
        id: "BillingGroupProjectsAssign", summary: "Move projects of the account into this billing group", tag: "billing_group",
        token: true, body: (wire::AssignProjectsRequest), query: [],
        returns: (wire::MessageResponse), errors: [400, 401, 403, 404],
    }
    post "/billing-group/{billing_group_id}/project-assign/{project}" => billing_groups::assign_project {
        id: "BillingGroupProjectAssign", summary: "Move one project of the account into this billing group", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::MessageResponse), errors: [400, 401, 403, 404],
    }
    get "/billing-group/{billing_group_id}/events" => billing_groups::events {
        id: "BillingGroupEventList", summary: "The billing group's events, newest first", tag: "billing_group",
        token: true, body: (),
        query: ["limit": || integer(1, 1000, 100), "How many events, newest first (1–1000)"],
        returns: (wire::EventsResponse), errors: [400, 401, 404],
    }
    get "/billing-group/{billing_group_id}/budget" => budgets::get_budget {
        id: "BillingGroupBudgetGet", summary: "The group's monthly budget and where the month stands against it", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::BudgetResponse), errors: [401, 404],
    }
    put "/billing-group/{billing_group_id}/budget" => budgets::put_budget {
        id: "BillingGroupBudgetSet", summary: "Set the group's monthly budget and alert thresholds (billing managers and admins)", tag: "billing_group",
        token: true, body: (wire::BudgetRequest), query: [],
        returns: (wire::BudgetResponse), errors: [400, 401, 403, 404],
    }
    delete "/billing-group/{billing_group_id}/budget" => budgets::delete_budget {
        id: "BillingGroupBudgetDelete", summary: "Remove the group's budget", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::BudgetResponse), errors: [401, 403, 404],
    }
    get "/billing-group/{billing_group_id}/deliveries" => budgets::deliveries {
        id: "BillingGroupDeliveryList", summary: "The group's emails (invoices, budget alerts) and how each went (admins)", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::DeliveriesResponse), errors: [401, 403, 404],
    }
    get "/billing-group/{billing_group_id}/credits" => invoices::credits {
        id: "BillingGroupCreditsList", summary: "Credits claimed for the billing group", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::CreditsResponse), errors: [401, 404],
    }
    post "/billing-group/{billing_group_id}/credits" => invoices::claim_credit {
        id: "BillingGroupCreditsClaim", summary: "Claim a credit code for the billing group", tag: "billing_group",
        token: true, body: (wire::ClaimCreditRequest), query: [],
        returns: (wire::CreditResponse), errors: [400, 401, 403, 404, 409, 429],
    }
    get "/billing-group/{billing_group_id}/invoice" => invoices::list {
        id: "BillingGroupInvoiceList", summary: "The running month's estimate and the issued invoices", tag: "billing_group",
        token: true, body: (),
        query: ["sort": || serde_json::json!({"type": "string", "enum": wire::INVOICE_SORTS}), "Sort by this field (descending for amounts and periods)";
                "reference": || serde_json::json!({"type": "string", "maxLength": 64}), "Only the invoice this RF payment reference (ISO 11649, spaces allowed) was made for, or invoices whose number contains this text"],
        returns: (wire::InvoicesResponse), errors: [400, 401, 404],
    }
    get "/billing-group/{billing_group_id}/invoice/{invoice_number}" => invoices::get_one {
        id: "BillingGroupInvoiceGet", summary: "One invoice", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::InvoiceResponse), errors: [401, 404],
    }
    get "/billing-group/{billing_group_id}/invoice/{invoice_number}/lines" => invoices::lines {
        id: "BillingGroupInvoiceLinesList", summary: "An invoice's lines", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::InvoiceLinesResponse), errors: [401, 404],
    }
    get "/billing-group/{billing_group_id}/invoice/{invoice_number}/xml" => invoices::xml {
        id: "BillingGroupInvoiceXml", summary: "An issued invoice as its EN 16931 e-invoice (UN/CEFACT CII, Factur-X profile EN 16931)", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (xml), errors: [401, 404],
    }
    post "/billing-group/{billing_group_id}/invoice/{invoice_number}/credit-note" => invoices::credit {
        id: "BillingGroupInvoiceCredit", summary: "Credit an issued invoice in full or by line, with a reason: a credit note in the group's own series, mailed to the invoice's emails (admins)", tag: "billing_group",
        token: true, body: (wire::CreditNoteRequest), query: [],
        returns: (wire::CreditNoteResponse), errors: [400, 401, 403, 404, 409],
    }
    post "/billing-group/{billing_group_id}/invoice/{invoice_number}/void" => invoices::void {
        id: "BillingGroupInvoiceVoid", summary: "Void an issued invoice (a credit note for what remains) and reissue it from the group's current billing details, in one transaction (admins)", tag: "billing_group",
        token: true, body: (wire::VoidInvoiceRequest), query: [],
        returns: (wire::VoidInvoiceResponse), errors: [400, 401, 403, 404, 409],
    }
    get "/billing-group/{billing_group_id}/credit-note" => invoices::credit_note_list {
        id: "BillingGroupCreditNoteList", summary: "The group's credit notes, newest first", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::CreditNotesResponse), errors: [401, 404],
    }
    get "/billing-group/{billing_group_id}/credit-note/{credit_note_number}" => invoices::credit_note_get {
        id: "BillingGroupCreditNoteGet", summary: "One credit note with its lines", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (wire::CreditNoteResponse), errors: [401, 404],
    }
    get "/billing-group/{billing_group_id}/credit-note/{credit_note_number}/{format}" => invoices::credit_note_file {
        id: "BillingGroupCreditNoteFile", summary: "A credit note as a document: `pdf` (Factur-X, type 381), `csv` or `xml` (EN 16931)", tag: "billing_group",
        token: true, body: (), query: [],
        returns: (pdf), errors: [401, 404],
    }
    get "/billing-group/{billing_group_id}/focus" => focus::of_group {
        id: "BillingGroupFocusExport", summary: "The group's costs as FOCUS 1.0 CSV (FinOps Foundation): a row per invoice line of a billing month or a range of them (closed months: the invoices and credit notes; the running month: its estimate so far)", tag: "billing_group",
        token: true, body: (),
        query: ["month": || month_schema(), "One billing month, YYYY-MM (default: the running month)";
                "from": || month_schema(), "First month of a range, YYYY-MM (with to)";
                "to": || month_schema(), "Last month of a range, YYYY-MM (with from)"],
        returns: (csv), errors: [400, 401, 404],
    }
    get "/account/{account_id}/focus" => focus::of_account {
        id: "AccountFocusExport", summary: "Every billing group's costs of the account as one FOCUS 1.0 CSV, for a billing month or a range of them", tag: "account",
        token: true, body: (),
        query: ["month": || month_schema(), "One billing month, YYYY-MM (default: the running month)";
                "from": || month_schema(), "First month of a range, YYYY-MM (with to)";
                "to": || month_schema(), "Last month of a range, YYYY-MM (with from)"],
        returns: (csv), errors: [400, 401, 404],
    }
    get "/billing-group/{billing_group_id}/invoice/{invoice_number}/{download_cookie}" => invoices::pdf {
        id: "BillingGroupInvoiceDownload", summary: "The invoice as PDF; the download cookie is the key, no token needed", tag: "billing_group",
        token: false, body: (), query: [],
        returns: (pdf), errors: [404],
    }
}

/// The API, to be nested at `/v1`: the endpoints, the document, JSON
/// errors for whatever the framework answers by itself (unknown route,
/// wrong method, body limits).
pub fn router() -> Router<AppState> {
    routes()
        .route("/openapi.json", get(serve_openapi))
        .fallback(unknown_route)
        .layer(middleware::from_fn(json_errors))
}

/// The OpenAPI document of this table, with the instance's base path.
async fn serve_openapi(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(openapi::document(&endpoints(), &state.config.base_path))
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("No such API endpoint.")
}

/// Turns a plain-text error from a layer or the router (405, 408, 413, …)
/// into the API's JSON error shape, so `avn` can print it.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.is_success() || status.is_redirection() || is_json {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("Request failed");
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let message = if text.is_empty() {
        reason.to_string()
    } else {
        text
    };
    ApiError::new(status, message).into_response()
}
