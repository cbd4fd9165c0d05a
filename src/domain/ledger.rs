//! Ledger arithmetic: placing new entries into a facility-product timeline so that the
//! balance is never negative at any date.
//!
//! Entries are ordered by business time, then by id; a new entry goes after every existing
//! entry at the same time. A `Timeline` holds the current balance and the existing entries
//! later than the earliest time about to be placed; new entries are placed in
//! non-decreasing time order (a batch is sorted first).

use chrono::{DateTime, Utc};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// The entry would make the balance negative at its own time or at a later entry.
    #[error("stock would go negative: balance {balance_before_units} at that time, lowest after the entry {lowest_balance_units}")]
    WouldGoNegative {
        /// Balance just before the entry, at its time.
        balance_before_units: i64,
        /// The lowest balance the timeline would reach with the entry (negative).
        lowest_balance_units: i64,
    },
    #[error("entries must be placed in time order")]
    OutOfOrder,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    /// Times of the existing later entries, ascending.
    times: Vec<DateTime<Utc>>,
    /// Balance after each existing later entry, from existing entries only.
    running: Vec<i64>,
    /// `suffix_min[i]` = min of `running[i..]`; `suffix_min[len]` = `i64::MAX`.
    suffix_min: Vec<i64>,
    /// Balance before the first existing later entry.
    base: i64,
    /// Sum of the deltas placed so far.
    placed: i64,
    last_placed: Option<DateTime<Utc>>,
}

impl Timeline {
    /// `current_units`: the balance after every existing entry. `later`: existing entries
    /// after the earliest time to be placed, as (time, delta), in ledger order.
    pub fn new(current_units: i64, later: &[(DateTime<Utc>, i64)]) -> Self {
        let base = current_units - later.iter().map(|(_, d)| d).sum::<i64>();
        let mut running = Vec::with_capacity(later.len());
        let mut balance = base;
        for (_, d) in later {
            balance += d;
            running.push(balance);
        }
        let mut suffix_min = vec![i64::MAX; later.len() + 1];
        for i in (0..later.len()).rev() {
            suffix_min[i] = suffix_min[i + 1].min(running[i]);
        }
        Timeline { times: later.iter().map(|(t, _)| *t).collect(), running, suffix_min, base, placed: 0, last_placed: None }
    }

    /// Balance just before an entry placed at `at` (after all entries at or before `at`).
    pub fn balance_at(&self, at: DateTime<Utc>) -> i64 {
        let k = self.times.partition_point(|t| *t <= at);
        let existing = if k == 0 { self.base } else { self.running[k - 1] };
        existing + self.placed
    }

    /// Places an entry of `delta` units at `at`; returns the balance just after it.
    pub fn place(&mut self, at: DateTime<Utc>, delta: i64) -> Result<i64, LedgerError> {
        if self.last_placed.is_some_and(|last| at < last) {
            return Err(LedgerError::OutOfOrder);
        }
        let k = self.times.partition_point(|t| *t <= at);
        let before = if k == 0 { self.base } else { self.running[k - 1] } + self.placed;
        let after = before + delta;
        let later_low = match self.suffix_min[k] {
            i64::MAX => i64::MAX,
            m => m + self.placed + delta,
        };
        let lowest = after.min(later_low);
        if lowest < 0 {
            return Err(LedgerError::WouldGoNegative { balance_before_units: before, lowest_balance_units: lowest });
        }
        self.placed += delta;
        self.last_placed = Some(at);
        Ok(after)
    }

    /// Balance after every entry, existing and placed.
    pub fn current(&self) -> i64 {
        self.running.last().copied().unwrap_or(self.base) + self.placed
    }
}

