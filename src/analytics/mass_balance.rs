//! Mass balance per country, substance and year, in grams of base:
//! wholesale — opening stock + imports − exports − closing stock − supplied = residue;
//! retail — supplied − stock change − dispensed − destroyed − lost or stolen = residue.
//! The ledger is closed, so each residue is exactly what the ledger records beyond those
//! flows (adjustments, count corrections, returns, receipts from outside the chain):
//! a residue beyond the tolerance is a finding.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, Zero};
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::analytics::{Catalog, grams, is_wholesale};
use crate::db::enums::StockEventKind as K;
use crate::db::models::country::Country;
use crate::db::reports::flows::{self, DateRange, Source, SupplyRow};
use crate::domain::decimal::Decimal;
use crate::domain::ids::SubstanceId;
use crate::domain::period::Month;

/// Grams of base at the wholesale level (importers, wholesalers).
#[derive(Debug, Clone)]
pub struct WholesaleBalance {
    pub opening_stock_g: Decimal,
    pub imports_g: Decimal,
    /// Shipped abroad against export authorizations.
    pub exports_g: Decimal,
    pub closing_stock_g: Decimal,
    /// Net transfers out of the wholesale level: shipped to pharmacies less what they sent
    /// back (transfers between importers and wholesalers leave the level's stock unchanged
    /// and count here only while in transit).
    pub supplied_to_retail_g: Decimal,
    /// opening + imports − exports − closing − supplied.
    pub residue_g: Decimal,
    /// What the ledger says of the residue: destruction, losses, thefts, adjustments, counts.
    pub recorded_destroyed_g: Decimal,
    pub recorded_lost_or_stolen_g: Decimal,
    pub recorded_adjustments_g: Decimal,
}

/// Grams of base at the retail level (pharmacies, hospital pharmacies).
#[derive(Debug, Clone)]
pub struct RetailBalance {
    /// Received from the supply chain (transfers in, receipts, direct imports, minus
    /// transfers out).
    pub supplied_g: Decimal,
    pub opening_stock_g: Decimal,
    pub closing_stock_g: Decimal,
    pub stock_change_g: Decimal,
    pub dispensed_g: Decimal,
    pub destroyed_g: Decimal,
    pub lost_or_stolen_g: Decimal,
    /// supplied − stock change − dispensed − destroyed − lost or stolen.
    pub residue_g: Decimal,
}

/// The balance of one substance.
#[derive(Debug, Clone)]
pub struct MassBalance {
    pub substance_id: SubstanceId,
    pub inn: String,
    pub wholesale: WholesaleBalance,
    pub retail: RetailBalance,
    /// Transferred within the chain but not (yet) received: every transfer's units sent less
    /// units received (in transit, or short on receipt).
    pub in_transit_or_short_g: Decimal,
    pub tolerance_pct: Decimal,
    /// Residues beyond the tolerance, in words.
    pub findings: Vec<String>,
}

/// Base mg per (level, bucket) of one substance.
#[derive(Debug, Default, Clone)]
struct Level {
    before: BigDecimal,
    during: BTreeMap<K, BigDecimal>,
}

impl Level {
    fn get(&self, k: K) -> BigDecimal {
        self.during.get(&k).cloned().unwrap_or_default()
    }

    fn total(&self) -> BigDecimal {
        self.during.values().sum()
    }
}

