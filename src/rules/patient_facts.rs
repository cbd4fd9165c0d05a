//! The scan period's dispensings summed once per patient, facility and product, for the
//! patient rules that need sums only (`peer_outlier`, `high_daily_dose`): one pass over the
//! period instead of one per rule.
//!
//! The facts live in a temporary table, `scan_patient_facts`, built by the first rule that
//! asks and dropped when the scan's transaction ends. Reversed dispensings never count.
//! Per group: units, records, the sum of daily MME × days of supply and the first
//! dispensing and last supply end of the records that have a daily MME, how many records
//! have one, and whether any record is for cancer or palliative care.

use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};

use crate::rules::ScanContext;

/// Forgets the facts of an earlier scan in this transaction (called when a scan starts).
pub fn reset(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("DROP TABLE IF EXISTS scan_patient_facts").execute(conn)?;
    Ok(())
}

/// Builds `scan_patient_facts` for the scan's country and period unless it exists.
pub fn ensure(conn: &mut PgConnection, ctx: &ScanContext) -> QueryResult<()> {
    let exists: bool =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>("to_regclass('pg_temp.scan_patient_facts') IS NOT NULL")).get_result(conn)?;
    if exists {
        return Ok(());
    }
    let (from, to) = ctx.range.bounds();
    diesel::sql_query(
        "CREATE TEMPORARY TABLE scan_patient_facts ON COMMIT DROP AS \
         SELECT d.patient_pseudonym, d.facility_id, d.product_id, \
                sum(d.quantity_units) AS units, count(*) AS records, \
                sum(d.daily_mme * d.days_supply) AS mme_days, \
                min(d.dispensed_at) FILTER (WHERE d.daily_mme IS NOT NULL) AS first_at, \
                max(d.dispensed_at + d.days_supply * interval '1 day') FILTER (WHERE d.daily_mme IS NOT NULL) AS supply_end, \
                count(d.daily_mme) AS records_with_mme, \
                bool_or(d.indication IN ('cancer', 'palliative')) AS palliative \
         FROM dispensings d \
         WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3 \
           AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id) \
         GROUP BY d.patient_pseudonym, d.facility_id, d.product_id",
    )
    .bind::<Text, _>(&ctx.country)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .execute(conn)?;
    diesel::sql_query("ANALYZE scan_patient_facts").execute(conn)?;
    Ok(())
}
