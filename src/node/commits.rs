//! The commit ordering (DESIGN.md 1, "Durability"): every change goes to the
//! journal in a numbered batch, and what depends on a batch (the DHCPACK
//! that grants a lease, the binding acknowledgement of a partner's update,
//! the replication of a local change, a state announcement) waits until the
//! journal reports it durable. Batches complete in number order, so a thing
//! waiting on batch n also waits for every earlier change.

use super::io::Output;
use crate::dhcp::Reply;
use crate::failover::message::Message;
use crate::lease::Lease;
use crate::lease::journal::{Batch, SEQ_HIGH_KEY};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// What waits for one batch.
#[derive(Debug, Default)]
pub(super) struct Waiting {
    pub batch: u64,
    /// Replies to send: (reply, socket, source address).
    pub replies: Vec<(Reply, usize, Ipv4Addr)>,
    /// When the replies were decided (local seconds).
    pub decided: crate::time::Time,
    /// Peer messages (binding acknowledgements) to send.
    pub frames: Vec<Message>,
    /// Local changes to hand to the peer for replication.
    pub replicate: Vec<Lease>,
    /// The batch is a commit the peer asked for (`Peer::commit_durable`).
    pub peer_commit: bool,
    /// The peer's state (entered at the time given) may be announced.
    pub announce: Option<(crate::failover::State, crate::time::Time)>,
    /// Control answers (request id, answer) that report a change durable.
    pub answers: Vec<(u64, serde_json::Value)>,
    /// The runtime reservations changed by the operator may go to the partner.
    pub send_reservations: bool,
}

#[derive(Debug, Default)]
pub(super) struct Commits {
    /// The last batch number handed out.
    last: u64,
    /// The last batch reported durable (or failed).
    done: u64,
    /// The highest update sequence number written so far.
    seq_high: u64,
    waiting: VecDeque<Waiting>,
    /// Replies in `waiting`.
    parked: usize,
}

impl Commits {
    /// Starts numbering after what the journal holds: `seq_high` is the
    /// highest update sequence number it has.
    pub fn new(seq_high: u64) -> Commits {
        Commits {
            seq_high,
            ..Commits::default()
        }
    }

    /// Queues `leases` and `meta` as the next batch on `out`; returns its number.
    pub fn submit(
        &mut self,
        out: &mut VecDeque<Output>,
        leases: Vec<Lease>,
        mut meta: Vec<(String, String)>,
    ) -> u64 {
        self.last += 1;
        // The journal remembers the highest sequence number ever written,
        // even once the record that carried it is replaced.
        let high = leases.iter().map(|l| l.update_seq).max().unwrap_or(0);
        if high > self.seq_high {
            self.seq_high = high;
            meta.push((SEQ_HIGH_KEY.into(), high.to_string()));
        }
        out.push_back(Output::Journal(Batch {
            id: self.last,
            leases,
            meta,
        }));
        self.last
    }

    /// What must wait for the batch numbered `w.batch` (the latest one).
    pub fn after(&mut self, w: Waiting) {
        debug_assert!(w.batch > self.done && w.batch <= self.last);
        self.parked += w.replies.len();
        self.waiting.push_back(w);
    }

    /// Batches up to `upto` are done (durable, or failed): what waited on
    /// them, in order.
    pub fn done(&mut self, upto: u64) -> Vec<Waiting> {
        self.done = self.done.max(upto);
        let mut ready = Vec::new();
        while self.waiting.front().is_some_and(|w| w.batch <= upto) {
            let w = self.waiting.pop_front().expect("front exists");
            self.parked -= w.replies.len();
            ready.push(w);
        }
        ready
    }

    /// Every batch handed out failed or will never be reported: drops what
    /// waited on them.
    pub fn abandon(&mut self) {
        self.done = self.last;
        self.waiting.clear();
        self.parked = 0;
    }

    /// Replies waiting for their batch.
    pub fn parked(&self) -> usize {
        self.parked
    }

    /// Batches handed out and not yet done.
    pub fn pending(&self) -> u64 {
        self.last - self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::Owner;

    /// A batch of one record numbered `seq` (0: the partner's record).
    fn submit(c: &mut Commits, seq: u64) -> Vec<(String, String)> {
        let mut l = Lease::free(Ipv4Addr::new(10, 0, 0, 1), Owner::Primary);
        l.update_seq = seq;
        let mut out = VecDeque::new();
        c.submit(&mut out, vec![l], vec![]);
        match out.pop_front() {
            Some(Output::Journal(b)) => b.meta,
            other => panic!("a journal batch: {other:?}"),
        }
    }

    /// The journal keeps the highest sequence number ever written even once
    /// its record is replaced by a partner's (numbered 0), so a restart
    /// never numbers a new change at or below one the partner has seen.
    #[test]
    fn the_highest_sequence_number_is_written_once_and_only_when_it_rises() {
        let mut c = Commits::new(7);
        assert!(
            submit(&mut c, 7).is_empty(),
            "not above what the journal holds"
        );
        assert_eq!(submit(&mut c, 9), vec![(SEQ_HIGH_KEY.into(), "9".into())]);
        assert!(submit(&mut c, 0).is_empty(), "a partner's record");
        assert!(submit(&mut c, 8).is_empty());
        assert_eq!(c.pending(), 4);
    }

    /// Replies are counted while they wait and released in batch order.
    #[test]
    fn parked_replies_are_counted_until_their_batch_is_done() {
        let mut c = Commits::new(0);
        let b1 = c.submit(&mut VecDeque::new(), vec![], vec![]);
        let reply = Reply {
            bytes: vec![1],
            route: crate::dhcp::ReplyRoute::Relay {
                giaddr: Ipv4Addr::new(10, 0, 0, 1),
            },
            after_commit: true,
            ping_first: None,
        };
        c.after(Waiting {
            batch: b1,
            replies: vec![(reply, 0, Ipv4Addr::UNSPECIFIED)],
            ..Waiting::default()
        });
        assert_eq!((c.parked(), c.pending()), (1, 1));
        assert_eq!(c.done(b1).len(), 1);
        assert_eq!((c.parked(), c.pending()), (0, 0));
        c.submit(&mut VecDeque::new(), vec![], vec![]);
        c.abandon();
        assert_eq!((c.parked(), c.pending()), (0, 0));
    }
}
