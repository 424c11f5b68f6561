//! The `[failover]` section.

use super::Checker;
use super::raw::{RawEvidence, RawFailover};
use crate::config::values::Secs;
use crate::config::*;
use crate::failover::evidence::EvidenceConfig;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use toml::Spanned;

pub(super) fn failover(c: &mut Checker, f: &Spanned<RawFailover>) -> FailoverConfig {
    let r = f.get_ref();
    let roles = [("primary", Role::Primary), ("secondary", Role::Secondary)];
    let role = c.one_of(Some(&r.role), "failover.role", &roles, Role::Primary);
    let listen = address(c, &r.listen, "failover.listen", 647);
    let peer = address(c, &r.peer, "failover.peer", 647);
    if listen == peer {
        c.at(&r.peer, "failover.peer", "is the same as listen");
    }
    let (key, days) = ("failover.mclt", "must be between 10s and 7 days");
    let mclt = secs_in(c, &r.mclt, 3600, 10..=7 * 86_400, key, days);
    let (key, hour) = ("failover.max_response_delay", "must be between 2s and 1h");
    let mrd = secs_in(c, &r.max_response_delay, 20, 2..=3600, key, hour);
    let apd = r.auto_partner_down.as_ref().map(|d| d.get_ref().0);
    if let (Some(d), Some(v)) = (&r.auto_partner_down, apd)
        && v < mrd
    {
        let message = "must be at least max_response_delay";
        c.at(d, "failover.auto_partner_down", message);
    }
    let (split, lbms, mu) = limits(c, r);
    let partner_down_evidence = evidence(c, r.partner_down_evidence.as_ref());
    let protocol = protocol(c, f);
    if matches!(protocol, PeerProtocol::IscDraft12 { .. }) {
        isc_limits(c, r, listen, mrd);
    }
    let witness = r.witness.as_ref().map(|w| {
        let key = "failover.witness";
        let a = address(c, w, key, crate::failover::witness::DEFAULT_PORT);
        if a.ip() == peer.ip() || a.ip() == listen.ip() {
            c.at(w, key, "must be a third host, not one of the pair");
        }
        a
    });
    FailoverConfig {
        role,
        listen,
        peer,
        protocol,
        mclt,
        split,
        max_response_delay: mrd,
        load_balance_max_secs: lbms,
        auto_partner_down: apd,
        partner_down_evidence,
        witness,
        max_unacked_updates: mu,
        max_clock_offset: r.max_clock_offset.as_ref().map_or(5, |d| d.get_ref().0),
    }
}

/// `protocol` with what it needs: tandem's own a `secret_file`; ISC's
/// (`"isc-draft12"`) a `relationship` name, and no key or witness, which a
/// dhcpd partner has no use for (it would never heartbeat the witness, so
/// the witness would always report it silent).
fn protocol(c: &mut Checker, f: &Spanned<RawFailover>) -> PeerProtocol {
    let r = f.get_ref();
    let kinds = [("tandem", false), ("isc-draft12", true)];
    if c.one_of(r.protocol.as_ref(), "failover.protocol", &kinds, false) {
        return isc_protocol(c, f);
    }
    if let Some(n) = &r.relationship {
        let message = "is for protocol = \"isc-draft12\" only";
        c.at(n, "failover.relationship", message);
    }
    let secret_file = match &r.secret_file {
        Some(file) => PathBuf::from(file.get_ref()),
        None => {
            let message =
                "is required (the pre-shared key of the peer link; `tandem init` writes one)";
            c.at(f, "failover.secret_file", message);
            PathBuf::new()
        }
    };
    PeerProtocol::Tandem { secret_file }
}

/// What ISC's protocol needs of the addresses and timers: our own address
/// to dial from (dhcpd accepts a connection only from the address its
/// `peer address` names), and a `max_response_delay` of 3 s or more
/// (dhcpd sends a CONTACT every third of it, whole seconds: below 3, as
/// fast as it can).
fn isc_limits(c: &mut Checker, r: &RawFailover, listen: SocketAddr, mrd: u64) {
    if listen.ip().is_unspecified() {
        let message = "must be this server's own address with protocol = \"isc-draft12\" (dhcpd accepts connections only from the address its `peer address` names)";
        c.at(&r.listen, "failover.listen", message);
    }
    if let Some(d) = r.max_response_delay.as_ref().filter(|_| mrd < 3) {
        let message = "must be at least 3s with protocol = \"isc-draft12\" (dhcpd sends a CONTACT every third of it)";
        c.at(d, "failover.max_response_delay", message);
    }
}

