//! Use-case errors. The HTTP layer maps each variant once to a status and a stable code.

use triad_domain::incident::IllegalTransition;
use triad_domain::validate::FieldError;
use triad_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or credentials that are wrong, expired or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller is known but their role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The user signed in with a one-time password and must choose their own first.
    #[error("change your one-time password first: PUT /api/v1/auth/password (or `triad password`)")]
    PasswordChangeRequired,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state; `code` is the stable public code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the incident cannot go there from its current status: {0}")]
    IllegalTransition(#[from] IllegalTransition),
    /// One or more fields were refused.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Too many requests from one integration key; try again after this many seconds.
    #[error(
        "rate limit exceeded: at most {limit} events per minute for this key; retry in {retry_after_seconds} s"
    )]
    RateLimited {
        limit: i64,
        retry_after_seconds: u64,
    },
    /// The database cannot be reached or failed; nothing was changed.
    #[error("storage failure: {0}")]
    Store(StoreError),
    /// A passing refusal the client should retry later (503), with a message written
    /// for the client: the intake's queue is full, or the intake stopped.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict(m) => AppError::Conflict {
                code: "conflict",
                message: format!("already exists: {m}"),
            },
            StoreError::InUse(m) => AppError::Conflict {
                code: "in_use",
                message: format!("still referenced elsewhere: {m}"),
            },
            // Permanent faults are bugs or operator errors, not something to retry.
            e @ (StoreError::Corrupt { .. } | StoreError::Migrate(_) | StoreError::Config(_)) => {
                AppError::Internal(e.to_string())
            }
            other => AppError::Store(other),
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Invalid(errors)
    }
}

impl AppError {
    /// A refusal of a single field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.to_string(),
            reason: reason.into(),
        }])
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