/// The balance of every substance with movements, for `year` up to `to`.
pub fn balances(
    conn: &mut PgConnection,
    country: &str,
    year: i32,
    to: NaiveDate,
    tolerance_pct: &BigDecimal,
    only: Option<SubstanceId>,
) -> QueryResult<Vec<MassBalance>> {
    let Some(start) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return Ok(Vec::new());
    };
    let catalog = Catalog::load(conn, to)?;
    let before = flows::supply_before(conn, country, Month::of(start))?;
    let zone = Country::zone_of(conn, country)?;
    let during = flows::supply(conn, country, None, DateRange { from: start, to, zone }, Source::Aggregates)?;
    let mut levels: BTreeMap<SubstanceId, (Level, Level)> = BTreeMap::new();
    let mut put = |row: &SupplyRow, opening: bool| {
        let Some(s) = catalog.substance_of(row.product_id) else {
            return;
        };
        if only.is_some_and(|o| o != s) {
            return;
        }
        let mg = catalog.mg(row.product_id, row.units);
        let (w, r) = levels.entry(s).or_default();
        let level = if is_wholesale(row.facility_kind) { w } else { r };
        if opening {
            level.before += mg;
        } else {
            *level.during.entry(row.bucket).or_default() += mg;
        }
    };
    before.iter().for_each(|r| put(r, true));
    during.iter().for_each(|r| put(r, false));
    let hundred = BigDecimal::from(100);
    Ok(levels
        .into_iter()
        .map(|(s, (w, r))| {
            let g = |mg: BigDecimal| Decimal(grams(&mg));
            // Wholesale.
            let w_closing = &w.before + w.total();
            let imports = w.get(K::ImportReceipt);
            let exports = -w.get(K::Export);
            // Transfers out of the level, net of those into it: a transfer between two
            // wholesale facilities moves nothing out of the level once received.
            let shipped = -(w.get(K::TransferOut) + w.get(K::TransferIn));
            let w_residue = &w.before + &imports - &exports - &w_closing - &shipped;
            // Retail.
            let supplied = r.get(K::ImportReceipt) + r.get(K::Receipt) + r.get(K::TransferIn) + r.get(K::TransferOut);
            let r_closing = &r.before + r.total();
            let change = &r_closing - &r.before;
            let dispensed = -r.get(K::Dispense);
            let destroyed = -r.get(K::Destruction);
            let lost = -(r.get(K::Loss) + r.get(K::Theft));
            let r_residue = &supplied - &change - &dispensed - &destroyed - &lost;
            let transit = -(w.get(K::TransferOut) + r.get(K::TransferOut) + w.get(K::TransferIn) + r.get(K::TransferIn));
            let mut findings = Vec::new();
            let beyond =
                |residue: &BigDecimal, throughput: &BigDecimal| residue.abs() * &hundred > tolerance_pct * throughput.abs() && !residue.is_zero();
            if beyond(&w_residue, &(&w.before + &imports)) {
                findings.push(format!(
                    "wholesale residue of {} g is beyond {}% of opening stock and imports",
                    grams(&w_residue),
                    tolerance_pct.normalized()
                ));
            }
            if beyond(&r_residue, &(&r.before + &supplied)) {
                findings.push(format!(
                    "retail residue of {} g is beyond {}% of opening stock and supply",
                    grams(&r_residue),
                    tolerance_pct.normalized()
                ));
            }
            MassBalance {
                substance_id: s,
                inn: catalog.inn(s),
                wholesale: WholesaleBalance {
                    opening_stock_g: g(w.before.clone()),
                    imports_g: g(imports),
                    exports_g: g(exports),
                    closing_stock_g: g(w_closing),
                    supplied_to_retail_g: g(shipped),
                    residue_g: g(w_residue),
                    recorded_destroyed_g: g(-w.get(K::Destruction)),
                    recorded_lost_or_stolen_g: g(-(w.get(K::Loss) + w.get(K::Theft))),
                    recorded_adjustments_g: g(w.get(K::Adjustment) + w.get(K::CountAdjustment)),
                },
                retail: RetailBalance {
                    supplied_g: g(supplied),
                    opening_stock_g: g(r.before.clone()),
                    closing_stock_g: g(r_closing),
                    stock_change_g: g(change),
                    dispensed_g: g(dispensed),
                    destroyed_g: g(destroyed),
                    lost_or_stolen_g: g(lost),
                    residue_g: g(r_residue),
                },
                in_transit_or_short_g: g(transit),
                tolerance_pct: Decimal(tolerance_pct.normalized()),
                findings,
            }
        })
        .collect())
}
