//! Prometheus metrics (`[server] metrics`, DESIGN.md section 4): the node's
//! figures at scrape time (`node::Figures`) and the journal's commit
//! histograms, in the OpenMetrics text format of `prometheus-client`.
//! `http` serves them on `GET /metrics`. Every series is documented in
//! docs/OPERATIONS.md.

mod http;

pub use http::{Scrape, bind, serve};

use crate::failover::State;
use crate::node::Figures;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(&'static str, String)>;

/// What the exporter keeps between scrapes: the commit histograms (fed by
/// the edge as the journal reports) and the process start time.
pub struct Exporter {
    commit_seconds: Histogram,
    commit_leases: Histogram,
    start_time: f64,
}

impl Default for Exporter {
    fn default() -> Self {
        Exporter::new()
    }
}

impl Exporter {
    /// An exporter whose process started now.
    pub fn new() -> Exporter {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Exporter {
            // 50 µs to 1.6 s: an fsync on flash to a stalled disk.
            commit_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            // 1 to 8192 leases (`MAX_BATCH_LEASES`).
            commit_leases: Histogram::new(exponential_buckets(1.0, 2.0, 14)),
            start_time,
        }
    }

    /// One journal transaction committed: it took `micros` (µs) and wrote
    /// `leases` records.
    pub fn observe_commit(&self, micros: u64, leases: usize) {
        self.commit_seconds.observe(micros as f64 / 1e6);
        self.commit_leases.observe(leases as f64);
    }

    /// The scrape body for the node's `figures`. Never fails: writing to a
    /// `String` cannot.
    pub fn render(&self, f: &Figures) -> String {
        let mut root = Registry::default();
        let start = Gauge::<f64, AtomicU64>::default();
        start.set(self.start_time);
        root.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch",
            start,
        );
        let reg = root.sub_registry_with_prefix("tandem");
        reg.register(
            "build",
            "The running version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        reg.register(
            "journal_commit_duration_seconds",
            "Time from a journal transaction's start to its fsync's end",
            self.commit_seconds.clone(),
        );
        reg.register(
            "journal_commit_leases",
            "Lease records written per journal transaction",
            self.commit_leases.clone(),
        );
        dhcp(reg, f);
        leases(reg, f);
        if let Some(p) = &f.peer {
            failover(reg, p);
        }
        peer_traffic(reg, f);
        let mut text = String::new();
        let _ = encode(&mut text, &root);
        text
    }
}

fn counter(reg: &mut Registry, name: &str, help: &str, v: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(v);
    reg.register(name, help, c);
}

fn counters(
    reg: &mut Registry,
    name: &str,
    help: &str,
    items: impl IntoIterator<Item = (Labels, u64)>,
) {
    let fam = Family::<Labels, Counter>::default();
    for (l, v) in items {
        fam.get_or_create(&l).inc_by(v);
    }
    reg.register(name, help, fam);
}

fn gauge(reg: &mut Registry, name: &str, help: &str, v: i64) {
    let g = Gauge::<i64>::default();
    g.set(v);
    reg.register(name, help, g);
}

fn gauges(
    reg: &mut Registry,
    name: &str,
    help: &str,
    items: impl IntoIterator<Item = (Labels, i64)>,
) {
    let fam = Family::<Labels, Gauge>::default();
    for (l, v) in items {
        fam.get_or_create(&l).set(v);
    }
    reg.register(name, help, fam);
}

fn one(key: &'static str, value: &str) -> Labels {
    vec![(key, value.to_string())]
}

