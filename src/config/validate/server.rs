//! The `[server]` section.

use super::Checker;
use super::raw::RawServer;
use crate::config::*;

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
        ping: ping_check(c, s),
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
        metrics: s
            .metrics
            .as_ref()
            .map(|m| super::failover::address(c, m, "server.metrics", METRICS_PORT)),
    }
}

/// The ping check's settings, when `ping_check = true`; a timeout outside
/// 1 ms to 10 s is a problem (a DISCOVER waits for it).
fn ping_check(c: &mut Checker, s: &RawServer) -> Option<PingCheck> {
    let timeout_ms = s.ping_timeout.as_ref().map_or(500, |t| t.get_ref().0);
    let hold_ms = s.offer_hold.map_or(30, |d| d.0.max(1)) * 1000;
    if let Some(t) = &s.ping_timeout
        && (!(1..=10_000).contains(&timeout_ms) || timeout_ms >= hold_ms)
    {
        let message =
            "must be between 1ms and 10s, and shorter than offer_hold (the OFFER waits for it)";
        c.at(t, "server.ping_timeout", message);
    }
    s.ping_check.unwrap_or(false).then(|| PingCheck {
        timeout_ms,
        after_free: s.ping_after_free.map_or(0, |d| d.0),
    })
}

/// Port of the metrics listener when `server.metrics` names none (the
/// port of DESIGN.md's example configuration).
pub const METRICS_PORT: u16 = 9267;

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
