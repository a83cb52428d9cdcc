//! The billing rules, written once over `dyn Store`. Pages, server functions
//! and the REST API only translate to and from these functions.

pub mod accounts;
pub mod billing_info;
pub mod costs;
pub mod credits;
pub mod events;
pub mod groups;
pub mod invoice_files;
pub mod invoices;
pub mod projects;

use crate::error::AppError;
use crate::server::store::{StoreError, Violation};

/// Turns a refused write into the message a person can act on; anything else
/// is logged and reported as an internal error.
pub fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Violation(violation) => violation_error(violation),
        StoreError::NotFound => AppError::not_found("Item"),
        other => crate::server::auth::internal(other),
    }
}

fn violation_error(violation: Violation) -> AppError {
    match violation {
        Violation::EmailTaken => AppError::invalid("email", "A user with this email already exists."),
        Violation::ProjectNameTaken => AppError::invalid(
            "project_name",
            "This project name is taken; project names are unique across all accounts.",
        ),
        Violation::ServiceNameTaken => AppError::invalid("service_name", "The project already has a service with this name."),
        Violation::MemberExists => AppError::Conflict { message: "This user is already a member of the account.".into() },
        Violation::GroupHasProjects => AppError::Conflict {
            message: "This billing group still has projects. Move them to another group on the Projects tab first.".into(),
        },
        Violation::GroupIsPrimary => AppError::Conflict {
            message: "This is the account's primary billing group. Choose another primary group in the account's Settings first.".into(),
        },
        Violation::AlreadyInGroup => AppError::invalid("billing_group_id", "The project is already in that billing group."),
        Violation::GroupDeleted => AppError::invalid("billing_group_id", "That billing group has been deleted."),
        Violation::GroupOfOtherAccount => AppError::invalid(
            "billing_group_id",
            "That billing group belongs to another account; choose a group of this project's account.",
        ),
        Violation::ServiceAlreadyRunning => AppError::Conflict { message: "The service is already running.".into() },
        Violation::ServiceNotRunning => AppError::Conflict { message: "The service is not running.".into() },
        Violation::CreditAlreadyClaimed => AppError::invalid("code", "This code has already been claimed; each code can be claimed once."),
        Violation::CreditExpired => AppError::invalid("code", "This code has expired."),
        Violation::CreditBalanceChanged => AppError::Conflict {
            message: "A credit's remaining value changed while the month was being closed; nothing was issued for its group. Run the close again.".into(),
        },
        Violation::CreditCodeTaken => AppError::Conflict { message: "A generated code already existed; issue the credits again.".into() },
        other => {
            tracing::error!(?other, "unexpected constraint violation");
            AppError::Internal
        }
    }
}
