//! The rule engine: explainable, versioned rules that turn the data of a country and period
//! into findings, both availability findings and diversion signals.
//!
//! Each rule is one module with a `Params` struct (its parameters with their defaults; the
//! regulator may change them, which bumps the rule's version) and an `evaluate` function
//! returning `Finding`s, or an `Evaluation` (findings and the `Coverage`: subjects evaluated
//! and those left out, by reason) when the rule compares subjects. A finding names its subject, severity and evidence:
//! `{"records": {"<table>": [ids]}, "figures": {...}, "thresholds": {...}}` so a reader sees
//! why the flag exists and which rows support it. `scan` runs the enabled rules and keeps
//! one flag per rule, subject and period; `refused` is the query shared by the rules over
//! refused attempts. Rules read dispensing through the `counted_dispensings` view, so
//! reversed dispensings never count.
//!
//! A rule's SQL lives in `.sql` files beside its module, loaded with `include_str!`:
//! `<module>.sql` when the module has one query, `<module>_<what>.sql` for each of several
//! (`prescriber_outlier_volumes.sql`, `prescriber_outlier_details.sql`), and the same for a
//! fragment spliced into a query in place of a `/*<what>*/` marker (`unusual_order_size_pairs.sql`
//! for `/*pairs*/`); `me_factors.sql` is the fragment the outlier rules share (`/*me*/`,
//! [`with_me_factors`]). Each file opens with a comment saying what it returns and what its
//! bind parameters are; a marker is named in those comments without its `/* */`, which the
//! splicing would replace there too. Only small DSL queries stay in Rust. Rows are read into
//! as few structs as the queries need: [`FacilityRecords`] for the rules whose query returns a
//! facility's record ids, products and details, one struct per other query.

mod refused;
pub mod scan;

use chrono::NaiveDate;
use diesel::PgConnection;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Jsonb};
use serde_json::Value;

use crate::db::enums::{NotEvaluatedReason, RuleCategory, Severity, SubjectType};
use crate::db::reports::flows::DateRange;
use crate::domain::ids::{FacilityId, ProductId, RegionId};

/// What a rule is evaluated over.
#[derive(Debug, Clone)]
pub struct ScanContext {
    pub country: String,
    pub range: DateRange,
    /// The day the scan runs (deadlines and current states are judged against it).
    pub today: NaiveDate,
    /// Days after a month's end before an open reporting period is late.
    pub reporting_grace_days: i64,
}

/// One thing a rule found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub subject_type: SubjectType,
    pub subject_id: String,
    /// The facility concerned, if any (for scope and filtering).
    pub facility_id: Option<FacilityId>,
    /// The region concerned, if any.
    pub region_id: Option<RegionId>,
    pub severity: Severity,
    /// One line for a human reader.
    pub title: String,
    /// `{"records": {...}, "figures": {...}, "thresholds": {...}}`.
    pub evidence: Value,
    /// The period the finding is about, when narrower than the scan's (a month, say).
    pub period: Option<(NaiveDate, NaiveDate)>,
}

/// Subjects a rule compared, and those it could not compare, by reason, so a rule never goes
/// silent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub evaluated: i64,
    pub not_evaluated: std::collections::BTreeMap<NotEvaluatedReason, i64>,
}

impl Coverage {
    /// Counts one subject the rule could not evaluate for `reason`.
    pub fn skip(&mut self, reason: NotEvaluatedReason) {
        *self.not_evaluated.entry(reason).or_default() += 1;
    }
}

/// What a rule returns: its findings, and what it covered when it counts its subjects.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// `None` for rules over events (refused attempts, counts, transfers…), which have no
    /// subjects to leave out.
    pub coverage: Option<Coverage>,
}

impl From<Vec<Finding>> for Evaluation {
    fn from(findings: Vec<Finding>) -> Self {
        Evaluation { findings, coverage: None }
    }
}

/// The morphine-equivalent factor in force per substance on the date bound as `$4`, as the
/// common table expression `me (substance_id, me_factor)` of the outlier rules' queries.
pub const ME_FACTORS: &str = include_str!("me_factors.sql");

/// An outlier rule's query with its `/*me*/` marker replaced by [`ME_FACTORS`].
pub fn with_me_factors(sql: &str) -> String {
    sql.replace("/*me*/", ME_FACTORS)
}

/// A facility's records as a rule that groups them by facility reads them: the records' ids,
/// the products they concern and the rule's details of them (JSON: attempts per code for
/// refused attempts, the short intervals for `unusual_order_frequency`).
#[derive(QueryableByName, Debug)]
pub struct FacilityRecords {
    #[diesel(sql_type = BigInt)]
    pub facility_id: FacilityId,
    #[diesel(sql_type = BigInt)]
    pub region_id: RegionId,
    #[diesel(sql_type = Array<BigInt>)]
    /// Refused attempts or ledger entries, by rule: the one bare `i64` list of ids left.
    pub ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    pub product_ids: Vec<ProductId>,
    #[diesel(sql_type = Jsonb)]
    pub details: Value,
}