/// Packets in and out, and why some got no answer.
fn dhcp(reg: &mut Registry, f: &Figures) {
    let s = &f.stats;
    let by_type = s.received_by_type.iter();
    counters(
        reg,
        "dhcp_received",
        "DHCP requests parsed, by message type",
        by_type.map(|(t, v)| (one("type", t), *v)),
    );
    let dropped = [
        ("malformed", s.malformed),
        ("oversized", s.oversized),
        ("rate-limited", s.rate_limited),
        ("overloaded", s.overloaded),
    ];
    counters(
        reg,
        "dhcp_dropped",
        "Datagrams dropped before the DHCP engine, by reason",
        dropped.map(|(r, v)| (one("reason", r), v)),
    );
    counters(
        reg,
        "dhcp_ignored",
        "Requests the engine chose not to answer, by reason",
        s.ignored_by_reason
            .iter()
            .map(|(r, v)| (one("reason", r), *v)),
    );
    let replies = [
        ("offer", s.offers),
        ("ack", s.acks),
        ("nak", s.naks),
        ("inform-ack", s.informs),
    ];
    counters(
        reg,
        "dhcp_replies",
        "Replies decided, by type (DHCPACKs to DHCPINFORM as inform-ack)",
        replies.map(|(t, v)| (one("type", t), v)),
    );
    outcomes(reg, f);
}

/// What became of the decisions: sends, releases, declines, commits.
fn outcomes(reg: &mut Registry, f: &Figures) {
    let s = &f.stats;
    counter(
        reg,
        "dhcp_send_errors",
        "Replies the socket refused to send",
        s.send_errors,
    );
    counter(reg, "dhcp_releases", "DHCPRELEASEs applied", s.releases);
    counter(
        reg,
        "dhcp_declines",
        "DHCPDECLINEs applied (address quarantined)",
        s.declines,
    );
    let pings = [("silent", s.pings_silent), ("answered", s.pings_answered)];
    counters(
        reg,
        "dhcp_ping_checks",
        "Pings before an OFFER, by result (answered: the address was quarantined)",
        pings.map(|(r, v)| (one("result", r), v)),
    );
    let dns = [("done", s.dns_updates), ("failed", s.dns_failures)];
    counters(
        reg,
        "dns_updates",
        "DNS jobs (add or remove a binding's records), by result (failed ones are tried again)",
        dns.map(|(r, v)| (one("result", r), v)),
    );
    counter(
        reg,
        "journal_commits",
        "Journal transactions committed",
        s.commits,
    );
    counter(
        reg,
        "journal_commit_failures",
        "Journal transactions that failed (the server stops)",
        s.commit_failures,
    );
    gauge(
        reg,
        "parked_replies",
        "Replies waiting for their journal commit",
        f.parked_replies as i64,
    );
    gauge(
        reg,
        "journal_uncommitted_batches",
        "Journal batches handed to the writer and not yet durable",
        f.uncommitted_batches as i64,
    );
}

/// Leases by state and owner, free addresses by owner, per pool.
fn leases(reg: &mut Registry, f: &Figures) {
    let mut held = Vec::new();
    let mut free = Vec::new();
    for p in &f.pools {
        let base = || vec![("pool", p.range.clone()), ("subnet", p.subnet.clone())];
        for ((state, owner), n) in &p.leases {
            let mut l = base();
            l.push(("state", state.as_str().into()));
            l.push(("owner", owner.as_str().into()));
            held.push((l, *n as i64));
        }
        for (owner, n) in ["primary", "secondary"].iter().zip(p.free) {
            let mut l = base();
            l.push(("owner", owner.to_string()));
            free.push((l, n as i64));
        }
    }
    for (state, n) in &f.outside_pools {
        let l = vec![("pool", "none".into()), ("state", state.as_str().into())];
        held.push((l, *n as i64));
    }
    gauges(
        reg,
        "leases",
        "Lease records by pool, state and owner (pool=\"none\": reservations outside every pool)",
        held,
    );
    gauges(
        reg,
        "free_addresses",
        "Addresses free to allocate, by pool and owner",
        free,
    );
}

/// This server's failover state and the partner's as seen, the link's
/// health, and what automatic partner-down stands on.
fn failover(reg: &mut Registry, p: &crate::failover::PeerGauges) {
    failover_states(reg, p);
    link_health(reg, p);
    counter(
        reg,
        "failover_auto_partner_down",
        "Times this server declared its partner down by itself since it started",
        p.auto_partner_down,
    );
    if let Some(e) = &p.evidence {
        evidence(reg, e);
    }
    if let Some((reachable, silent)) = p.witness {
        witness(reg, reachable, silent);
    }
}

