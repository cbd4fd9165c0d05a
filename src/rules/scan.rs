//! Running the enabled rules over a country and period, and keeping one flag per rule,
//! subject and period: a rescan refreshes existing flags instead of duplicating them, marks
//! `no_longer_found` the open and under-review flags an earlier scan of the same period found
//! and it does not (`Flag::mark_no_longer_found`), and makes such flags `open` again when it
//! finds them. The scan's per-rule report says what each rule found and, for the rules that
//! compare subjects, how many it evaluated and how many it could not, by reason.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::enums::{FlagEventAction, FlagStatus, NotEvaluatedReason, RuleMode, ScanTrigger};
use crate::db::models::country::Country;
use crate::db::models::flag::{Flag, FlagEvent, NewFlag, NewFlagEvent};
use crate::db::models::rule::Rule;
use crate::db::models::scan::Scan;
use crate::db::reports::flows::DateRange;
use crate::domain::ids::{FlagId, UserId};
use crate::domain::period::today_in;
use crate::rules::{Coverage, Evaluation, ScanContext, specs};

/// What a scan did.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub scan: Scan,
    pub flags_raised: i32,
    pub flags_updated: i32,
}

/// One rule's part in a scan, stored with the scan as it ran (`scans.rules`) and served as it
/// is by `GET /diversion/scans/{id}`: one type for both, so they cannot drift apart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ScanRuleView)]
pub struct RuleReport {
    pub code: String,
    pub version: i32,
    #[serde(default)]
    pub mode: Option<RuleMode>,
    /// Findings the rule made (absent when it failed).
    #[serde(default)]
    pub findings: Option<i64>,
    #[serde(default)]
    pub raised: Option<i64>,
    #[serde(default)]
    pub updated: Option<i64>,
    /// Flags of the rule this scan stopped finding.
    #[serde(default)]
    pub no_longer_found: Option<i64>,
    /// Subjects the rule compared (facilities, prescribers); `null` for the rules over
    /// events (refused attempts, counts, transfers, doses…), which leave no subject out.
    #[serde(default)]
    pub evaluated: Option<i64>,
    /// Subjects the rule could not compare, by reason.
    #[serde(default)]
    pub not_evaluated: Vec<NotEvaluated>,
    #[serde(default)]
    pub millis: Option<i64>,
    /// Present when the rule failed (its flags were left as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RuleReport {
    fn new(code: &str, version: i32, millis: i64) -> Self {
        RuleReport {
            code: code.to_owned(),
            version,
            mode: None,
            findings: None,
            raised: None,
            updated: None,
            no_longer_found: None,
            evaluated: None,
            not_evaluated: Vec::new(),
            millis: Some(millis),
            error: None,
        }
    }
}

/// Subjects a rule could not evaluate for one reason.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = NotEvaluatedView)]
pub struct NotEvaluated {
    pub reason: NotEvaluatedReason,
    pub count: i64,
}

/// Runs every enabled rule for `country` over the days `from`..=`to` of `range` in one
/// transaction (each rule in its own savepoint: a failing rule is reported in the scan and
/// the others still run). Days are the country's (cut at its local midnight, whatever the
/// zone `range` came with), and "today" is the country's day at the instant `now`.
pub fn run(
    conn: &mut PgConnection,
    country: &str,
    range: DateRange,
    trigger: ScanTrigger,
    requested_by: Option<UserId>,
    now: DateTime<Utc>,
    reporting_grace_days: i64,
) -> QueryResult<ScanOutcome> {
    conn.transaction(|conn| {
        prepare(conn, country)?;
        let scan = Scan::start(conn, country, range.from, range.to, trigger, requested_by)?;
        evaluate(conn, scan, now, reporting_grace_days)
    })
}

/// Runs the rules for a scan already recorded as running (a manual scan the API answered
/// with 202), in one transaction like [`run`]. When that transaction fails, the scan is
/// marked failed.
pub fn complete(conn: &mut PgConnection, scan: Scan, now: DateTime<Utc>, reporting_grace_days: i64) -> QueryResult<ScanOutcome> {
    let id = scan.id;
    let result = conn.transaction(|conn| {
        prepare(conn, &scan.country_code)?;
        evaluate(conn, scan, now, reporting_grace_days)
    });
    if result.is_err() {
        Scan::fail(conn, id)?;
    }
    result
}

fn prepare(conn: &mut PgConnection, country: &str) -> QueryResult<()> {
    // No JIT for the rules' short analytic statements, no statement timeout for a long scan.
    conn.batch_execute(include_str!("scan_settings.sql"))?;
    // One scan of a country at a time.
    diesel::sql_query(include_str!("scan_lock.sql")).bind::<diesel::sql_types::Text, _>(format!("scan:{country}")).execute(conn)?;
    Ok(())
}

