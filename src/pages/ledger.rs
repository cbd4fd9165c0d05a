//! A facility's ledger as the pages show it: the newest entries, or the newest of a window,
//! each with the balance after it — the rows `db::ledger::page` answers, without its running
//! balance over the facility's whole history (which grows with every dispensing). The balance
//! after an entry is the product's balance now (`stock_balances`) less everything after it;
//! what lies past a window's end is read from `facility_monthly` for whole months.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Timestamptz};

use crate::db::ledger::LedgerRow;
use crate::domain::ids::FacilityId;
use crate::domain::period::{Month, Tz, local_midnight};

/// The facility's newest `limit` entries, newest first: `ledger::page` without a filter, first
/// page (`total` left at 0).
pub fn newest(conn: &mut PgConnection, facility_id: FacilityId, limit: i64) -> QueryResult<Vec<LedgerRow>> {
    diesel::sql_query(include_str!("ledger_newest.sql")).bind::<BigInt, _>(facility_id).bind::<BigInt, _>(limit).load(conn)
}

/// The facility's newest `limit` entries in `[from, to)`, newest first: `ledger::page` with
/// that from and to, first page (`total` left at 0). `zone` is the country's: the months of
/// `facility_monthly` are cut at its midnight.
pub fn window(
    conn: &mut PgConnection,
    facility_id: FacilityId,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<LedgerRow>> {
    // The month after the one `to` falls in: its first day and its first instant.
    let next = Month::of_instant(zone, to).next().first_day();
    diesel::sql_query(include_str!("ledger_window.sql"))
        .bind::<BigInt, _>(facility_id)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<BigInt, _>(limit)
        .bind::<Date, _>(next)
        .bind::<Timestamptz, _>(local_midnight(zone, next))
        .load(conn)
}
