//! Per-minute process metrics for `/system/metrics`: a 24 h ring of samples
//! (requests, errors, bytes in/out, CPU, RSS). Surfaces count into the open
//! minute with atomics; a ticker closes it each minute and samples the process.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tokio_util::sync::CancellationToken;

use crate::time::now_ms;

pub const MINUTE_MS: i64 = 60_000;
/// 24 h of minutes.
pub const RING_LEN: usize = 24 * 60;

/// One minute of activity. `minute_ms` is the start of the minute.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    pub minute_ms: i64,
    pub requests: u64,
    pub errors: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Process CPU over the minute, in percent of one core.
    pub cpu_percent: f32,
    pub rss_bytes: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

pub struct Metrics {
    open: Counters,
    open_minute_ms: AtomicU64,
    ring: Mutex<VecDeque<Sample>>,
    /// None where the platform offers no process statistics.
    system: Mutex<Option<System>>,
    pid: Pid,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let pid = Pid::from_u32(std::process::id());
        let mut system = System::new().ok();
        if let Some(system) = system.as_mut() {
            refresh(system, pid);
        }
        Self {
            open: Counters::default(),
            open_minute_ms: AtomicU64::new(minute_of(now_ms()) as u64),
            ring: Mutex::new(VecDeque::with_capacity(RING_LEN)),
            system: Mutex::new(system),
            pid,
        }
    }

    /// Count one finished request.
    pub fn record_request(&self, is_error: bool) {
        self.open.requests.fetch_add(1, Ordering::Relaxed);
        if is_error {
            self.open.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn add_bytes_in(&self, n: u64) {
        self.open.bytes_in.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_bytes_out(&self, n: u64) {
        self.open.bytes_out.fetch_add(n, Ordering::Relaxed);
    }

    /// Close the open minute into the ring and open the next one.
    pub fn tick(&self, now: i64) {
        let (cpu_percent, rss_bytes) = self.sample_process();
        let sample = Sample {
            minute_ms: self
                .open_minute_ms
                .swap(minute_of(now) as u64, Ordering::Relaxed) as i64,
            requests: self.open.requests.swap(0, Ordering::Relaxed),
            errors: self.open.errors.swap(0, Ordering::Relaxed),
            bytes_in: self.open.bytes_in.swap(0, Ordering::Relaxed),
            bytes_out: self.open.bytes_out.swap(0, Ordering::Relaxed),
            cpu_percent,
            rss_bytes,
        };
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.len() == RING_LEN {
            ring.pop_front();
        }
        ring.push_back(sample);
    }

    /// Samples whose minute lies in `[from, to]`, oldest first, ending with
    /// the still-open minute so far (its CPU figure is since the last tick).
    pub fn samples(&self, from: Option<i64>, to: Option<i64>) -> Vec<Sample> {
        let in_range = |m: i64| from.is_none_or(|f| m >= minute_of(f)) && to.is_none_or(|t| m <= t);
        let mut out: Vec<Sample> = {
            let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            ring.iter()
                .filter(|s| in_range(s.minute_ms))
                .cloned()
                .collect()
        };
        let open_minute = self.open_minute_ms.load(Ordering::Relaxed) as i64;
        if in_range(open_minute) {
            let (cpu_percent, rss_bytes) = self.peek_process();
            out.push(Sample {
                minute_ms: open_minute,
                requests: self.open.requests.load(Ordering::Relaxed),
                errors: self.open.errors.load(Ordering::Relaxed),
                bytes_in: self.open.bytes_in.load(Ordering::Relaxed),
                bytes_out: self.open.bytes_out.load(Ordering::Relaxed),
                cpu_percent,
                rss_bytes,
            });
        }
        out
    }

    /// Tick at each minute boundary until cancelled.
    pub async fn run(&self, cancel: CancellationToken) {
        loop {
            let now = now_ms();
            let next = minute_of(now) + MINUTE_MS;
            let wait = Duration::from_millis((next - now).max(1) as u64);
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => self.tick(now_ms()),
            }
        }
    }

    /// CPU since the previous refresh, and RSS; resets the CPU baseline.
    fn sample_process(&self) -> (f32, u64) {
        let mut system = self.system.lock().unwrap_or_else(|p| p.into_inner());
        let Some(system) = system.as_mut() else {
            return (0.0, 0);
        };
        refresh(system, self.pid);
        read(system, self.pid)
    }

    /// Current RSS and the CPU figure of the last refresh, without resetting.
    fn peek_process(&self) -> (f32, u64) {
        let system = self.system.lock().unwrap_or_else(|p| p.into_inner());
        system.as_ref().map_or((0.0, 0), |s| read(s, self.pid))
    }
}

fn refresh(system: &mut System, pid: Pid) {
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing().with_cpu().with_memory(),
    );
}

fn read(system: &System, pid: Pid) -> (f32, u64) {
    system
        .process(pid)
        .map(|p| (p.cpu_usage(), p.memory()))
        .unwrap_or((0.0, 0))
}

/// The minute `ms` falls in; saturates for times near `i64::MIN` (a
/// client's `?from=` can be anything).
fn minute_of(ms: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(MINUTE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_time_bounds_are_accepted() {
        let m = Metrics::new();
        for (from, to) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (-1, 0)] {
            let _ = m.samples(Some(from), Some(to));
        }
        assert_eq!(minute_of(i64::MIN), i64::MIN);
        assert_eq!(minute_of(-1), -MINUTE_MS);
        assert_eq!(minute_of(MINUTE_MS + 5), MINUTE_MS);
    }

    #[test]
    fn counts_land_in_the_open_minute_then_the_ring() {
        let m = Metrics::new();
        m.record_request(false);
        m.record_request(true);
        m.add_bytes_in(10);
        m.add_bytes_out(20);
        let open = m.samples(None, None);
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].requests, open[0].errors), (2, 1));
        m.tick(now_ms() + MINUTE_MS);
        let all = m.samples(None, None);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].bytes_in, 10);
        assert_eq!(all[0].bytes_out, 20);
        assert!(all[0].rss_bytes > 0);
        assert_eq!(all[1].requests, 0);
    }

    #[test]
    fn ring_holds_a_day_and_filters_by_range() {
        let m = Metrics::new();
        let start = minute_of(now_ms());
        for i in 1..=(RING_LEN as i64 + 5) {
            m.tick(start + i * MINUTE_MS);
        }
        let all = m.samples(None, None);
        assert_eq!(all.len(), RING_LEN + 1);
        let last_closed = all[RING_LEN - 1].minute_ms;
        let window = m.samples(Some(last_closed - MINUTE_MS), Some(last_closed));
        assert_eq!(window.len(), 2);
        assert!(m.samples(Some(i64::MAX / 2), None).is_empty());
    }
}
