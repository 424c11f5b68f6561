//! Configuration: the TOML schema (`raw`), value parsing (`values`), option
//! encoding (`options`) and the checks that turn raw input into a `Config`
//! the rest of the server can trust without re-checking (`validate`).

pub mod option_specs;
pub mod options;
pub mod raw;
mod validate;
pub mod values;

pub use options::OptionValue;
pub use values::{Cidr, Range};

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    /// The pair, if this server has a partner.
    pub failover: Option<FailoverConfig>,
    pub subnets: Vec<Subnet>,
    /// Every pool of every subnet; `PoolId` indexes this list.
    pub pools: Vec<Pool>,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub name: String,
    pub interfaces: Vec<String>,
    pub lease_db: PathBuf,
    pub port: u16,
    pub client_port: u16,
    pub server_id: Option<Ipv4Addr>,
    pub decline_probation: u64,
    pub offer_hold: u64,
    pub direct_unicast: DirectUnicast,
    pub sync_full: bool,
    pub client_rate_limit: u32,
    pub global_rate_limit: u32,
    pub control_socket: PathBuf,
}

/// Which of the pair this server is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

#[derive(Clone, Debug)]
pub struct FailoverConfig {
    pub role: Role,
    pub listen: std::net::SocketAddr,
    pub peer: std::net::SocketAddr,
    pub secret_file: PathBuf,
    pub mclt: u64,
    /// Buckets (of 256) and pool shares (of 256) that belong to the primary.
    pub split: u16,
    pub max_response_delay: u64,
    pub load_balance_max_secs: u16,
    pub auto_partner_down: Option<u64>,
    pub max_unacked_updates: usize,
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

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u32);

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubnetId(pub u32);

#[derive(Clone, Debug)]
pub struct Pool {
    pub id: PoolId,
    pub subnet: SubnetId,
    pub range: Range,
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub id: SubnetId,
    pub cidr: Cidr,
    pub pools: Vec<PoolId>,
    pub lease: LeaseTimes,
    pub authoritative: bool,
    /// Options in the order the operator wrote them; the subnet mask is implied by `cidr`.
    pub options: Vec<OptionValue>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file: Option<String>,
    pub server_hostname: Option<String>,
    pub reservations: Vec<Reservation>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LeaseTimes {
    pub default: u64,
    pub min: u64,
    pub max: u64,
    pub t1: Option<u64>,
    pub t2: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Reservation {
    pub mac: Option<[u8; 6]>,
    pub client_id: Option<Vec<u8>>,
    pub address: Ipv4Addr,
    pub hostname: Option<String>,
    pub options: Vec<OptionValue>,
}

/// One problem found in a config file, located for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {}", problems.iter().map(|p| format!("line {}: {}: {}", p.line, p.key, p.message)).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        path: String,
        problems: Vec<Problem>,
    },
}

impl Config {
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

    /// Parts of 256 of each pool initially owned by the primary: all of them without a partner.
    pub fn split(&self) -> u16 {
        self.failover.as_ref().map_or(256, |f| f.split)
    }

    /// A digest of everything both peers must agree on: subnets, pools,
    /// reservations, split and MCLT. Compared when the pair connects.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for s in &self.subnets {
            h.update(format!("subnet {}\n", s.cidr));
            for p in &s.pools {
                let r = self.pool(*p).range;
                h.update(format!("pool {}-{}\n", r.first, r.last));
            }
            for r in &s.reservations {
                h.update(format!("res {:?} {:?} {}\n", r.mac, r.client_id, r.address));
            }
        }
        if let Some(f) = &self.failover {
            h.update(format!("split {} mclt {}\n", f.split, f.mclt));
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.0 as usize]
    }

    pub fn pool(&self, id: PoolId) -> &Pool {
        &self.pools[id.0 as usize]
    }

    /// The subnet whose network contains `addr`.
    pub fn subnet_containing(&self, addr: Ipv4Addr) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.cidr.contains(addr))
    }

    /// The pool that contains `addr`.
    pub fn pool_containing(&self, addr: Ipv4Addr) -> Option<&Pool> {
        self.pools.iter().find(|p| p.range.contains(addr))
    }
}
