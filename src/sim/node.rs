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
use crate::time::{Mono, Now, Time};
use std::collections::{HashMap, HashSet, VecDeque};
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
    /// Every commit fails before this global time (a full or failing disk).
    pub fails_until: u64,
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
    /// When the binding ends (the lease's expiry), global time.
    pub expires: u64,
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
    /// Heartbeats to the witness asked for since the world last took them,
    /// each with this server's local time then.
    pub heartbeats: Vec<Time>,
    /// Answers to control commands.
    pub answers: Vec<serde_json::Value>,
    /// The node stopped after a failed commit: the world takes the process
    /// down.
    pub halted: Option<String>,
    /// ACKs that left before their lease was on disk (an invariant violation).
    pub undurable: Vec<String>,
    /// Pings a squatter answered, since the world last took the count.
    pub answered_pings: u64,
    /// DNS jobs run since the world last took them, for the trace.
    pub dns_log: Vec<String>,
    /// The DNS server the ddns family's jobs go to (shared by both hosts).
    pub zone: std::rc::Rc<std::cell::RefCell<super::dns::Zone>>,
    /// This server has been in PARTNER-DOWN since its partner last
    /// acknowledged every change of ours: some of its grants may exist on
    /// this disk only (see `World::crash`).
    pub partner_down_debt: bool,
    /// Active bindings (address, chaddr) in the group being committed.
    landed: Vec<(Ipv4Addr, Vec<u8>)>,
    /// Every (address, update sequence number) of ours that reached the disk.
    seqs_on_disk: HashSet<(Ipv4Addr, u64)>,
    /// Disk writes so far, and the count at the last write of each address.
    writes: u64,
    written: HashMap<Ipv4Addr, u64>,
    /// Partner's update batches received: their addresses, and `writes` then.
    received: HashMap<u64, (Vec<Ipv4Addr>, u64)>,
    /// The last batch handed to the disk, and the last one on it.
    last_batch: u64,
    durable: u64,
    /// The failover state last seen, and for each state entered the batch
    /// its announcement needs on disk.
    seen_state: Option<(crate::failover::State, Time)>,
    state_needs: HashMap<(crate::failover::message::WireState, u64), u64>,
    /// Potential expiries this server committed, in global time, for the
    /// checker (which remembers them even if the disk is later wiped).
    pub committed_pe: Vec<Committed>,
    /// Stopped as by SIGSTOP (`freeze`): inputs wait in `backlog`.
    pub frozen: bool,
    /// Automatic partner-downs of this process the checker has seen.
    pub auto_seen: u64,
    backlog: Vec<Input>,
}

impl Host {
    pub fn local(&self, global: u64) -> Time {
        Time((global as i64 + self.offset).max(0) as u64)
    }

    /// Hands the node `input` at global time `global`: its wall clock
    /// (which may have been stepped) and a monotonic clock that reads the
    /// global one. Every input goes through here, so the monotonic clock
    /// is never mixed with a wall clock's seconds.
    fn feed(&mut self, global: u64, input: Input) {
        let now = Now {
            wall: self.local(global),
            mono: Mono(global),
        };
        self.node.handle(now, input);
    }

    /// Starts (or restarts) from what is on disk.
    /// Updates `partner_down_debt` after a step: set in PARTNER-DOWN,
    /// cleared once the partner has acknowledged all our changes.
    pub fn note_partner_down_debt(&mut self) {
        if self.node.state() == Some(crate::failover::State::PartnerDown) {
            self.partner_down_debt = true;
        }
        if self.node.store().unacked() == 0 {
            self.partner_down_debt = false;
        }
    }

    pub fn boot(
        config: Arc<Config>,
        disk: Disk,
        offset: i64,
        global: u64,
        zone: std::rc::Rc<std::cell::RefCell<super::dns::Zone>>,
    ) -> Host {
        let server_id = config.server.server_id.expect("sim configs set server_id");
        let now = Time((global as i64 + offset).max(0) as u64);
        let mut node = Node::start(config, disk.snapshot(), vec![server_id], now);
        node.record_grants();
        let on_disk = disk
            .leases
            .values()
            .map(|l| (l.addr, l.update_seq))
            .collect();
        let mut h = Host {
            node,
            server_id,
            up: true,
            offset,
            disk,
            queue: VecDeque::new(),
            replies: vec![],
            outbox: vec![],
            heartbeats: vec![],
            close: None,
            answers: vec![],
            halted: None,
            undurable: vec![],
            answered_pings: 0,
            dns_log: vec![],
            zone,
            partner_down_debt: false,
            landed: vec![],
            seqs_on_disk: on_disk,
            writes: 0,
            written: HashMap::new(),
            received: HashMap::new(),
            last_batch: 0,
            durable: 0,
            seen_state: None,
            state_needs: HashMap::new(),
            committed_pe: vec![],
            frozen: false,
            auto_seen: 0,
            backlog: vec![],
        };
        h.carry_out(global, 0);
        h
    }

