//! The running server: one receive task per interface feeds a single engine
//! task, which owns the lease store, journals changes through the SQLite
//! writer thread and releases each DHCPACK only once its lease is durable.
//! With a partner, the same task drives the failover peer (`pair`).

mod pair;
mod policy;
mod ratelimit;
mod receive;
mod stats;

pub use policy::ServerPolicy;
pub use ratelimit::RateLimiter;
pub use stats::Stats;

use crate::config::Config;
use crate::control;
use crate::dhcp::{Engine, Reply, Standalone};
use crate::lease::LeaseStore;
use crate::lease::sqlite::{CommitEvent, Journal};
use crate::net::{DhcpSocket, Interface};
use crate::time::{Clock, SystemClock, Time};
use anyhow::Context;
use pair::Pair;
use receive::{Inbound, RecvEvent};
use std::collections::VecDeque;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Requests waiting for the engine; beyond this the receive tasks drop.
const INBOUND_QUEUE: usize = 4096;
/// ACKs waiting for their commit; beyond this new requests are dropped so a
/// slow disk turns into client retries rather than unbounded memory.
const MAX_PARKED: usize = 50_000;
/// Journal batches not yet committed beyond which the partner's messages
/// wait: a partner sending updates faster than the disk takes them is slowed
/// by TCP instead of filling memory.
const MAX_LINK_BACKLOG: u64 = 1024;

struct Parked {
    batch: u64,
    socket: usize,
    src: Ipv4Addr,
    reply: Reply,
}

struct Runtime {
    config: Arc<Config>,
    engine: Engine,
    store: LeaseStore,
    journal: Journal,
    sockets: Vec<Arc<DhcpSocket>>,
    stats: Stats,
    limiter: RateLimiter,
    parked: VecDeque<Parked>,
    /// The last journal batch known durable.
    committed_upto: u64,
    pair: Option<Pair>,
    started: Time,
}

