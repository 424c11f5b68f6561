//! The tokio edge around the node (`crate::node`): the interfaces' sockets
//! (read from the node's own task), the SQLite writer thread, the peer link task, the control
//! socket and a timer feed the node's `Input`s; its `Output`s become sent
//! replies, journal batches and peer frames. No DHCP, failover or ordering
//! decision is made here.

mod dns;
mod feeds;
mod link;
pub mod metrics;
mod pings;
mod receive;
mod witness;

pub use crate::node::Stats;

use crate::config::Config;
use crate::control;
use crate::lease::sqlite::{CommitEvent, Journal};
use crate::net::peer_link::LinkEvent;
use crate::net::{DhcpSocket, Interface};
use crate::node::{Input, Node, Output};
use crate::time::{Clock, Now, SystemClock, Time};
use feeds::Feeds;
use link::PeerLink;
use receive::{Read, RecvEvent};
use sd_notify::NotifyState;
use std::collections::HashMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Journal batches not yet committed beyond which the partner's messages
/// wait: a partner sending updates faster than the disk takes them is slowed
/// by TCP instead of filling memory.
const MAX_LINK_BACKLOG: u64 = 1024;

struct Edge {
    node: Node,
    journal: Journal,
    sockets: Vec<Arc<DhcpSocket>>,
    link: Option<PeerLink>,
    answers: HashMap<u64, oneshot::Sender<serde_json::Value>>,
    next_question: u64,
    /// The node stopped ([`Output::Halt`]): why.
    halted: Option<String>,
    exporter: metrics::Exporter,
    /// The last metrics text and when it was rendered.
    rendered: Option<(std::time::Instant, String)>,
    /// The configuration file, re-read on SIGHUP and `tandem reload`.
    path: std::path::PathBuf,
    /// The ping check's pings.
    pings: pings::Pings,
    /// DNS updates (`[ddns]`).
    dns: dns::Updater,
    /// A reload handed to the node (its question) and the zones and keys
    /// to take if it accepts.
    reloading: Option<(u64, dns::DnsSetup)>,
    /// The witness's client (`[failover] witness`).
    witness: Option<witness::WitnessClient>,
}

