//! Configuration: the TOML schema (`raw`), value parsing (`values`), option
//! encoding (`options`) and the checks that turn raw input into a `Config`
//! the rest of the server can trust without re-checking (`validate`).

mod protocol;
pub use protocol::PeerProtocol;
pub mod class;
pub mod ddns;
pub mod option_specs;
pub mod options;
pub mod raw;
pub mod reload;
pub mod runtime;
mod validate;
pub mod values;

pub use class::{Class, ClassId, ClassRule};
pub use ddns::{DdnsConfig, DnsKey, DnsZone, TsigAlgorithm};
pub use options::OptionValue;
pub use values::{Cidr, Range};

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Server-wide settings: identity, sockets, database, timers and rate limits.
    pub server: ServerConfig,
    /// The pair, if this server has a partner.
    pub failover: Option<FailoverConfig>,
    /// Subnets in file order; `SubnetId` indexes this list.
    pub subnets: Vec<Subnet>,
    /// Every pool of every subnet; `PoolId` indexes this list.
    pub pools: Vec<Pool>,
    /// Links with several subnets, in file order; `Subnet::shared_network`
    /// indexes this list.
    pub shared_networks: Vec<SharedNetwork>,
    /// Client classes, in file order; `ClassId` indexes this list.
    pub classes: Vec<Class>,
    /// Dynamic DNS updates, when `[ddns]` is configured.
    pub ddns: Option<DdnsConfig>,
    /// Addresses named by runtime reservations this configuration does not
    /// apply (`config::runtime`): kept out of the free addresses, since the
    /// partner may apply them and give the address to their client.
    pub held: Vec<Ipv4Addr>,
}

/// A `[[shared_network]]`: several subnets on one link. A client on the link
/// gets an address from the first of them with room, and keeps its lease's
/// subnet on renewal (DESIGN.md's allocation order, per link).
#[derive(Clone, Debug)]
pub struct SharedNetwork {
    /// The name its subnets give.
    pub name: String,
    /// Its subnets, in file order (at least one).
    pub subnets: Vec<SubnetId>,
}

/// The `[server]` section, with defaults filled in.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Name shown in logs, `tandem status` and to the partner at connect (default "tandem").
    pub name: String,
    /// Interfaces to serve on (at least one); each gets its own socket bound to the device.
    pub interfaces: Vec<String>,
    /// Path of the SQLite lease database (the journal).
    pub lease_db: PathBuf,
    /// UDP port to listen on (default 67).
    pub port: u16,
    /// UDP port clients listen on, where direct replies go (default 68).
    pub client_port: u16,
    /// Server identifier (option 54) to send instead of the receiving interface's address;
    /// also accepted as ours when a client names it.
    pub server_id: Option<Ipv4Addr>,
    /// Seconds a DECLINEd address stays quarantined before it is free again (default 86400).
    pub decline_probation: u64,
    /// Ping check before an offer (ISC's `ping-check`): `None` when off.
    pub ping: Option<PingCheck>,
    /// Seconds an OFFERed address stays set aside for its client (default 30, at least 1).
    pub offer_hold: u64,
    /// How to deliver a reply to a client that has no address yet (default `Packet`).
    pub direct_unicast: DirectUnicast,
    /// SQLite `synchronous=FULL` (true, the default) or `NORMAL` (false, from `sync = "normal"`).
    /// FULL is what makes "committed before the ACK" survive a power loss.
    pub sync_full: bool,
    /// Packets per second accepted from one client before the rest are dropped
    /// (default 20; 0 turns it off).
    pub client_rate_limit: u32,
    /// Packets per second accepted from all clients together (default 20000; 0 turns it off).
    pub global_rate_limit: u32,
    /// Unix socket for `tandem status` and `tandem partner-down`
    /// (default /run/tandem/control.sock).
    pub control_socket: PathBuf,
    /// Where to serve Prometheus metrics (`GET /metrics`); none when absent.
    pub metrics: Option<std::net::SocketAddr>,
}

/// How the ping check runs: an ICMP echo to an address about to be offered
/// to a new client; an answer means a host already uses it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PingCheck {
    /// How long to wait for the echo reply, milliseconds (default 500, 1 to 10,000).
    pub timeout_ms: u64,
    /// An address leased before is pinged only once it has been free this
    /// many seconds (default 0: every time); one never leased always is.
    pub after_free: u64,
}

