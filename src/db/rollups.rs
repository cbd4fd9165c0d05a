//! The maintained monthly aggregates the reports read (`supply_monthly`,
//! `dispensing_monthly`, `facility_monthly`), kept current in the transaction of every
//! ledger write — never rebuilt.
//!
//! Months are the country's own (cut at its local midnight, `countries.time_zone`): a
//! dispensing at 02:00 on 1 April in Bishkek counts in April.
//!
//! Movements are summed in memory per aggregate row and upserted in primary-key order, so
//! concurrent writers lock shared rows in the same order and cannot deadlock.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Text};

use crate::db::enums::{AgeBand, FacilityKind, PatientSex, StockEventKind};
use crate::db::models::country::Country;
use crate::domain::ids::{FacilityId, ProductId, RegionId};
use crate::domain::period::{Month, Tz};

/// One ledger movement as the aggregates see it.
#[derive(Debug, Clone)]
pub struct Movement {
    pub country_code: String,
    pub region_id: RegionId,
    pub facility_id: FacilityId,
    pub facility_kind: FacilityKind,
    pub product_id: ProductId,
    pub occurred_at: DateTime<Utc>,
    /// The entry's kind; for a reversal, the kind it reverses.
    pub bucket: StockEventKind,
    /// Signed change of the balance.
    pub delta_units: i64,
    /// +1 for an entry, -1 for a reversal (counts of entries per bucket).
    pub records: i64,
    /// For dispensing (and its reversal): who received it, and where it was dispensed.
    pub patient: Option<PatientGroup>,
}

/// Where a dispensing counts in `dispensing_monthly`.
#[derive(Debug, Clone, Copy)]
pub struct PatientGroup {
    pub region_id: RegionId,
    pub sex: PatientSex,
    pub age_band: AgeBand,
}

/// The first day of the month of `at` in `zone`.
pub fn month_of(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    Month::of_instant(zone, at).first_day()
}

type SupplyKey = (String, NaiveDate, RegionId, FacilityKind, ProductId, StockEventKind);
type DispensingKey = (String, NaiveDate, RegionId, ProductId, PatientSex, AgeBand);
type FacilityKey = (FacilityId, ProductId, NaiveDate, StockEventKind);

/// Adds `movements` to the aggregates.
pub fn apply(conn: &mut PgConnection, movements: &[Movement]) -> QueryResult<()> {
    let mut supply: BTreeMap<SupplyKey, i64> = BTreeMap::new();
    let mut dispensing: BTreeMap<DispensingKey, (i64, i64)> = BTreeMap::new();
    let mut facility: BTreeMap<FacilityKey, (i64, i64)> = BTreeMap::new();
    for m in movements {
        // Country::zone_of keeps every zone once read.
        let month = month_of(Country::zone_of(conn, &m.country_code)?, m.occurred_at);
        *supply.entry((m.country_code.clone(), month, m.region_id, m.facility_kind, m.product_id, m.bucket)).or_default() += m.delta_units;
        let f = facility.entry((m.facility_id, m.product_id, month, m.bucket)).or_default();
        f.0 += m.delta_units;
        f.1 += m.records;
        if let Some(p) = m.patient {
            let d = dispensing.entry((m.country_code.clone(), month, p.region_id, m.product_id, p.sex, p.age_band)).or_default();
            // Dispensed units are positive in this aggregate.
            d.0 -= m.delta_units;
            d.1 += m.records;
        }
    }
    if !supply.is_empty() {
        let (mut c, mut mo, mut r, mut k, mut p, mut b, mut u) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for ((country, month, region, kind, product, bucket), units) in supply {
            c.push(country);
            mo.push(month);
            r.push(region);
            k.push(kind.as_str());
            p.push(product);
            b.push(bucket.as_str());
            u.push(units);
        }
        diesel::sql_query(
            "INSERT INTO supply_monthly (country_code, month, region_id, facility_kind, product_id, bucket, units) \
             SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[]) \
             ON CONFLICT (country_code, month, region_id, facility_kind, product_id, bucket) \
             DO UPDATE SET units = supply_monthly.units + EXCLUDED.units",
        )
        .bind::<Array<Text>, _>(c)
        .bind::<Array<Date>, _>(mo)
        .bind::<Array<BigInt>, _>(r)
        .bind::<Array<Text>, _>(k)
        .bind::<Array<BigInt>, _>(p)
        .bind::<Array<Text>, _>(b)
        .bind::<Array<BigInt>, _>(u)
        .execute(conn)?;
    }
    if !dispensing.is_empty() {
        let (mut c, mut mo, mut r, mut p, mut s, mut a, mut u, mut n) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for ((country, month, region, product, sex, band), (units, records)) in dispensing {
            c.push(country);
            mo.push(month);
            r.push(region);
            p.push(product);
            s.push(sex.as_str());
            a.push(band.as_str());
            u.push(units);
            n.push(records);
        }
        diesel::sql_query(
            "INSERT INTO dispensing_monthly (country_code, month, region_id, product_id, patient_sex, patient_age_band, units, records) \
             SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]) \
             ON CONFLICT (country_code, month, region_id, product_id, patient_sex, patient_age_band) \
             DO UPDATE SET units = dispensing_monthly.units + EXCLUDED.units, records = dispensing_monthly.records + EXCLUDED.records",
        )
        .bind::<Array<Text>, _>(c)
        .bind::<Array<Date>, _>(mo)
        .bind::<Array<BigInt>, _>(r)
        .bind::<Array<BigInt>, _>(p)
        .bind::<Array<Text>, _>(s)
        .bind::<Array<Text>, _>(a)
        .bind::<Array<BigInt>, _>(u)
        .bind::<Array<BigInt>, _>(n)
        .execute(conn)?;
    }
    if !facility.is_empty() {
        let (mut f, mut p, mut mo, mut b, mut u, mut n) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for ((facility_id, product, month, bucket), (units, records)) in facility {
            f.push(facility_id);
            p.push(product);
            mo.push(month);
            b.push(bucket.as_str());
            u.push(units);
            n.push(records);
        }
        diesel::sql_query(
            "INSERT INTO facility_monthly (facility_id, product_id, month, bucket, units, records) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::text[], $5::bigint[], $6::bigint[]) \
             ON CONFLICT (facility_id, product_id, month, bucket) \
             DO UPDATE SET units = facility_monthly.units + EXCLUDED.units, records = facility_monthly.records + EXCLUDED.records",
        )
        .bind::<Array<BigInt>, _>(f)
        .bind::<Array<BigInt>, _>(p)
        .bind::<Array<Date>, _>(mo)
        .bind::<Array<Text>, _>(b)
        .bind::<Array<BigInt>, _>(u)
        .bind::<Array<BigInt>, _>(n)
        .execute(conn)?;
    }
    Ok(())
}
