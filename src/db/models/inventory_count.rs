//! `inventory_counts`: physical counts with the book balance at that moment.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::inventory_counts;
use crate::domain::ids::{FacilityId, InventoryCountId, ProductId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inventory_counts)]
pub struct InventoryCount {
    pub id: InventoryCountId,
    pub country_code: String,
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub counted_at: DateTime<Utc>,
    pub counted_units: i64,
    pub expected_units: i64,
    pub variance_units: i64,
    pub reason: Option<String>,
    pub recorded_by: Option<UserId>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inventory_counts)]
pub struct NewInventoryCount<'a> {
    pub country_code: &'a str,
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub counted_at: DateTime<Utc>,
    pub counted_units: i64,
    pub expected_units: i64,
    pub variance_units: i64,
    pub reason: Option<&'a str>,
    pub recorded_by: Option<UserId>,
}

impl InventoryCount {
    pub fn create(conn: &mut PgConnection, new: &NewInventoryCount<'_>) -> QueryResult<InventoryCount> {
        diesel::insert_into(inventory_counts::table).values(new).returning(InventoryCount::as_returning()).get_result(conn)
    }
}
