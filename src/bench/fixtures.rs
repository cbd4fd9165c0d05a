//! Realistic benchmark data: a country's regions with population, pharmacies and a
//! wholesaler per region, the common opioid products, a reporting user per pharmacy, and
//! opening stock. Deterministic (seeded) so runs compare.

use std::str::FromStr;

use anyhow::Context;
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::{DosageForm, FacilityKind, Role, StockEventKind, Unit};
use crate::db::ledger::{Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::{Facility, NewFacility};
use crate::db::models::product::{NewProduct, Product};
use crate::db::models::region::{NewRegion, Region, RegionPopulation};
use crate::db::models::substance::Substance;
use crate::db::models::user::{NewUser, User};
use crate::domain::ids::UserId;

/// Name, substance, mg of base per unit, form, unit, patch delivery rate.
type ProductSpec = (&'static str, &'static str, &'static str, DosageForm, Unit, Option<&'static str>);

const PRODUCTS: [ProductSpec; 8] = [
    ("Morphine sulfate 10 mg tablet", "morphine", "7.521", DosageForm::Tablet, Unit::Tablet, None),
    ("Morphine hydrochloride 10 mg/ml ampoule", "morphine", "7.592", DosageForm::Injection, Unit::Ampoule, None),
    ("Oxycodone hydrochloride 5 mg tablet", "oxycodone", "4.482", DosageForm::Tablet, Unit::Tablet, None),
    ("Fentanyl 25 mcg/h patch", "fentanyl", "4.2", DosageForm::TransdermalPatch, Unit::Patch, Some("25")),
    ("Fentanyl citrate 0.1 mg/2 ml ampoule", "fentanyl", "0.1", DosageForm::Injection, Unit::Ampoule, None),
    ("Tramadol hydrochloride 50 mg capsule", "tramadol", "43.92", DosageForm::Capsule, Unit::Capsule, None),
    ("Codeine phosphate 30 mg tablet", "codeine", "22.101", DosageForm::Tablet, Unit::Tablet, None),
    ("Trimeperidine hydrochloride 20 mg/ml ampoule", "trimeperidine", "17.662", DosageForm::Injection, Unit::Ampoule, None),
];

pub struct Fixture {
    pub country: String,
    pub regions: Vec<Region>,
    pub pharmacies: Vec<Facility>,
    pub wholesalers: Vec<Facility>,
    pub products: Vec<Product>,
    /// Reporting user id of each pharmacy, in the order of `pharmacies`.
    pub pharmacy_users: Vec<UserId>,
}

/// Seeds `regions` regions (population per year from `years`), `pharmacies` pharmacies
/// and hospitals spread over them, one wholesaler per region, and the products.
pub fn seed(conn: &mut PgConnection, country: &str, regions: usize, pharmacies: usize, years: &[i32]) -> anyhow::Result<Fixture> {
    let hash = crate::auth::password::hash("bench-user-password")?;
    let mut fixture = Fixture {
        country: country.to_owned(),
        regions: Vec::new(),
        pharmacies: Vec::new(),
        wholesalers: Vec::new(),
        products: Vec::new(),
        pharmacy_users: Vec::new(),
    };
    for r in 0..regions {
        let region = Region::create(conn, &NewRegion { country_code: country, name: &format!("Region {r:02}"), code: Some(&format!("R{r:02}")) })?;
        for year in years {
            let total = 400_000 + (r as i64 * 97_331) % 1_600_000;
            RegionPopulation::replace(conn, &RegionPopulation { region_id: region.id, year: *year, total, source: Some("benchmark".into()) }, &[])?;
        }
        let wholesaler = Facility::create(
            conn,
            &NewFacility {
                country_code: country,
                region_id: region.id,
                name: &format!("Wholesaler {r:02}"),
                kind: FacilityKind::Wholesaler,
                licence_number: &format!("{country}-W-{r:04}"),
                licence_valid_until: chrono::NaiveDate::from_ymd_opt(2099, 12, 31).context("date")?,
            },
        )?;
        fixture.wholesalers.push(wholesaler);
        fixture.regions.push(region);
    }
    for p in 0..pharmacies {
        let region = &fixture.regions[p % regions];
        let kind = if p % 10 == 0 { FacilityKind::Hospital } else { FacilityKind::Pharmacy };
        let facility = Facility::create(
            conn,
            &NewFacility {
                country_code: country,
                region_id: region.id,
                name: &format!("Pharmacy {p:05}"),
                kind,
                licence_number: &format!("{country}-P-{p:06}"),
                licence_valid_until: chrono::NaiveDate::from_ymd_opt(2099, 12, 31).context("date")?,
            },
        )?;
        let user = User::create(
            conn,
            &NewUser {
                username: &format!("pharmacy-{p:05}"),
                password_hash: &hash,
                role: Role::Pharmacy,
                country_code: Some(country),
                facility_id: Some(facility.id),
            },
        )?;
        fixture.pharmacy_users.push(user.id);
        fixture.pharmacies.push(facility);
    }
    for (name, inn, mg, form, unit, rate) in PRODUCTS {
        let substance = Substance::find_by_inn(conn, inn)?.with_context(|| format!("substance {inn} is seeded"))?;
        let product = Product::create(
            conn,
            &NewProduct {
                name,
                substance_id: substance.id,
                base_mg_per_unit: BigDecimal::from_str(mg)?,
                dosage_form: form,
                unit,
                delivery_mcg_per_hour: rate.map(BigDecimal::from_str).transpose()?,
                // The fixtures' contents are labelled as base.
                strength_mg_per_unit: Some(BigDecimal::from_str(mg)?),
                strength_salt: Some("base".to_owned()),
            },
        )?;
        fixture.products.push(product);
    }
    Ok(fixture)
}

/// Books `units` of every product into every facility given, at `at`.
pub fn stock(conn: &mut PgConnection, facilities: &[Facility], products: &[Product], units: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
    conn.transaction(|conn| {
        for facility in facilities {
            for product in products {
                let mut ledger = ProductLedger::open(conn, facility, product.id, at)?;
                ledger
                    .append(conn, &Actor::default(), Entry::new(StockEventKind::Receipt, units, at))?
                    .map_err(|e| anyhow::anyhow!("opening stock: {e}"))?;
            }
        }
        Ok(())
    })
}