/// Runs until `shutdown` resolves, then commits everything and returns.
pub async fn run(config: Arc<Config>, shutdown: impl Future<Output = ()>) -> anyhow::Result<Stats> {
    let clock = SystemClock;
    let (commit_tx, mut commit_rx) = mpsc::unbounded_channel();
    let (journal, loaded) =
        Journal::open(&config.server.lease_db, config.server.sync_full, commit_tx)?;
    let mut store = LeaseStore::new(&config, config.split());
    let count = loaded.leases.len();
    for l in &loaded.leases {
        store.put(l.clone());
    }
    tracing::info!(db = %config.server.lease_db.display(), leases = count, "lease database loaded");
    let mut journal = journal;
    start_relearning(&config, &loaded, &mut store, &mut journal, clock.now());
    let (pair, mut link_rx) = match Pair::start(&config, &loaded, &mut store, clock.now())? {
        Some((p, rx)) => (Some(p), Some(rx)),
        None => (None, None),
    };
    drop(loaded);

    let mut sockets = Vec::new();
    for name in &config.server.interfaces {
        let iface = Interface::lookup(name)?;
        if iface.addrs.is_empty() {
            tracing::warn!(iface = %name, "interface has no IPv4 address; only relayed traffic can be served on it");
        }
        let s = DhcpSocket::open(
            iface,
            config.server.port,
            config.server.client_port,
            config.server.direct_unicast,
        )
        .with_context(|| format!("cannot listen on {name} port {}", config.server.port))?;
        sockets.push(Arc::new(s));
    }
    let (in_tx, mut in_rx) = mpsc::channel::<RecvEvent>(INBOUND_QUEUE);
    let dropped_full = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut receivers = Vec::new();
    for (i, s) in sockets.iter().enumerate() {
        let link = s
            .iface
            .addrs
            .iter()
            .copied()
            .find(|a| config.subnet_containing(*a).is_some())
            .or(s.iface.addrs.first().copied());
        receivers.push(tokio::spawn(receive::run(
            s.clone(),
            i,
            link,
            in_tx.clone(),
            dropped_full.clone(),
        )));
        tracing::info!(iface = %s.iface.name, port = config.server.port, link = ?link, "listening");
    }
    drop(in_tx);

    let (ctl_tx, mut ctl_rx) = mpsc::channel::<control::Request>(16);
    match control::bind(&config.server.control_socket) {
        Ok(l) => receivers.push(tokio::spawn(control::serve(l, ctl_tx))),
        Err(e) => {
            tracing::warn!(path = %config.server.control_socket.display(), error = %e, "no control socket; `tandem status` will not reach this server")
        }
    }

    let mut rt = Runtime {
        engine: Engine::new(config.clone(), Interface::all_host_addrs()),
        limiter: RateLimiter::new(
            config.server.client_rate_limit,
            config.server.global_rate_limit,
        ),
        config,
        store,
        journal,
        sockets,
        stats: Stats::default(),
        parked: VecDeque::new(),
        committed_upto: 0,
        pair,
        started: clock.now(),
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    rt.tick(clock.now());
    loop {
        // Commits first: they release parked replies and replication.
        while let Ok(ev) = commit_rx.try_recv() {
            rt.committed(clock.now(), ev);
        }
        // The rest in fair (random) order, so neither a busy partner nor a
        // busy segment can starve the other.
        let link_ok = rt.journal.last_submitted() - rt.committed_upto < MAX_LINK_BACKLOG;
        tokio::select! {
            () = &mut shutdown => break,
            Some(ev) = commit_rx.recv() => rt.committed(clock.now(), ev),
            Some(ev) = async { link_rx.as_mut()?.recv().await }, if link_ok => {
                if let Some(p) = &mut rt.pair {
                    p.on_link(clock.now(), ev, &mut rt.store, &mut rt.journal);
                }
            }
            Some(ev) = in_rx.recv() => rt.packet(clock.now(), ev),
            Some(req) = ctl_rx.recv() => {
                let answer = rt.control(clock.now(), req.command);
                let _ = req.reply.send(answer);
            }
            _ = tick.tick() => rt.tick(clock.now()),
        }
    }
    tracing::info!("shutting down: committing queued lease changes");
    for r in &receivers {
        r.abort();
    }
    rt.journal.close();
    while let Ok(ev) = commit_rx.try_recv() {
        rt.committed(clock.now(), ev);
    }
    rt.stats.overloaded += dropped_full.load(std::sync::atomic::Ordering::Relaxed);
    let _ = std::fs::remove_file(&rt.config.server.control_socket);
    tracing::info!(stats = ?rt.stats, leases = rt.store.len(), "stopped");
    Ok(rt.stats)
}

/// The lost-database rule at start (`lease::relearn`): a database this open
/// created was lost, since `tandem init` creates it for a new installation;
/// one whose wait is still running resumes it.
fn start_relearning(
    config: &Config,
    loaded: &crate::lease::sqlite::Loaded,
    store: &mut LeaseStore,
    journal: &mut Journal,
    now: Time,
) {
    use crate::lease::relearn;
    let until = if loaded.created {
        let until = now.plus(relearn::wait(config));
        tracing::warn!(
            db = %config.server.lease_db.display(),
            %until,
            "the lease database did not exist: treating it as lost, not as a new installation \
             (a new installation runs `tandem init` first). Clients' leases are re-learned as they \
             renew; no new address is given until {until} (the longest lease time{}), unless \
             `tandem end-relearn` ends the wait",
            if config.failover.is_some() { " plus MCLT, or MCLT after the partner has sent its bindings" } else { "" }
        );
        journal.submit_with_meta(vec![], vec![relearn::to_meta(Some(until))]);
        Some(until)
    } else {
        relearn::from_meta(&loaded.meta).filter(|t| *t > now)
    };
    if let Some(t) = until.filter(|_| !loaded.created) {
        tracing::warn!(until = %t, "still re-learning leases after a lost database: no new address until then");
    }
    store.set_relearn_until(until);
}

impl Runtime {
    fn policy(&self) -> ServerPolicy {
        match &self.pair {
            Some(p) => ServerPolicy::Pair(p.peer.policy()),
            None => ServerPolicy::Alone(Standalone),
        }
    }

    /// Journals local lease changes; with a partner, replicates them once durable.
    fn journal_local(&mut self, changes: Vec<crate::lease::Lease>) -> u64 {
        match &mut self.pair {
            Some(p) => {
                let batch = self.journal.submit(changes.clone());
                p.after_commit_replicate(batch, changes);
                batch
            }
            None => self.journal.submit(changes),
        }
    }

    fn packet(&mut self, now: Time, ev: RecvEvent) {
        let inb: Inbound = match ev {
            RecvEvent::Packet(p) => p,
            RecvEvent::Malformed(e) => {
                self.stats.malformed += 1;
                tracing::debug!(error = %e, "dropped malformed packet");
                return;
            }
            RecvEvent::Oversized => {
                self.stats.oversized += 1;
                return;
            }
        };
        self.stats.received += 1;
        if self.parked.len() >= MAX_PARKED {
            self.stats.overloaded += 1;
            return;
        }
        if !self.limiter.allow(&inb.req.client_key(), now.0) {
            self.stats.rate_limited += 1;
            return;
        }
        let policy = self.policy();
        let out = self
            .engine
            .handle(now, &mut self.store, &policy, &inb.req, &inb.ctx);
        self.stats.count(&out.verdict);
        let batch = (!out.changes.is_empty()).then(|| self.journal_local(out.changes));
        if let Some(reply) = out.reply {
            let src = inb.ctx.local;
            match batch {
                Some(batch) if reply.after_commit => self.parked.push_back(Parked {
                    batch,
                    socket: inb.socket,
                    src,
                    reply,
                }),
                _ => send(&self.sockets[inb.socket], &reply, src, &mut self.stats),
            }
        }
    }

    fn committed(&mut self, now: Time, ev: CommitEvent) {
        let (upto, ok) = match ev {
            CommitEvent::Committed {
                upto,
                leases,
                micros,
            } => {
                self.stats.commits += 1;
                self.stats.committed_leases += leases as u64;
                tracing::trace!(upto, leases, micros, "committed");
                (upto, true)
            }
            CommitEvent::Failed { upto, .. } => {
                self.stats.commit_failures += 1;
                (upto, false)
            }
        };
        self.committed_upto = self.committed_upto.max(upto);
        while self.parked.front().is_some_and(|p| p.batch <= upto) {
            let p = self.parked.pop_front().expect("front exists");
            if ok {
                send(&self.sockets[p.socket], &p.reply, p.src, &mut self.stats);
            }
        }
        if ok && let Some(pair) = &mut self.pair {
            pair.committed(now, upto, &mut self.store, &mut self.journal);
        }
    }

    fn tick(&mut self, now: Time) {
        if self.store.relearn_until().is_some_and(|t| now >= t) {
            tracing::info!("re-learning period after the lost database is over: allocating again");
            self.end_relearning();
        }
        let changes = self.engine.tick(now, &mut self.store);
        if !changes.is_empty() {
            self.journal_local(changes);
        }
        if let Some(p) = &mut self.pair {
            p.tick(now, &mut self.store, &mut self.journal);
        }
    }

    /// Ends the wait after a lost database (by time or by the operator).
    fn end_relearning(&mut self) {
        self.store.set_relearn_until(None);
        self.journal
            .submit_with_meta(vec![], vec![crate::lease::relearn::to_meta(None)]);
    }

    fn control(&mut self, now: Time, cmd: control::Command) -> serde_json::Value {
        match cmd {
            control::Command::Status => {
                let mut v = match &self.pair {
                    Some(p) => p.peer.status(now, &self.store),
                    None => {
                        serde_json::json!({ "state": "standalone", "partner_state": null, "unacked_updates": 0 })
                    }
                };
                v["ok"] = true.into();
                let relearn = self.store.relearn_until().filter(|t| now < *t);
                v["relearn_until"] = relearn.map(|t| t.rfc3339()).into();
                if let Some(t) = relearn {
                    v["serving"] = format!(
                        "renewals only: re-learning leases after a lost database; no new address until {t} (`tandem end-relearn` ends the wait)"
                    )
                    .into();
                } else if self.pair.is_none() {
                    v["serving"] = "every client".into();
                }
                v["server"] = self.config.server.name.clone().into();
                v["uptime"] = now.0.saturating_sub(self.started.0).into();
                v["leases"] = self.store.len().into();
                v["stats"] = serde_json::json!({
                    "received": self.stats.received,
                    "offers": self.stats.offers,
                    "acks": self.stats.acks,
                    "naks": self.stats.naks,
                    "ignored": self.stats.ignored,
                    "malformed": self.stats.malformed,
                    "oversized": self.stats.oversized,
                    "overloaded": self.stats.overloaded,
                    "rate_limited": self.stats.rate_limited,
                    "commits": self.stats.commits,
                });
                v
            }
            control::Command::EndRelearn => {
                let was = self.store.relearn_until().filter(|t| now < *t);
                if was.is_some() {
                    tracing::warn!(
                        "operator ended the re-learning wait after a lost database: allocating again"
                    );
                    self.end_relearning();
                }
                serde_json::json!({ "ok": true, "was_waiting": was.is_some() })
            }
            control::Command::PartnerDown => match &mut self.pair {
                None => {
                    serde_json::json!({ "ok": false, "error": "this server has no [failover] partner" })
                }
                Some(p) => match p.partner_down(now, &mut self.journal) {
                    Ok(()) => serde_json::json!({ "ok": true, "state": p.peer.state().as_str() }),
                    Err(e) => {
                        serde_json::json!({ "ok": false, "error": e, "state": p.peer.state().as_str() })
                    }
                },
            },
        }
    }
}

fn send(socket: &DhcpSocket, reply: &Reply, src: Ipv4Addr, stats: &mut Stats) {
    if let Err(e) = socket.send_reply(reply, src) {
        stats.send_errors += 1;
        tracing::debug!(iface = %socket.iface.name, route = ?reply.route, error = %e, "reply not sent");
    }
}
