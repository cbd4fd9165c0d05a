//! The maintained monthly aggregates the reports read (`supply_monthly`,
//! `dispensing_monthly`, `facility_monthly`), kept current in the transaction of every
//! ledger write — never rebuilt.
//!
//! Months are the country's own (cut at its local midnight, `countries.time_zone`): a
//! dispensing at 02:00 on 1 April in Bishkek counts in April.
//!
//! Movements are summed in memory per aggregate row and upserted in primary-key order, all
//! three aggregates in one statement, so concurrent writers lock shared rows in the same
//! order and cannot deadlock.

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
    if supply.is_empty() {
        return Ok(());
    }
    let (mut sc, mut smo, mut sr, mut sk, mut sp, mut sb, mut su) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for ((country, month, region, kind, product, bucket), units) in supply {
        sc.push(country);
        smo.push(month);
        sr.push(region);
        sk.push(kind.as_str());
        sp.push(product);
        sb.push(bucket.as_str());
        su.push(units);
    }
    let (mut dc, mut dmo, mut dr, mut dp, mut ds, mut da, mut du, mut dn) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for ((country, month, region, product, sex, band), (units, records)) in dispensing {
        dc.push(country);
        dmo.push(month);
        dr.push(region);
        dp.push(product);
        ds.push(sex.as_str());
        da.push(band.as_str());
        du.push(units);
        dn.push(records);
    }
    let (mut ff, mut fp, mut fmo, mut fb, mut fu, mut fnr) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for ((facility_id, product, month, bucket), (units, records)) in facility {
        ff.push(facility_id);
        fp.push(product);
        fmo.push(month);
        fb.push(bucket.as_str());
        fu.push(units);
        fnr.push(records);
    }
    // The three upserts in one statement (one round trip); each is empty when it has nothing.
    diesel::sql_query(
        "WITH supply AS ( \
           INSERT INTO supply_monthly (country_code, month, region_id, facility_kind, product_id, bucket, units) \
           SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[]) \
           ON CONFLICT (country_code, month, region_id, facility_kind, product_id, bucket) \
           DO UPDATE SET units = supply_monthly.units + EXCLUDED.units), \
         dispensing AS ( \
           INSERT INTO dispensing_monthly (country_code, month, region_id, product_id, patient_sex, patient_age_band, units, records) \
           SELECT * FROM unnest($8::text[], $9::date[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::bigint[]) \
           ON CONFLICT (country_code, month, region_id, product_id, patient_sex, patient_age_band) \
           DO UPDATE SET units = dispensing_monthly.units + EXCLUDED.units, records = dispensing_monthly.records + EXCLUDED.records) \
         INSERT INTO facility_monthly (facility_id, product_id, month, bucket, units, records) \
         SELECT * FROM unnest($16::bigint[], $17::bigint[], $18::date[], $19::text[], $20::bigint[], $21::bigint[]) \
         ON CONFLICT (facility_id, product_id, month, bucket) \
         DO UPDATE SET units = facility_monthly.units + EXCLUDED.units, records = facility_monthly.records + EXCLUDED.records",
    )
    .bind::<Array<Text>, _>(sc)
    .bind::<Array<Date>, _>(smo)
    .bind::<Array<BigInt>, _>(sr)
    .bind::<Array<Text>, _>(sk)
    .bind::<Array<BigInt>, _>(sp)
    .bind::<Array<Text>, _>(sb)
    .bind::<Array<BigInt>, _>(su)
    .bind::<Array<Text>, _>(dc)
    .bind::<Array<Date>, _>(dmo)
    .bind::<Array<BigInt>, _>(dr)
    .bind::<Array<BigInt>, _>(dp)
    .bind::<Array<Text>, _>(ds)
    .bind::<Array<Text>, _>(da)
    .bind::<Array<BigInt>, _>(du)
    .bind::<Array<BigInt>, _>(dn)
    .bind::<Array<BigInt>, _>(ff)
    .bind::<Array<BigInt>, _>(fp)
    .bind::<Array<Date>, _>(fmo)
    .bind::<Array<Text>, _>(fb)
    .bind::<Array<BigInt>, _>(fu)
    .bind::<Array<BigInt>, _>(fnr)
    .execute(conn)?;
    Ok(())
}
