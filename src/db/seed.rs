//! Shipped reference data (`reference/*.csv`, copied from sourced tables): the five
//! countries with their population, and the substances with their first version of
//! reference values. Inserted when missing; never overwrites what admins have edited.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::enums::{Convention, Schedule};
use crate::db::models::country::Country;
use crate::db::models::substance::{NewReferenceValues, ReferenceValues, Substance};
use crate::db::schema::countries;

const COUNTRIES_CSV: &str = include_str!("../../reference/countries.csv");
const SUBSTANCES_CSV: &str = include_str!("../../reference/substances.csv");
const SUBSTANCES_SOURCE: &str = "Tarozi reference table reference/substances.csv (INCB S-DDD list as commonly cited; CDC 2022 MME tables)";

/// The date the shipped substance values take effect from: before any data Tarozi holds.
pub fn shipped_values_effective_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(1961, 3, 30).expect("valid date")
}

#[derive(Debug, Deserialize)]
struct CountryRow {
    iso2: String,
    iso3: String,
    name: String,
    population: i64,
    population_date: NaiveDate,
    population_source: String,
    time_zone: String,
}

#[derive(Debug, Deserialize)]
struct SubstanceRow {
    inn: String,
    convention: String,
    schedule: String,
    sddd_mg: String,
    sddd_status: String,
    me_factor: String,
    me_source: String,
    transdermal_mme_per_mcg_h: String,
    reference_salt: String,
    salt_base_factor: String,
    in_sddd_basket: bool,
    notes: String,
}

fn optional_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn optional_decimal(s: &str) -> anyhow::Result<Option<BigDecimal>> {
    optional_text(s).map(|t| BigDecimal::from_str(&t).map_err(|e| anyhow::anyhow!("bad decimal {t:?}: {e}"))).transpose()
}

pub fn reference_data(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.transaction(|conn| {
        for row in csv::Reader::from_reader(COUNTRIES_CSV.as_bytes()).deserialize::<CountryRow>() {
            let row = row?;
            diesel::insert_into(countries::table)
                .values(Country {
                    code: row.iso2,
                    iso3: row.iso3,
                    name: row.name,
                    population: row.population,
                    population_date: row.population_date,
                    population_source: row.population_source,
                    time_zone: row.time_zone,
                })
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
        for row in csv::Reader::from_reader(SUBSTANCES_CSV.as_bytes()).deserialize::<SubstanceRow>() {
            let row = row?;
            if Substance::find_by_inn(conn, &row.inn)?.is_some() {
                continue;
            }
            let substance = Substance::create(conn, &row.inn, row.in_sddd_basket)?;
            ReferenceValues::insert(
                conn,
                &NewReferenceValues {
                    substance_id: substance.id,
                    effective_from: shipped_values_effective_from(),
                    convention: Convention::from_str(&row.convention).map_err(anyhow::Error::msg)?,
                    schedule: optional_text(&row.schedule).map(|s| Schedule::from_str(&s)).transpose().map_err(anyhow::Error::msg)?,
                    sddd_mg: optional_decimal(&row.sddd_mg)?,
                    sddd_status: row.sddd_status,
                    me_factor: optional_decimal(&row.me_factor)?,
                    me_source: optional_text(&row.me_source),
                    transdermal_mme_per_mcg_h: optional_decimal(&row.transdermal_mme_per_mcg_h)?,
                    reference_salt: optional_text(&row.reference_salt),
                    salt_base_factor: optional_decimal(&row.salt_base_factor)?,
                    notes: optional_text(&row.notes),
                    source: SUBSTANCES_SOURCE.to_owned(),
                    recorded_by: None,
                },
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tables_parse() {
        let countries: Vec<CountryRow> = csv::Reader::from_reader(COUNTRIES_CSV.as_bytes()).deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(countries.len(), 5);
        for c in &countries {
            assert!(crate::domain::period::zone(&c.time_zone).is_some(), "{}: {}", c.iso2, c.time_zone);
        }
        let substances: Vec<SubstanceRow> = csv::Reader::from_reader(SUBSTANCES_CSV.as_bytes()).deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(substances.len(), 19);
        // The INCB opioid-analgesic basket, all eleven shipped.
        let basket: Vec<&str> = substances.iter().filter(|s| s.in_sddd_basket).map(|s| s.inn.as_str()).collect();
        assert_eq!(basket.len(), 11, "{basket:?}");
        for s in &substances {
            Convention::from_str(&s.convention).unwrap();
            optional_decimal(&s.sddd_mg).unwrap();
            optional_decimal(&s.me_factor).unwrap();
            optional_decimal(&s.salt_base_factor).unwrap();
        }
    }
}