/// ISC's protocol: the relationship name, and no key or witness.
fn isc_protocol(c: &mut Checker, f: &Spanned<RawFailover>) -> PeerProtocol {
    let r = f.get_ref();
    if let Some(s) = &r.secret_file {
        let message = "has no use with protocol = \"isc-draft12\": ISC's failover protocol has no authentication (protect the link instead: README)";
        c.at(s, "failover.secret_file", message);
    }
    if let Some(w) = &r.witness {
        let message =
            "cannot be used with protocol = \"isc-draft12\": an ISC partner never heartbeats it";
        c.at(w, "failover.witness", message);
    }
    let relationship = match &r.relationship {
        Some(n) if (1..=255).contains(&n.get_ref().len()) => n.get_ref().clone(),
        Some(n) => {
            c.at(n, "failover.relationship", "must be 1 to 255 characters");
            String::new()
        }
        None => {
            let message = "is required with protocol = \"isc-draft12\" (the name in dhcpd.conf's `failover peer \"name\"`)";
            c.at(f, "failover.relationship", message);
            String::new()
        }
    };
    PeerProtocol::IscDraft12 { relationship }
}

/// `[failover.partner_down_evidence]`: `None` when disabled, else its
/// thresholds (defaults for what it leaves out; `secs` below `window`).
fn evidence(c: &mut Checker, r: Option<&RawEvidence>) -> Option<EvidenceConfig> {
    let none = RawEvidence::default();
    let r = r.unwrap_or(&none);
    let d = EvidenceConfig::default();
    let key = "failover.partner_down_evidence.clients";
    let message = "must be between 1 and 1000";
    let clients = int_in(c, &r.clients, d.clients.into(), 1..=1000, key, message);
    let key = "failover.partner_down_evidence.window";
    let message = "must be between 1m and 1 day";
    let window = secs_in(c, &r.window, d.window, 60..=86_400, key, message);
    let key = "failover.partner_down_evidence.secs";
    let message = "must be between 5 and 600";
    let least = i64::from(crate::failover::evidence::MIN_SECS);
    let secs = int_in(c, &r.secs, d.secs.into(), least..=600, key, message);
    if let Some(s) = &r.secs
        && u64::try_from(secs).is_ok_and(|v| v >= window)
    {
        c.at(s, key, "must be shorter than the window");
    }
    (r.enabled != Some(false)).then_some(EvidenceConfig {
        clients: clients.clamp(1, 1000) as u32,
        window,
        secs: secs.clamp(least, 600) as u16,
    })
}

/// The three counts: `split` (buckets of the RFC 3074 hash, 0 to 256),
/// `load_balance_max_secs` (0 to 65535) and `max_unacked_updates` (1 to
/// 10000), each clamped into its range after a problem is noted.
fn limits(c: &mut Checker, r: &RawFailover) -> (u16, u16, usize) {
    let split = int_in(
        c,
        &r.split,
        128,
        0..=256,
        "failover.split",
        "must be between 0 and 256 (buckets of the RFC 3074 hash served by the primary)",
    );
    let key = "failover.load_balance_max_secs";
    let message = "must be between 0 and 65535";
    let lbms = int_in(c, &r.load_balance_max_secs, 3, 0..=65_535, key, message);
    let key = "failover.max_unacked_updates";
    let message = "must be between 1 and 10000";
    let mu = int_in(c, &r.max_unacked_updates, 256, 1..=10_000, key, message);
    (
        split.clamp(0, 256) as u16,
        lbms.clamp(0, 65_535) as u16,
        mu.clamp(1, 10_000) as usize,
    )
}

/// An address with an optional port (`port` when absent: 647 for the
/// peer link, `METRICS_PORT` for metrics), or a problem at `key`.
pub(super) fn address(c: &mut Checker, v: &Spanned<String>, key: &str, port: u16) -> SocketAddr {
    let s = v.get_ref();
    let parsed = s.parse().or_else(|_| format!("{s}:{port}").parse());
    parsed.unwrap_or_else(|_| {
        c.at(
            v,
            key,
            format!("{s:?} is not an address with an optional port, e.g. \"192.0.2.1:{port}\""),
        );
        SocketAddr::from(([0, 0, 0, 0], port))
    })
}

/// A duration (seconds) that must lie in `range`; `default` when absent.
fn secs_in(
    c: &mut Checker,
    v: &Option<Spanned<Secs>>,
    default: u64,
    range: RangeInclusive<u64>,
    key: &str,
    message: &str,
) -> u64 {
    let Some(s) = v else { return default };
    if !range.contains(&s.get_ref().0) {
        c.at(s, key, message);
    }
    s.get_ref().0
}

/// A number that must lie in `range`; `default` when absent.
fn int_in(
    c: &mut Checker,
    v: &Option<Spanned<i64>>,
    default: i64,
    range: RangeInclusive<i64>,
    key: &str,
    message: &str,
) -> i64 {
    let Some(s) = v else { return default };
    if !range.contains(s.get_ref()) {
        c.at(s, key, message);
    }
    *s.get_ref()
}
