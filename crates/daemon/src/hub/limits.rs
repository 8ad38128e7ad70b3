//! Rate limits of the hub (spec tables): token buckets per key (client IP,
//! device). Over the limit a request gets 429 with `Retry-After`, never a
//! status agents read as final.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    /// Requests allowed in a burst.
    capacity: f64,
    /// One request comes back every `per`.
    per: Duration,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Keys tracked before idle (full) buckets are pruned.
const PRUNE_AT: usize = 10_000;

impl Limiter {
    /// `capacity` requests, one more every `window / capacity`.
    pub fn new(capacity: u32, window: Duration) -> Self {
        Self {
            capacity: f64::from(capacity),
            per: window / capacity,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key`, or say in how many seconds one comes back.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_AT {
            let (cap, per) = (self.capacity, self.per.as_secs_f64());
            map.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() / per < cap);
        }
        let (tokens, at) = map.entry(key.to_owned()).or_insert((self.capacity, now));
        let refill = now.duration_since(*at).as_secs_f64() / self.per.as_secs_f64();
        *tokens = (*tokens + refill).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) * self.per.as_secs_f64();
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// The hub's limits.
pub struct Limits {
    /// `POST /enroll`: 5 per IP per 10 minutes.
    pub enroll: Limiter,
    /// `GET /devices/{id}/status`: 1 per 5 s per device, bursts of 10.
    pub status: Limiter,
    /// Message frames on the socket: 60 per minute per device.
    pub messages: Limiter,
    /// Everything else a device calls (key packages, queue, heads): far
    /// above the client volumes of §11.3.
    pub device_calls: Limiter,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            enroll: Limiter::new(5, Duration::from_secs(600)),
            status: Limiter::new(10, Duration::from_secs(50)),
            messages: Limiter::new(60, Duration::from_secs(60)),
            device_calls: Limiter::new(600, Duration::from_secs(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_then_says_when() {
        let l = Limiter::new(2, Duration::from_secs(60));
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        let wait = l.check("a").unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(l.check("b").is_ok(), "keys are separate");
    }
}
