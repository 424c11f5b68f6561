//! A simulated server: the real `Engine`, `LeaseStore` and `Peer`, with a
//! disk that commits in order after a delay and loses what was not yet
//! committed when the server crashes.

use crate::config::Config;
use crate::dhcp::{Engine, RecvContext, Reply, Verdict};
use crate::failover::message::Message;
use crate::failover::{Action, Peer, PeerConfig, Persisted};
use crate::lease::{Lease, LeaseStore};
use crate::proto::Request;
use crate::time::Time;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub leases: HashMap<Ipv4Addr, Lease>,
    pub meta: HashMap<String, String>,
    pub epoch: u64,
    /// The database vanished (a wiped disk): the next boot finds none, as
    /// a server does whose file is gone after `tandem init`.
    pub lost: bool,
}

impl Disk {
    pub fn seq_high(&self) -> u64 {
        let rows = self
            .leases
            .values()
            .map(|l| l.update_seq)
            .max()
            .unwrap_or(0);
        rows.max(
            self.meta
                .get("seq_high")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        )
    }
}

/// A journal batch waiting for its commit.
pub struct Batch {
    pub due: u64,
    pub leases: Vec<Lease>,
    pub meta: Vec<(String, String)>,
    pub frames: Vec<Message>,
    pub replicate: Vec<Lease>,
    pub replies: Vec<Reply>,
    /// The peer's state may go out once this batch is on disk.
    pub announce: bool,
}

/// An ACK the engine decided, for the checker.
#[derive(Clone, Debug)]
pub struct Grant {
    pub lease: Lease,
    pub partner_down: bool,
    pub local_now: Time,
}

pub struct Node {
    pub server_id: Ipv4Addr,
    pub engine: Engine,
    pub store: LeaseStore,
    pub peer: Peer,
    pub up: bool,
    /// This server's clock minus the global clock, seconds.
    pub offset: i64,
    pub disk: Disk,
    pub queue: VecDeque<Batch>,
    /// Messages the peer wants sent now; `close` if it wants the link closed.
    pub outbox: Vec<Message>,
    pub close: Option<String>,
    /// ACKs that left before their lease was on disk (an invariant violation).
    pub undurable: Vec<String>,
    /// Potential expiries this server committed, in global time, for the
    /// checker (which remembers them even if the disk is later wiped).
    pub committed_pe: Vec<Committed>,
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

impl Node {
    pub fn local(&self, global: u64) -> Time {
        Time((global as i64 + self.offset).max(0) as u64)
    }

    /// Starts (or restarts) from what is on disk.
    pub fn boot(config: Arc<Config>, mut disk: Disk, offset: i64, global: u64) -> Node {
        use crate::lease::relearn;
        let server_id = config.server.server_id.expect("sim configs set server_id");
        let mut store = LeaseStore::new(&config, config.split());
        for l in disk.leases.values() {
            store.put(l.clone());
        }
        let p = Persisted::from_meta(&disk.meta);
        store.replicate(disk.seq_high() + 1, p.acked_seq);
        let now = Time((global as i64 + offset).max(0) as u64);
        let lost = std::mem::take(&mut disk.lost);
        if lost {
            // What `tandem serve` writes when it finds its database gone.
            let (k, v) = relearn::to_meta(Some(now.plus(relearn::wait(&config))));
            disk.meta.insert(k, v);
        }
        store.set_relearn_until(relearn::from_meta(&disk.meta).filter(|t| *t > now));
        let mut peer = Peer::new(
            PeerConfig::from_config(&config).expect("sim configs have failover"),
            p,
            disk.epoch,
            now,
        );
        if lost {
            peer.set_lost_database();
        }
        Node {
            engine: Engine::new(config, vec![server_id]),
            server_id,
            store,
            peer,
            up: true,
            offset,
            disk,
            queue: VecDeque::new(),
            outbox: vec![],
            close: None,
            undurable: vec![],
            committed_pe: vec![],
        }
    }

    fn enqueue(&mut self, global: u64, delay: u64, b: Batch) {
        let due = self.queue.back().map_or(0, |x| x.due).max(global + delay);
        self.queue.push_back(Batch { due, ..b });
    }

