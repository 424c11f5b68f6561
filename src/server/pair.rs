//! Glue between the peer state machine and the server: peer actions become
//! journal batches and link commands; committed batches release the frames
//! and replication waiting on them.

use crate::config::Config;
use crate::failover::codec::parse_key;
use crate::failover::message::Message;
use crate::failover::{Action, Peer, PeerConfig, Persisted};
use crate::lease::sqlite::{Journal, Loaded};
use crate::lease::{Lease, LeaseStore};
use crate::net::peer_link::{self, LinkCmd, LinkConfig, LinkEvent};
use crate::time::Time;
use anyhow::Context;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;

struct Waiting {
    batch: u64,
    then: Vec<Message>,
    replicate: Vec<Lease>,
    /// Tell the peer its state may go out (`Action::Announce`).
    announce: bool,
}

pub struct Pair {
    pub peer: Peer,
    link: mpsc::Sender<LinkCmd>,
    /// Drops the current connection even when `link` is full.
    reset: Arc<tokio::sync::Notify>,
    /// The connection the peer is talking on (see `LinkEvent::Up`).
    generation: u64,
    waiting: VecDeque<Waiting>,
    /// A message could not be queued for the link: the protocol cannot go on
    /// on that connection (an ack or update would be missing).
    broken: bool,
}

impl Pair {
    /// Loads the key, restores the peer's saved state and starts the link task.
    pub fn start(
        config: &Config,
        loaded: &Loaded,
        store: &mut LeaseStore,
        now: Time,
    ) -> anyhow::Result<Option<(Pair, mpsc::Receiver<LinkEvent>)>> {
        let (Some(f), Some(cfg)) = (&config.failover, PeerConfig::from_config(config)) else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&f.secret_file)
            .with_context(|| format!("failover.secret_file {}", f.secret_file.display()))?;
        let key = parse_key(&text).map_err(|e| {
            anyhow::anyhow!("failover.secret_file {}: {e}", f.secret_file.display())
        })?;
        let persisted = Persisted::from_meta(&loaded.meta);
        store.replicate(loaded.seq_high() + 1, persisted.acked_seq);
        tracing::info!(role = ?f.role, saved_state = ?persisted.state, epoch = loaded.epoch(), "failover configured");
        let mut peer = Peer::new(cfg, persisted, loaded.epoch(), now);
        if loaded.created {
            peer.set_lost_database();
        }
        let (ev_tx, ev_rx) = mpsc::channel(1024);
        let (cmd_tx, cmd_rx) = mpsc::channel(peer_link::SEND_QUEUE);
        let link_cfg = LinkConfig {
            primary: f.role == crate::config::Role::Primary,
            listen: f.listen,
            peer: f.peer,
            key: Arc::new(key),
        };
        let reset = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(peer_link::run(link_cfg, ev_tx, cmd_rx, reset.clone()));
        Ok(Some((
            Pair {
                peer,
                link: cmd_tx,
                reset,
                generation: 0,
                waiting: VecDeque::new(),
                broken: false,
            },
            ev_rx,
        )))
    }

    pub fn on_link(
        &mut self,
        now: Time,
        ev: LinkEvent,
        store: &mut LeaseStore,
        journal: &mut Journal,
    ) {
        match ev {
            LinkEvent::Up { remote, generation } => {
                tracing::info!(%remote, "peer link authenticated");
                self.generation = generation;
                self.peer.link_up(now, store);
            }
            LinkEvent::Message(m) => self.peer.receive(now, m, store),
            LinkEvent::Down(why) => {
                tracing::warn!(reason = %why, "peer link lost");
                self.peer.link_down(now);
            }
        }
        self.drain(now, journal);
    }

    /// Local changes in journal batch `batch`: replicate them once durable.
    pub fn after_commit_replicate(&mut self, batch: u64, leases: Vec<Lease>) {
        self.waiting.push_back(Waiting {
            batch,
            then: vec![],
            replicate: leases,
            announce: false,
        });
    }

    /// Batches up to `upto` are durable: send what waited for them.
    pub fn committed(
        &mut self,
        now: Time,
        upto: u64,
        store: &mut LeaseStore,
        journal: &mut Journal,
    ) {
        while self.waiting.front().is_some_and(|w| w.batch <= upto) {
            let w = self.waiting.pop_front().expect("front exists");
            for m in w.then {
                self.send(m);
            }
            if !w.replicate.is_empty() {
                self.peer.local_committed(now, &w.replicate, store);
            }
            if w.announce {
                self.peer.announce(now);
            }
        }
        self.drain(now, journal);
    }

    pub fn tick(&mut self, now: Time, store: &mut LeaseStore, journal: &mut Journal) {
        self.peer.tick(now, store);
        self.drain(now, journal);
    }

    pub fn partner_down(&mut self, now: Time, journal: &mut Journal) -> Result<(), String> {
        let r = self.peer.operator_partner_down(now);
        self.drain(now, journal);
        r
    }

    fn send(&mut self, m: Message) {
        if self
            .link
            .try_send(LinkCmd::Send(self.generation, m))
            .is_err()
        {
            self.broken = true;
        }
    }

    /// Carries out everything the peer asked for.
    pub fn drain(&mut self, now: Time, journal: &mut Journal) {
        self.carry_out(journal);
        if std::mem::take(&mut self.broken) {
            // Dropping a message silently would stall the update window or
            // lose an ack; instead drop the connection, and both
            // resynchronize on the next one.
            tracing::error!(
                "peer link send queue is full (the partner is not reading): treating the link as down"
            );
            self.peer.link_down(now);
            self.reset.notify_one();
            self.carry_out(journal);
        }
    }

    fn carry_out(&mut self, journal: &mut Journal) {
        while let Some(a) = self.peer.poll_action() {
            match a {
                Action::Send(m) => self.send(m),
                Action::Announce => {
                    // An empty batch: it completes after every earlier one.
                    let batch = journal.submit(vec![]);
                    self.waiting.push_back(Waiting {
                        batch,
                        then: vec![],
                        replicate: vec![],
                        announce: true,
                    });
                }
                Action::Close(why) => {
                    if self
                        .link
                        .try_send(LinkCmd::Close(self.generation, why))
                        .is_err()
                    {
                        self.reset.notify_one();
                    }
                }
                Action::Commit {
                    leases,
                    meta,
                    then,
                    replicate,
                } => {
                    let replicate = if replicate { leases.clone() } else { vec![] };
                    let batch = journal.submit_with_meta(leases, meta);
                    self.waiting.push_back(Waiting {
                        batch,
                        then,
                        replicate,
                        announce: false,
                    });
                }
            }
        }
    }
}
