//! `stock_balances`: the current balance of each facility and product. Writers lock these
//! rows, so concurrent writes to one facility-product serialise and cannot oversell.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use crate::db::schema::stock_balances;
use crate::domain::ids::{FacilityId, ProductId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stock_balances)]
pub struct StockBalance {
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub country_code: String,
    pub balance_units: i64,
    pub last_occurred_at: Option<DateTime<Utc>>,
    pub zero_since: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl StockBalance {
    /// Locks the balances of `product_ids` at one facility (created at zero when new), in
    /// product order so that concurrent writers cannot deadlock. Usually every row exists and
    /// one `SELECT … FOR UPDATE` does it; missing rows are inserted and then all are locked
    /// again. (Holding some rows while inserting others cannot deadlock: every other writer
    /// holds at most one balance row of a facility, and batches of one facility are
    /// serialised by its dispensing lock.)
    pub fn lock(conn: &mut PgConnection, facility_id: FacilityId, country: &str, product_ids: &[ProductId]) -> QueryResult<Vec<StockBalance>> {
        let mut ids = product_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let select_locked = |conn: &mut PgConnection| {
            stock_balances::table
                .filter(stock_balances::facility_id.eq(facility_id))
                .filter(stock_balances::product_id.eq_any(&ids))
                .order(stock_balances::product_id)
                .for_update()
                .select(StockBalance::as_select())
                .load(conn)
        };
        let locked = select_locked(conn)?;
        if locked.len() == ids.len() {
            return Ok(locked);
        }
        diesel::sql_query(
            "INSERT INTO stock_balances (facility_id, product_id, country_code) \
             SELECT $1, p, $3 FROM unnest($2::bigint[]) AS p ORDER BY p ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(facility_id)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Text, _>(country)
        .execute(conn)?;
        select_locked(conn)
    }

    /// Stores a locked balance's new state.
    pub fn save(&self, conn: &mut PgConnection) -> QueryResult<()> {
        diesel::update(stock_balances::table.find((self.facility_id, self.product_id)))
            .set((
                stock_balances::balance_units.eq(self.balance_units),
                stock_balances::last_occurred_at.eq(self.last_occurred_at),
                stock_balances::zero_since.eq(self.zero_since),
                stock_balances::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn of_facility(conn: &mut PgConnection, facility_id: FacilityId) -> QueryResult<Vec<StockBalance>> {
        stock_balances::table
            .filter(stock_balances::facility_id.eq(facility_id))
            .order(stock_balances::product_id)
            .select(StockBalance::as_select())
            .load(conn)
    }

    /// Records that entries up to `occurred_at` moved the balance to `balance_units`.
    pub fn advance(&mut self, balance_units: i64, occurred_at: DateTime<Utc>) {
        let last = self.last_occurred_at.map_or(occurred_at, |l| l.max(occurred_at));
        self.zero_since = match (balance_units, self.balance_units) {
            (0, 0) => self.zero_since.or(Some(last)),
            (0, _) => Some(last),
            _ => None,
        };
        self.balance_units = balance_units;
        self.last_occurred_at = Some(last);
    }
}
