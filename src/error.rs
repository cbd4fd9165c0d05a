//! `AppError`: every failure a handler can return, rendered as RFC 9457 `application/problem+json`.
//!
//! Error policy: domain code returns its own `thiserror` enums, models return
//! `diesel::QueryResult`, handlers return `AppError`, start-up and the CLI use `anyhow`.
//! A 500 tells the client nothing about its cause; the cause goes to the log with the
//! request id. Database text never reaches a client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::observability::RequestContext;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One offending field: `pointer` is a JSON pointer into the body, `parameter` names a
/// query or path parameter.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { pointer: Some(pointer.into()), parameter: None, detail: detail.into() }
    }

    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { pointer: None, parameter: Some(name.into()), detail: detail.into() }
    }

    /// The same error, its pointer prefixed (`/quantity_units` -> `/records/3/quantity_units`).
    pub fn under(mut self, prefix: &str) -> Self {
        if let Some(p) = self.pointer.take() {
            self.pointer = Some(format!("{prefix}{p}"));
        }
        self
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
    /// Stable machine-readable code, e.g. `insufficient_stock`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members, e.g. `headroom_g` for `estimate_exceeded`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

/// A client-facing problem: status, stable code, human detail, field errors, extensions.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extensions: Map<String, Value>,
    pub retry_after_seconds: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: Vec::new(), extensions: Map::new(), retry_after_seconds: None }
    }

    /// 422 `validation_failed` listing each bad field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer.as_deref().or(one.parameter.as_deref()).unwrap_or(""), one.detail),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail) }
    }

    /// 422 `validation_failed` for one field.
    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::at(pointer, detail)])
    }

    /// 422 `validation_failed` for one query or path parameter.
    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::parameter(name, detail)])
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn with_error(mut self, error: FieldError) -> Self {
        self.errors.push(error);
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn document(&self) -> ProblemDocument {
        let context = RequestContext::current();
        ProblemDocument {
            type_uri: format!("https://tarozi.org/problems/{}", self.code.replace('_', "-")),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            instance: context.as_ref().map(|c| c.path.clone()),
            code: self.code.to_owned(),
            request_id: context.map(|c| c.request_id),
            errors: self.errors.clone(),
            extensions: self.extensions.clone(),
        }
    }

    pub fn to_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE)));
        if let Some(seconds) = self.retry_after_seconds {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.document())
    }
}

/// What a handler returns on failure.
#[derive(Debug)]
pub enum AppError {
    Problem(Box<Problem>),
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<Problem> for AppError {
    fn from(p: Problem) -> Self {
        AppError::Problem(Box::new(p))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<diesel::result::Error>().and_then(transient_database_problem) {
            Some(problem) => problem.into(),
            None => AppError::Internal(e),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::NotFound => Problem::not_found("resource").into(),
            E::DatabaseError(K::UniqueViolation, _) => {
                Problem::conflict("conflict", "a record with the same identifying fields already exists").into()
            }
            E::DatabaseError(K::ForeignKeyViolation, _) => Problem::unprocessable("reference_not_found", "a referenced record does not exist").into(),
            E::DatabaseError(K::CheckViolation | K::NotNullViolation, _) => {
                Problem::unprocessable("constraint_violation", "the record breaks a data rule").into()
            }
            E::DatabaseError(K::SerializationFailure, _) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "retry", "the request met a concurrent update; retry it").retry_after(1).into()
            }
            _ => match transient_database_problem(&e) {
                Some(problem) => problem.into(),
                None => AppError::Internal(anyhow::Error::new(e)),
            },
        }
    }
}

/// 503 with `Retry-After` for a database failure a retry can cure: the connection lost in
/// the middle of a request (the server died, restarted or was shut down) or a statement
/// cancelled by `statement_timeout`. libpq does not hand diesel the SQLSTATE of these, so
/// besides diesel's kinds the server's (English, as the private cluster runs with the C
/// locale) primary message is read.
fn transient_database_problem(e: &diesel::result::Error) -> Option<Problem> {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    const CONNECTION_LOST: [&str; 10] = [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "connection to server",
        "could not receive data from server",
        "could not send data to server",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
    ];
    let problem = match e {
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => unavailable(),
        E::DatabaseError(_, info) if info.message().contains("canceling statement due to statement timeout") => statement_timeout(),
        E::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            if !CONNECTION_LOST.iter().any(|m| message.contains(m)) {
                return None;
            }
            unavailable()
        }
        // A commit that failed because the connection went away.
        E::RollbackErrorOnCommit { commit_error, .. } => return transient_database_problem(commit_error),
        // A transaction left unfinishable by a connection that failed under it.
        E::BrokenTransactionManager => unavailable(),
        _ => return None,
    };
    tracing::warn!(error = %e, code = problem.code, "database failure answered 503");
    Some(problem)
}

