//! `very_low_availability`: a region (and the country) whose consumption over the scan
//! period falls in an adequacy band marked as a finding (by default `very_low`: under 100
//! S-DDD per million inhabitants per day). High when below half the band's upper bound,
//! else medium. Areas without a population figure are not judged. The S-DDD figure counts
//! the INCB basket only; when a basket substance has no S-DDD the evidence says `incomplete`
//! (the figure is then a lower bound) and names it.

use bigdecimal::BigDecimal;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analytics::availability::{AreaMetrics, AvailabilityRequest, report};
use crate::db::enums::{Severity, SubjectType};
use crate::db::reports::flows::Source;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Judge the country as a whole too.
    pub include_country: bool,
    /// Shortest scan period judged (days): a week says little about availability.
    pub min_days: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { include_country: true, min_days: 28 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_days < 1 {
            return Err("min_days must be at least 1".into());
        }
        Ok(())
    }
}

fn finding_bands(conn: &mut PgConnection) -> QueryResult<Vec<(String, Option<BigDecimal>)>> {
    use crate::db::schema::adequacy_bands as b;
    b::table.filter(b::is_finding.eq(true)).select((b::code, b::max_sddd)).load(conn)
}

fn judge(m: &AreaMetrics, bands: &[(String, Option<BigDecimal>)]) -> Option<Severity> {
    let band = &m.band.as_ref()?.code;
    let (_, max) = bands.iter().find(|(code, _)| code == band)?;
    let value = &m.sddd_per_million_per_day.as_ref()?.0;
    Some(match max {
        Some(upper) if value * BigDecimal::from(2) < *upper => Severity::High,
        _ => Severity::Medium,
    })
}

fn band_code(m: &AreaMetrics) -> Option<&str> {
    m.band.as_ref().map(|b| b.code.as_str())
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    if ctx.range.days() < params.min_days {
        return Ok(Vec::new());
    }
    let bands = finding_bands(conn)?;
    let request =
        AvailabilityRequest { country: ctx.country.clone(), region_id: None, range: ctx.range, partial: !ctx.range.is_over(ctx.today), group_by: None };
    let Ok(r) = report(conn, &request, Source::Aggregates) else { return Ok(Vec::new()) };
    let evidence = |m: &AreaMetrics, population: &Option<crate::domain::decimal::Decimal>| {
        let missing: Vec<_> = m
            .missing
            .iter()
            .map(|v| json!({"substance_id": v.substance_id, "inn": v.inn, "values": v.values.iter().map(|r| r.as_str()).collect::<Vec<_>>()}))
            .collect();
        json!({
            "records": {},
            "figures": {"sddd_per_million_per_day": m.sddd_per_million_per_day, "me_mg_per_capita": m.me_mg_per_capita, "consumption_mg_base": m.consumption_mg_base, "band": band_code(m), "population": population, "missing": missing,
                        "incomplete": m.incomplete, "missing_substances": m.missing_substances.iter().map(|(inn, mg)| json!({"inn": inn, "consumption_mg_base": mg})).collect::<Vec<_>>()},
            "thresholds": {"bands": bands.iter().map(|(c, max)| json!({"band": c, "below_sddd": max.as_ref().map(|x| x.to_string())})).collect::<Vec<_>>()},
        })
    };
    let mut findings = Vec::new();
    for region in &r.regions {
        if region.population.is_none() {
            continue;
        }
        if let Some(severity) = judge(&region.metrics, &bands) {
            findings.push(Finding {
                subject_type: SubjectType::Region,
                subject_id: region.region_id.to_string(),
                facility_id: None,
                region_id: Some(region.region_id),
                severity,
                title: format!("{}: {} S-DDD per million per day ({})", region.name, region.metrics.sddd_per_million_per_day.as_ref().map_or("?".into(), |v| v.to_string()), band_code(&region.metrics).unwrap_or_default()),
                evidence: evidence(&region.metrics, &region.population),
                period: None,
            });
        }
    }
    if params.include_country
        && let Some(severity) = judge(&r.total, &bands)
    {
        findings.push(Finding {
            subject_type: SubjectType::Country,
            subject_id: ctx.country.clone(),
            facility_id: None,
            region_id: None,
            severity,
            title: format!("{}: {} S-DDD per million per day", ctx.country, r.total.sddd_per_million_per_day.as_ref().map_or("?".into(), |v| v.to_string())),
            evidence: evidence(&r.total, &r.population),
            period: None,
        });
    }
    Ok(findings)
}
