//! `transfers`: a shipment from one facility to another, confirmed by the destination.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::TransferStatus;
use crate::db::schema::transfers;
use crate::domain::ids::{FacilityId, ProductId, TransferId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = transfers)]
pub struct Transfer {
    pub id: TransferId,
    pub country_code: String,
    pub from_facility_id: FacilityId,
    pub to_facility_id: FacilityId,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub shipped_at: DateTime<Utc>,
    pub shipped_by: Option<UserId>,
    pub received_units: Option<i64>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = transfers)]
pub struct NewTransfer<'a> {
    pub country_code: &'a str,
    pub from_facility_id: FacilityId,
    pub to_facility_id: FacilityId,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub shipped_at: DateTime<Utc>,
    pub shipped_by: Option<UserId>,
}

#[derive(Debug, Clone, Default)]
pub struct TransferFilter {
    pub country_code: Option<String>,
    /// Transfers from or to this facility.
    pub facility_id: Option<FacilityId>,
    pub status: Option<TransferStatus>,
    /// Unconfirmed and shipped before this time.
    pub unconfirmed_before: Option<DateTime<Utc>>,
    pub product_id: Option<ProductId>,
}

impl Transfer {
    pub fn status(&self) -> TransferStatus {
        match self.received_units {
            None => TransferStatus::InTransit,
            Some(r) if r < self.quantity_units => TransferStatus::Short,
            Some(_) => TransferStatus::Received,
        }
    }

    pub fn find_for_update(conn: &mut PgConnection, id: TransferId) -> QueryResult<Option<Transfer>> {
        transfers::table.find(id).for_update().select(Transfer::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewTransfer<'_>) -> QueryResult<Transfer> {
        diesel::insert_into(transfers::table).values(new).returning(Transfer::as_returning()).get_result(conn)
    }

    pub fn confirm(conn: &mut PgConnection, id: TransferId, units: i64, at: DateTime<Utc>, by: Option<UserId>) -> QueryResult<Transfer> {
        diesel::update(transfers::table.find(id))
            .set((transfers::received_units.eq(units), transfers::received_at.eq(at), transfers::received_by.eq(by)))
            .returning(Transfer::as_returning())
            .get_result(conn)
    }

    pub fn page(conn: &mut PgConnection, filter: &TransferFilter, offset: i64, limit: i64) -> QueryResult<(Vec<Transfer>, i64)> {
        let build = || {
            let mut q = transfers::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(transfers::country_code.eq(c.clone()));
            }
            if let Some(f) = filter.facility_id {
                q = q.filter(transfers::from_facility_id.eq(f).or(transfers::to_facility_id.eq(f)));
            }
            if let Some(p) = filter.product_id {
                q = q.filter(transfers::product_id.eq(p));
            }
            match filter.status {
                Some(TransferStatus::InTransit) => q = q.filter(transfers::received_units.is_null()),
                Some(TransferStatus::Short) => q = q.filter(transfers::received_units.lt(transfers::quantity_units.nullable())),
                Some(TransferStatus::Received) => q = q.filter(transfers::received_units.eq(transfers::quantity_units.nullable())),
                None => {}
            }
            if let Some(before) = filter.unconfirmed_before {
                q = q.filter(transfers::received_units.is_null()).filter(transfers::shipped_at.lt(before));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(transfers::id).offset(offset).limit(limit).select(Transfer::as_select()).load(conn)?;
        Ok((rows, total))
    }
}
