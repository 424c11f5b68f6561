//! The TOML schema exactly as written by an operator. Unknown keys are errors;
//! cross-field rules live in `validate`.

use super::values::{Cidr, Hex, Ip, Mac, Range, Secs};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub server: RawServer,
    pub failover: Option<Spanned<RawFailover>>,
    #[serde(default)]
    pub subnet: Vec<Spanned<RawSubnet>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub name: Option<String>,
    #[serde(default)]
    pub interfaces: Vec<Spanned<String>>,
    pub lease_db: Spanned<String>,
    /// UDP port to listen on; 67 unless testing without privileges.
    pub port: Option<u16>,
    /// UDP port clients listen on; 68 unless testing.
    pub client_port: Option<u16>,
    /// Server identifier (option 54) to use instead of the receiving address.
    pub server_id: Option<Ip>,
    pub decline_probation: Option<Secs>,
    /// How long an OFFERed address stays set aside for its client.
    pub offer_hold: Option<Secs>,
    /// How to reach a client that has no address yet: "packet", "arp", "broadcast".
    pub direct_unicast: Option<Spanned<String>>,
    /// SQLite `synchronous` level: "full" (default) or "normal".
    pub sync: Option<Spanned<String>>,
    /// Packets per second accepted from one client before its packets are dropped.
    pub client_rate_limit: Option<u32>,
    /// Packets per second accepted from all clients together.
    pub global_rate_limit: Option<u32>,
    /// Unix socket for `tandem status` and `tandem partner-down`.
    pub control_socket: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    pub role: Spanned<String>,
    pub listen: Spanned<String>,
    pub peer: Spanned<String>,
    pub secret_file: Spanned<String>,
    pub mclt: Option<Spanned<Secs>>,
    pub split: Option<Spanned<i64>>,
    pub max_response_delay: Option<Spanned<Secs>>,
    pub load_balance_max_secs: Option<Spanned<i64>>,
    pub auto_partner_down: Option<Spanned<Secs>>,
    pub max_unacked_updates: Option<Spanned<i64>>,
    /// Clock offset between the peers above which status raises an alarm.
    pub max_clock_offset: Option<Spanned<Secs>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubnet {
    pub cidr: Spanned<Cidr>,
    #[serde(default)]
    pub pools: Vec<Spanned<Range>>,
    pub lease_time: Option<Spanned<Secs>>,
    pub min_lease_time: Option<Spanned<Secs>>,
    pub max_lease_time: Option<Spanned<Secs>>,
    pub t1: Option<Spanned<Secs>>,
    pub t2: Option<Spanned<Secs>>,
    #[serde(default)]
    pub authoritative: bool,
    #[serde(default)]
    pub routers: Vec<Ip>,
    #[serde(default)]
    pub dns_servers: Vec<Ip>,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub domain_search: Vec<String>,
    #[serde(default)]
    pub ntp_servers: Vec<Ip>,
    pub mtu: Option<Spanned<u16>>,
    pub broadcast_address: Option<Ip>,
    #[serde(default)]
    pub classless_routes: Vec<Spanned<RawRoute>>,
    pub next_server: Option<Ip>,
    pub boot_file: Option<Spanned<String>>,
    pub server_hostname: Option<Spanned<String>>,
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
    #[serde(default)]
    pub reservation: Vec<Spanned<RawReservation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub dest: Cidr,
    pub via: Ip,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    pub code: Spanned<i64>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub value: Spanned<toml::Value>,
    #[serde(default)]
    pub always_send: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReservation {
    pub mac: Option<Mac>,
    pub client_id: Option<Hex>,
    pub address: Spanned<Ip>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
}
