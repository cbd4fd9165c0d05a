//! The admin, or the ministry or regulator of the region's country, sets a region's
//! population for a year, optionally by sex and age band, replacing the figures given
//! before for that year (the audit entry keeps the previous total). A breakdown that
//! misses or repeats a group, or does not add up to the total, is refused.

use std::collections::BTreeSet;

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AgeBand, AuditAction, ResourceType, Sex};
use crate::db::models::audit_event::Actor;
use crate::db::models::region::{Region, RegionPopulation, RegionPopulationGroup};
use crate::domain::ids::RegionId;

/// One group of the breakdown.
#[derive(Debug, Clone)]
pub struct Group {
    pub sex: Sex,
    pub age_band: AgeBand,
    pub count: i64,
}

/// A checked request: the breakdown, when given, lists each group once and adds up to `total`.
#[derive(Debug, Clone)]
pub struct Input {
    pub region_id: RegionId,
    pub year: i32,
    pub total: i64,
    pub source: Option<String>,
    pub by_sex_age: Option<Vec<Group>>,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(region_id: RegionId, year: i32, total: i64, source: Option<String>, by_sex_age: Option<Vec<Group>>) -> Result<Input, DomainError> {
        if let Some(groups) = &by_sex_age {
            check_breakdown(groups, total)?;
        }
        Ok(Input { region_id, year, total, source, by_sex_age })
    }
}

fn check_breakdown(groups: &[Group], total: i64) -> Result<(), DomainError> {
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if !seen.insert((g.sex, g.age_band)) {
            errors.push(FieldError::at(format!("/by_sex_age/{i}"), "this sex and age band is listed twice"));
        }
    }
    let expected = Sex::ALL.len() * AgeBand::ALL.len();
    if errors.is_empty() && seen.len() != expected {
        errors.push(FieldError::at("/by_sex_age", format!("must list each of the {expected} sex and age-band groups once")));
    }
    let sum: i64 = groups.iter().map(|g| g.count).sum();
    if errors.is_empty() && sum != total {
        errors.push(FieldError::at("/by_sex_age", format!("adds up to {sum}, not to total {total}")));
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::validation(errors)) }
}

/// The region with every year's figures after the change.
#[derive(Debug)]
pub struct RegionFigures {
    pub region: Region,
    /// Every year's total, by year.
    pub populations: Vec<RegionPopulation>,
    /// Every year's breakdown.
    pub groups: Vec<RegionPopulationGroup>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<RegionFigures>> {
    let id = input.region_id;
    let region = Region::find(conn, id)?.ok_or_else(|| DomainError::not_found("region"))?;
    policy::check_country(actor, &region.country_code)?;
    let previous = RegionPopulation::for_regions(conn, &[id])?.into_iter().find(|p| p.year == input.year);
    let total = RegionPopulation { region_id: id, year: input.year, total: input.total, source: input.source.clone() };
    let groups: Vec<RegionPopulationGroup> = input
        .by_sex_age
        .iter()
        .flatten()
        .map(|g| RegionPopulationGroup { region_id: id, year: input.year, sex: g.sex, age_band: g.age_band, count: g.count })
        .collect();
    RegionPopulation::replace(conn, &total, &groups)?;
    let audit = AuditEntry::new(
        AuditAction::PutRegionPopulation,
        ResourceType::Region,
        id,
        Some(&region.country_code),
        json!({"year": input.year, "total": input.total, "previous_total": previous.map(|p| p.total)}),
    );
    let populations = RegionPopulation::for_regions(conn, &[id])?;
    let groups = RegionPopulationGroup::for_regions(conn, &[id])?;
    Ok(Outcome::done(RegionFigures { region, populations, groups }, audit))
}