/// A robust-z figure of an outlier rule's evidence, to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Checks the robust-z thresholds of an outlier rule: `z` positive, `high_z` at least `z`.
pub fn check_z_thresholds(z: f64, high_z: f64) -> Result<(), String> {
    if !z.is_finite() || z <= 0.0 {
        return Err("z must be a positive number".into());
    }
    if !high_z.is_finite() || high_z < z {
        return Err("high_z must be at least z".into());
    }
    Ok(())
}

impl Finding {
    /// A finding whose subject is a facility, over the scan's period.
    pub fn about_facility(facility_id: FacilityId, region_id: RegionId, severity: Severity, title: String, evidence: Value) -> Finding {
        Finding {
            subject_type: SubjectType::Facility,
            subject_id: facility_id.to_string(),
            facility_id: Some(facility_id),
            region_id: Some(region_id),
            severity,
            title,
            evidence,
            period: None,
        }
    }

    /// The same finding about a narrower period than the scan's (a month, say).
    pub fn during(self, from: NaiveDate, to: NaiveDate) -> Finding {
        Finding { period: Some((from, to)), ..self }
    }
}

type Evaluate = fn(&mut PgConnection, &ScanContext, &Value) -> anyhow::Result<Evaluation>;

/// A rule as the engine knows it.
pub struct RuleSpec {
    pub code: &'static str,
    pub category: RuleCategory,
    pub description: &'static str,
    pub default_params: fn() -> Value,
    /// Parses stored or proposed parameters into their normal form (numbers as numbers,
    /// every parameter present); the error says what is wrong.
    pub check_params: fn(&Value) -> Result<Value, String>,
    pub evaluate: Evaluate,
}

macro_rules! rules {
    ($($module:ident: $category:ident, $description:literal;)*) => {
        $(pub mod $module;)*

        /// Every rule, in the order scans run them.
        pub fn specs() -> Vec<RuleSpec> {
            vec![$(
                RuleSpec {
                    code: stringify!($module),
                    category: RuleCategory::$category,
                    description: $description,
                    default_params: || serde_json::to_value($module::Params::default()).unwrap_or_default(),
                    check_params: |v| {
                        let p: $module::Params = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
                        p.check()?;
                        serde_json::to_value(p).map_err(|e| e.to_string())
                    },
                    evaluate: |conn, ctx, v| {
                        let p: $module::Params = serde_json::from_value(v.clone())?;
                        Ok(Evaluation::from($module::evaluate(conn, ctx, &p)?))
                    },
                },
            )*]
        }
    };
}

rules! {
    negative_balance_attempt: Diversion, "An entry was refused because stock would have gone negative";
    inventory_variance: Diversion, "A physical count was short of the book balance";
    loss_or_theft: Diversion, "Theft, or losses that are large or repeated";
    transfer_mismatch: Diversion, "A transfer was received short, or not confirmed in time";
    receipt_without_authorization: Diversion, "An import receipt beyond its authorization, outside its validity or under an expired licence (refused and recorded)";
    estimate_exceeded: Diversion, "Imports or consumption over the confirmed estimate";
    unusual_order_size: Diversion, "A facility's receipts in a month far above its own baseline";
    unusual_order_frequency: Diversion, "Orders much more frequent than the facility's baseline";
    dispensing_spike: Diversion, "A facility's monthly dispensing far above its own history";
    peer_outlier: Diversion, "A facility's dispensing per registered patient far above peers of the same kind in the region (or the country, when the region has too few)";
    prescriber_outlier: Diversion, "A prescriber's volume far above peers of the region (or the country, when the region has too few)";
    multiple_provider_episode: Diversion, "One patient served by many prescribers and many pharmacies";
    high_daily_dose: Diversion, "A patient's average daily MME over a threshold, outside cancer and palliative care";
    overlapping_prescriptions: Diversion, "A new opioid dispensing while much of the last supply remains";
    late_or_missing_report: Diversion, "A reporting period not closed on time";
    unexpected_substance: Diversion, "A substance dispensed where the country has no estimate for it";
    very_low_availability: Availability, "An area's consumption is in an adequacy band marked as a finding";
    estimate_underused: Availability, "A year's consumption well below the estimate";
    stock_out: Availability, "A facility has had no stock of a product for days";
    no_access_point: Availability, "A region with too few licensed dispensing facilities";
    mass_balance_residue: Availability, "A substance's mass balance leaves a residue beyond tolerance";
}

/// The spec of `code`.
pub fn spec(code: &str) -> Option<RuleSpec> {
    specs().into_iter().find(|s| s.code == code)
}

/// Seeds every rule of every country with its default parameters (existing rules keep theirs).
pub fn seed(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    use crate::db::models::country::Country;
    use crate::db::models::rule::{NewRule, Rule};
    for country in Country::all(conn)? {
        for s in specs() {
            Rule::ensure(
                conn,
                &NewRule {
                    country_code: &country.code,
                    code: s.code,
                    category: s.category,
                    description: s.description,
                    params: (s.default_params)(),
                },
            )?;
        }
    }
    Ok(())
}
