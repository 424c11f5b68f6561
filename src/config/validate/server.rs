//! The `[server]` section.

use super::Checker;
use super::raw::RawServer;
use crate::config::*;
use toml::Spanned;

pub(super) fn server(c: &mut Checker, s: &RawServer) -> ServerConfig {
    let interfaces = interfaces(c, s);
    if s.lease_db.get_ref().trim().is_empty() {
        c.at(
            &s.lease_db,
            "server.lease_db",
            "give a path for the lease database",
        );
    }
    let direct_unicast = c.one_of(
        s.direct_unicast.as_ref(),
        "server.direct_unicast",
        &[
            ("packet", DirectUnicast::Packet),
            ("arp", DirectUnicast::Arp),
            ("broadcast", DirectUnicast::Broadcast),
        ],
        DirectUnicast::Packet,
    );
    let choices = [("full", true), ("normal", false)];
    let sync_full = c.one_of(s.sync.as_ref(), "server.sync", &choices, true);
    ServerConfig {
        name: s.name.clone().unwrap_or_else(|| "tandem".into()),
        interfaces,
        lease_db: PathBuf::from(s.lease_db.get_ref()),
        port: s.port.unwrap_or(67),
        client_port: s.client_port.unwrap_or(68),
        server_id: s.server_id.map(|i| i.0),
        decline_probation: s.decline_probation.map_or(86_400, |d| d.0),
        offer_hold: s.offer_hold.map_or(30, |d| d.0.max(1)),
        direct_unicast,
        sync_full,
        client_rate_limit: s.client_rate_limit.unwrap_or(20),
        global_rate_limit: s.global_rate_limit.unwrap_or(20_000),
        control_socket: PathBuf::from(
            s.control_socket
                .as_deref()
                .unwrap_or("/run/tandem/control.sock"),
        ),
        metrics: s.metrics.as_ref().map(|m| metrics(c, m)),
    }
}

/// Port of the metrics listener when `server.metrics` names none (the
/// port of DESIGN.md's example configuration).
pub const METRICS_PORT: u16 = 9267;

/// `server.metrics`: an address with an optional port (`METRICS_PORT`).
fn metrics(c: &mut Checker, v: &Spanned<String>) -> std::net::SocketAddr {
    let s = v.get_ref();
    let parsed = s.parse().or_else(|_| format!("{s}:{METRICS_PORT}").parse());
    parsed.unwrap_or_else(|_| {
        c.at(
            v,
            "server.metrics",
            format!("{s:?} is not an address with an optional port, e.g. \"127.0.0.1:9267\""),
        );
        std::net::SocketAddr::from(([127, 0, 0, 1], METRICS_PORT))
    })
}

/// The interface names to serve: at least one, each a name Linux accepts
/// (under 16 octets, no `/` or white space).
fn interfaces(c: &mut Checker, s: &RawServer) -> Vec<String> {
    for i in &s.interfaces {
        let n = i.get_ref();
        if n.is_empty() || n.len() >= 16 || n.contains('/') || n.contains(char::is_whitespace) {
            c.at(
                i,
                "server.interfaces",
                format!("{n:?} is not a valid interface name"),
            );
        }
    }
    if s.interfaces.is_empty() {
        c.at(
            &s.lease_db,
            "server.interfaces",
            "name at least one interface to serve, e.g. interfaces = [\"eth0\"]",
        );
    }
    s.interfaces.iter().map(|i| i.get_ref().clone()).collect()
}
