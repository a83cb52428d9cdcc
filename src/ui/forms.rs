//! Small pieces every form uses: field messages and action results.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// The error of the action's last run, if it failed.
pub fn action_error<S>(
    action: ServerAction<S>,
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || action.value().get().and_then(Result::err)
}

/// The message for one field under an input, or for the form as a whole
/// when `field` is None (errors not tied to a field).
#[component]
pub fn FieldError(
    error: Signal<Option<AppError>>,
    #[prop(optional)] field: Option<&'static str>,
) -> impl IntoView {
    let message = move || {
        let error = error.get()?;
        match field {
            Some(field) => error.field_message(field),
            None => match &error {
                AppError::Invalid { errors } if errors.iter().all(|e| e.field != "request") => None,
                other => Some(other.to_string()),
            },
        }
    };
    view! {
        {move || {
            message()
                .map(|m| {
                    view! {
                        <p class="error" role="alert">
                            {m}
                        </p>
                    }
                })
        }}
    }
}
