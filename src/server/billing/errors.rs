//! What a refused write means to the person who asked for it: the one
//! mapping from store errors to [`AppError`], so `?` does the right thing
//! everywhere. Constraint names are the contract (`store::Violation`);
//! anything unexpected is logged here and answers "internal error".

use crate::error::AppError;
use crate::server::store::{StoreError, Violation};

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Violation(violation) => violation.into(),
            StoreError::Refused(error) => error,
            StoreError::NotFound => AppError::not_found("Item"),
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Internal
            }
        }
    }
}

impl From<Violation> for AppError {
    fn from(violation: Violation) -> Self {
        let conflict = |message: &str| AppError::Conflict {
            message: message.to_string(),
        };
        match violation {
            Violation::EmailTaken => AppError::invalid("email", "A user with this email already exists."),
            Violation::ProjectNameTaken => AppError::invalid(
                "project_name",
                "This project name is taken; project names are unique across all accounts.",
            ),
            Violation::ServiceNameTaken => AppError::invalid(
                "service_name",
                "The project already has a service with this name.",
            ),
            Violation::MemberExists => conflict("This user is already a member of the account."),
            Violation::GroupHasProjects => conflict(
                "This billing group still has projects. Move them to another group on the Projects tab first.",
            ),
            Violation::GroupIsPrimary => conflict(
                "This is the account's primary billing group. Choose another primary group in the account's Settings first.",
            ),
            Violation::GroupDeleted => {
                AppError::invalid("billing_group_id", "That billing group has been deleted.")
            }
            Violation::GroupOfOtherAccount => AppError::invalid(
                "billing_group_id",
                "That billing group belongs to another account; choose a group of this project's account.",
            ),
            Violation::ServiceAlreadyRunning => conflict("The service is already running."),
            Violation::ServiceNotRunning => conflict("The service is not running."),
            Violation::CreditAlreadyClaimed => AppError::invalid(
                "code",
                "This code has already been claimed; each code can be claimed once.",
            ),
            Violation::CreditBalanceChanged => conflict(
                "A credit's remaining value changed while the month was being closed; nothing was issued for its group. Run the close again.",
            ),
            Violation::LastAdmin => AppError::invalid(
                "role",
                "An account needs at least one admin: make another member admin first.",
            ),
            Violation::InvitationOpen => AppError::invalid(
                "email",
                "This address already has an open invitation to the account; revoke it to send a new one.",
            ),
            Violation::CreditCodeTaken => {
                conflict("A generated code already existed; issue the credits again.")
            }
            other => {
                tracing::error!(?other, "unexpected constraint violation");
                AppError::Internal
            }
        }
    }
}