/// Which of the pair this server is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// The draft's primary server: in load balancing, serves the RFC 3074 hash
    /// buckets below `split`.
    Primary,
    /// The draft's secondary server: serves the hash buckets from `split` up.
    Secondary,
}

/// The `[failover]` section, with defaults filled in: the pair and its timers.
#[derive(Clone, Debug)]
pub struct FailoverConfig {
    /// Which of the pair this server is; the two peers must differ.
    pub role: Role,
    /// Address the peer link listens on (TCP, port 647 unless given); only the
    /// secondary listens.
    pub listen: std::net::SocketAddr,
    /// The partner's peer link address (TCP, port 647 unless given); only the
    /// primary connects.
    pub peer: std::net::SocketAddr,
    /// The protocol the peer link speaks, and what it needs.
    pub protocol: PeerProtocol,
    /// Maximum Client Lead Time (the draft's MCLT) in seconds; default 3600, 10 s to 7 days:
    /// how far a lease may run past what the partner has acknowledged.
    pub mclt: u64,
    /// Buckets (of 256) and pool shares (of 256) that belong to the primary.
    pub split: u16,
    /// Seconds without any message from the partner, or without an acknowledgement of
    /// pending updates, before the link is closed (default 20, 2 s to 1 h); keepalives go
    /// every third of it.
    pub max_response_delay: u64,
    /// A client whose `secs` field reaches this many seconds is answered by either peer,
    /// whatever its hash bucket (the partner seems not to answer; default 3).
    pub load_balance_max_secs: u16,
    /// Seconds of partner silence in COMMUNICATIONS-INTERRUPTED after which the server
    /// enters PARTNER-DOWN by itself; `None` (the default) waits for the operator. At least
    /// `max_response_delay`.
    pub auto_partner_down: Option<u64>,
    /// What `auto_partner_down` requires besides silence: client evidence
    /// that the partner is down (`[failover.partner_down_evidence]`, on by
    /// default); `None` when disabled (silence alone).
    pub partner_down_evidence: Option<crate::failover::evidence::EvidenceConfig>,
    /// The `tandem witness` both peers heartbeat over UDP (`failover::witness`):
    /// `auto_partner_down` then also needs it to have stopped hearing the
    /// partner. `None` (the default) for no witness.
    pub witness: Option<std::net::SocketAddr>,
    /// Lease updates sent to the partner and not yet acknowledged before sending pauses
    /// (the draft's MAX-UNACKED-BNDUPD; default 256, 1 to 10000).
    pub max_unacked_updates: usize,
    /// Seconds of clock offset between the peers above which status raises an alarm (default 5).
    pub max_clock_offset: u64,
}

/// How a reply reaches a client that has no address yet and did not ask for broadcast.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DirectUnicast {
    /// Build the Ethernet frame ourselves on an AF_PACKET socket (needs CAP_NET_RAW).
    Packet,
    /// Add an ARP entry for the client, then send plain UDP (needs CAP_NET_ADMIN).
    Arp,
    /// Broadcast the reply; works everywhere, costs a broadcast per reply.
    Broadcast,
}

/// Index of a pool in `Config::pools`, in file order across all subnets.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u32);

/// Index of a subnet in `Config::subnets`, in file order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubnetId(pub u32);

/// One pool: a range of addresses the server may allocate dynamically.
#[derive(Clone, Debug)]
pub struct Pool {
    /// This pool's index in `Config::pools`.
    pub id: PoolId,
    /// The subnet the pool lies in.
    pub subnet: SubnetId,
    /// The addresses, inclusive at both ends; never the network or broadcast address.
    pub range: Range,
    /// When not empty, only members of one of these classes are given new
    /// addresses from this pool.
    pub allow: Vec<ClassId>,
    /// Members of any of these classes are given no new address from this pool.
    pub deny: Vec<ClassId>,
}