    /// Handles one client packet; returns replies to send now and the grant if any.
    pub fn packet(
        &mut self,
        global: u64,
        bytes: &[u8],
        disk_delay: u64,
    ) -> (Vec<Reply>, Option<Grant>) {
        let Ok(req) = Request::parse(bytes) else {
            return (vec![], None);
        };
        let now = self.local(global);
        let ctx = RecvContext {
            ifindex: 1,
            local: self.server_id,
            link: None,
            broadcast: false,
        };
        let policy = self.peer.policy();
        let out = self
            .engine
            .handle(now, &mut self.store, &policy, &req, &ctx);
        if let Verdict::Offer(a) = out.verdict {
            let r = self.store.get(a);
            tracing::debug!(offer = %a, record = ?r.map(|l| (l.state, l.update_seq, self.store.is_synced(l), l.expires, l.potential_expiry, l.acked_potential_expiry)), acked = self.store.acked_seq(), policy = ?self.peer.policy(), now = now.0, "sim offer");
        }
        let grant = match out.verdict {
            Verdict::Ack(_) => out.changes.first().map(|l| Grant {
                lease: l.clone(),
                partner_down: policy.state == crate::failover::State::PartnerDown,
                local_now: now,
            }),
            _ => None,
        };
        let mut now_replies = vec![];
        if out.changes.is_empty() {
            now_replies.extend(out.reply);
        } else {
            let (later, immediate): (Vec<_>, Vec<_>) =
                out.reply.into_iter().partition(|r| r.after_commit);
            now_replies.extend(immediate);
            let b = Batch {
                due: 0,
                leases: out.changes.clone(),
                meta: vec![],
                frames: vec![],
                replicate: out.changes,
                replies: later,
                announce: false,
            };
            self.enqueue(global, disk_delay, b);
        }
        self.drain(global, disk_delay);
        (now_replies, grant)
    }

    pub fn tick(&mut self, global: u64, disk_delay: u64) {
        let now = self.local(global);
        let changes = self.engine.tick(now, &mut self.store);
        if !changes.is_empty() {
            let b = Batch {
                due: 0,
                leases: changes.clone(),
                meta: vec![],
                frames: vec![],
                replicate: changes,
                replies: vec![],
                announce: false,
            };
            self.enqueue(global, disk_delay, b);
        }
        self.peer.tick(now, &mut self.store);
        self.drain(global, disk_delay);
    }

    /// Moves the peer's actions into the outbox and the disk queue.
    pub fn drain(&mut self, global: u64, disk_delay: u64) {
        while let Some(a) = self.peer.poll_action() {
            match a {
                Action::Send(m) => self.outbox.push(m),
                Action::Close(why) => self.close = Some(why),
                Action::Announce => self.enqueue(
                    global,
                    disk_delay,
                    Batch {
                        due: 0,
                        leases: vec![],
                        meta: vec![],
                        frames: vec![],
                        replicate: vec![],
                        replies: vec![],
                        announce: true,
                    },
                ),
                Action::Commit {
                    leases,
                    meta,
                    then,
                    replicate,
                } => {
                    let replicate = if replicate { leases.clone() } else { vec![] };
                    self.enqueue(
                        global,
                        disk_delay,
                        Batch {
                            due: 0,
                            leases,
                            meta,
                            frames: then,
                            replicate,
                            replies: vec![],
                            announce: false,
                        },
                    );
                }
            }
        }
    }

    /// Every ACK leaves only once the lease it grants is on disk.
    fn check_durable(&mut self, r: &Reply) {
        if r.bytes.get(242) != Some(&5) || !r.after_commit {
            return;
        }
        let yi = Ipv4Addr::new(r.bytes[16], r.bytes[17], r.bytes[18], r.bytes[19]);
        match self.disk.leases.get(&yi) {
            Some(l)
                if l.state == crate::lease::LeaseState::Active
                    && l.hw.bytes() == &r.bytes[28..34] => {}
            other => self.undurable.push(format!(
                "ACK for {yi} left before it was on disk: {other:?}"
            )),
        }
    }

    /// Commits every batch due by `global`; returns the replies it releases.
    pub fn commit_due(&mut self, global: u64, disk_delay: u64) -> Vec<Reply> {
        let mut replies = vec![];
        while self.queue.front().is_some_and(|b| b.due <= global) {
            let b = self.queue.pop_front().expect("front exists");
            for l in b.leases {
                let pe = l.potential_expiry.0.max(l.acked_potential_expiry.0) as i64 - self.offset;
                self.committed_pe.push(Committed {
                    addr: l.addr,
                    client: l.client(),
                    pe: pe.max(0) as u64,
                    what: format!("{:?} owner {:?}", l.state, l.owner),
                });
                let seq = l.update_seq;
                self.disk.leases.insert(l.addr, l);
                let high = self
                    .disk
                    .meta
                    .get("seq_high")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                if seq > high {
                    self.disk.meta.insert("seq_high".into(), seq.to_string());
                }
            }
            self.disk.meta.extend(b.meta);
            self.outbox.extend(b.frames);
            for r in &b.replies {
                self.check_durable(r);
            }
            replies.extend(b.replies);
            if !b.replicate.is_empty() {
                let now = self.local(global);
                self.peer
                    .local_committed(now, &b.replicate, &mut self.store);
            }
            if b.announce {
                let now = self.local(global);
                self.peer.announce(now);
            }
        }
        self.drain(global, disk_delay);
        replies
    }
}
