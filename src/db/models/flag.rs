//! `flags` and `flag_events`: what the rules raised, and each flag's review trail.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::{CommentVisibility, FlagEventAction, FlagStatus, RuleCategory, RuleMode, Severity, SubjectType};
use crate::db::schema::{flag_events, flags};
use crate::domain::ids::{FacilityId, FlagEventId, FlagId, RegionId, ScanId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = flags)]
pub struct Flag {
    pub id: FlagId,
    pub country_code: String,
    pub rule_code: String,
    pub rule_version: i32,
    pub category: RuleCategory,
    pub mode: RuleMode,
    pub subject_type: SubjectType,
    pub subject_id: String,
    pub facility_id: Option<FacilityId>,
    pub region_id: Option<RegionId>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub severity: Severity,
    pub status: FlagStatus,
    pub title: String,
    pub params: Value,
    pub evidence: Value,
    pub assigned_to: Option<UserId>,
    pub first_scan_id: Option<ScanId>,
    pub last_scan_id: Option<ScanId>,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The scan that last stopped finding the flag (cleared when a scan finds it again).
    pub no_longer_found_scan_id: Option<ScanId>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = flags)]
pub struct NewFlag {
    pub country_code: String,
    pub rule_code: String,
    pub rule_version: i32,
    pub category: RuleCategory,
    pub mode: RuleMode,
    pub subject_type: SubjectType,
    pub subject_id: String,
    pub facility_id: Option<FacilityId>,
    pub region_id: Option<RegionId>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub severity: Severity,
    pub title: String,
    pub params: Value,
    pub evidence: Value,
    pub first_scan_id: Option<ScanId>,
    pub last_scan_id: Option<ScanId>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = flag_events)]
pub struct FlagEvent {
    pub id: FlagEventId,
    pub flag_id: FlagId,
    pub action: FlagEventAction,
    pub from_status: Option<FlagStatus>,
    pub to_status: Option<FlagStatus>,
    pub note: Option<String>,
    pub visibility: Option<CommentVisibility>,
    pub user_id: Option<UserId>,
    pub scan_id: Option<ScanId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = flag_events)]
pub struct NewFlagEvent<'a> {
    pub flag_id: FlagId,
    pub action: FlagEventAction,
    pub from_status: Option<FlagStatus>,
    pub to_status: Option<FlagStatus>,
    pub note: Option<&'a str>,
    pub visibility: Option<CommentVisibility>,
    pub user_id: Option<UserId>,
    pub scan_id: Option<ScanId>,
}

/// Filters of the flag list.
#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    pub country_code: Option<String>,
    pub status: Option<FlagStatus>,
    pub rule_code: Option<String>,
    pub category: Option<RuleCategory>,
    pub region_id: Option<RegionId>,
    pub facility_id: Option<FacilityId>,
    pub severity: Option<Severity>,
    pub mode: Option<RuleMode>,
    /// Flags whose period overlaps [from, to].
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub subject_type: Option<SubjectType>,
    pub subject_id: Option<String>,
}

impl Flag {
    pub fn find(conn: &mut PgConnection, id: FlagId) -> QueryResult<Option<Flag>> {
        flags::table.find(id).select(Flag::as_select()).first(conn).optional()
    }

    pub fn find_for_update(conn: &mut PgConnection, id: FlagId) -> QueryResult<Option<Flag>> {
        flags::table.find(id).for_update().select(Flag::as_select()).first(conn).optional()
    }

    pub fn set_status(conn: &mut PgConnection, id: FlagId, status: FlagStatus) -> QueryResult<Flag> {
        diesel::update(flags::table.find(id))
            .set((flags::status.eq(status), flags::updated_at.eq(Utc::now())))
            .returning(Flag::as_returning())
            .get_result(conn)
    }

