//! What a command, a query or an extractor fails with: `DomainError` (a refusal with a stable
//! `ProblemCode`, a human detail, field errors and extensions) and `AppError` (a domain error,
//! a database error or an internal one).
//!
//! Nothing here knows HTTP: `crate::error` is the one place that maps these to RFC 9457
//! problem documents and status codes.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

crate::string_enum! {
    /// The stable machine-readable `code` of every problem the API answers with.
    ProblemCode {
        ValidationFailed => "validation_failed",
        MalformedJson => "malformed_json",
        UnsupportedMediaType => "unsupported_media_type",
        PayloadTooLarge => "payload_too_large",
        MethodNotAllowed => "method_not_allowed",
        NotFound => "not_found",
        Unauthenticated => "unauthenticated",
        InvalidToken => "invalid_token",
        InvalidCredentials => "invalid_credentials",
        TooManyAttempts => "too_many_attempts",
        Forbidden => "forbidden",
        PasswordChangeRequired => "password_change_required",
        WrongPassword => "wrong_password",
        CannotDeactivateSelf => "cannot_deactivate_self",
        Conflict => "conflict",
        UsernameTaken => "username_taken",
        LicenceNumberTaken => "licence_number_taken",
        RegionExists => "region_exists",
        SubstanceExists => "substance_exists",
        ProductExists => "product_exists",
        AnnualEstimateExists => "annual_estimate_exists",
        AuthorizationNumberTaken => "authorization_number_taken",
        ApiKeyPrincipal => "api_key_principal",
        ReferenceNotFound => "reference_not_found",
        ConstraintViolation => "constraint_violation",
        IdempotencyKeyReused => "idempotency_key_reused",
        InsufficientStock => "insufficient_stock",
        EstimateExceeded => "estimate_exceeded",
        AuthorizationExceeded => "authorization_exceeded",
        AuthorizationNotValid => "authorization_not_valid",
        LicenceExpired => "licence_expired",
        AlreadyReceived => "already_received",
        AlreadyReversed => "already_reversed",
        NotReversible => "not_reversible",
        InvalidTransition => "invalid_transition",
        ClientRecordIdReused => "client_record_id_reused",
        NotADispensingFacility => "not_a_dispensing_facility",
        NotProcessed => "not_processed",
        PeriodClosed => "period_closed",
        PeriodAlreadyClosed => "period_already_closed",
        PeriodNotEnded => "period_not_ended",
        NotAZeroPeriod => "not_a_zero_period",
        ZeroReportRequired => "zero_report_required",
        UnknownKey => "unknown_key",
        BadSignature => "bad_signature",
        CountryMismatch => "country_mismatch",
        StaleSequence => "stale_sequence",
        UnsupportedSchemaVersion => "unsupported_schema_version",
        NotAHub => "not_a_hub",
        ExchangeKeyExists => "exchange_key_exists",
        Retry => "retry",
        StatementTimeout => "statement_timeout",
        DatabaseUnavailable => "database_unavailable",
        InternalError => "internal_error",
    }
}

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

/// A refusal: a stable code, a human detail, the offending fields and code-specific
/// members (e.g. `headroom_g` of `estimate_exceeded`).
#[derive(Debug, Clone)]
pub struct DomainError {
    pub code: ProblemCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extensions: Map<String, Value>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after_seconds: Option<u64>,
}

impl DomainError {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), errors: Vec::new(), extensions: Map::new(), retry_after_seconds: None }
    }

    /// `validation_failed` listing each bad field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer.as_deref().or(one.parameter.as_deref()).unwrap_or(""), one.detail),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self { errors, ..Self::new(ProblemCode::ValidationFailed, detail) }
    }

    /// `validation_failed` for one body field.
    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::at(pointer, detail)])
    }

    /// `validation_failed` for one query or path parameter.
    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::parameter(name, detail)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ProblemCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::Forbidden, detail)
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

    /// The database is busy or unreachable.
    pub fn unavailable() -> Self {
        Self::new(ProblemCode::DatabaseUnavailable, "the database is busy or unreachable; retry later").retry_after(2)
    }

    /// A statement ran longer than `TAROZI_STATEMENT_TIMEOUT_MS`.
    pub fn statement_timeout() -> Self {
        Self::new(ProblemCode::StatementTimeout, "the database took too long to answer this request; retry later").retry_after(5)
    }
}