/// Runs until `shutdown` resolves, then commits everything and returns.
/// Errors: the database, the key file or a socket cannot be opened, or a
/// journal commit failed (the node stops: [`Output::Halt`]).
pub async fn run(
    config: Arc<Config>,
    path: std::path::PathBuf,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<Stats> {
    let clock = SystemClock;
    let (commit_tx, mut commit_rx) = mpsc::unbounded_channel();
    // The keys first: a refused key file leaves the database untouched.
    let (dns, dns_results) = dns::Updater::new(config.ddns.as_ref()).map_err(anyhow::Error::msg)?;
    let (link, link_rx) = match PeerLink::start(&config)? {
        Some((l, rx)) => (Some(l), Some(rx)),
        None => (None, None),
    };
    let (journal, snap) =
        Journal::open(&config.server.lease_db, config.server.sync_full, commit_tx)?;
    tracing::info!(db = %config.server.lease_db.display(), "lease database opened");
    let node = Node::start(
        config.clone(),
        snap,
        Interface::all_host_addrs(),
        clock.now(),
    );
    let sockets = feeds::open_sockets(&config)?;
    let metrics_listener = config.server.metrics.map(metrics::bind).transpose()?;
    let (mut feeds, pings) =
        feeds::start_feeds(&config, &sockets, link_rx, metrics_listener, dns_results);
    let witness = match start_witness(&config).await? {
        Some((client, rx)) => {
            feeds.witness = Some(rx);
            Some(client)
        }
        None => None,
    };
    let mut edge = Edge {
        node,
        journal,
        sockets,
        link,
        answers: HashMap::new(),
        next_question: 0,
        halted: None,
        exporter: metrics::Exporter::new(),
        rendered: None,
        path,
        pings,
        dns,
        reloading: None,
        witness,
    };
    edge.flush(clock.now());
    let status = format!("serving; {} leases loaded", edge.node.store().len());
    tell_systemd(&[NotifyState::Ready, NotifyState::Status(&status)]);
    edge.serve(&clock, &mut feeds, &mut commit_rx, shutdown)
        .await;
    stop(edge, &feeds, &mut commit_rx, &config)
}

/// Stops the feeds, commits what is queued and says how the server ended.
/// Errors: the node stopped on a failed commit ([`Output::Halt`]).
fn stop(
    mut edge: Edge,
    feeds: &Feeds,
    commit_rx: &mut mpsc::UnboundedReceiver<CommitEvent>,
    config: &Config,
) -> anyhow::Result<Stats> {
    tell_systemd(&[NotifyState::Stopping]);
    tracing::info!("shutting down: committing queued lease changes");
    for t in &feeds.tasks {
        t.abort();
    }
    edge.journal.close();
    while let Ok(ev) = commit_rx.try_recv() {
        edge.committed(SystemClock.now(), ev);
    }
    let _ = std::fs::remove_file(&config.server.control_socket);
    let stats = edge.node.stats().clone();
    tracing::info!(stats = ?stats, leases = edge.node.store().len(), "stopped");
    match edge.halted {
        Some(why) => anyhow::bail!("{why}: stopped; the partner (if any) serves meanwhile"),
        None => Ok(stats),
    }
}

/// Tells systemd (`Type=notify`, packaging/tandem.service) where start-up or
/// shutdown stands; nothing without `NOTIFY_SOCKET`. A failure is logged,
/// not fatal: the server works the same without a service manager.
fn tell_systemd(state: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

impl Edge {
    /// Feeds the node until `shutdown` resolves.
    async fn serve(
        &mut self,
        clock: &SystemClock,
        feeds: &mut Feeds,
        commits: &mut mpsc::UnboundedReceiver<CommitEvent>,
        shutdown: impl Future<Output = ()>,
    ) {
        let timer = tokio::time::sleep(self.until_timeout(clock.now()));
        tokio::pin!(shutdown, timer);
        while self.halted.is_none() {
            // Commits first: they release parked replies and replication.
            while let Ok(ev) = commits.try_recv() {
                self.committed(clock.now(), ev);
            }
            if self.halted.is_some() {
                break;
            }
            // The rest in fair (random) order, so neither a busy partner nor
            // a busy segment can starve the other.
            let link_ok = self.node.uncommitted_batches() < MAX_LINK_BACKLOG;
            tokio::select! {
                () = &mut shutdown => break,
                Some(ev) = commits.recv() => self.committed(clock.now(), ev),
                Some((id, answered)) = feeds.ping_results.recv() => {
                    self.input(clock.now(), Input::PingDone { id, answered });
                }
                Some((id, result)) = feeds.dns_results.recv() => {
                    self.input(clock.now(), Input::DnsDone { id, result });
                }
                Some(ev) = async { feeds.link.as_mut()?.recv().await }, if link_ok => {
                    self.link_event(clock.now(), ev);
                }
                read = feeds.packets.recv() => self.packet(clock.now(), read),
                Some(req) = feeds.control.recv() => self.control(clock.now(), req),
                Some(()) = async { feeds.hangup.as_mut()?.recv().await } => {
                    tracing::info!("SIGHUP: reloading {}", self.path.display());
                    self.reload(clock.now(), None);
                }
                Some(d) = async { feeds.witness.as_mut()?.recv().await } => {
                    if let Some(input) = self.witness.as_mut().and_then(|w| w.report(&d)) {
                        self.input(clock.now(), input);
                    }
                }
                Some(tx) = async { feeds.scrapes.as_mut()?.recv().await } => {
                    let _ = tx.send(self.metrics_text(clock.now()));
                }
                () = &mut timer => {
                    self.input(clock.now(), Input::Tick);
                    let next = tokio::time::Instant::now() + self.until_timeout(clock.now());
                    timer.as_mut().reset(next);
                }
            }
        }
    }

    /// How long until the node's next tick is due: at most a second, so
    /// a backward step of the wall clock (which puts the due time far
    /// ahead) does not stop keepalives and witness heartbeats.
    fn until_timeout(&self, now: Time) -> std::time::Duration {
        let due = self
            .node
            .poll_timeout()
            .map_or(1, |t| t.0.saturating_sub(now.0));
        std::time::Duration::from_secs(due.min(1))
    }

    fn input(&mut self, now: Time, input: Input) {
        let mono = SystemClock.mono();
        self.node.handle(Now { wall: now, mono }, input);
        self.flush(now);
    }

    /// Carries out the node's outputs, in order.
    fn flush(&mut self, now: Time) {
        let mut broken = false;
        while let Some(o) = self.node.poll_output() {
            match o {
                Output::Journal(b) => self.journal.submit(b),
                Output::Reply { reply, socket, src } => self.send(socket, &reply, src),
                Output::PeerFrame(m) => {
                    broken |= !self.link.as_ref().is_some_and(|l| l.send(m));
                }
                Output::PeerClose(why) => {
                    if let Some(l) = &self.link {
                        l.close(why);
                    }
                }
                Output::Answer { id, answer } => {
                    self.answered(id, &answer);
                    if let Some(tx) = self.answers.remove(&id) {
                        let _ = tx.send(answer);
                    }
                }
                Output::Halt(why) => self.halted = Some(why),
                Output::Ping {
                    id,
                    addr,
                    timeout_ms,
                } => self.pings.ping(id, addr, timeout_ms),
                Output::Dns { id, job } => self.dns.run(id, job),
                Output::WitnessHeartbeat => {
                    if let Some(w) = &mut self.witness {
                        w.heartbeat(now);
                    }
                }
            }
        }
        if broken && let Some(l) = &self.link {
            // Dropping a message silently would stall the update window or
            // lose an ack; instead drop the connection, and both
            // resynchronize on the next one.
            tracing::error!(
                "peer link send queue is full (the partner is not reading): treating the link as down"
            );
            l.reset();
            self.input(now, Input::PeerDown("send queue full".into()));
        }
    }

    fn send(&mut self, socket: usize, reply: &crate::dhcp::Reply, src: Ipv4Addr) {
        let s = &self.sockets[socket];
        if let Err(e) = s.send_reply(reply, src) {
            self.node.stats_mut().send_errors += 1;
            tracing::debug!(iface = %s.iface.name, route = ?reply.route, error = %e, "reply not sent");
        }
    }

    fn packet(&mut self, now: Time, read: Read) {
        self.node.stats_mut().overloaded += read.dropped;
        match read.event {
            RecvEvent::Packet(p) => self.input(now, Input::Request(p)),
            RecvEvent::Malformed(e) => {
                self.node.stats_mut().malformed += 1;
                tracing::debug!(error = %e, "dropped malformed packet");
            }
            RecvEvent::Oversized => {
                self.node.stats_mut().oversized += 1;
            }
            RecvEvent::Failed => {}
        }
    }

    fn committed(&mut self, now: Time, ev: CommitEvent) {
        let input = match ev {
            CommitEvent::Committed {
                upto,
                leases,
                micros,
            } => {
                self.exporter.observe_commit(micros, leases);
                let s = self.node.stats_mut();
                s.commits += 1;
                s.committed_leases += leases as u64;
                tracing::trace!(upto, leases, micros, "committed");
                Input::Committed { upto }
            }
            CommitEvent::Failed { upto, .. } => Input::CommitFailed { upto },
        };
        self.input(now, input);
    }

    /// The metrics text: rendered from the node's figures at most once a
    /// second, however often it is scraped.
    fn metrics_text(&mut self, now: Time) -> String {
        let fresh = |at: &std::time::Instant| at.elapsed() < std::time::Duration::from_secs(1);
        match &self.rendered {
            Some((at, text)) if fresh(at) => text.clone(),
            _ => {
                let figures = self.node.figures(now);
                let text = self.exporter.render(&figures);
                self.rendered = Some((std::time::Instant::now(), text.clone()));
                text
            }
        }
    }

    fn link_event(&mut self, now: Time, ev: LinkEvent) {
        let input = match ev {
            LinkEvent::Up { remote, generation } => {
                tracing::info!(%remote, "peer link authenticated");
                if let Some(l) = &mut self.link {
                    l.generation = generation;
                }
                Input::PeerUp
            }
            LinkEvent::Message(m) => Input::PeerFrame(m),
            LinkEvent::Down(why) => Input::PeerDown(why),
        };
        self.input(now, input);
    }

    /// Re-reads the configuration file and hands it to the node; `reply`
    /// gets the answer (`tandem reload`), else it is only logged (SIGHUP).
    /// A file that does not load is refused here, with its problems.
    fn reload(&mut self, now: Time, reply: Option<oneshot::Sender<serde_json::Value>>) {
        // systemd 253 and later want the monotonic time beside RELOADING.
        match NotifyState::monotonic_usec_now() {
            Ok(t) => tell_systemd(&[NotifyState::Reloading, t]),
            Err(_) => tell_systemd(&[NotifyState::Reloading]),
        }
        // Zones and keys live here: a key file that cannot be read refuses
        // the reload whole, like a file that does not load; they are taken
        // once the node accepts the rest (`Output::Answer`).
        let loaded = Config::load(&self.path).map_err(|e| e.to_string());
        let ready = loaded.and_then(|c| {
            let dns = dns::Updater::prepare(c.ddns.as_ref()).map_err(|e| format!("[ddns]: {e}"))?;
            Ok((c, dns))
        });
        match ready {
            Err(e) => {
                tracing::error!("reload refused, the running configuration stays: {e}");
                if let Some(r) = reply {
                    let _ = r.send(serde_json::json!({ "ok": false, "error": e }));
                }
            }
            Ok((config, dns)) => {
                self.next_question += 1;
                let id = self.next_question;
                if let Some(r) = reply {
                    self.answers.insert(id, r);
                }
                self.reloading = Some((id, dns));
                let config = Arc::new(config);
                self.input(now, Input::Reload { id, config });
            }
        }
        tell_systemd(&[NotifyState::Ready]);
    }

    /// The node answered question `id`: if it was a reload it accepted,
    /// the DNS updater takes the new zones and keys.
    fn answered(&mut self, id: u64, answer: &serde_json::Value) {
        if self.reloading.as_ref().is_some_and(|(r, _)| *r == id)
            && let Some((_, dns)) = self.reloading.take()
            && answer["ok"] == true
        {
            self.dns.install(dns);
        }
    }

    fn control(&mut self, now: Time, req: control::Request) {
        if req.command == control::Command::Reload {
            return self.reload(now, Some(req.reply));
        }
        self.next_question += 1;
        let id = self.next_question;
        self.answers.insert(id, req.reply);
        self.input(
            now,
            Input::Control {
                id,
                command: req.command,
            },
        );
    }
}

/// The witness client (`[failover] witness`), with the peer link's key,
/// and the channel of what it hears; `None` without a witness. Errors: no
/// key (the ISC protocol, refused by config validation too), the key file,
/// the socket.
async fn start_witness(
    config: &Config,
) -> anyhow::Result<Option<(witness::WitnessClient, tokio::sync::mpsc::Receiver<Vec<u8>>)>> {
    let Some((f, addr)) = config.failover.as_ref().and_then(|f| Some((f, f.witness?))) else {
        return Ok(None);
    };
    let file = f
        .protocol
        .secret_file()
        .ok_or_else(|| anyhow::anyhow!("a witness needs the peer link's pre-shared key"))?;
    let key = crate::keyfile::load(file)?;
    let primary = f.role == crate::config::Role::Primary;
    let started = witness::WitnessClient::start(addr, &key, primary).await;
    Ok(Some(
        started.map_err(|e| anyhow::anyhow!("witness {addr}: {e}"))?,
    ))
}