/// Every enabled rule of the scan's country over its period, each in its own savepoint.
fn evaluate(conn: &mut PgConnection, scan: Scan, now: DateTime<Utc>, reporting_grace_days: i64) -> QueryResult<ScanOutcome> {
    let country = scan.country_code.as_str();
    let zone = Country::zone_of(conn, country)?;
    let range = DateRange { from: scan.period_from, to: scan.period_to, zone };
    let today = today_in(zone, now);
    let ctx = ScanContext { country: country.to_owned(), range, today, reporting_grace_days };
    let configured = Rule::of_country(conn, country)?;
    let (mut raised, mut updated) = (0i32, 0i32);
    let mut report = Vec::new();
    for spec in specs() {
        let Some(rule) = configured.iter().find(|r| r.code == spec.code) else { continue };
        if !rule.enabled {
            continue;
        }
        let started = std::time::Instant::now();
        let result = conn.transaction::<(i32, i32, usize, usize, Option<Coverage>), anyhow::Error, _>(|conn| {
            let Evaluation { findings, coverage } = (spec.evaluate)(conn, &ctx, &rule.params)?;
            let n = findings.len();
            let flags: Vec<NewFlag> = findings
                .into_iter()
                .map(|finding| {
                    let (from, to) = finding.period.unwrap_or((range.from, range.to));
                    NewFlag {
                        country_code: country.to_owned(),
                        rule_code: rule.code.clone(),
                        rule_version: rule.version,
                        category: rule.category,
                        mode: rule.mode,
                        subject_type: finding.subject_type,
                        subject_id: finding.subject_id,
                        facility_id: finding.facility_id,
                        region_id: finding.region_id,
                        period_from: from,
                        period_to: to,
                        severity: finding.severity,
                        title: finding.title,
                        params: rule.params.clone(),
                        evidence: finding.evidence,
                        first_scan_id: Some(scan.id),
                        last_scan_id: Some(scan.id),
                    }
                })
                .collect();
            // One flag per subject and period: a rule naming one twice keeps its last word.
            let mut seen = std::collections::HashSet::new();
            let mut flags: Vec<NewFlag> =
                flags.into_iter().rev().filter(|f| seen.insert((f.subject_type, f.subject_id.clone(), f.period_from, f.period_to))).collect();
            flags.reverse();
            let written = Flag::upsert_many(conn, &flags)?;
            let event = |id: FlagId, action: FlagEventAction, to_status: Option<FlagStatus>| NewFlagEvent {
                flag_id: id,
                action,
                from_status: None,
                to_status,
                note: None,
                visibility: None,
                user_id: None,
                scan_id: Some(scan.id),
            };
            let mut events: Vec<NewFlagEvent<'_>> = written
                .iter()
                .filter_map(|w| match (w.inserted, w.found_again, w.changed) {
                    (true, _, _) => Some(event(w.id, FlagEventAction::Raised, Some(FlagStatus::Open))),
                    (false, true, _) => Some(NewFlagEvent {
                        from_status: Some(FlagStatus::NoLongerFound),
                        ..event(w.id, FlagEventAction::FoundAgain, Some(FlagStatus::Open))
                    }),
                    (false, false, true) => Some(event(w.id, FlagEventAction::Updated, None)),
                    (false, false, false) => None,
                })
                .collect();
            let lost = Flag::mark_no_longer_found(conn, country, &rule.code, scan.id)?;
            events.extend(lost.iter().map(|(id, from)| NewFlagEvent {
                from_status: Some(*from),
                ..event(*id, FlagEventAction::NoLongerFound, Some(FlagStatus::NoLongerFound))
            }));
            FlagEvent::record_many(conn, &events)?;
            let r = written.iter().filter(|w| w.inserted).count() as i32;
            let u = written.len() as i32 - r;
            Ok((r, u, n, lost.len(), coverage))
        });
        let millis = started.elapsed().as_millis() as i64;
        match result {
            Ok((r, u, n, lost, coverage)) => {
                raised += r;
                updated += u;
                let (evaluated, not_evaluated) = match coverage {
                    Some(c) => (Some(c.evaluated), c.not_evaluated.into_iter().map(|(reason, count)| NotEvaluated { reason, count }).collect()),
                    None => (None, Vec::new()),
                };
                report.push(RuleReport {
                    mode: Some(rule.mode),
                    findings: Some(n as i64),
                    raised: Some(i64::from(r)),
                    updated: Some(i64::from(u)),
                    no_longer_found: Some(lost as i64),
                    evaluated,
                    not_evaluated,
                    ..RuleReport::new(&rule.code, rule.version, millis)
                });
            }
            Err(e) => {
                tracing::error!(rule = %rule.code, error = ?e, "rule failed during scan");
                report.push(RuleReport {
                    error: Some("the rule failed; see the server log".to_owned()),
                    ..RuleReport::new(&rule.code, rule.version, millis)
                });
            }
        }
    }
    let scan = Scan::finish(
        conn,
        scan.id,
        raised,
        updated,
        serde_json::to_value(&report).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
    )?;
    Ok(ScanOutcome { scan, flags_raised: raised, flags_updated: updated })
}
