//! The update-request exchange (draft-ietf-dhc-failover-12 UPDREQ,
//! UPDREQALL, UPDDONE): answering the partner's request with what it lacks,
//! and taking the end of its answer to ours.

use super::*;

/// What the partner asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum UpdateRequest {
    /// Our changes after this sequence number (UPDREQ).
    Since(u64),
    /// Every binding (UPDREQALL).
    All,
}

/// A request held until what it must hold is durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Deferred {
    req: UpdateRequest,
    /// The commits asked for before it (`received::Commits`).
    commits: u64,
}

impl Peer {
    /// The partner asks for our changes (UPDREQ, after a sequence
    /// number) or for every binding (UPDREQALL). The answer ends with
    /// UPDDONE, which tells the partner it now holds our whole database; so
    /// it waits until every local change is durable (a record whose newest
    /// version is still being committed would be in no answer at all: its
    /// durable version is no longer in memory; simulator seeds 21139914
    /// and 41647695, the second when only changes made before the request
    /// were waited for), and until the partner's records taken before the
    /// request are durable, or an UPDREQALL answer would echo them
    /// uncommitted (`received`). `local_committed` and `commit_durable`
    /// answer a request held here.
    pub(super) fn on_update_request(&mut self, now: Time, req: UpdateRequest, store: &LeaseStore) {
        self.sync.deferred = Some(Deferred {
            req,
            commits: self.commits_asked(),
        });
        self.answer_deferred(now, store);
    }

    /// Answers the held request once what it must hold is durable.
    /// Returns whether it did.
    pub(super) fn answer_deferred(&mut self, now: Time, store: &LeaseStore) -> bool {
        let Some(d) = self.sync.deferred else {
            return false;
        };
        if !store.all_durable() || !self.commits_durable(d.commits) {
            return false;
        }
        self.sync.deferred = None;
        self.answer_request(now, d.req, store);
        true
    }

    fn answer_request(&mut self, now: Time, req: UpdateRequest, store: &LeaseStore) {
        let UpdateRequest::Since(since) = req else {
            return self.on_update_request_all(now, store);
        };
        // Everything the partner has not acknowledged goes again, even what
        // it says it received: its verdict on an update sent on an earlier
        // connection (a refusal, above all) may have been lost with that
        // connection, and a later cumulative acknowledgement would take
        // silence for agreement (simulator seed 21207067). A record it
        // already took is taken again as the same binding.
        let changes = store.changes_since(since.min(store.acked_seq()));
        tracing::info!(since, records = changes.len(), "partner asked for updates");
        self.answer(now, changes);
    }

    /// The partner wants every binding: everything durable here, oldest
    /// change first. Its own records still being committed here (sent
    /// after its request) stay out (`received`): it has them.
    fn on_update_request_all(&mut self, now: Time, store: &LeaseStore) {
        let pending = self.not_yet_durable();
        let mut all: Vec<Lease> = store
            .iter()
            .filter(|l| store.is_durable(l) && !pending.contains(&l.addr))
            .cloned()
            .collect();
        all.sort_by_key(|l| (l.update_seq, l.addr));
        tracing::info!(records = all.len(), "partner asked for every binding");
        self.answer(now, all);
    }

    /// The partner has sent everything we asked for.
    pub(super) fn on_update_done(&mut self, now: Time, store: &mut LeaseStore) {
        self.sync.got_done = true;
        if self.sync.full {
            self.p.partner_epoch = self.partner.as_ref().map(|p| p.epoch);
            self.end_relearning(now, store);
        }
        tracing::info!(full = self.sync.full, "partner finished sending updates");
        self.persist(now);
        self.evaluate(now);
    }

    /// A full copy of a partner whose database covers the pair's bindings
    /// is here: ours lacks nothing any more but what we granted without the
    /// partner's acknowledgement before the loss. Those leases ran at most
    /// MCLT (the MCLT cap), so the wait shrinks to MCLT from
    /// now, whatever state this start took (RECOVER, or PARTNER-DOWN
    /// declared from STARTUP).
    fn end_relearning(&mut self, now: Time, store: &mut LeaseStore) {
        let Some(until) = store.relearn_until().filter(|t| now < *t) else {
            return;
        };
        if !self.partner.as_ref().is_some_and(|p| p.covers) {
            return;
        }
        let until = until.min(now.plus(self.cfg.mclt));
        tracing::info!(%until, "the partner sent every binding of the pair: re-learning after the lost database ends MCLT from now");
        store.set_relearn_until(Some(until));
        self.actions.push_back(Action::Commit {
            leases: vec![],
            meta: vec![crate::lease::relearn::to_meta(Some(until))],
            then: vec![],
            replicate: false,
        });
    }

    /// Queues `records` as the answer to the partner's request, then
    /// UPDDONE, ahead of any state announcement still waiting.
    fn answer(&mut self, now: Time, records: Vec<Lease>) {
        // The answer holds every record queued so far; a pending state
        // announcement still follows them.
        let announcements: Vec<Out> = self
            .out
            .drain(..)
            .filter(|o| matches!(o, Out::State(..)))
            .collect();
        self.out.extend(records.into_iter().map(Out::Lease));
        self.out.push_back(Out::Done);
        self.out.extend(announcements);
        self.sync.answered = true;
        self.pump(now);
    }
}
