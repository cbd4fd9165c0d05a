//! `facilities`: licensed importers, wholesalers, pharmacies and hospital pharmacies.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::enums::FacilityKind;
use crate::db::schema::facilities;
use crate::domain::ids::{FacilityId, RegionId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = facilities)]
pub struct Facility {
    pub id: FacilityId,
    pub country_code: String,
    pub region_id: RegionId,
    pub name: String,
    pub kind: FacilityKind,
    pub licence_number: String,
    pub licence_valid_until: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = facilities)]
pub struct NewFacility<'a> {
    pub country_code: &'a str,
    pub region_id: RegionId,
    pub name: &'a str,
    pub kind: FacilityKind,
    pub licence_number: &'a str,
    pub licence_valid_until: NaiveDate,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = facilities)]
pub struct FacilityChangeset {
    pub region_id: Option<RegionId>,
    pub name: Option<String>,
    pub licence_number: Option<String>,
    pub licence_valid_until: Option<NaiveDate>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Which facilities a listing may show.
#[derive(Debug, Clone, Default)]
pub struct FacilityFilter {
    pub country_code: Option<String>,
    pub only_id: Option<FacilityId>,
    pub region_id: Option<RegionId>,
    pub kind: Option<FacilityKind>,
}

impl Facility {
    /// The names of the facilities of `ids` (those that exist).
    pub fn names(conn: &mut PgConnection, ids: &[FacilityId]) -> QueryResult<Vec<(FacilityId, String)>> {
        facilities::table.filter(facilities::id.eq_any(ids)).select((facilities::id, facilities::name)).load(conn)
    }

    pub fn find(conn: &mut PgConnection, id: FacilityId) -> QueryResult<Option<Facility>> {
        facilities::table.find(id).select(Facility::as_select()).first(conn).optional()
    }

    /// The facility row, locked until the transaction ends.
    pub fn find_for_update(conn: &mut PgConnection, id: FacilityId) -> QueryResult<Option<Facility>> {
        facilities::table.find(id).for_update().select(Facility::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewFacility<'_>) -> QueryResult<Facility> {
        diesel::insert_into(facilities::table).values(new).returning(Facility::as_returning()).get_result(conn)
    }

    pub fn update(conn: &mut PgConnection, id: FacilityId, changes: &FacilityChangeset) -> QueryResult<Facility> {
        diesel::update(facilities::table.find(id)).set(changes).returning(Facility::as_returning()).get_result(conn)
    }

    pub fn page(conn: &mut PgConnection, filter: &FacilityFilter, offset: i64, limit: i64) -> QueryResult<(Vec<Facility>, i64)> {
        let build = || {
            let mut q = facilities::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(facilities::country_code.eq(c.clone()));
            }
            if let Some(id) = filter.only_id {
                q = q.filter(facilities::id.eq(id));
            }
            if let Some(r) = filter.region_id {
                q = q.filter(facilities::region_id.eq(r));
            }
            if let Some(k) = filter.kind {
                q = q.filter(facilities::kind.eq(k));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(facilities::id).offset(offset).limit(limit).select(Facility::as_select()).load(conn)?;
        Ok((rows, total))
    }

    /// Whether the licence covers `day`.
    pub fn licensed_on(&self, day: NaiveDate) -> bool {
        day <= self.licence_valid_until
    }
}