    pub fn assign(conn: &mut PgConnection, id: FlagId, user: Option<UserId>) -> QueryResult<Flag> {
        diesel::update(flags::table.find(id))
            .set((flags::assigned_to.eq(user), flags::updated_at.eq(Utc::now())))
            .returning(Flag::as_returning())
            .get_result(conn)
    }

    fn filtered(filter: &FlagFilter) -> flags::BoxedQuery<'static, diesel::pg::Pg> {
        let mut q = flags::table.into_boxed();
        if let Some(c) = &filter.country_code {
            q = q.filter(flags::country_code.eq(c.clone()));
        }
        if let Some(s) = filter.status {
            q = q.filter(flags::status.eq(s));
        }
        if let Some(r) = &filter.rule_code {
            q = q.filter(flags::rule_code.eq(r.clone()));
        }
        if let Some(c) = filter.category {
            q = q.filter(flags::category.eq(c));
        }
        if let Some(r) = filter.region_id {
            q = q.filter(flags::region_id.eq(r));
        }
        if let Some(f) = filter.facility_id {
            q = q.filter(flags::facility_id.eq(f));
        }
        if let Some(s) = filter.severity {
            q = q.filter(flags::severity.eq(s));
        }
        if let Some(m) = filter.mode {
            q = q.filter(flags::mode.eq(m));
        }
        if let Some(from) = filter.from {
            q = q.filter(flags::period_to.ge(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(flags::period_from.le(to));
        }
        if let Some(t) = filter.subject_type {
            q = q.filter(flags::subject_type.eq(t));
        }
        if let Some(id) = &filter.subject_id {
            q = q.filter(flags::subject_id.eq(id.clone()));
        }
        q
    }

    /// A page of flags, most severe first, newest first within a severity.
    pub fn page(conn: &mut PgConnection, filter: &FlagFilter, offset: i64, limit: i64) -> QueryResult<(Vec<Flag>, i64)> {
        let total = Self::filtered(filter).count().get_result(conn)?;
        let severity_rank = diesel::dsl::sql::<diesel::sql_types::Integer>("CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END");
        let rows = Self::filtered(filter)
            .order((severity_rank, flags::raised_at.desc(), flags::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(Flag::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    /// Counts of matching flags per rule, severity and status.
    pub fn counts(conn: &mut PgConnection, filter: &FlagFilter) -> QueryResult<Vec<(String, Severity, FlagStatus, i64)>> {
        let keys: Vec<(String, Severity, FlagStatus)> =
            Self::filtered(filter).select((flags::rule_code, flags::severity, flags::status)).load(conn)?;
        let mut counts: std::collections::BTreeMap<(String, Severity, FlagStatus), i64> = std::collections::BTreeMap::new();
        for key in keys {
            *counts.entry(key).or_default() += 1;
        }
        Ok(counts.into_iter().map(|((r, s, st), n)| (r, s, st, n)).collect())
    }
}

#[derive(QueryableByName)]
struct Upserted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: FlagId,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    inserted: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    changed: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found_again: bool,
}

/// What one upsert of a flag did.
#[derive(Debug, Clone, Copy)]
pub struct UpsertedFlag {
    pub id: FlagId,
    /// New flag.
    pub inserted: bool,
    /// An existing flag whose evidence, severity or rule version changed.
    pub changed: bool,
    /// An existing flag that was `no_longer_found` and is `open` again.
    pub found_again: bool,
}

#[derive(QueryableByName)]
struct Lost {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: FlagId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    from_status: FlagStatus,
}

impl Flag {
    /// Inserts the flags, or refreshes the existing ones with the same rule, subject and
    /// period (status and review are kept), a few thousand per statement.
    pub fn upsert_many(conn: &mut PgConnection, flags: &[NewFlag]) -> QueryResult<Vec<UpsertedFlag>> {
        use diesel::sql_types::{Array, BigInt, Date, Integer, Jsonb, Nullable, Text};
        let mut out = Vec::with_capacity(flags.len());
        for chunk in flags.chunks(2_000) {
            let col = |f: fn(&NewFlag) -> String| chunk.iter().map(f).collect::<Vec<String>>();
            let rows: Vec<Upserted> = diesel::sql_query(include_str!("flag_upsert.sql"))
                .bind::<Array<Text>, _>(col(|f| f.country_code.clone()))
                .bind::<Array<Text>, _>(col(|f| f.rule_code.clone()))
                .bind::<Array<Integer>, _>(chunk.iter().map(|f| f.rule_version).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(col(|f| f.category.as_str().to_owned()))
                .bind::<Array<Text>, _>(col(|f| f.mode.as_str().to_owned()))
                .bind::<Array<Text>, _>(col(|f| f.subject_type.as_str().to_owned()))
                .bind::<Array<Text>, _>(col(|f| f.subject_id.clone()))
                .bind::<Array<Nullable<BigInt>>, _>(chunk.iter().map(|f| f.facility_id).collect::<Vec<_>>())
                .bind::<Array<Nullable<BigInt>>, _>(chunk.iter().map(|f| f.region_id).collect::<Vec<_>>())
                .bind::<Array<Date>, _>(chunk.iter().map(|f| f.period_from).collect::<Vec<_>>())
                .bind::<Array<Date>, _>(chunk.iter().map(|f| f.period_to).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(col(|f| f.severity.as_str().to_owned()))
                .bind::<Array<Text>, _>(col(|f| f.title.clone()))
                .bind::<Array<Jsonb>, _>(chunk.iter().map(|f| f.params.clone()).collect::<Vec<_>>())
                .bind::<Array<Jsonb>, _>(chunk.iter().map(|f| f.evidence.clone()).collect::<Vec<_>>())
                .bind::<Array<Nullable<BigInt>>, _>(chunk.iter().map(|f| f.last_scan_id).collect::<Vec<_>>())
                .load(conn)?;
            out.extend(rows.into_iter().map(|r| UpsertedFlag { id: r.id, inserted: r.inserted, changed: r.changed, found_again: r.found_again }));
        }
        Ok(out)
    }

    /// Marks `no_longer_found` by `scan_id` the open and under-review flags of a rule that an
    /// earlier scan of the same country and period found and this one did not (the flags it
    /// found carry it as their last scan already); returns each with its former status.
    /// Confirmed and dismissed flags keep the reviewer's decision.
    pub fn mark_no_longer_found(conn: &mut PgConnection, country: &str, rule_code: &str, scan_id: ScanId) -> QueryResult<Vec<(FlagId, FlagStatus)>> {
        use diesel::sql_types::{BigInt, Text};
        let rows: Vec<Lost> = diesel::sql_query(include_str!("flag_no_longer_found.sql"))
            .bind::<Text, _>(country)
            .bind::<Text, _>(rule_code)
            .bind::<BigInt, _>(scan_id)
            .load(conn)?;
        Ok(rows.into_iter().map(|r| (r.id, r.from_status)).collect())
    }
}

impl FlagEvent {
    /// Appends many review-trail entries in one statement.
    pub fn record_many(conn: &mut PgConnection, events: &[NewFlagEvent<'_>]) -> QueryResult<usize> {
        let mut n = 0;
        for chunk in events.chunks(5_000) {
            n += diesel::insert_into(flag_events::table).values(chunk).execute(conn)?;
        }
        Ok(n)
    }

    pub fn record(conn: &mut PgConnection, event: &NewFlagEvent<'_>) -> QueryResult<FlagEvent> {
        diesel::insert_into(flag_events::table).values(event).returning(FlagEvent::as_returning()).get_result(conn)
    }

    pub fn of_flag(conn: &mut PgConnection, flag_id: FlagId) -> QueryResult<Vec<FlagEvent>> {
        flag_events::table.filter(flag_events::flag_id.eq(flag_id)).order(flag_events::id).select(FlagEvent::as_select()).load(conn)
    }
}