impl Pool {
    /// Whether a client in `classes` may be given a new address from this
    /// pool: in an allowed class (when any is named) and in no denied one.
    pub fn admits(&self, classes: &[&Class]) -> bool {
        let member = |id: &ClassId| classes.iter().any(|c| c.id == *id);
        (self.allow.is_empty() || self.allow.iter().any(member)) && !self.deny.iter().any(member)
    }
}

/// One `[[subnet]]`: a network the server serves, its pools, lease times and options.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// This subnet's index in `Config::subnets`.
    pub id: SubnetId,
    /// The network; a client is on this subnet when the selecting address lies inside it.
    pub cidr: Cidr,
    /// The shared network (index in `Config::shared_networks`) whose link
    /// this subnet shares with others; `None` when it has a link of its own.
    pub shared_network: Option<usize>,
    /// Its pools, in file order (may be empty for a reservations-only subnet).
    pub pools: Vec<PoolId>,
    /// Lease time bounds and T1/T2.
    pub lease: LeaseTimes,
    /// NAK an INIT-REBOOT or REQUEST from a client this server has no record of,
    /// as ISC's `authoritative;` does (RFC 2131 §4.3.2); otherwise stay silent.
    pub authoritative: bool,
    /// Options in the order the operator wrote them; the subnet mask is implied by `cidr`.
    pub options: Vec<OptionValue>,
    /// `siaddr` in replies: the next server for network boot (TFTP).
    pub next_server: Option<Ipv4Addr>,
    /// Boot file name (1 to 127 octets), sent in `file` and as option 67 when requested.
    pub boot_file: Option<String>,
    /// TFTP server name (1 to 63 octets), sent in `sname` and as option 66 when requested.
    pub server_hostname: Option<String>,
    /// Fixed addresses for known clients, by MAC or client identifier.
    pub reservations: Vec<Reservation>,
    /// Its clients' names go to DNS (`[ddns]` on and the subnet not left out).
    pub ddns: bool,
    /// The domain its clients' host labels are qualified with, when it (or
    /// its shared network) names one; else `DdnsConfig::qualifying_suffix`.
    pub ddns_suffix: Option<String>,
}

/// A subnet's lease time bounds, all in seconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LeaseTimes {
    /// Granted when the client does not ask (option 51); default 43200 (12 h).
    pub default: u64,
    /// Shortest time granted, even when the client asks for less (defaults to `default`).
    pub min: u64,
    /// Longest time granted, even when the client asks for more (defaults to `default`).
    pub max: u64,
    /// Fixed renewal time (T1, option 58); `None`, or a value that does not fit
    /// inside the grant, means half the granted time.
    pub t1: Option<u64>,
    /// Fixed rebinding time (T2, option 59); `None`, or a value that does not fit
    /// inside the grant, means 7/8 of the granted time.
    pub t2: Option<u64>,
}

/// A fixed address for one client; exactly one of `mac` and `client_id` is set.
#[derive(Clone, Debug)]
pub struct Reservation {
    /// Matches a client whose chaddr is this Ethernet address (htype 1); a
    /// client-id reservation for the same client wins.
    pub mac: Option<[u8; 6]>,
    /// Matches a client whose option 61 is exactly these bytes (type byte included).
    pub client_id: Option<Vec<u8>>,
    /// The reserved address, inside the subnet; it is given to no other client.
    pub address: Ipv4Addr,
    /// Host name sent as option 12 when the client asks for it.
    pub hostname: Option<String>,
    /// Options for this client, taking precedence over the subnet's.
    pub options: Vec<OptionValue>,
    /// Added at runtime (`tandem reservation add`), not by the file: left
    /// out of the pair's fingerprint, since it reaches the partner by
    /// replication, not by its configuration (`config::runtime`).
    pub runtime: bool,
}

/// One problem found in a config file, located for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Line (1-based) in the file the problem points at.
    pub line: usize,
    /// The config key at fault, e.g. `subnet[0].pools`.
    pub key: String,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

/// Why a config file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file as given.
        path: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema (unknown key, wrong type, bad value).
    #[error("{path}: {message}")]
    Syntax {
        /// The file as given.
        path: String,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// The file parses but breaks one or more rules; every problem is listed, in line order.
    #[error("{path}: {}", problems.iter().map(|p| format!("line {}: {}: {}", p.line, p.key, p.message)).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        /// The file as given.
        path: String,
        /// Each problem found, sorted by line.
        problems: Vec<Problem>,
    },
}

