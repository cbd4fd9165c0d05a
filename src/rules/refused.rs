//! Refused entries kept for oversight, grouped by facility: the evidence of the rules that
//! flag refused attempts (`negative_balance_attempt`, `receipt_without_authorization`).

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Text, Timestamptz};
use serde_json::Value;

use crate::rules::ScanContext;

/// A facility's refused attempts with one of the asked codes in the scan period.
#[derive(QueryableByName, Debug)]
pub struct FacilityAttempts {
    #[diesel(sql_type = BigInt)]
    pub facility_id: i64,
    #[diesel(sql_type = BigInt)]
    pub region_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub attempt_ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    pub product_ids: Vec<i64>,
    /// `{"<code>": attempts}`.
    #[diesel(sql_type = Jsonb)]
    pub by_code: Value,
}

/// The facilities with at least `min_attempts` refused attempts of the given `codes` in the
/// period, in facility order.
pub fn by_facility(conn: &mut PgConnection, ctx: &ScanContext, codes: &[&str], min_attempts: i64) -> QueryResult<Vec<FacilityAttempts>> {
    let (from, to) = ctx.range.bounds();
    diesel::sql_query(
        "WITH a AS ( \
             SELECT a.id, a.facility_id, a.product_id, a.code FROM refused_attempts a \
             WHERE a.country_code = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND a.facility_id IS NOT NULL \
               AND a.code = ANY($4)), \
         c AS (SELECT facility_id, jsonb_object_agg(code, n) AS by_code \
               FROM (SELECT facility_id, code, count(*) AS n FROM a GROUP BY facility_id, code) x GROUP BY facility_id), \
         g AS (SELECT facility_id, array_agg(id ORDER BY id) AS attempt_ids, \
                      coalesce(array_agg(DISTINCT product_id) FILTER (WHERE product_id IS NOT NULL), '{}') AS product_ids \
               FROM a GROUP BY facility_id HAVING count(*) >= $5) \
         SELECT g.facility_id, f.region_id, g.attempt_ids, g.product_ids, c.by_code \
         FROM g JOIN c ON c.facility_id = g.facility_id JOIN facilities f ON f.id = g.facility_id \
         ORDER BY g.facility_id",
    )
    .bind::<Text, _>(&ctx.country)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Array<Text>, _>(codes)
    .bind::<BigInt, _>(min_attempts)
    .load(conn)
}
