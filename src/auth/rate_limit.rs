//! Login throttling: exponential back-off per (username, client address) pair first, then
//! looser per-username and per-address ceilings that a known-good pair skips. Kept per
//! instance, in memory.
//!
//! Why this shape: counting failures per username alone lets anyone lock a chosen account
//! by guessing wrong on purpose, and counting per address alone locks out everyone behind
//! one NAT. Here an attacker's pair slows down quickly, while the owner's pair (the one that
//! last logged in successfully) is judged only by its own failures, so the owner still gets
//! in from the usual address while the account is under attack. No counter ever locks for
//! good: every wait is capped at [`Policy::max_wait`], and a throttled attempt is refused
//! before the password is checked, so it neither counts nor reveals anything.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures each counter allows before it starts waiting, and how waits grow.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures of one (username, address) pair before back-off starts.
    pub pair_free: u32,
    /// Failures against one username, from any address, before back-off starts.
    pub username_free: u32,
    /// Failures from one address, for any username, before back-off starts.
    pub address_free: u32,
    /// The first wait; each further failure doubles it.
    pub base_wait: Duration,
    /// No wait is ever longer.
    pub max_wait: Duration,
    /// A counter without failures for this long is forgotten.
    pub forget_after: Duration,
    /// How long a successful pair stays known-good (skips the username and address ceilings).
    pub known_good_for: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            pair_free: 5,
            username_free: 20,
            address_free: 50,
            base_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
            known_good_for: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    failures: u32,
    last: Instant,
}

#[derive(Hash, PartialEq, Eq, Clone, Debug)]
enum Key {
    Pair(String, IpAddr),
    Username(String),
    Address(IpAddr),
}

#[derive(Default)]
struct Tables {
    counters: HashMap<Key, Counter>,
    known_good: HashMap<(String, IpAddr), Instant>,
}

/// Bound on remembered entries; beyond it stale ones are dropped first.
const MAX_ENTRIES: usize = 100_000;

pub struct LoginLimiter {
    policy: Policy,
    tables: Mutex<Tables>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(Policy::default())
    }
}

