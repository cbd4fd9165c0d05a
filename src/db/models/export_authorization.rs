//! `export_authorizations`: permits issued by the regulator to a licensed exporter, each
//! naming the importing country's import certificate.

use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::schema::{export_authorizations, stock_events};
use crate::domain::ids::{ExportAuthorizationId, FacilityId, ProductId, SubstanceId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = export_authorizations)]
pub struct ExportAuthorization {
    pub id: ExportAuthorizationId,
    pub number: String,
    pub country_code: String,
    pub exporter_facility_id: FacilityId,
    pub importing_country: String,
    pub import_certificate_number: String,
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
#[diesel(table_name = export_authorizations)]
pub struct NewExportAuthorization<'a> {
    pub number: &'a str,
    pub country_code: &'a str,
    pub exporter_facility_id: FacilityId,
    pub importing_country: &'a str,
    pub import_certificate_number: &'a str,
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
pub struct ExportAuthorizationFilter {
    pub country_code: Option<String>,
    pub exporter_facility_id: Option<FacilityId>,
    pub year: Option<i32>,
    pub substance_id: Option<SubstanceId>,
}

impl ExportAuthorization {
    /// The authorization, locked until the transaction ends (shipments against it serialise).
    pub fn find_for_update(conn: &mut PgConnection, id: ExportAuthorizationId) -> QueryResult<Option<ExportAuthorization>> {
        export_authorizations::table.find(id).for_update().select(ExportAuthorization::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewExportAuthorization<'_>) -> QueryResult<ExportAuthorization> {
        diesel::insert_into(export_authorizations::table).values(new).returning(ExportAuthorization::as_returning()).get_result(conn)
    }

    /// Units shipped so far against each of `ids` (exports are debits: the negated sum).
    pub fn shipped_units(conn: &mut PgConnection, ids: &[ExportAuthorizationId]) -> QueryResult<Vec<(ExportAuthorizationId, i64)>> {
        let rows: Vec<(Option<ExportAuthorizationId>, Option<BigDecimal>)> = stock_events::table
            .filter(stock_events::export_authorization_id.eq_any(ids))
            .group_by(stock_events::export_authorization_id)
            .select((stock_events::export_authorization_id, diesel::dsl::sum(stock_events::delta_units)))
            .load(conn)?;
        Ok(rows.into_iter().filter_map(|(id, sum)| Some((id?, -sum.and_then(|s| s.to_i64()).unwrap_or(0)))).collect())
    }

    pub fn page(
        conn: &mut PgConnection,
        filter: &ExportAuthorizationFilter,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<ExportAuthorization>, i64)> {
        let build = || {
            let mut q = export_authorizations::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(export_authorizations::country_code.eq(c.clone()));
            }
            if let Some(f) = filter.exporter_facility_id {
                q = q.filter(export_authorizations::exporter_facility_id.eq(f));
            }
            if let Some(y) = filter.year {
                q = q.filter(export_authorizations::year.eq(y));
            }
            if let Some(s) = filter.substance_id {
                q = q.filter(export_authorizations::substance_id.eq(s));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(export_authorizations::id).offset(offset).limit(limit).select(ExportAuthorization::as_select()).load(conn)?;
        Ok((rows, total))
    }
}
