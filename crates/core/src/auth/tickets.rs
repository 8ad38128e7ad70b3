//! Bootstrap tickets: single-use, 60 s, memory only. The desktop shell or
//! `holdfast open` mints one so the browser logs in without the password.

use std::collections::HashMap;
use std::sync::Mutex;

use super::IssuedToken;
use crate::secret::{self, SecretHash};

pub const TICKET_LIFETIME_MS: i64 = 60 * 1000;

/// Outstanding tickets are few; this bounds memory if something mints in a loop.
const MAX_OUTSTANDING: usize = 64;

#[derive(Default)]
pub struct Tickets {
    by_id: Mutex<HashMap<String, (SecretHash, i64)>>,
}

impl Tickets {
    pub fn mint(&self, now: i64) -> IssuedToken {
        let token = secret::random_token();
        let hash = SecretHash::of(&token);
        let expires_at_ms = now + TICKET_LIFETIME_MS;
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, exp)| *exp > now);
        if map.len() >= MAX_OUTSTANDING
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, exp))| *exp)
                .map(|(id, _)| id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(hash.id(), (hash, expires_at_ms));
        IssuedToken {
            token,
            expires_at_ms,
        }
    }

    /// True once per valid, unexpired ticket; the ticket is gone afterwards.
    pub fn redeem(&self, presented: &str, now: i64) -> bool {
        let hash = SecretHash::of(presented);
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&hash.id()) {
            Some((stored, exp)) if stored.matches(&hash) => {
                let live = *exp > now;
                map.remove(&hash.id());
                live
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use() {
        let t = Tickets::default();
        let ticket = t.mint(1_000);
        assert!(t.redeem(&ticket.token, 1_001));
        assert!(!t.redeem(&ticket.token, 1_002));
    }

    #[test]
    fn expires_after_sixty_seconds() {
        let t = Tickets::default();
        let a = t.mint(0);
        let b = t.mint(0);
        assert_eq!(a.expires_at_ms, 60_000);
        assert!(t.redeem(&a.token, 59_999));
        assert!(!t.redeem(&b.token, 60_000));
    }

    #[test]
    fn unknown_and_tampered_tickets_fail() {
        let t = Tickets::default();
        let a = t.mint(0);
        assert!(!t.redeem("nope", 1));
        let mut tampered = a.token.clone();
        tampered.replace_range(0..1, if tampered.starts_with('0') { "1" } else { "0" });
        assert!(!t.redeem(&tampered, 1));
        assert!(t.redeem(&a.token, 1));
    }

    #[test]
    fn outstanding_tickets_are_bounded() {
        let t = Tickets::default();
        let first = t.mint(0);
        for _ in 0..MAX_OUTSTANDING {
            t.mint(1);
        }
        assert!(!t.redeem(&first.token, 2), "oldest ticket was evicted");
    }
}
