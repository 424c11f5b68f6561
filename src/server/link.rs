//! The peer link's edge: starts the link task for the configured protocol
//! (`net::peer_link` with the pre-shared key it loads, or `net::isc_link`
//! for an ISC dhcpd partner) and queues the node's frames on the current
//! connection.

use crate::config::{Config, FailoverConfig, PeerProtocol};
use crate::failover::isc::session::SessionConfig;
use crate::failover::message::Message;
use crate::net::isc_link::{self, IscLinkConfig};
use crate::net::peer_link::{self, LinkCmd, LinkConfig, LinkEvent};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

pub struct PeerLink {
    cmds: mpsc::Sender<LinkCmd>,
    /// Drops the current connection even when `cmds` is full.
    reset: Arc<Notify>,
    /// The connection the node is talking on (see `LinkEvent::Up`).
    pub generation: u64,
}

impl PeerLink {
    /// Starts the link task when `config` has a partner; its events come
    /// on the returned receiver. Errors: the key file cannot be read, is
    /// open to group or others, or holds no valid key (`keyfile::load`).
    pub fn start(config: &Config) -> anyhow::Result<Option<(PeerLink, mpsc::Receiver<LinkEvent>)>> {
        let Some(f) = &config.failover else {
            return Ok(None);
        };
        let (ev_tx, ev_rx) = mpsc::channel(1024);
        let (cmd_tx, cmd_rx) = mpsc::channel(peer_link::SEND_QUEUE);
        let reset = Arc::new(Notify::new());
        let primary = f.role == crate::config::Role::Primary;
        match &f.protocol {
            PeerProtocol::Tandem { secret_file } => {
                let link_cfg = LinkConfig {
                    primary,
                    listen: f.listen,
                    peer: f.peer,
                    key: Arc::new(crate::keyfile::load(secret_file)?),
                };
                tokio::spawn(peer_link::run(link_cfg, ev_tx, cmd_rx, reset.clone()));
            }
            PeerProtocol::IscDraft12 { .. } => {
                let link_cfg = isc_link_config(config, f);
                tokio::spawn(isc_link::run(link_cfg, ev_tx, cmd_rx, reset.clone()));
            }
        }
        let link = PeerLink {
            cmds: cmd_tx,
            reset,
            generation: 0,
        };
        Ok(Some((link, ev_rx)))
    }

    /// Queues `m` on the current connection. False when the queue is full
    /// (the partner is not reading): the protocol cannot go on without it.
    pub fn send(&self, m: Message) -> bool {
        self.cmds
            .try_send(LinkCmd::Send(self.generation, m))
            .is_ok()
    }

    /// Closes the current connection; the link task reconnects.
    pub fn close(&self, why: String) {
        if self
            .cmds
            .try_send(LinkCmd::Close(self.generation, why))
            .is_err()
        {
            self.reset.notify_one();
        }
    }

    /// Drops the current connection at once, whatever is queued.
    pub fn reset(&self) {
        self.reset.notify_one();
    }
}

/// What the ISC link task needs from the configuration.
fn isc_link_config(config: &Config, f: &FailoverConfig) -> IscLinkConfig {
    IscLinkConfig {
        listen: f.listen,
        peer: f.peer,
        session: SessionConfig::from_config(config).expect("an isc-draft12 partner is configured"),
    }
}
