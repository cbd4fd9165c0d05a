//! `import_authorizations`: permits issued by the regulator to a licensed importer.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::schema::{import_authorizations, stock_events};
use crate::domain::ids::{FacilityId, ImportAuthorizationId, ProductId, SubstanceId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_authorizations)]
pub struct ImportAuthorization {
    pub id: ImportAuthorizationId,
    pub number: String,
    pub country_code: String,
    pub importer_facility_id: FacilityId,
    pub exporting_country: String,
    pub product_id: ProductId,
    pub substance_id: SubstanceId,
    pub quantity_units: i64,
    pub quantity_g: BigDecimal,
    pub year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub issued_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = import_authorizations)]
pub struct NewImportAuthorization<'a> {
    pub number: &'a str,
    pub country_code: &'a str,
    pub importer_facility_id: FacilityId,
    pub exporting_country: &'a str,
    pub product_id: ProductId,
    pub substance_id: SubstanceId,
    pub quantity_units: i64,
    pub quantity_g: BigDecimal,
    pub year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub issued_by: Option<UserId>,
}

#[derive(Debug, Clone, Default)]
pub struct AuthorizationFilter {
    pub country_code: Option<String>,
    pub importer_facility_id: Option<FacilityId>,
    pub year: Option<i32>,
    pub substance_id: Option<SubstanceId>,
}

impl ImportAuthorization {
    pub fn find(conn: &mut PgConnection, id: ImportAuthorizationId) -> QueryResult<Option<ImportAuthorization>> {
        import_authorizations::table.find(id).select(ImportAuthorization::as_select()).first(conn).optional()
    }

    /// The authorization, locked until the transaction ends (receipts against it serialise).
    pub fn find_for_update(conn: &mut PgConnection, id: ImportAuthorizationId) -> QueryResult<Option<ImportAuthorization>> {
        import_authorizations::table.find(id).for_update().select(ImportAuthorization::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewImportAuthorization<'_>) -> QueryResult<ImportAuthorization> {
        diesel::insert_into(import_authorizations::table).values(new).returning(ImportAuthorization::as_returning()).get_result(conn)
    }

    /// Grams already authorized for a country, substance and year.
    pub fn authorized_g(conn: &mut PgConnection, country: &str, substance_id: SubstanceId, year: i32) -> QueryResult<BigDecimal> {
        let sum: Option<BigDecimal> = import_authorizations::table
            .filter(import_authorizations::country_code.eq(country))
            .filter(import_authorizations::substance_id.eq(substance_id))
            .filter(import_authorizations::year.eq(year))
            .select(diesel::dsl::sum(import_authorizations::quantity_g))
            .first(conn)?;
        Ok(sum.unwrap_or_default())
    }

    /// Units received so far against each of `ids`.
    pub fn received_units(conn: &mut PgConnection, ids: &[ImportAuthorizationId]) -> QueryResult<Vec<(ImportAuthorizationId, i64)>> {
        let rows: Vec<(Option<ImportAuthorizationId>, Option<BigDecimal>)> = stock_events::table
            .filter(stock_events::import_authorization_id.eq_any(ids))
            .group_by(stock_events::import_authorization_id)
            .select((stock_events::import_authorization_id, diesel::dsl::sum(stock_events::delta_units)))
            .load(conn)?;
        use bigdecimal::ToPrimitive;
        Ok(rows.into_iter().filter_map(|(id, sum)| Some((id?, sum.and_then(|s| s.to_i64()).unwrap_or(0)))).collect())
    }

    pub fn page(conn: &mut PgConnection, filter: &AuthorizationFilter, offset: i64, limit: i64) -> QueryResult<(Vec<ImportAuthorization>, i64)> {
        let build = || {
            let mut q = import_authorizations::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(import_authorizations::country_code.eq(c.clone()));
            }
            if let Some(f) = filter.importer_facility_id {
                q = q.filter(import_authorizations::importer_facility_id.eq(f));
            }
            if let Some(y) = filter.year {
                q = q.filter(import_authorizations::year.eq(y));
            }
            if let Some(s) = filter.substance_id {
                q = q.filter(import_authorizations::substance_id.eq(s));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(import_authorizations::id).offset(offset).limit(limit).select(ImportAuthorization::as_select()).load(conn)?;
        Ok((rows, total))
    }
}
