//! The running server: one receive task per interface feeds a single engine
//! task, which owns the lease store, journals changes through the SQLite
//! writer thread and releases each DHCPACK only once its lease is durable.

mod ratelimit;
mod stats;

pub use ratelimit::RateLimiter;
pub use stats::Stats;

use crate::config::Config;
use crate::dhcp::{Engine, RecvContext, Reply, Standalone};
use crate::lease::LeaseStore;
use crate::lease::sqlite::{CommitEvent, Journal};
use crate::net::{DhcpSocket, Interface};
use crate::proto::{ParseError, Request};
use crate::time::{Clock, SystemClock};
use anyhow::Context;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Requests waiting for the engine; beyond this the receive tasks drop.
const INBOUND_QUEUE: usize = 4096;
/// ACKs waiting for their commit; beyond this new requests are dropped so a
/// slow disk turns into client retries rather than unbounded memory.
const MAX_PARKED: usize = 50_000;

struct Inbound {
    req: Request,
    ctx: RecvContext,
    socket: usize,
}

enum RecvEvent {
    Packet(Inbound),
    Malformed(ParseError),
    Oversized,
}

struct Parked {
    batch: u64,
    socket: usize,
    src: std::net::Ipv4Addr,
    reply: Reply,
}

/// Runs until `shutdown` resolves, then commits everything and returns.
pub async fn run(config: Arc<Config>, shutdown: impl Future<Output = ()>) -> anyhow::Result<Stats> {
    let (commit_tx, mut commit_rx) = mpsc::unbounded_channel();
    let (mut journal, loaded) =
        Journal::open(&config.server.lease_db, config.server.sync_full, commit_tx)?;
    let mut store = LeaseStore::new(&config, 256);
    let count = loaded.leases.len();
    for l in loaded.leases {
        store.put(l);
    }
    tracing::info!(db = %config.server.lease_db.display(), leases = count, "lease database loaded");

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
    let engine = Engine::new(config.clone(), Interface::all_host_addrs());
    let links: Vec<Option<std::net::Ipv4Addr>> = sockets
        .iter()
        .map(|s| {
            s.iface
                .addrs
                .iter()
                .copied()
                .find(|a| config.subnet_containing(*a).is_some())
                .or(s.iface.addrs.first().copied())
        })
        .collect();

    let (in_tx, mut in_rx) = mpsc::channel::<RecvEvent>(INBOUND_QUEUE);
    let mut receivers = Vec::new();
    let dropped_full = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (i, s) in sockets.iter().enumerate() {
        receivers.push(tokio::spawn(receive(
            s.clone(),
            i,
            links[i],
            in_tx.clone(),
            dropped_full.clone(),
        )));
        tracing::info!(iface = %s.iface.name, port = config.server.port, link = ?links[i], "listening");
    }
    drop(in_tx);

    let clock = SystemClock;
    let mut stats = Stats::default();
    let mut limiter = RateLimiter::new(config.server.client_rate_limit);
    let mut parked: VecDeque<Parked> = VecDeque::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);

    let expired = engine.tick(clock.now(), &mut store);
    if !expired.is_empty() {
        journal.submit(expired);
    }
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(ev) = commit_rx.recv() => release(ev, &mut parked, &sockets, &mut stats),
            Some(ev) = in_rx.recv() => {
                let inb = match ev {
                    RecvEvent::Packet(p) => p,
                    RecvEvent::Malformed(e) => { stats.malformed += 1; tracing::debug!(error = %e, "dropped malformed packet"); continue; }
                    RecvEvent::Oversized => { stats.oversized += 1; continue; }
                };
                stats.received += 1;
                let now = clock.now();
                if parked.len() >= MAX_PARKED {
                    stats.overloaded += 1;
                    continue;
                }
                if !limiter.allow(&inb.req.client_key(), now.0) {
                    stats.rate_limited += 1;
                    continue;
                }
                let out = engine.handle(now, &mut store, &Standalone, &inb.req, &inb.ctx);
                stats.count(&out.verdict);
                let batch = (!out.changes.is_empty()).then(|| journal.submit(out.changes));
                if let Some(reply) = out.reply {
                    let src = config.server.server_id.unwrap_or(inb.ctx.local);
                    match batch {
                        Some(batch) if reply.after_commit => parked.push_back(Parked { batch, socket: inb.socket, src, reply }),
                        _ => send(&sockets[inb.socket], &reply, src, &mut stats),
                    }
                }
            }
            _ = tick.tick() => {
                let changes = engine.tick(clock.now(), &mut store);
                if !changes.is_empty() {
                    journal.submit(changes);
                }
            }
        }
    }
    tracing::info!("shutting down: committing queued lease changes");
    for r in &receivers {
        r.abort();
    }
    journal.close();
    while let Ok(ev) = commit_rx.try_recv() {
        release(ev, &mut parked, &sockets, &mut stats);
    }
    stats.overloaded += dropped_full.load(std::sync::atomic::Ordering::Relaxed);
    tracing::info!(?stats, leases = store.len(), "stopped");
    Ok(stats)
}

fn release(
    ev: CommitEvent,
    parked: &mut VecDeque<Parked>,
    sockets: &[Arc<DhcpSocket>],
    stats: &mut Stats,
) {
    let (upto, ok) = match ev {
        CommitEvent::Committed {
            upto,
            leases,
            micros,
        } => {
            stats.commits += 1;
            stats.committed_leases += leases as u64;
            tracing::trace!(upto, leases, micros, "committed");
            (upto, true)
        }
        CommitEvent::Failed { upto, .. } => {
            stats.commit_failures += 1;
            (upto, false)
        }
    };
    while parked.front().is_some_and(|p| p.batch <= upto) {
        let p = parked.pop_front().expect("front exists");
        if ok {
            send(&sockets[p.socket], &p.reply, p.src, stats);
        }
    }
}

fn send(socket: &DhcpSocket, reply: &Reply, src: std::net::Ipv4Addr, stats: &mut Stats) {
    if let Err(e) = socket.send_reply(reply, src) {
        stats.send_errors += 1;
        tracing::debug!(iface = %socket.iface.name, route = ?reply.route, error = %e, "reply not sent");
    }
}

async fn receive(
    socket: Arc<DhcpSocket>,
    index: usize,
    link: Option<std::net::Ipv4Addr>,
    tx: mpsc::Sender<RecvEvent>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        let r = match socket.recv(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(iface = %socket.iface.name, error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let ev = if r.truncated || r.len > crate::proto::packet::MAX_LEN {
            RecvEvent::Oversized
        } else {
            match Request::parse(&buf[..r.len]) {
                Ok(req) => {
                    let ctx = RecvContext {
                        ifindex: r.ifindex,
                        local: r.local,
                        link,
                        broadcast: r.dst.is_broadcast() || r.dst != r.local,
                    };
                    RecvEvent::Packet(Inbound {
                        req,
                        ctx,
                        socket: index,
                    })
                }
                Err(e) => RecvEvent::Malformed(e),
            }
        };
        if tx.try_send(ev).is_err() {
            dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
