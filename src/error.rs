//! The one place domain errors become HTTP answers: each `ProblemCode`'s status, and the
//! RFC 9457 `application/problem+json` document (plus `code`, `request_id` and `errors`).
//!
//! Error policy: domain code returns `DomainError` (or its own `thiserror` enums mapped to
//! it), models return `diesel::QueryResult`, commands and handlers return `AppError`,
//! start-up and the CLI use `anyhow`. A 500 tells the client nothing about its cause; the
//! cause goes to the log with the request id. Database text never reaches a client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::error::{AppError, DomainError, FieldError, ProblemCode};
use crate::observability::RequestContext;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The HTTP status every answer with `code` has.
pub fn status_of(code: ProblemCode) -> StatusCode {
    use ProblemCode as C;
    match code {
        C::ValidationFailed
        | C::ReferenceNotFound
        | C::ConstraintViolation
        | C::IdempotencyKeyReused
        | C::EstimateExceeded
        | C::AuthorizationExceeded
        | C::AuthorizationNotValid
        | C::LicenceExpired
        | C::NotReversible
        | C::InvalidTransition
        | C::NotADispensingFacility
        | C::NotProcessed
        | C::PeriodClosed
        | C::PeriodNotEnded
        | C::NotAZeroPeriod
        | C::ZeroReportRequired
        | C::UnknownKey
        | C::BadSignature
        | C::CountryMismatch
        | C::UnsupportedSchemaVersion => StatusCode::UNPROCESSABLE_ENTITY,
        C::MalformedJson => StatusCode::BAD_REQUEST,
        C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::NotFound | C::NotAHub => StatusCode::NOT_FOUND,
        C::Unauthenticated | C::InvalidToken | C::InvalidCredentials => StatusCode::UNAUTHORIZED,
        C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        C::Forbidden | C::PasswordChangeRequired | C::WrongPassword => StatusCode::FORBIDDEN,
        C::CannotDeactivateSelf
        | C::Conflict
        | C::UsernameTaken
        | C::LicenceNumberTaken
        | C::RegionExists
        | C::SubstanceExists
        | C::ProductExists
        | C::AnnualEstimateExists
        | C::AuthorizationNumberTaken
        | C::StaleSequence
        | C::ExchangeKeyExists
        | C::ApiKeyPrincipal
        | C::InsufficientStock
        | C::AlreadyReceived
        | C::AlreadyReversed
        | C::ClientRecordIdReused
        | C::PeriodAlreadyClosed => StatusCode::CONFLICT,
        C::Retry | C::StatementTimeout | C::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        C::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The body of every error response (RFC 9457 plus `code`, `request_id` and `errors`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemDocument {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub code: ProblemCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members, e.g. `headroom_g` for `estimate_exceeded`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

/// The problem document of `error` for the request being answered.
pub fn document(error: &DomainError) -> ProblemDocument {
    let context = RequestContext::current();
    let status = status_of(error.code);
    ProblemDocument {
        type_uri: format!("https://tarozi.org/problems/{}", error.code.as_str().replace('_', "-")),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: error.detail.clone(),
        instance: context.as_ref().map(|c| c.path.clone()),
        code: error.code,
        request_id: context.map(|c| c.request_id),
        errors: error.errors.clone(),
        extensions: error.extensions.clone(),
    }
}

/// The HTTP answer of `error`.
pub fn respond(error: &DomainError) -> HttpResponse {
    let mut response = HttpResponse::build(status_of(error.code));
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE)));
    if let Some(seconds) = error.retry_after_seconds {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    response.json(document(error))
}

/// `error` as an actix error (for framework error handlers).
pub fn to_actix(error: DomainError) -> actix_web::Error {
    AppError::from(error).into()
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Domain(e) => status_of(e.code),
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Domain(e) => respond(e),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                respond(&DomainError::new(ProblemCode::InternalError, "an unexpected error occurred; it has been logged"))
            }
        }
    }
}