impl Config {
    /// Reads and validates the file at `path`.
    ///
    /// Errors: `Io` when it cannot be read, `Syntax` or `Invalid` as for `Config::parse`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        validate::validate(raw, text).map_err(|problems| ConfigError::Invalid {
            path: origin.to_string(),
            problems,
        })
    }

    /// Whether this server is a pair's secondary (`[failover] role`); a
    /// server alone is not.
    pub fn is_secondary(&self) -> bool {
        self.failover
            .as_ref()
            .is_some_and(|f| f.role == Role::Secondary)
    }

    /// Parts of 256 of each pool initially owned by the primary: all of them without a partner.
    pub fn split(&self) -> u16 {
        self.failover.as_ref().map_or(256, |f| f.split)
    }

    /// A digest of everything both peers must agree on: subnets, shared
    /// networks, pools and their class rules, reservations, classes, split
    /// and MCLT, and with `[ddns]` what names a client (per-subnet DDNS and
    /// suffix, the overrides, reservation host names). Compared when the
    /// pair connects.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for s in &self.subnets {
            h.update(format!("subnet {}\n", s.cidr));
            if let Some(n) = s.shared_network {
                h.update(format!("shared {}\n", self.shared_networks[n].name));
            }
            for p in &s.pools {
                let p = self.pool(*p);
                h.update(format!("pool {}-{}\n", p.range.first, p.range.last));
                if !p.allow.is_empty() || !p.deny.is_empty() {
                    h.update(format!("allow {:?} deny {:?}\n", p.allow, p.deny));
                }
            }
            let filed = || s.reservations.iter().filter(|r| !r.runtime);
            for r in filed() {
                h.update(format!("res {:?} {:?} {}\n", r.mac, r.client_id, r.address));
            }
            if let Some(d) = &self.ddns {
                let suffix = s.ddns_suffix.as_ref().or(d.qualifying_suffix.as_ref());
                let names: Vec<_> = filed().map(|r| &r.hostname).collect();
                h.update(format!("ddns {} {suffix:?} {names:?}\n", s.ddns));
            }
        }
        // The name a client gets must not depend on which peer answers: a
        // renewal at the other would register another name (and remove
        // this one). Servers, keys and TTL may differ per peer.
        if let Some(d) = &self.ddns {
            h.update(format!(
                "ddns overrides {} {}\n",
                d.override_client_update, d.override_no_update
            ));
        }
        for c in &self.classes {
            h.update(format!("class {} {:?}\n", c.name, c.rule));
        }
        if let Some(f) = &self.failover {
            h.update(format!("split {} mclt {}\n", f.split, f.mclt));
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The subnet with this id. Panics on an id not from this config.
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.0 as usize]
    }

    /// The pool with this id. Panics on an id not from this config.
    pub fn pool(&self, id: PoolId) -> &Pool {
        &self.pools[id.0 as usize]
    }

    /// The subnet whose network contains `addr`.
    pub fn subnet_containing(&self, addr: Ipv4Addr) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.cidr.contains(addr))
    }

    /// The subnets on `subnet`'s link, in file order: every subnet of its
    /// shared network, or `subnet` alone.
    pub fn link_of<'c>(&'c self, subnet: &'c Subnet) -> impl Iterator<Item = &'c Subnet> + 'c {
        let shared = subnet
            .shared_network
            .map(|n| &self.shared_networks[n].subnets);
        let alone = shared.is_none().then_some(subnet);
        shared
            .into_iter()
            .flatten()
            .map(|id| self.subnet(*id))
            .chain(alone)
    }

    /// The subnet on `subnet`'s link that contains `addr`: where a client on
    /// that link may hold `addr`. `None`: `addr` is not on the client's link.
    pub fn on_link<'c>(&'c self, subnet: &'c Subnet, addr: Ipv4Addr) -> Option<&'c Subnet> {
        self.link_of(subnet).find(|s| s.cidr.contains(addr))
    }

    /// The pool that contains `addr`.
    pub fn pool_containing(&self, addr: Ipv4Addr) -> Option<&Pool> {
        self.pools.iter().find(|p| p.range.contains(addr))
    }
}
