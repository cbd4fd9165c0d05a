//! `regions` (oblasts, cities of republican significance) and their population per year.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::{AgeBand, Sex};
use crate::db::schema::{region_population_groups, region_populations, regions};
use crate::domain::ids::RegionId;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = regions)]
pub struct Region {
    pub id: RegionId,
    pub country_code: String,
    pub name: String,
    pub code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = regions)]
pub struct NewRegion<'a> {
    pub country_code: &'a str,
    pub name: &'a str,
    pub code: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = region_populations)]
pub struct RegionPopulation {
    pub region_id: RegionId,
    pub year: i32,
    pub total: i64,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = region_population_groups)]
pub struct RegionPopulationGroup {
    pub region_id: RegionId,
    pub year: i32,
    pub sex: Sex,
    pub age_band: AgeBand,
    pub count: i64,
}

impl Region {
    pub fn find(conn: &mut PgConnection, id: RegionId) -> QueryResult<Option<Region>> {
        regions::table.find(id).select(Region::as_select()).first(conn).optional()
    }

    /// The names of the regions of `ids` (those that exist).
    pub fn names(conn: &mut PgConnection, ids: &[RegionId]) -> QueryResult<Vec<(RegionId, String)>> {
        regions::table.filter(regions::id.eq_any(ids)).select((regions::id, regions::name)).load(conn)
    }

    pub fn of_country(conn: &mut PgConnection, country: &str) -> QueryResult<Vec<Region>> {
        regions::table.filter(regions::country_code.eq(country)).order(regions::name).select(Region::as_select()).load(conn)
    }

    pub fn create(conn: &mut PgConnection, new: &NewRegion<'_>) -> QueryResult<Region> {
        diesel::insert_into(regions::table).values(new).returning(Region::as_returning()).get_result(conn)
    }
}

impl RegionPopulation {
    /// Replaces the figures of one region and year (total and breakdown) in one go.
    pub fn replace(conn: &mut PgConnection, total: &RegionPopulation, groups: &[RegionPopulationGroup]) -> QueryResult<()> {
        diesel::delete(
            region_populations::table.filter(region_populations::region_id.eq(total.region_id)).filter(region_populations::year.eq(total.year)),
        )
        .execute(conn)?;
        diesel::insert_into(region_populations::table).values(total).execute(conn)?;
        if !groups.is_empty() {
            diesel::insert_into(region_population_groups::table).values(groups).execute(conn)?;
        }
        Ok(())
    }

    /// Every year's total for the given regions.
    pub fn for_regions(conn: &mut PgConnection, region_ids: &[RegionId]) -> QueryResult<Vec<RegionPopulation>> {
        region_populations::table
            .filter(region_populations::region_id.eq_any(region_ids))
            .order((region_populations::region_id, region_populations::year))
            .select(RegionPopulation::as_select())
            .load(conn)
    }
}

impl RegionPopulationGroup {
    pub fn for_regions(conn: &mut PgConnection, region_ids: &[RegionId]) -> QueryResult<Vec<RegionPopulationGroup>> {
        region_population_groups::table
            .filter(region_population_groups::region_id.eq_any(region_ids))
            .order((region_population_groups::region_id, region_population_groups::year))
            .select(RegionPopulationGroup::as_select())
            .load(conn)
    }
}
