//! What the peer state machine needs of the configuration, copied out of
//! the validated `Config`.

use crate::config::PoolId;
use crate::lease::Owner;

/// The database identity an ISC dhcpd partner's CONNECT names (its
/// database has none) for "the one we met last": with
/// [`PeerConfig::isc_partner`], the peer takes it for the partner database
/// it last synchronised with, or for a new one at the first meeting. The
/// ISC session names another when dhcpd shows it lost its database.
pub const ISC_EPOCH: u64 = 0x15C0_0000_0000_0001;

/// Whether `epoch` names an ISC dhcpd's database ([`ISC_EPOCH`], or one
/// the ISC session minted: both keep its top 16 bits), not a tandem
/// partner's (random).
pub fn is_isc_epoch(epoch: u64) -> bool {
    epoch >> 48 == ISC_EPOCH >> 48
}

/// What the peer state machine needs of the configuration (the
/// `[failover]` section and the pools), copied out so it runs without the
/// whole config.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// This server's name (`[server] name`), sent in CONNECT.
    pub name: String,
    /// This server is the primary (it breaks ties, RFC 3074 buckets below `split`).
    pub primary: bool,
    /// Maximum client lead time, seconds (draft-12 section 5.3).
    pub mclt: u64,
    /// Seconds of silence on an open link before it is closed.
    pub max_response_delay: u64,
    /// Seconds in COMMUNICATIONS-INTERRUPTED before PARTNER-DOWN, if automatic.
    pub auto_partner_down: Option<u64>,
    /// What `auto_partner_down` needs besides silence: client evidence
    /// that the partner is down (`failover::evidence`); `None` for silence
    /// alone.
    pub evidence: Option<crate::failover::evidence::EvidenceConfig>,
    /// The witness both peers heartbeat (`failover::witness`), if any.
    pub witness: Option<std::net::SocketAddr>,
    /// Binding updates sent and not yet acknowledged, at most (rounded up
    /// to whole batches of 64; beside an ISC dhcpd, records, one per
    /// update).
    pub max_unacked: usize,
    /// Seconds of partner clock offset beyond which an alarm is raised.
    pub max_clock_offset: u64,
    /// The config's pair fingerprint: both peers must serve the same pools.
    pub fingerprint: String,
    /// RFC 3074 hash buckets (of 256) served by the primary.
    pub split: u16,
    /// A request with `secs` above this is answered by either peer.
    pub load_balance_max_secs: u16,
    /// Every pool, for rebalancing free addresses between the peers.
    pub pools: Vec<PoolId>,
    /// Networks served: a record for an address outside them is refused.
    pub subnets: Vec<crate::config::Cidr>,
    /// The partner is an ISC dhcpd (`protocol = "isc-draft12"`), which
    /// keeps no runtime reservations: it would give a reserved address to
    /// another client.
    pub isc_partner: bool,
}

impl PeerConfig {
    /// The peer settings of a validated config with a `[failover]` section.
    pub fn from_config(c: &crate::config::Config) -> Option<PeerConfig> {
        let f = c.failover.as_ref()?;
        Some(PeerConfig {
            name: c.server.name.clone(),
            primary: f.role == crate::config::Role::Primary,
            mclt: f.mclt,
            max_response_delay: f.max_response_delay,
            auto_partner_down: f.auto_partner_down,
            evidence: f.partner_down_evidence,
            witness: f.witness,
            max_unacked: f.max_unacked_updates,
            max_clock_offset: f.max_clock_offset,
            fingerprint: c.fingerprint(),
            split: f.split,
            load_balance_max_secs: f.load_balance_max_secs,
            pools: c.pools.iter().map(|p| p.id).collect(),
            subnets: c.subnets.iter().map(|s| s.cidr).collect(),
            isc_partner: matches!(f.protocol, crate::config::PeerProtocol::IscDraft12 { .. }),
        })
    }

    /// This server's side in address ownership.
    pub fn me(&self) -> Owner {
        if self.primary {
            Owner::Primary
        } else {
            Owner::Secondary
        }
    }

    pub(super) fn partner(&self) -> Owner {
        self.me().other()
    }
}
