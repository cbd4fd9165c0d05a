//! Supervision of the private cluster `serve` starts: a thread notices the postmaster
//! exiting, logs it and starts it again with back-off on the same port, folder and password,
//! while the process answers `503 database_unavailable` at once instead of waiting on the pool.
//!
//! The state is process-wide because a process supervises at most one private cluster;
//! a process that supervises none (tests, `DATABASE_URL`) never reports the database down
//! here and relies on the pool's connection timeout instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::embedded::EmbeddedPostgres;

/// How often the supervisor looks at the postmaster.
const POLL: Duration = Duration::from_millis(200);
/// The first wait before a restart; it doubles after each failed attempt, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

static DOWN: AtomicBool = AtomicBool::new(false);

/// Whether the supervised cluster is known to be down (exited and not yet back).
pub fn database_down() -> bool {
    DOWN.load(Ordering::Acquire)
}

fn set_down(down: bool) {
    DOWN.store(down, Ordering::Release);
}

/// The waits between restart attempts: 0.5 s, 1 s, 2 s, ... then 30 s for ever.
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.min(16))).min(MAX_BACKOFF)
}

/// The running supervisor thread, which owns the cluster. [`stop`](Self::stop) shuts both down.
pub struct Supervisor {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// Hands `cluster` (running) to a supervisor thread. Restarted postmasters are tied to
    /// that thread (see [`EmbeddedPostgres`]), which lives until [`stop`](Self::stop).
    pub fn start(cluster: EmbeddedPostgres) -> anyhow::Result<Supervisor> {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new().name("pg-supervisor".to_owned()).spawn(move || supervise(cluster, &stopped))?;
        Ok(Supervisor { stop, thread: Some(thread) })
    }

    /// Stops supervising and shuts the cluster down (waits for both).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Waits `period`; true when asked to stop meanwhile (or when the owner is gone).
fn stop_requested(stopped: &mpsc::Receiver<()>, period: Duration) -> bool {
    !matches!(stopped.recv_timeout(period), Err(RecvTimeoutError::Timeout))
}

fn supervise(mut cluster: EmbeddedPostgres, stopped: &mpsc::Receiver<()>) {
    set_down(false);
    while !stop_requested(stopped, POLL) {
        let Some(status) = cluster.exited() else { continue };
        set_down(true);
        let since = Instant::now();
        tracing::error!(%status, port = cluster.port(), "the private PostgreSQL cluster exited; requests answer 503 until it is back");
        let mut attempt = 0;
        loop {
            let wait = backoff(attempt);
            if stop_requested(stopped, wait) {
                return;
            }
            attempt += 1;
            match cluster.restart() {
                Ok(()) => {
                    set_down(false);
                    tracing::warn!(attempt, down_ms = since.elapsed().as_millis() as u64, "the private PostgreSQL cluster is back");
                    break;
                }
                Err(e) => {
                    tracing::error!(
                        attempt,
                        error = format!("{e:#}"),
                        retry_in_ms = backoff(attempt).as_millis() as u64,
                        "restarting the private PostgreSQL cluster failed"
                    )
                }
            }
        }
    }
    // Dropping the cluster (here, on this thread) shuts it down.
    drop(cluster);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_starts_at_half_a_second_doubles_and_stops_at_thirty_seconds() {
        let waits: Vec<u128> = (0..9).map(|a| backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
