//! Rules, scans and flags on the wire.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::db::enums::{CommentVisibility, FlagEventAction, FlagStatus, RuleCategory, RuleMode, Severity, SubjectType};
use crate::db::models::flag::{Flag, FlagEvent};
use crate::db::models::rule::Rule;
use crate::db::models::scan::Scan;
use crate::domain::ids::{FacilityId, FlagEventId, FlagId, RegionId, ScanId, UserId};
use crate::rules::scan::RuleReport;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    pub code: String,
    pub category: RuleCategory,
    pub description: String,
    pub version: i32,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub enabled: bool,
    pub mode: RuleMode,
    pub updated_at: DateTime<Utc>,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        RuleView {
            code: r.code,
            category: r.category,
            description: r.description,
            version: r.version,
            params: r.params,
            enabled: r.enabled,
            mode: r.mode,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleList {
    pub country_code: String,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleEnvelope {
    pub rule: RuleView,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RuleQuery {
    /// Admin only (regulators and ministries see their country's).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
}

/// A change to a rule of the caller's country: parameters given are merged onto the current
/// ones. Any change makes a new version.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatchRequest {
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    pub enabled: Option<bool>,
    pub mode: Option<RuleMode>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[validate(custom(function = "crate::views::text::single_line"))]
    pub country_code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanView {
    #[schema(value_type = i64)]
    pub id: ScanId,
    pub country_code: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// `running` until the background run ends `completed` or `failed`.
    pub status: crate::db::enums::ScanStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub flags_raised: i32,
    pub flags_updated: i32,
    /// Flags an earlier scan of the same period found and this one did not (now
    /// `no_longer_found`).
    pub flags_no_longer_found: i64,
    /// Per rule run: what it found and whom it could not evaluate (empty while running).
    pub rules: Vec<RuleReport>,
}

impl From<Scan> for ScanView {
    fn from(s: Scan) -> Self {
        // Written by rules::scan as `Vec<RuleReport>`; a running scan has none yet.
        let rules: Vec<RuleReport> = serde_json::from_value(s.rules).unwrap_or_else(|e| {
            tracing::error!(scan = s.id.get(), error = %e, "a scan's rule report does not read back");
            Vec::new()
        });
        ScanView {
            id: s.id,
            country_code: s.country_code,
            period_from: s.period_from,
            period_to: s.period_to,
            status: s.status,
            started_at: s.started_at,
            finished_at: s.finished_at,
            flags_raised: s.flags_raised,
            flags_updated: s.flags_updated,
            flags_no_longer_found: rules.iter().filter_map(|r| r.no_longer_found).sum(),
            rules,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanEnvelope {
    pub scan: ScanView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagView {
    #[schema(value_type = i64)]
    pub id: FlagId,
    pub country_code: String,
    pub rule: String,
    pub rule_version: i32,
    pub category: RuleCategory,
    pub mode: RuleMode,
    pub subject_type: SubjectType,
    pub subject_id: String,
    #[schema(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
    #[schema(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub severity: Severity,
    pub status: FlagStatus,
    pub title: String,
    /// The parameters the rule ran with; absent for facility users.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    /// The records and figures behind the flag; absent for facility users.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
    #[schema(value_type = Option<i64>)]
    pub assigned_to: Option<UserId>,
    /// The scan that first found the flag.
    #[schema(value_type = Option<i64>)]
    pub first_scan_id: Option<ScanId>,
    /// The scan that last found the flag.
    #[schema(value_type = Option<i64>)]
    pub last_scan_id: Option<ScanId>,
    /// The rescan that stopped finding the flag (status `no_longer_found`); cleared when a
    /// later scan finds it again.
    #[schema(value_type = Option<i64>)]
    pub no_longer_found_scan_id: Option<ScanId>,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FlagView {
    /// The flag with or without its evidence and parameters.
    pub fn new(f: Flag, with_evidence: bool) -> Self {
        FlagView {
            id: f.id,
            country_code: f.country_code,
            rule: f.rule_code,
            rule_version: f.rule_version,
            category: f.category,
            mode: f.mode,
            subject_type: f.subject_type,
            subject_id: f.subject_id,
            facility_id: f.facility_id,
            region_id: f.region_id,
            period_from: f.period_from,
            period_to: f.period_to,
            severity: f.severity,
            status: f.status,
            title: f.title,
            params: with_evidence.then_some(f.params),
            evidence: with_evidence.then_some(f.evidence),
            assigned_to: f.assigned_to,
            first_scan_id: f.first_scan_id,
            last_scan_id: f.last_scan_id,
            no_longer_found_scan_id: f.no_longer_found_scan_id,
            raised_at: f.raised_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagCount {
    pub rule: String,
    pub severity: Severity,
    pub status: FlagStatus,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagList {
    pub flags: Vec<FlagView>,
    /// Counts of every matching flag by rule, severity and status (for the ministry, the
    /// diversion flags it may not read one by one are counted here).
    pub counts: Vec<FlagCount>,
    pub meta: crate::views::ListMeta,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FlagQuery {
    /// Admin only (others see their country).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    pub status: Option<FlagStatus>,
    pub rule: Option<String>,
    pub category: Option<RuleCategory>,
    #[param(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    #[param(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
    pub severity: Option<Severity>,
    /// `active` by default; `shadow` lists the flags of rules on trial (regulator).
    pub mode: Option<RuleMode>,
    /// Flags whose period overlaps [from, to].
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub subject_type: Option<SubjectType>,
    pub subject_id: Option<String>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagEventView {
    #[schema(value_type = i64)]
    pub id: FlagEventId,
    pub action: FlagEventAction,
    pub from_status: Option<FlagStatus>,
    pub to_status: Option<FlagStatus>,
    pub note: Option<String>,
    pub visibility: Option<CommentVisibility>,
    #[schema(value_type = Option<i64>)]
    pub user_id: Option<UserId>,
    #[schema(value_type = Option<i64>)]
    pub scan_id: Option<ScanId>,
    pub created_at: DateTime<Utc>,
}

impl From<FlagEvent> for FlagEventView {
    fn from(e: FlagEvent) -> Self {
        FlagEventView {
            id: e.id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            visibility: e.visibility,
            user_id: e.user_id,
            scan_id: e.scan_id,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagDetail {
    pub flag: FlagView,
    /// The review trail (facility users see official comments only).
    pub events: Vec<FlagEventView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagPatchRequest {
    pub status: Option<FlagStatus>,
    /// The reason: required to confirm or dismiss.
    #[schema(min_length = 3, max_length = 4000)]
    #[validate(length(min = 3, max = 4000), custom(function = "crate::views::text::free_text"))]
    pub note: Option<String>,
    /// A regulator of the flag's country to assign the flag to; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    pub assigned_to: Option<Option<i64>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = "crate::views::text::free_text"))]
    pub body: String,
    /// `internal` (regulators only) or `official` (also shown to the facility concerned).
    pub visibility: CommentVisibility,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentEnvelope {
    pub comment: FlagEventView,
}
