//! `AnalyticsError`: why a report could not be made — a period or subject the request got
//! wrong, or the database. `AppError` is made from it with the problem the client sees.

use chrono::NaiveDate;

use crate::domain::ids::{RegionId, SubstanceId};

/// The most days a report's last day may be after its first: five years.
pub const MAX_REPORT_DAYS: i64 = 366 * 5;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{year} is not a valid year")]
    InvalidYear { year: i32 },
    #[error("a period is a year, or from and to, not both")]
    YearAndDates,
    #[error("a period is a year, or from and to; neither was given")]
    NoPeriod,
    #[error("a period starting on {from} needs an end")]
    NoEnd { from: NaiveDate },
    /// The end is before the start, or (once capped at today) the start is in the future.
    #[error("the period {from} to {to} ends before it starts")]
    EndsBeforeStart { from: NaiveDate, to: NaiveDate },
    #[error("the period {from} to {to} is longer than five years")]
    PeriodTooLong { from: NaiveDate, to: NaiveDate },
    #[error("unknown country {0}")]
    UnknownCountry(String),
    #[error("region {region_id} is not a region of {country}")]
    RegionNotInCountry { country: String, region_id: RegionId },
    #[error("unknown substance {0}")]
    UnknownSubstance(SubstanceId),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub type AnalyticsResult<T> = Result<T, AnalyticsError>;
