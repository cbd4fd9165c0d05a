//! Flows of a country over an inclusive date range, from aggregates or raw rows.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Timestamptz};

use crate::db::enums::{AgeBand, FacilityKind, PatientSex, StockEventKind};
use crate::domain::ids::{ProductId, RegionId};
use crate::domain::period::Month;

/// Where a report reads its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The monthly aggregates for whole months, raw rows for partial ones.
    Aggregates,
    /// Raw rows throughout (for checking the aggregates).
    Raw,
}

pub use crate::domain::period::{DateRange, Span};

/// How a range is read: raw rows at its edges, monthly aggregates for its whole months.
trait Split {
    /// Splits the range into raw edges and whole months: (raw ranges, whole months).
    fn split(&self) -> (Vec<Span>, Option<(Month, Month)>);
}

impl Split for DateRange {
    fn split(&self) -> (Vec<Span>, Option<(Month, Month)>) {
        match self.whole_months() {
            None => (vec![self.bounds()], None),
            Some((first, last)) => {
                let mut raw = Vec::new();
                if self.from < first.first_day() {
                    raw.push((self.midnight(self.from), self.midnight(first.first_day())));
                }
                if last.last_day() < self.to {
                    raw.push((self.midnight(last.next().first_day()), self.midnight(self.to + Duration::days(1))));
                }
                (raw, Some((first, last)))
            }
        }
    }
}

/// Units moved per region, facility kind, product, month and bucket.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SupplyRow {
    #[diesel(sql_type = BigInt)]
    pub region_id: RegionId,
    #[diesel(sql_type = Text)]
    pub facility_kind: FacilityKind,
    #[diesel(sql_type = BigInt)]
    pub product_id: ProductId,
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = Text)]
    pub bucket: StockEventKind,
    #[diesel(sql_type = BigInt)]
    pub units: i64,
}

/// Units dispensed per region, product and month (and sex and age band, when asked for).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DispensedRow {
    #[diesel(sql_type = BigInt)]
    pub region_id: RegionId,
    #[diesel(sql_type = BigInt)]
    pub product_id: ProductId,
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub patient_sex: Option<PatientSex>,
    #[diesel(sql_type = Nullable<Text>)]
    pub patient_age_band: Option<AgeBand>,
    #[diesel(sql_type = BigInt)]
    pub units: i64,
    #[diesel(sql_type = BigInt)]
    pub records: i64,
}

/// Ledger flows of `country` (optionally one region) over `range`.
pub fn supply(conn: &mut PgConnection, country: &str, region: Option<RegionId>, range: DateRange, source: Source) -> QueryResult<Vec<SupplyRow>> {
    let (raw, months) = match source {
        Source::Raw => (vec![range.bounds()], None),
        Source::Aggregates => range.split(),
    };
    let mut rows = Vec::new();
    for (from, to) in raw {
        rows.extend(
            diesel::sql_query(include_str!("raw_supply.sql"))
                .bind::<Text, _>(country)
                .bind::<Timestamptz, _>(from)
                .bind::<Timestamptz, _>(to)
                .bind::<Nullable<BigInt>, _>(region)
                .bind::<Text, _>(range.zone.name())
                .load::<SupplyRow>(conn)?,
        );
    }
    if let Some((first, last)) = months {
        rows.extend(
            diesel::sql_query(
                "SELECT region_id, facility_kind, product_id, month, bucket, units FROM supply_monthly \
                 WHERE country_code = $1 AND month BETWEEN $2 AND $3 AND ($4::bigint IS NULL OR region_id = $4)",
            )
            .bind::<Text, _>(country)
            .bind::<Date, _>(first.first_day())
            .bind::<Date, _>(last.first_day())
            .bind::<Nullable<BigInt>, _>(region)
            .load::<SupplyRow>(conn)?,
        );
    }
    Ok(rows)
}

/// Units moved per facility kind, product and bucket before `month` (opening stocks).
pub fn supply_before(conn: &mut PgConnection, country: &str, month: Month) -> QueryResult<Vec<SupplyRow>> {
    diesel::sql_query(
        "SELECT 0::bigint AS region_id, facility_kind, product_id, $2::date AS month, bucket, sum(units)::bigint AS units \
         FROM supply_monthly WHERE country_code = $1 AND month < $2 GROUP BY facility_kind, product_id, bucket",
    )
    .bind::<Text, _>(country)
    .bind::<Date, _>(month.first_day())
    .load(conn)
}

/// Dispensed units of `country` (optionally one region) over `range`; by sex and age band
/// too when `by_patient_group`.
pub fn dispensed(
    conn: &mut PgConnection,
    country: &str,
    region: Option<RegionId>,
    range: DateRange,
    source: Source,
    by_patient_group: bool,
) -> QueryResult<Vec<DispensedRow>> {
    let (raw, months) = match source {
        Source::Raw => (vec![range.bounds()], None),
        Source::Aggregates => range.split(),
    };
    let mut rows = Vec::new();
    for (from, to) in raw {
        rows.extend(
            diesel::sql_query(include_str!("raw_dispensed.sql"))
                .bind::<Text, _>(country)
                .bind::<Timestamptz, _>(from)
                .bind::<Timestamptz, _>(to)
                .bind::<Nullable<BigInt>, _>(region)
                .bind::<Bool, _>(by_patient_group)
                .bind::<Text, _>(range.zone.name())
                .load::<DispensedRow>(conn)?,
        );
    }
    if let Some((first, last)) = months {
        rows.extend(
            diesel::sql_query(
                "SELECT region_id, product_id, month, CASE WHEN $5 THEN patient_sex END AS patient_sex, \
                 CASE WHEN $5 THEN patient_age_band END AS patient_age_band, sum(units)::bigint AS units, sum(records)::bigint AS records \
                 FROM dispensing_monthly WHERE country_code = $1 AND month BETWEEN $2 AND $3 AND ($4::bigint IS NULL OR region_id = $4) \
                 GROUP BY 1, 2, 3, 4, 5",
            )
            .bind::<Text, _>(country)
            .bind::<Date, _>(first.first_day())
            .bind::<Date, _>(last.first_day())
            .bind::<Nullable<BigInt>, _>(region)
            .bind::<Bool, _>(by_patient_group)
            .load::<DispensedRow>(conn)?,
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn ranges_split_into_whole_months_and_raw_edges() {
        let year = DateRange { from: d(2026, 1, 1), to: d(2026, 12, 31), zone: chrono_tz::Tz::UTC };
        let (raw, months) = year.split();
        assert!(raw.is_empty());
        assert_eq!(months.map(|(a, b)| (a.label(), b.label())), Some(("2026-01".into(), "2026-12".into())));
        let partial = DateRange { from: d(2026, 1, 15), to: d(2026, 3, 10), zone: chrono_tz::Tz::UTC };
        let (raw, months) = partial.split();
        assert_eq!(raw.len(), 2);
        assert_eq!(months.map(|(a, b)| (a.label(), b.label())), Some(("2026-02".into(), "2026-02".into())));
        let inside = DateRange { from: d(2026, 2, 3), to: d(2026, 2, 20), zone: chrono_tz::Tz::UTC };
        let (raw, months) = inside.split();
        assert_eq!((raw.len(), months.is_none()), (1, true));
        assert_eq!(DateRange { from: d(2024, 1, 1), to: d(2024, 12, 31), zone: chrono_tz::Tz::UTC }.days(), 366);
        assert_eq!(DateRange { from: d(2024, 12, 1), to: d(2025, 1, 31), zone: chrono_tz::Tz::UTC }.days_by_year(), vec![(2024, 31), (2025, 31)]);
    }
}