    /// Feeds one input at global time `global`, carries the outputs out
    /// and commits what is due.
    pub fn input(&mut self, global: u64, disk_delay: u64, input: Input) {
        if self.frozen {
            return self.hold(input);
        }
        if let Input::PeerFrame(Message::BindingUpdate { batch, leases, .. }) = &input {
            let addrs = leases.iter().map(|w| Ipv4Addr::from(w.addr)).collect();
            self.received.insert(*batch, (addrs, self.writes));
        }
        self.feed(global, input);
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
            arrived: Some(self.local(global)),
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
        let outs: Vec<Output> = std::iter::from_fn(|| self.node.poll_output()).collect();
        self.note_state_change(&outs);
        let mut pings = Vec::new();
        let mut dns = Vec::new();
        for o in outs {
            match o {
                Output::Journal(batch) => {
                    self.last_batch = batch.id;
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
                Output::PeerFrame(m) => {
                    self.check_frame(&m);
                    self.outbox.push(m);
                }
                Output::PeerClose(why) => self.close = Some(why),
                Output::Answer { answer, .. } => self.answers.push(answer),
                Output::Halt(why) => self.halted = Some(why),
                // Only the squatters' addresses answer a ping.
                Output::Ping { id, addr, .. } => pings.push((id, super::squatted(addr))),
                Output::Dns { id, job } => dns.push((id, job)),
                Output::WitnessHeartbeat => self.heartbeats.push(self.local(global)),
            }
        }
        let ddns = self.node.config().ddns.clone();
        for (id, job) in dns.iter().cloned() {
            let what = format!(
                "{} {} {}",
                if job.remove { "remove" } else { "add" },
                job.fqdn,
                job.addr
            );
            let result = match &ddns {
                Some(c) => Ok(self.zone.borrow_mut().run(job, c)),
                None => Err("no [ddns]".to_string()),
            };
            self.dns_log.push(format!("DNS {what}: {result:?}"));
            self.feed(global, Input::DnsDone { id, result });
        }
        for &(id, answered) in &pings {
            self.answered_pings += u64::from(answered);
            let input = Input::PingDone { id, answered };
            self.feed(global, input);
        }
        if !pings.is_empty() || !dns.is_empty() {
            self.carry_out(global, disk_delay);
        }
    }

    /// The disk fails every batch due by `global`: none reaches it, and the
    /// node hears of the failure as from the journal's writer.
    fn fail_due(&mut self, global: u64) {
        let mut upto = None;
        while self.queue.front().is_some_and(|b| b.due <= global) {
            upto = self.queue.pop_front().map(|p| p.batch.id);
        }
        let Some(upto) = upto else { return };
        self.feed(global, Input::CommitFailed { upto });
        // Nothing may leave on a failed commit but the link's close and
        // the halt.
        for o in std::iter::from_fn(|| self.node.poll_output()) {
            match o {
                Output::PeerClose(why) => self.close = Some(why),
                Output::Halt(why) => self.halted = Some(why),
                other => self
                    .undurable
                    .push(format!("{other:?} left on failed batch {upto}")),
            }
        }
    }

    /// Commits every batch due by `global`, then tells the node, as the
    /// journal's writer reports a group commit.
    pub fn commit_due(&mut self, global: u64, disk_delay: u64) {
        if global < self.disk.fails_until {
            return self.fail_due(global);
        }
        let mut upto = None;
        while self.queue.front().is_some_and(|b| b.due <= global) {
            let p = self.queue.pop_front().expect("front exists");
            for l in &p.batch.leases {
                let pe = l.potential_expiry.0.max(l.acked_potential_expiry.0) as i64 - self.offset;
                self.committed_pe.push(Committed {
                    addr: l.addr,
                    client: l.client(),
                    pe: pe.max(0) as u64,
                    expires: (l.expires.0 as i64 - self.offset).max(0) as u64,
                    what: match &l.dns {
                        Some(d) => format!(
                            "{:?} owner {:?} dns {:?} tag {} seq {}",
                            l.state, l.owner, d.status, d.tag, l.update_seq
                        ),
                        None => format!("{:?} owner {:?}", l.state, l.owner),
                    },
                });
                if l.state == LeaseState::Active {
                    self.landed.push((l.addr, l.hw.bytes().to_vec()));
                }
                self.writes += 1;
                self.written.insert(l.addr, self.writes);
                self.seqs_on_disk.insert((l.addr, l.update_seq));
            }
            upto = Some(p.batch.id);
            self.durable = p.batch.id;
            self.disk.write(p.batch);
        }
        if let Some(upto) = upto {
            self.feed(global, Input::Committed { upto });
            // What this released is committed at the host's next event.
            self.carry_out(global, disk_delay);
            self.landed.clear();
        }
    }
}

mod audit;
mod freeze;