/// What every command, query and handler fails with.
#[derive(Debug)]
pub enum AppError {
    Domain(Box<DomainError>),
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The domain error, unless this is an internal failure.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            AppError::Domain(e) => Some(e),
            AppError::Internal(_) => None,
        }
    }

    /// Whether the database was unreachable or the connection was lost under the request.
    pub fn is_database_unavailable(&self) -> bool {
        self.domain().is_some_and(|e| e.code == ProblemCode::DatabaseUnavailable)
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Domain(Box::new(e))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<diesel::result::Error>().and_then(transient_database_error) {
            Some(problem) => problem.into(),
            None => AppError::Internal(e),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::NotFound => DomainError::not_found("resource").into(),
            E::DatabaseError(K::UniqueViolation, _) => {
                DomainError::new(ProblemCode::Conflict, "a record with the same identifying fields already exists").into()
            }
            E::DatabaseError(K::ForeignKeyViolation, _) => {
                DomainError::new(ProblemCode::ReferenceNotFound, "a referenced record does not exist").into()
            }
            E::DatabaseError(K::CheckViolation | K::NotNullViolation, _) => {
                DomainError::new(ProblemCode::ConstraintViolation, "the record breaks a data rule").into()
            }
            E::DatabaseError(K::SerializationFailure, _) => {
                DomainError::new(ProblemCode::Retry, "the request met a concurrent update; retry it").retry_after(1).into()
            }
            _ => match transient_database_error(&e) {
                Some(problem) => problem.into(),
                None => AppError::Internal(anyhow::Error::new(e)),
            },
        }
    }
}

impl From<crate::db::Unavailable> for AppError {
    fn from(_: crate::db::Unavailable) -> Self {
        DomainError::unavailable().into()
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Domain(e) => write!(f, "{}: {}", e.code, e.detail),
            AppError::Internal(e) => write!(f, "internal error: {e:#}"),
        }
    }
}

/// Maps a unique violation to `error`, any other database error as usual.
pub fn unique_violation_as(error: DomainError) -> impl FnOnce(diesel::result::Error) -> AppError {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => error.into(),
        other => AppError::from(other),
    }
}

/// `database_unavailable` or `statement_timeout` for a database failure a retry can cure:
/// the connection lost in the middle of a request (the server died, restarted or was shut
/// down) or a statement cancelled by `statement_timeout`. libpq does not hand diesel the
/// SQLSTATE of these, so besides diesel's kinds the server's (English, as the private
/// cluster runs with the C locale) primary message is read.
fn transient_database_error(e: &diesel::result::Error) -> Option<DomainError> {
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
    let error = match e {
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => DomainError::unavailable(),
        E::DatabaseError(_, info) if info.message().contains("canceling statement due to statement timeout") => DomainError::statement_timeout(),
        E::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            if !CONNECTION_LOST.iter().any(|m| message.contains(m)) {
                return None;
            }
            DomainError::unavailable()
        }
        // A commit that failed because the connection went away.
        E::RollbackErrorOnCommit { commit_error, .. } => return transient_database_error(commit_error),
        // A transaction left unfinishable by a connection that failed under it.
        E::BrokenTransactionManager => DomainError::unavailable(),
        _ => return None,
    };
    tracing::warn!(error = %e, code = %error.code, "database failure answered as retryable");
    Some(error)
}

/// A report that cannot be made names the parameter at fault.
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
        DomainError::parameter(parameter, detail).into()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::analytics::{AnalyticsError, report_range};
    use crate::domain::ids::{RegionId, SubstanceId};

    fn problem(e: AnalyticsError) -> (u16, &'static str, String, Vec<FieldError>) {
        let p = AppError::from(e).domain().cloned().expect("a domain error");
        (crate::error::status_of(p.code).as_u16(), p.code.as_str(), p.detail, p.errors)
    }

    fn parameter(name: &str, detail: &str) -> (u16, &'static str, String, Vec<FieldError>) {
        (422, "validation_failed", format!("{name}: {detail}"), vec![FieldError::parameter(name, detail)])
    }

    #[test]
    fn analytics_errors_are_problems_on_the_parameter_at_fault() {
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        let today = day(6, 30);
        let range = |year, from, to| problem(report_range(year, from, to, today, chrono_tz::Tz::UTC).unwrap_err());
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
        assert!(report_range(None, Some(day(1, 1) - chrono::Duration::days(366 * 5)), Some(day(1, 1)), today, chrono_tz::Tz::UTC).is_ok());
        assert_eq!(problem(AnalyticsError::InvalidYear { year: i32::MAX }), parameter("year", "is not a valid year"));
        assert_eq!(problem(AnalyticsError::UnknownCountry("XX".into())), parameter("country", "unknown country"));
        assert_eq!(
            problem(AnalyticsError::RegionNotInCountry { country: "TJ".into(), region_id: RegionId(9) }),
            parameter("region_id", "is not a region of this country")
        );
        assert_eq!(problem(AnalyticsError::UnknownSubstance(SubstanceId(9))), parameter("substance_id", "unknown substance"));
        assert_eq!(problem(AnalyticsError::Db(diesel::result::Error::NotFound)), (404, "not_found", "resource not found".to_owned(), Vec::new()));
    }
}
