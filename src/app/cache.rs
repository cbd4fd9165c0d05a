//! Report caches: a report is kept for the write generation it was computed at and served
//! again until any write commits.
//!
//! The generation is the PostgreSQL sequence `write_generation`, bumped by the write frame
//! after each commit, so every server process sharing the database sees the same value. A
//! report read before a write commits is stored under the old generation and never served
//! after the bump; one read after the commit but before the bump is newer than its key,
//! which only costs a recomputation. Should a bump fail (the database lost between the
//! commit and it), no entry is served longer than `MAX_AGE`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::analytics::{self, availability::AvailabilityReport, availability::AvailabilityRequest};
use crate::app::error::AppResult;
use crate::db::reports::flows::Source;

/// Entries kept per cache; when full it starts afresh.
const CAPACITY: usize = 512;
/// The longest an entry is served.
pub const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(QueryableByName)]
struct Generation {
    #[diesel(sql_type = BigInt)]
    generation: i64,
}

/// The current write generation.
pub fn generation(conn: &mut PgConnection) -> QueryResult<i64> {
    Ok(diesel::sql_query("SELECT last_value AS generation FROM write_generation").get_result::<Generation>(conn)?.generation)
}

/// Moves the write generation on: every cached report becomes stale.
pub fn bump(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT nextval('write_generation')").execute(conn).map(drop)
}

/// A cached report: the generation and the moment it was computed at.
type Entry<V> = (i64, Instant, Arc<V>);

/// Reports by request, each with the generation it was computed at.
pub struct ReportCache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> Default for ReportCache<K, V> {
    fn default() -> Self {
        ReportCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash + Clone, V> ReportCache<K, V> {
    /// The report of `key` at `generation`, computed by `compute` unless cached.
    pub fn get_or_compute<E>(&self, key: &K, generation: i64, compute: impl FnOnce() -> Result<V, E>) -> Result<Arc<V>, E> {
        if let Some((g, at, report)) = self.entries.lock().ok().and_then(|e| e.get(key).cloned())
            && g == generation
            && at.elapsed() < MAX_AGE
        {
            return Ok(report);
        }
        let report = Arc::new(compute()?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key.clone(), (generation, Instant::now(), report.clone()));
        }
        Ok(report)
    }
}

/// The availability report for `request`, computed once per write generation. Reports are
/// cut on the country's `today` (the reference values in force, a period in progress), so
/// the key holds it. The API and the dashboard read it through here, sharing one cache.
pub fn availability(
    cache: &ReportCache<String, AvailabilityReport>,
    conn: &mut PgConnection,
    request: &AvailabilityRequest,
    today: NaiveDate,
) -> AppResult<Arc<AvailabilityReport>> {
    let key = format!("{request:?}@{today}");
    let generation = generation(conn)?;
    Ok(cache.get_or_compute(&key, generation, || analytics::availability::report(conn, request, Source::Aggregates))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_served_again_only_for_its_generation() {
        let cache: ReportCache<&str, u32> = ReportCache::default();
        let mut computed = 0;
        let mut get = |key, generation| {
            *cache
                .get_or_compute(&key, generation, || {
                    computed += 1;
                    Ok::<_, ()>(computed)
                })
                .unwrap()
        };
        assert_eq!(get("a", 1), 1);
        assert_eq!(get("a", 1), 1, "cached");
        assert_eq!(get("b", 1), 2, "another key");
        assert_eq!(get("a", 2), 3, "a write moved the generation on");
        assert_eq!(get("a", 2), 3);
    }
}