/// 503 `statement_timeout`: a statement ran longer than `TAROZI_STATEMENT_TIMEOUT_MS`.
pub fn statement_timeout() -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "statement_timeout", "the database took too long to answer this request; retry later")
        .retry_after(5)
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection within the pool's timeout (pool exhausted or database unreachable)");
        unavailable().into()
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

pub fn unavailable() -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "the database is busy or unreachable; retry later").retry_after(2)
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Problem(p) => write!(f, "{} {}: {}", p.status.as_u16(), p.code, p.detail),
            AppError::Internal(e) => write!(f, "internal error: {e:#}"),
        }
    }
}

impl AppError {
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            AppError::Problem(p) => Some(p),
            AppError::Internal(_) => None,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Problem(p) => p.status,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Problem(p) => p.to_response(),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error occurred; it has been logged").to_response()
            }
        }
    }
}

/// Maps a unique violation to `problem`, any other error as usual.
pub fn unique_violation_as(problem: Problem) -> impl FnOnce(diesel::result::Error) -> AppError {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => problem.into(),
        other => AppError::from(other),
    }
}

impl Problem {
    /// This problem as an actix error (for framework error handlers).
    pub fn to_response_error(self) -> actix_web::Error {
        AppError::from(self).into()
    }
}

/// A report the request got wrong is 422 `validation_failed` on the parameter at fault; a
/// database failure is mapped as any other.
impl From<crate::analytics::AnalyticsError> for AppError {
    fn from(e: crate::analytics::AnalyticsError) -> Self {
        use crate::analytics::AnalyticsError as E;
        let (parameter, detail) = match e {
            E::Db(e) => return e.into(),
            E::InvalidYear { .. } => ("year", "is not a valid year"),
            E::YearAndDates => ("year", "give a year, or from and to, not both"),
            E::NoPeriod => ("from", "give a year, or from and to"),
            E::NoEnd { .. } => ("to", "is required with from"),
            E::EndsBeforeStart { .. } => ("to", "the period must not end before it starts (or start in the future)"),
            E::PeriodTooLong { .. } => ("to", "a report covers at most five years"),
            E::UnknownCountry(_) => ("country", "unknown country"),
            E::RegionNotInCountry { .. } => ("region_id", "is not a region of this country"),
            E::UnknownSubstance(_) => ("substance_id", "unknown substance"),
        };
        Problem::parameter(parameter, detail).into()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::analytics::{AnalyticsError, report_range};

    fn problem(e: AnalyticsError) -> (u16, &'static str, String, Vec<FieldError>) {
        let p = AppError::from(e).problem().cloned().expect("a problem");
        (p.status.as_u16(), p.code, p.detail, p.errors)
    }

    fn parameter(name: &str, detail: &str) -> (u16, &'static str, String, Vec<FieldError>) {
        (422, "validation_failed", format!("{name}: {detail}"), vec![FieldError::parameter(name, detail)])
    }

    #[test]
    fn analytics_errors_are_problems_on_the_parameter_at_fault() {
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        let today = day(6, 30);
        let range = |year, from, to| problem(report_range(year, from, to, today).unwrap_err());
        assert_eq!(range(Some(2025), Some(day(1, 1)), None), parameter("year", "give a year, or from and to, not both"));
        assert_eq!(range(None, None, Some(day(1, 1))), parameter("from", "give a year, or from and to"));
        assert_eq!(range(None, Some(day(1, 1)), None), parameter("to", "is required with from"));
        assert_eq!(
            range(None, Some(day(6, 2)), Some(day(6, 1))),
            parameter("to", "the period must not end before it starts (or start in the future)")
        );
        assert_eq!(
            range(None, Some(day(7, 1)), Some(day(7, 2))),
            parameter("to", "the period must not end before it starts (or start in the future)")
        );
        assert_eq!(
            range(None, Some(day(1, 1) - chrono::Duration::days(366 * 5 + 1)), Some(day(1, 1))),
            parameter("to", "a report covers at most five years")
        );
        assert!(report_range(None, Some(day(1, 1) - chrono::Duration::days(366 * 5)), Some(day(1, 1)), today).is_ok());
        assert_eq!(problem(AnalyticsError::InvalidYear { year: i32::MAX }), parameter("year", "is not a valid year"));
        assert_eq!(problem(AnalyticsError::UnknownCountry("XX".into())), parameter("country", "unknown country"));
        assert_eq!(
            problem(AnalyticsError::RegionNotInCountry { country: "TJ".into(), region_id: 9 }),
            parameter("region_id", "is not a region of this country")
        );
        assert_eq!(problem(AnalyticsError::UnknownSubstance(9)), parameter("substance_id", "unknown substance"));
        assert_eq!(problem(AnalyticsError::Db(diesel::result::Error::NotFound)), (404, "not_found", "resource not found".to_owned(), Vec::new()));
    }
}