impl LoginLimiter {
    pub fn new(policy: Policy) -> Self {
        Self { policy, tables: Mutex::new(Tables::default()) }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Seconds to wait before `username` may try again from `address` (`None`: go ahead).
    pub fn check(&self, username: &str, address: IpAddr) -> Option<u64> {
        self.check_at(username, address, Instant::now())
    }

    /// Counts a failed attempt of the pair.
    pub fn record_failure(&self, username: &str, address: IpAddr) {
        self.record_failure_at(username, address, Instant::now())
    }

    /// A successful login: the pair starts afresh and becomes known-good.
    pub fn record_success(&self, username: &str, address: IpAddr) {
        self.record_success_at(username, address, Instant::now())
    }

    fn wait_of(&self, counter: Option<&Counter>, free: u32, now: Instant) -> Option<Duration> {
        let c = counter?;
        if c.failures < free {
            return None;
        }
        // Doubling from the first wait; the exponent is bounded so the shift cannot overflow.
        let exponent = (c.failures - free).min(30);
        let wait = self.policy.base_wait.saturating_mul(1u32 << exponent).min(self.policy.max_wait);
        let elapsed = now.saturating_duration_since(c.last);
        (elapsed < wait).then(|| wait - elapsed)
    }

    fn check_at(&self, username: &str, address: IpAddr, now: Instant) -> Option<u64> {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let pair = (username.to_owned(), address);
        let known_good = tables.known_good.get(&pair).is_some_and(|t| now.saturating_duration_since(*t) < self.policy.known_good_for);
        let mut waits = vec![self.wait_of(tables.counters.get(&Key::Pair(pair.0.clone(), address)), self.policy.pair_free, now)];
        if !known_good {
            waits.push(self.wait_of(tables.counters.get(&Key::Username(pair.0.clone())), self.policy.username_free, now));
            waits.push(self.wait_of(tables.counters.get(&Key::Address(address)), self.policy.address_free, now));
        }
        // Round up, so a client that waits the announced seconds is let through.
        waits.into_iter().flatten().max().map(|w| w.as_millis().div_ceil(1000).max(1) as u64)
    }

    fn record_failure_at(&self, username: &str, address: IpAddr, now: Instant) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut tables, now);
        for key in [Key::Pair(username.to_owned(), address), Key::Username(username.to_owned()), Key::Address(address)] {
            let counter = tables.counters.entry(key).or_insert(Counter { failures: 0, last: now });
            if now.saturating_duration_since(counter.last) > self.policy.forget_after {
                counter.failures = 0;
            }
            counter.failures = counter.failures.saturating_add(1);
            counter.last = now;
        }
    }

    fn record_success_at(&self, username: &str, address: IpAddr, now: Instant) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut tables, now);
        tables.counters.remove(&Key::Pair(username.to_owned(), address));
        tables.known_good.insert((username.to_owned(), address), now);
    }

    fn prune(&self, tables: &mut Tables, now: Instant) {
        if tables.counters.len() > MAX_ENTRIES {
            let forget = self.policy.forget_after;
            tables.counters.retain(|_, c| now.saturating_duration_since(c.last) <= forget);
        }
        if tables.known_good.len() > MAX_ENTRIES {
            let keep = self.policy.known_good_for;
            tables.known_good.retain(|_, t| now.saturating_duration_since(*t) < keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(Policy { pair_free: 3, username_free: 6, address_free: 8, ..Policy::default() })
    }

    #[test]
    fn a_pair_backs_off_exponentially_and_is_let_through_after_the_wait() {
        let l = limiter();
        let a = ip("10.0.0.1");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at("u", a, t0), None);
            l.record_failure_at("u", a, t0);
        }
        assert_eq!(l.check_at("u", a, t0), Some(1));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.check_at("u", a, t1), None);
        l.record_failure_at("u", a, t1);
        assert_eq!(l.check_at("u", a, t1), Some(2));
        let t2 = t1 + Duration::from_secs(2);
        l.record_failure_at("u", a, t2);
        assert_eq!(l.check_at("u", a, t2), Some(4));
        // Another address is not slowed by this pair.
        assert_eq!(l.check_at("u", ip("10.0.0.2"), t2), None);
    }

    #[test]
    fn waits_are_capped_and_never_lock_for_good() {
        let l = limiter();
        let a = ip("10.0.0.1");
        let mut t = Instant::now();
        for _ in 0..60 {
            l.record_failure_at("u", a, t);
            t += Duration::from_secs(1);
        }
        let wait = l.check_at("u", a, t).unwrap();
        assert!(wait <= 15 * 60, "{wait}");
        assert_eq!(l.check_at("u", a, t + Duration::from_secs(15 * 60)), None);
    }

    #[test]
    fn the_known_good_pair_skips_the_username_and_address_ceilings() {
        let l = limiter();
        let home = ip("192.0.2.1");
        let t = Instant::now();
        l.record_success_at("owner", home, t);
        // Many attacker addresses, each under its own pair limit, exhaust the username ceiling.
        for i in 0..10 {
            let attacker = ip(&format!("198.51.100.{i}"));
            l.record_failure_at("owner", attacker, t);
        }
        assert!(l.check_at("owner", ip("203.0.113.9"), t).is_some(), "an unknown address waits");
        assert_eq!(l.check_at("owner", home, t), None, "the owner's usual address does not");
    }

    #[test]
    fn a_busy_address_slows_new_pairs_but_not_known_good_ones() {
        let l = limiter();
        let nat = ip("192.0.2.50");
        let t = Instant::now();
        l.record_success_at("alice", nat, t);
        for i in 0..8 {
            l.record_failure_at(&format!("victim{i}"), nat, t);
        }
        assert!(l.check_at("bob", nat, t).is_some());
        assert_eq!(l.check_at("alice", nat, t), None);
    }

    #[test]
    fn success_clears_the_pair_and_old_failures_are_forgotten() {
        let l = limiter();
        let a = ip("10.0.0.1");
        let t = Instant::now();
        for _ in 0..3 {
            l.record_failure_at("u", a, t);
        }
        assert!(l.check_at("u", a, t).is_some());
        l.record_success_at("u", a, t);
        assert_eq!(l.check_at("u", a, t), None);
        for _ in 0..3 {
            l.record_failure_at("v", a, t);
        }
        let later = t + Duration::from_secs(2 * 60 * 60);
        l.record_failure_at("v", a, later);
        assert_eq!(l.check_at("v", a, later), None, "a failure after an hour of quiet starts a new count");
    }
}
