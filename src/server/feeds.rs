//! What feeds the node besides the journal (`server` wires them): the
//! served interfaces' sockets and their reader, the peer link's events, the
//! control socket, metrics scrapes, SIGHUP, and the results of the side
//! effects (pings, DNS updates) the edge carries out.

use super::receive::Receiver;
use super::{dns, metrics, pings};
use crate::config::Config;
use crate::control;
use crate::net::peer_link::LinkEvent;
use crate::net::{DhcpSocket, Interface};
use anyhow::Context;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What feeds the node besides the journal: the interfaces' sockets, the
/// peer link and the control socket.
pub(super) struct Feeds {
    pub(super) packets: Receiver,
    /// Finished pings of the ping check.
    pub(super) ping_results: mpsc::UnboundedReceiver<pings::PingResult>,
    /// Finished DNS jobs.
    pub(super) dns_results: mpsc::UnboundedReceiver<dns::DnsResult>,
    pub(super) link: Option<mpsc::Receiver<LinkEvent>>,
    pub(super) control: mpsc::Receiver<control::Request>,
    /// Scrapes of the metrics listener, when `server.metrics` is set.
    pub(super) scrapes: Option<mpsc::Receiver<metrics::Scrape>>,
    /// SIGHUP: reload the configuration (`None` if the handler could not be installed).
    pub(super) hangup: Option<tokio::signal::unix::Signal>,
    /// Datagrams from the witness, when `[failover] witness` is set (the
    /// server wires it after the feeds start).
    pub(super) witness: Option<mpsc::Receiver<Vec<u8>>>,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts the sockets' reader, the control socket and the metrics listener;
/// also returns the ping check's pinger, whose results arrive in the feeds
/// (as `dns_results`, the DNS updater's, do).
pub(super) fn start_feeds(
    config: &Config,
    sockets: &[Arc<DhcpSocket>],
    link: Option<mpsc::Receiver<LinkEvent>>,
    metrics_listener: Option<tokio::net::TcpListener>,
    dns_results: mpsc::UnboundedReceiver<dns::DnsResult>,
) -> (Feeds, pings::Pings) {
    let packets = receiver(config, sockets);
    let mut tasks = Vec::new();
    let (ctl_tx, control) = mpsc::channel::<control::Request>(16);
    match control::bind(&config.server.control_socket) {
        Ok(l) => tasks.push(tokio::spawn(control::serve(l, ctl_tx))),
        Err(e) => {
            tracing::warn!(path = %config.server.control_socket.display(), error = %e, "no control socket; `tandem status` will not reach this server")
        }
    }
    let scrapes = metrics_listener.map(|l| {
        let (tx, rx) = mpsc::channel(8);
        if let Ok(a) = l.local_addr() {
            tracing::info!(addr = %a, "serving metrics on /metrics");
        }
        tasks.push(tokio::spawn(metrics::serve(l, tx)));
        rx
    });
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| tracing::warn!(error = %e, "no SIGHUP handler; reload with `tandem reload`"))
        .ok();
    let (pings, ping_results) = pings::Pings::new();
    let feeds = Feeds {
        packets,
        ping_results,
        dns_results,
        link,
        control,
        scrapes,
        hangup,
        witness: None,
        tasks,
    };
    (feeds, pings)
}

/// One DHCP socket per served interface. Errors: an interface that does
/// not exist or a port that cannot be bound, named.
pub(super) fn open_sockets(config: &Config) -> anyhow::Result<Vec<Arc<DhcpSocket>>> {
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
    Ok(sockets)
}

/// The reader of every served socket, each with the address that names its
/// link: the interface's address inside a configured subnet, else its first.
fn receiver(config: &Config, sockets: &[Arc<DhcpSocket>]) -> Receiver {
    let links = sockets
        .iter()
        .map(|s| {
            let link = s
                .iface
                .addrs
                .iter()
                .copied()
                .find(|a| config.subnet_containing(*a).is_some())
                .or(s.iface.addrs.first().copied());
            tracing::info!(iface = %s.iface.name, port = config.server.port, link = ?link, "listening");
            link
        })
        .collect();
    Receiver::new(sockets.to_vec(), links)
}
