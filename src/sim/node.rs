//! A simulated host: the real [`crate::node::Node`], with a disk that
//! commits journal batches in order after a delay and loses what was not
//! yet committed when the host crashes. It carries the node's outputs out
//! as the tokio server does, and keeps what the checker needs to see.

use crate::config::Config;
use crate::dhcp::{RecvContext, Reply};
use crate::failover::message::Message;
use crate::lease::journal::{Batch, EPOCH_KEY, Snapshot};
use crate::lease::{Lease, LeaseState};
use crate::node::{Command, Grant, Input, Node, Output, Received};
use crate::proto::Request;
use crate::time::Time;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// What survives a crash: the committed journal.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub leases: HashMap<Ipv4Addr, Lease>,
    pub meta: HashMap<String, String>,
    /// The identity a journal opened on this disk reports.
    pub epoch: u64,
    /// The database vanished (a wiped disk): a boot finds none, as a server
    /// does whose file is gone after `tandem init`, until the node's first
    /// batch (which records its identity) is on disk.
    pub lost: bool,
}

impl Disk {
    /// What a journal opened on this disk holds.
    fn snapshot(&self) -> Snapshot {
        let mut meta = self.meta.clone();
        meta.insert(EPOCH_KEY.into(), self.epoch.to_string());
        Snapshot {
            leases: self.leases.values().cloned().collect(),
            meta,
            created: self.lost,
        }
    }

    fn write(&mut self, b: Batch) {
        for l in b.leases {
            self.leases.insert(l.addr, l);
        }
        if b.meta.iter().any(|(k, _)| k == EPOCH_KEY) {
            self.lost = false;
        }
        self.meta.extend(b.meta);
    }
}

/// A journal batch waiting for its commit.
struct Pending {
    due: u64,
    batch: Batch,
}

/// A record that reached the disk, as the checker sees it.
pub struct Committed {
    pub addr: Ipv4Addr,
    pub client: Option<crate::proto::ClientKey>,
    /// Potential expiry in global time.
    pub pe: u64,
    /// State and owner, for the trace.
    pub what: String,
}

pub struct Host {
    pub node: Node,
    pub server_id: Ipv4Addr,
    pub up: bool,
    /// This server's clock minus the global clock, seconds.
    pub offset: i64,
    pub disk: Disk,
    queue: VecDeque<Pending>,
    /// Replies released, in order, for the world to deliver.
    pub replies: Vec<Reply>,
    /// Messages for the partner, in order; `close` if the link is to close.
    pub outbox: Vec<Message>,
    pub close: Option<String>,
    /// Answers to control commands.
    pub answers: Vec<serde_json::Value>,
    /// ACKs that left before their lease was on disk (an invariant violation).
    pub undurable: Vec<String>,
    /// Active bindings (address, chaddr) in the group being committed.
    landed: Vec<(Ipv4Addr, Vec<u8>)>,
    /// Potential expiries this server committed, in global time, for the
    /// checker (which remembers them even if the disk is later wiped).
    pub committed_pe: Vec<Committed>,
}

impl Host {
    pub fn local(&self, global: u64) -> Time {
        Time((global as i64 + self.offset).max(0) as u64)
    }

    /// Starts (or restarts) from what is on disk.
    pub fn boot(config: Arc<Config>, disk: Disk, offset: i64, global: u64) -> Host {
        let server_id = config.server.server_id.expect("sim configs set server_id");
        let now = Time((global as i64 + offset).max(0) as u64);
        let mut node = Node::start(config, disk.snapshot(), vec![server_id], now);
        node.record_grants();
        let mut h = Host {
            node,
            server_id,
            up: true,
            offset,
            disk,
            queue: VecDeque::new(),
            replies: vec![],
            outbox: vec![],
            close: None,
            answers: vec![],
            undurable: vec![],
            landed: vec![],
            committed_pe: vec![],
        };
        h.carry_out(global, 0);
        h
    }

    /// Feeds one input at global time `global`, carries the outputs out
    /// and commits what is due.
    pub fn input(&mut self, global: u64, disk_delay: u64, input: Input) {
        let now = self.local(global);
        self.node.handle(now, input);
        self.carry_out(global, disk_delay);
        self.commit_due(global, disk_delay);
    }

    /// Hands a client's datagram to the node; returns the grant it made.
    pub fn packet(&mut self, global: u64, bytes: &[u8], disk_delay: u64) -> Option<Grant> {
        let req = Request::parse(bytes).ok()?;
        let ctx = RecvContext {
            ifindex: 1,
            local: self.server_id,
            link: None,
            broadcast: false,
        };
        let r = Received {
            req,
            ctx,
            socket: 0,
        };
        self.input(global, disk_delay, Input::Request(Box::new(r)));
        self.node.take_grants().pop()
    }

    /// An operator command; returns its answer.
    pub fn control(&mut self, global: u64, disk_delay: u64, command: Command) -> serde_json::Value {
        self.input(global, disk_delay, Input::Control { id: 0, command });
        self.answers.pop().unwrap_or_default()
    }

    fn carry_out(&mut self, global: u64, disk_delay: u64) {
        while let Some(o) = self.node.poll_output() {
            match o {
                Output::Journal(batch) => {
                    let due = self
                        .queue
                        .back()
                        .map_or(0, |x| x.due)
                        .max(global + disk_delay);
                    self.queue.push_back(Pending { due, batch });
                }
                Output::Reply { reply, .. } => {
                    self.check_durable(&reply);
                    self.replies.push(reply);
                }
                Output::PeerFrame(m) => self.outbox.push(m),
                Output::PeerClose(why) => self.close = Some(why),
                Output::Answer { answer, .. } => self.answers.push(answer),
            }
        }
    }

    /// Every ACK leaves only once the lease it grants is on disk.
    fn check_durable(&mut self, r: &Reply) {
        if r.bytes.get(242) != Some(&5) || !r.after_commit {
            return;
        }
        let yi = Ipv4Addr::new(r.bytes[16], r.bytes[17], r.bytes[18], r.bytes[19]);
        // On disk now, or in the group just committed (a later batch of the
        // same group may have changed it again).
        if self
            .landed
            .iter()
            .any(|(a, hw)| *a == yi && hw[..] == r.bytes[28..34])
        {
            return;
        }
        match self.disk.leases.get(&yi) {
            Some(l) if l.state == LeaseState::Active && l.hw.bytes() == &r.bytes[28..34] => {}
            other => self.undurable.push(format!(
                "ACK for {yi} left before it was on disk: {other:?}"
            )),
        }
    }

    /// Commits every batch due by `global`, then tells the node, as the
    /// journal's writer reports a group commit.
    pub fn commit_due(&mut self, global: u64, disk_delay: u64) {
        let mut upto = None;
        while self.queue.front().is_some_and(|b| b.due <= global) {
            let p = self.queue.pop_front().expect("front exists");
            for l in &p.batch.leases {
                let pe = l.potential_expiry.0.max(l.acked_potential_expiry.0) as i64 - self.offset;
                self.committed_pe.push(Committed {
                    addr: l.addr,
                    client: l.client(),
                    pe: pe.max(0) as u64,
                    what: format!("{:?} owner {:?}", l.state, l.owner),
                });
                if l.state == LeaseState::Active {
                    self.landed.push((l.addr, l.hw.bytes().to_vec()));
                }
            }
            upto = Some(p.batch.id);
            self.disk.write(p.batch);
        }
        if let Some(upto) = upto {
            let now = self.local(global);
            self.node.handle(now, Input::Committed { upto });
            // What this released is committed at the host's next event.
            self.carry_out(global, disk_delay);
            self.landed.clear();
        }
    }
}
