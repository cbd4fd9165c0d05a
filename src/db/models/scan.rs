//! `scans`: each run of the rules over a country and period, with its state and counts.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::{ScanStatus, ScanTrigger};
use crate::db::schema::scans;
use crate::domain::ids::{ScanId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scans)]
pub struct Scan {
    pub id: ScanId,
    pub country_code: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub trigger: ScanTrigger,
    pub requested_by: Option<UserId>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub flags_raised: i32,
    pub flags_updated: i32,
    pub rules: Value,
    pub status: ScanStatus,
}

impl Scan {
    pub fn start(
        conn: &mut PgConnection,
        country: &str,
        from: NaiveDate,
        to: NaiveDate,
        trigger: ScanTrigger,
        by: Option<UserId>,
    ) -> QueryResult<Scan> {
        diesel::insert_into(scans::table)
            .values((
                scans::country_code.eq(country),
                scans::period_from.eq(from),
                scans::period_to.eq(to),
                scans::trigger.eq(trigger),
                scans::requested_by.eq(by),
            ))
            .returning(Scan::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: ScanId) -> QueryResult<Option<Scan>> {
        scans::table.find(id).select(Scan::as_select()).first(conn).optional()
    }

    /// Marks the scan completed with its counts and per-rule report.
    pub fn finish(conn: &mut PgConnection, id: ScanId, raised: i32, updated: i32, rules: Value) -> QueryResult<Scan> {
        diesel::update(scans::table.find(id))
            .set((
                scans::status.eq(ScanStatus::Completed),
                scans::finished_at.eq(Utc::now()),
                scans::flags_raised.eq(raised),
                scans::flags_updated.eq(updated),
                scans::rules.eq(rules),
            ))
            .returning(Scan::as_returning())
            .get_result(conn)
    }

    /// Marks a still-running scan failed (its rule transaction was rolled back).
    pub fn fail(conn: &mut PgConnection, id: ScanId) -> QueryResult<Option<Scan>> {
        diesel::update(scans::table.find(id).filter(scans::status.eq(ScanStatus::Running)))
            .set((scans::status.eq(ScanStatus::Failed), scans::finished_at.eq(Utc::now())))
            .returning(Scan::as_returning())
            .get_result(conn)
            .optional()
    }

    /// Marks failed the scans left `running` by a process that ended mid-scan: started more
    /// than `minutes` ago, and no scan of their country holds its lock now (a scan runs in
    /// one transaction holding it). Returns how many.
    pub fn fail_abandoned(conn: &mut PgConnection, minutes: i32) -> QueryResult<usize> {
        conn.transaction(|conn| {
            diesel::sql_query(
                "UPDATE scans SET status = 'failed', finished_at = now() \
                 WHERE status = 'running' AND started_at < now() - make_interval(mins => $1) \
                 AND pg_try_advisory_xact_lock(hashtext('scan:' || country_code))",
            )
            .bind::<diesel::sql_types::Integer, _>(minutes)
            .execute(conn)
        })
    }
}