/// One series per draft state (1 for the current one), for this server
/// and for the partner as last heard, and since when ours holds.
fn failover_states(reg: &mut Registry, p: &crate::failover::PeerGauges) {
    let states = |current: Option<State>| {
        State::ALL.map(|s| (one("state", s.as_str()), i64::from(current == Some(s))))
    };
    gauges(
        reg,
        "failover_state",
        "This server's failover state (1 = current)",
        states(Some(p.state)),
    );
    gauges(
        reg,
        "failover_partner_state",
        "The partner's failover state as last heard (all 0 while not connected)",
        states(p.partner_state),
    );
    gauge(
        reg,
        "failover_state_since_seconds",
        "When this server entered its failover state (its clock, Unix seconds)",
        p.since.0 as i64,
    );
}

/// The peer link: up or not, last contact, clock offset, updates unacked.
fn link_health(reg: &mut Registry, p: &crate::failover::PeerGauges) {
    gauge(
        reg,
        "failover_connected",
        "1 while the peer link is up",
        i64::from(p.connected),
    );
    if let Some(age) = p.last_contact_age {
        gauge(
            reg,
            "failover_last_contact_age_seconds",
            "Seconds since the partner was last heard",
            age as i64,
        );
    }
    if let Some(b) = p.clock_offset {
        let bounds = [("low", b.low), ("high", b.high)];
        gauges(
            reg,
            "failover_clock_offset_seconds",
            "Bounds of the partner's clock offset (partner - this server)",
            bounds.map(|(k, v)| (one("bound", k), v)),
        );
    }
    gauge(
        reg,
        "failover_unacked_updates",
        "Local lease changes the partner has not acknowledged",
        p.unacked_updates as i64,
    );
}

/// The witness (`[failover] witness`).
fn witness(reg: &mut Registry, reachable: bool, partner_silent: Option<u64>) {
    let help = "1 while the witness answers heartbeats (a report within 5 s)";
    gauge(
        reg,
        "failover_witness_reachable",
        help,
        i64::from(reachable),
    );
    if let Some(s) = partner_silent {
        let help = "Seconds the witness had not heard the partner, as its latest report said";
        gauge(
            reg,
            "failover_witness_partner_silent_seconds",
            help,
            s as i64,
        );
    }
}

/// Partner-down evidence (`[failover.partner_down_evidence]`).
fn evidence(reg: &mut Registry, e: &crate::failover::EvidenceGauges) {
    gauge(
        reg,
        "failover_partner_down_evidence_collecting",
        "1 while the silent partner's clients are held back and watched",
        i64::from(e.collecting),
    );
    gauge(
        reg,
        "failover_partner_down_evidence_clients",
        "Clients of the partner counted unanswered within the window",
        i64::from(e.counted),
    );
    gauge(
        reg,
        "failover_partner_down_evidence_clients_needed",
        "Clients the evidence needs before automatic partner-down",
        i64::from(e.needed),
    );
}

/// Peer messages and binding-update records, both ways.
fn peer_traffic(reg: &mut Registry, f: &Figures) {
    let (tx, rx) = (&f.stats.peer_sent, &f.stats.peer_received);
    let msgs = |t: &crate::node::PeerTraffic, dir: &str| -> Vec<(Labels, u64)> {
        t.messages
            .iter()
            .map(|(m, v)| {
                (
                    vec![("message", m.to_string()), ("direction", dir.into())],
                    *v,
                )
            })
            .collect()
    };
    let mut all = msgs(tx, "sent");
    all.extend(msgs(rx, "received"));
    counters(
        reg,
        "failover_messages",
        "Peer link messages by name and direction",
        all,
    );
    let records = [
        ("sent", tx.binding_records),
        ("received", rx.binding_records),
    ];
    counters(
        reg,
        "failover_binding_updates",
        "Lease records carried in binding updates (the draft's BNDUPD), by direction",
        records.map(|(d, v)| (one("direction", d), v)),
    );
    let rejects = [
        ("sent", tx.rejected_records),
        ("received", rx.rejected_records),
    ];
    counters(
        reg,
        "failover_binding_rejects",
        "Binding-update records refused in binding acks, by direction of the ack",
        rejects.map(|(d, v)| (one("direction", d), v)),
    );
}

#[cfg(test)]
mod tests;
