//! Refused entries kept for oversight, grouped by facility: the evidence of the rules that
//! flag refused attempts (`negative_balance_attempt`, `receipt_without_authorization`).

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};

use crate::rules::{FacilityRecords, ScanContext};

/// The facilities with at least `min_attempts` refused attempts of the given `codes` in the
/// period, in facility order: the attempts' ids, their products and `{"<code>": attempts}`
/// as the details.
pub fn by_facility(conn: &mut PgConnection, ctx: &ScanContext, codes: &[&str], min_attempts: i64) -> QueryResult<Vec<FacilityRecords>> {
    let (from, to) = ctx.range.bounds();
    diesel::sql_query(include_str!("refused.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Array<Text>, _>(codes)
        .bind::<BigInt, _>(min_attempts)
        .load(conn)
}
