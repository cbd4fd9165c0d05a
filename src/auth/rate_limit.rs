//! Login rate limiting: at most `max_failures` failed logins per username and per client
//! address in a sliding window. Kept per instance, in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self { window, max_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// Seconds to wait if any of `keys` is over its limit.
    pub fn blocked_for(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some(times) = map.get_mut(key) {
                while times.front().is_some_and(|t| now.duration_since(*t) > self.window) {
                    times.pop_front();
                }
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.front()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest)).as_secs().max(1);
                    wait = Some(wait.map_or(left, |w: u64| w.max(left)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) <= self.window));
        }
        for key in keys {
            map.entry(key.clone()).or_default().push_back(now);
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_clears() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = vec!["user:a".to_owned()];
        for _ in 0..3 {
            assert!(limiter.blocked_for(&keys).is_none());
            limiter.record_failure(&keys);
        }
        assert!(limiter.blocked_for(&keys).is_some());
        limiter.clear("user:a");
        assert!(limiter.blocked_for(&keys).is_none());
    }
}
