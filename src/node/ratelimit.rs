//! Per-client packet budget: a client (or a spoofer pretending to be many)
//! cannot take more than its share of the single engine task.

use crate::proto::ClientKey;
use std::collections::HashMap;

/// Fixed one-second windows; at most `per_second` packets per client and
/// `global` packets in all in each (0 turns either off).
pub struct RateLimiter {
    per_second: u32,
    global: u32,
    total: u32,
    window: u64,
    counts: HashMap<ClientKey, u32>,
    /// Bound on distinct clients tracked per window, so a flood of random
    /// identities costs bounded memory; beyond it new clients share one budget.
    max_clients: usize,
    overflow: u32,
}

impl RateLimiter {
    /// Takes new limits (a reload); the current window's counts stand.
    pub fn set_limits(&mut self, per_second: u32, global: u32) {
        self.per_second = per_second;
        self.global = global;
    }

    /// A limiter allowing `per_second` packets per client and `global` packets in all per
    /// second; 0 turns either off.
    pub fn new(per_second: u32, global: u32) -> RateLimiter {
        RateLimiter {
            per_second,
            global,
            total: 0,
            window: 0,
            counts: HashMap::new(),
            max_clients: 100_000,
            overflow: 0,
        }
    }

    /// Whether a packet from `client` at second `now` is within budget.
    pub fn allow(&mut self, client: &ClientKey, now: u64) -> bool {
        if now != self.window {
            self.window = now;
            self.counts.clear();
            self.overflow = 0;
            self.total = 0;
        }
        self.total += 1;
        if self.global > 0 && self.total > self.global {
            return false;
        }
        if self.per_second == 0 {
            return true;
        }
        if let Some(n) = self.counts.get_mut(client) {
            *n += 1;
            return *n <= self.per_second;
        }
        if self.counts.len() >= self.max_clients {
            self.overflow += 1;
            return self.overflow <= self.per_second * 100;
        }
        self.counts.insert(client.clone(), 1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_per_second() {
        let mut r = RateLimiter::new(3, 0);
        let a = ClientKey::Hw(1, vec![1].into());
        let b = ClientKey::Hw(1, vec![2].into());
        assert!((0..3).all(|_| r.allow(&a, 10)));
        assert!(!r.allow(&a, 10));
        assert!(r.allow(&b, 10), "other clients are unaffected");
        assert!(r.allow(&a, 11), "a new second restores the budget");
        assert!(
            RateLimiter::new(0, 0).allow(&a, 1),
            "zero disables the limit"
        );
    }

    #[test]
    fn global_limit_caps_all_clients() {
        let mut r = RateLimiter::new(0, 5);
        let allowed = (0u8..20)
            .filter(|i| r.allow(&ClientKey::Hw(1, vec![*i].into()), 7))
            .count();
        assert_eq!(allowed, 5);
        assert!(r.allow(&ClientKey::Hw(1, vec![0].into()), 8));
    }
}
