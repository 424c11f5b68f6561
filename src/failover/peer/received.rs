//! Which of the partner's records are durable here. A record the partner
//! sent is stored at once and acknowledged once its commit is durable; until
//! then it must not go back to the partner in an answer to UPDREQALL, where
//! the partner would take it as our commitment (`reconcile::acked_as_sent`)
//! and grant up to it, though a crash here would lose it (simulator seed
//! 39573323: a peer recovering a lost database echoed the partner's records
//! on a new connection before committing them, and the partner renewed a
//! client to MCLT past a potential expiry we never stored). An update
//! request is therefore answered once every commit asked for before it is
//! durable (`requests::Deferred`); records taken after it and still
//! pending stay out of the answer (the partner sent them on this
//! connection, so it holds them).

use super::*;
use std::collections::HashSet;

/// Commits the peer asked for (`Action::Commit`), counted as the driver
/// polls and reports them, and the addresses of partner records in those
/// not yet durable.
#[derive(Debug, Default)]
pub(super) struct Commits {
    /// Commits polled by the driver.
    pub issued: u64,
    /// Commits the driver reported durable (they complete in order).
    durable: u64,
    /// Per commit holding partner records (its number in polling order):
    /// their addresses.
    receiving: VecDeque<(u64, Vec<Ipv4Addr>)>,
}

impl Peer {
    /// The oldest commit not yet reported durable is now (`poll_action`'s
    /// contract). Commits complete in the order they were polled. May
    /// answer an update request held for it (`answer_deferred`).
    pub fn commit_durable(&mut self, now: Time, store: &LeaseStore) {
        let c = &mut self.commits;
        debug_assert!(c.durable < c.issued, "a commit reported durable twice");
        c.durable = (c.durable + 1).min(c.issued);
        while c.receiving.front().is_some_and(|(n, _)| *n <= c.durable) {
            c.receiving.pop_front();
        }
        self.answer_deferred(now, store);
    }

    /// Commits asked for so far: polled, and still queued.
    pub(super) fn commits_asked(&self) -> u64 {
        self.commits.issued + self.queued_commits()
    }

    /// Whether the first `n` commits asked for are durable.
    pub(super) fn commits_durable(&self, n: u64) -> bool {
        self.commits.durable >= n
    }

    fn queued_commits(&self) -> u64 {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Commit { .. }))
            .count() as u64
    }

    /// Notes that the commit just queued (the last `Action::Commit` in the
    /// queue) stores the partner's records at `addrs`.
    pub(super) fn receiving(&mut self, addrs: Vec<Ipv4Addr>) {
        if addrs.is_empty() {
            return;
        }
        let number = self.commits_asked();
        self.commits.receiving.push_back((number, addrs));
    }

    /// Addresses whose partner record is still being committed.
    pub(super) fn not_yet_durable(&self) -> HashSet<Ipv4Addr> {
        self.commits
            .receiving
            .iter()
            .flat_map(|(_, a)| a.iter().copied())
            .collect()
    }
}
