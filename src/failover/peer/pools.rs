//! Free-address rebalancing in NORMAL: asking for addresses and giving them.

use super::*;

impl Peer {
    /// The partner asks for up to `wanted` free addresses of `pool`. In
    /// NORMAL we give what we hold beyond our split's share (at most 1,024
    /// at a time), committed and replicated as free records owned by the
    /// partner; the POOLRESP tells how many (0 outside NORMAL, and while a
    /// reload's pool numbering is not yet known to match the partner's).
    pub(super) fn on_pool_request(
        &mut self,
        now: Time,
        pool: PoolId,
        wanted: u32,
        store: &mut LeaseStore,
    ) {
        let mut given = 0u32;
        // A server re-learning after a lost database cannot vouch for its
        // free addresses: some may be leased by clients it granted them to
        // before the loss, unknown to the partner too (a grant made in
        // COMMUNICATIONS-INTERRUPTED). It gives none until the wait ends.
        let vouches = !store.relearning(now);
        if self.state == State::Normal && self.pools_agreed() && vouches {
            let moved = self.give_free(now, pool, wanted, store);
            given = moved.len() as u32;
            if given > 0 {
                tracing::info!(pool = pool.0, given, "giving free addresses to the partner");
                self.actions.push_back(Action::Commit {
                    leases: moved,
                    meta: vec![],
                    then: vec![],
                    replicate: true,
                });
            }
        }
        let pool = pool.0;
        self.send(now, Message::PoolResponse { pool, given });
    }

    /// Moves up to `wanted` of our spare free addresses of `pool` to the
    /// partner in `store`; returns the records to commit.
    fn give_free(
        &self,
        now: Time,
        pool: PoolId,
        wanted: u32,
        store: &mut LeaseStore,
    ) -> Vec<Lease> {
        let (me, to) = (self.cfg.me(), self.cfg.partner());
        let mine = store.free_count(pool, me) as u64;
        let theirs = store.free_count(pool, to) as u64;
        let my_share = if self.cfg.primary {
            u64::from(self.cfg.split)
        } else {
            256 - u64::from(self.cfg.split)
        };
        let target = (mine + theirs) * my_share / 256;
        let spare = mine.saturating_sub(target).min(u64::from(wanted)).min(1024);
        let addrs: Vec<Ipv4Addr> = store
            .free_addrs(pool, me)
            // A free record with history (a past decline's times) stays
            // with its owner: reuse guards compare its transaction time,
            // which a transfer would move.
            .filter(|a| {
                // (nor one with DNS work still due: a transfer
                // starts a fresh record)
                store.get(*a).is_none_or(|l| {
                    let dns_due = l
                        .dns
                        .as_ref()
                        .is_some_and(|d| d.status.may_be_in_dns() || d.has_pending_stale());
                    l.state == crate::lease::LeaseState::Free && !l.has_history() && !dns_due
                })
            })
            .take(spare as usize)
            .collect();
        let mut moved = Vec::new();
        for a in addrs {
            // The transfer is a transaction of its own: its time orders
            // it after the record it replaces, on both sides.
            let mut l = Lease::free(a, to);
            l.cltt = store.get(a).map_or(now, |old| old.cltt.max(now));
            moved.push(store.upsert(l));
        }
        moved
    }

    /// In NORMAL, asks the partner (POOLREQ, at most every 30 s per pool)
    /// for free addresses of each pool where we hold noticeably fewer than
    /// our split's share; nothing while the pool numbering may differ.
    pub(super) fn rebalance(&mut self, now: Time, store: &LeaseStore) {
        if !self.pools_agreed() {
            return;
        }
        let me = self.cfg.me();
        let share = if self.cfg.primary {
            u64::from(self.cfg.split)
        } else {
            256 - u64::from(self.cfg.split)
        };
        for pool in self.cfg.pools.clone() {
            if self.pool_request_until.get(&pool).is_some_and(|t| now < *t) {
                continue;
            }
            let mine = store.free_count(pool, me) as u64;
            let theirs = store.free_count(pool, self.cfg.partner()) as u64;
            let target = (mine + theirs) * share / 256;
            if target > mine && target - mine > ((mine + theirs) / 32).max(2) {
                let wanted = (target - mine).min(u64::from(u32::MAX)) as u32;
                tracing::info!(
                    pool = pool.0,
                    mine,
                    theirs,
                    wanted,
                    "asking the partner for free addresses"
                );
                self.pool_request_until.insert(pool, now.plus(30));
                self.send(
                    now,
                    Message::PoolRequest {
                        pool: pool.0,
                        wanted,
                    },
                );
            }
        }
    }
}