/// How far from now a business time may lie: at most `backdate_days` in the past and a
/// few minutes of clock skew in the future.
pub fn check_business_time(now: DateTime<Utc>, at: DateTime<Utc>, backdate_days: i64) -> Result<(), String> {
    if at > now + chrono::Duration::minutes(5) {
        return Err("is in the future".to_owned());
    }
    if at < now - chrono::Duration::days(backdate_days) {
        return Err(format!("is more than {backdate_days} days in the past (the backdating window)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn appending_at_the_end_checks_the_current_balance() {
        let mut tl = Timeline::new(5, &[]);
        assert_eq!(tl.place(t(10), -3), Ok(2));
        assert_eq!(tl.place(t(11), -2), Ok(0));
        assert_eq!(tl.place(t(12), -1), Err(LedgerError::WouldGoNegative { balance_before_units: 0, lowest_balance_units: -1 }));
        assert_eq!(tl.current(), 0);
    }

    #[test]
    fn a_backdated_debit_may_not_break_a_later_balance() {
        // Day 1: +10 (not loaded); day 5: -8 → balance 2. Current balance is 2.
        let later = [(t(5), -8)];
        let mut tl = Timeline::new(2, &later);
        assert_eq!(tl.balance_at(t(3)), 10);
        // Taking 5 on day 3 leaves 5 then, but day 5 would fall to -3.
        assert_eq!(tl.place(t(3), -5), Err(LedgerError::WouldGoNegative { balance_before_units: 10, lowest_balance_units: -3 }));
        assert_eq!(tl.place(t(3), -2), Ok(8));
        assert_eq!(tl.current(), 0);
    }

    #[test]
    fn entries_at_the_same_time_go_after_existing_ones() {
        let later = [(t(5), 4)];
        let tl = Timeline::new(4, &later);
        assert_eq!(tl.balance_at(t(5)), 4);
        assert_eq!(tl.balance_at(t(4)), 0);
    }

    #[test]
    fn business_times_stay_within_the_window() {
        let now = t(20);
        assert!(check_business_time(now, t(19), 30).is_ok());
        assert!(check_business_time(now, now + chrono::Duration::minutes(4), 30).is_ok());
        assert!(check_business_time(now, t(21), 30).is_err());
        assert!(check_business_time(now, t(10), 5).is_err());
        assert!(check_business_time(now, t(15), 5).is_ok());
    }

    #[test]
    fn placing_out_of_order_is_refused() {
        let mut tl = Timeline::new(10, &[]);
        tl.place(t(5), -1).unwrap();
        assert_eq!(tl.place(t(4), -1), Err(LedgerError::OutOfOrder));
    }

    /// The brute-force truth: insert every accepted entry, recompute all balances.
    fn brute_force(existing: &[(DateTime<Utc>, i64)], placements: &[(DateTime<Utc>, i64)]) -> Vec<bool> {
        let mut entries: Vec<(DateTime<Utc>, usize, i64)> = existing.iter().enumerate().map(|(i, (t, d))| (*t, i, *d)).collect();
        let mut next_seq = entries.len();
        placements
            .iter()
            .map(|(at, d)| {
                let mut candidate = entries.clone();
                candidate.push((*at, next_seq, *d));
                candidate.sort_by_key(|(t, s, _)| (*t, *s));
                let mut balance = 0;
                let ok = candidate.iter().all(|(_, _, d)| {
                    balance += d;
                    balance >= 0
                });
                if ok {
                    entries = candidate;
                    next_seq += 1;
                }
                ok
            })
            .collect()
    }

    proptest! {
        #[test]
        fn placement_agrees_with_recomputing_every_balance(
            existing in proptest::collection::vec((1u32..28, -5i64..8), 0..20),
            placements in proptest::collection::vec((1u32..28, -6i64..6), 1..12),
            window_start in 1u32..28,
        ) {
            // A valid existing history: keep only entries that leave the balance non-negative.
            let mut history: Vec<(DateTime<Utc>, i64)> = existing.iter().map(|(d, x)| (t(*d), *x)).filter(|(_, x)| *x != 0).collect();
            history.sort_by_key(|(t, _)| *t);
            let mut balance = 0;
            history.retain(|(_, d)| { if balance + d >= 0 { balance += d; true } else { false } });
            let mut placements: Vec<(DateTime<Utc>, i64)> = placements.iter().map(|(d, x)| (t((*d).max(window_start)), *x)).filter(|(_, x)| *x != 0).collect();
            placements.sort_by_key(|(t, _)| *t);
            prop_assume!(!placements.is_empty());
            let earliest = placements[0].0;
            let later: Vec<(DateTime<Utc>, i64)> = history.iter().filter(|(t, _)| *t > earliest).cloned().collect();
            let mut tl = Timeline::new(balance, &later);
            let got: Vec<bool> = placements.iter().map(|(at, d)| tl.place(*at, *d).is_ok()).collect();
            prop_assert_eq!(got, brute_force(&history, &placements));
        }
    }
}
