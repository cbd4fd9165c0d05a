//! What PostgreSQL spent on each statement during a phase, from `pg_stat_statements` (the
//! bench clusters load it). Times are the server's execution and planning time of each
//! statement, so they include waits for row and advisory locks.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

#[derive(Debug, QueryableByName)]
pub struct StatementCost {
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    /// Execution and planning, milliseconds in all.
    #[diesel(sql_type = Double)]
    pub total_ms: f64,
    /// The normalised statement, whitespace folded, cut to 100 characters.
    #[diesel(sql_type = Text)]
    pub query: String,
}

/// Forgets what was counted so far (creating the extension on first use).
pub fn reset(conn: &mut PgConnection) -> QueryResult<()> {
    conn.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()")
}

/// The `n` statements that took the most time since the last [`reset`], most first
/// (the benchmark's own bookkeeping left out).
pub fn top(conn: &mut PgConnection, n: i64) -> QueryResult<Vec<StatementCost>> {
    diesel::sql_query(
        "SELECT calls, total_exec_time + total_plan_time AS total_ms, \
                left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query \
         FROM pg_stat_statements \
         WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_database%' \
         ORDER BY total_exec_time + total_plan_time DESC LIMIT $1",
    )
    .bind::<BigInt, _>(n)
    .load(conn)
}

/// Prints `costs` per request of a phase of `requests` requests.
pub fn print(costs: &[StatementCost], requests: usize) {
    let n = requests.max(1) as f64;
    println!("  {:>9} {:>9} {:>9}  statement", "per req", "ms/call", "ms/req");
    for c in costs {
        println!("  {:>9.2} {:>9.3} {:>9.3}  {}", c.calls as f64 / n, c.total_ms / c.calls.max(1) as f64, c.total_ms / n, c.query);
    }
}
