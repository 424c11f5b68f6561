//! The TOML schema exactly as written by an operator. Unknown keys are errors;
//! cross-field rules live in `validate`.

use super::values::{Cidr, Hex, Ip, Mac, Millis, Range, Secs};
use serde::Deserialize;
use toml::Spanned;

/// The whole file: `[server]`, an optional `[failover]`, any number of
/// `[[subnet]]` and of `[[shared_network]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The `[server]` table (required).
    pub server: RawServer,
    /// The `[failover]` table; absent for a server without a partner.
    pub failover: Option<Spanned<RawFailover>>,
    /// The `[[subnet]]` tables, in file order.
    #[serde(default)]
    pub subnet: Vec<Spanned<RawSubnet>>,
    /// The `[[shared_network]]` tables: links with several subnets.
    #[serde(default)]
    pub shared_network: Vec<Spanned<RawSharedNetwork>>,
    /// The `[[class]]` tables: client classes, in file order.
    #[serde(default)]
    pub class: Vec<Spanned<RawClass>>,
    /// The `[ddns]` table; absent means no DNS updates.
    pub ddns: Option<Spanned<RawDdns>>,
}

/// The `[ddns]` table (`config::ddns`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDdns {
    /// The default qualifying suffix.
    pub qualifying_suffix: Option<Spanned<String>>,
    /// TTL of the records ("auto": a third of the lease).
    pub ttl: Option<Spanned<Secs>>,
    /// Update A although the client would.
    pub override_client_update: Option<bool>,
    /// Update although the client asked for none.
    pub override_no_update: Option<bool>,
    /// `[[ddns.key]]`: TSIG keys.
    #[serde(default)]
    pub key: Vec<Spanned<RawDnsKey>>,
    /// `[[ddns.zone]]`: zones updated.
    #[serde(default)]
    pub zone: Vec<Spanned<RawDnsZone>>,
}

/// One `[[ddns.key]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsKey {
    /// The key's name.
    pub name: Spanned<String>,
    /// "hmac-sha256" (default), "hmac-sha384" or "hmac-sha512".
    pub algorithm: Option<Spanned<String>>,
    /// File with the secret (BIND key file or base64).
    pub secret_file: Spanned<String>,
}

/// One `[[ddns.zone]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnsZone {
    /// The zone's name.
    pub name: Spanned<String>,
    /// Its primary servers, "address" or "address:port".
    pub servers: Vec<Spanned<String>>,
    /// The key to sign with.
    pub key: Option<Spanned<String>>,
}

/// One `[[class]]`: a match table (every criterion given must hold; any of
/// a criterion's values will do) and what members get.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// The name pools' `allow` and `deny` lists give.
    pub name: Spanned<String>,
    /// Option 60 exactly.
    #[serde(default)]
    pub vendor_class: Vec<String>,
    /// Option 60's start.
    #[serde(default)]
    pub vendor_class_prefix: Vec<String>,
    /// Option 77, whole or one RFC 3004 instance.
    #[serde(default)]
    pub user_class: Vec<String>,
    /// Option 93 architecture types.
    #[serde(default)]
    pub arch: Vec<Spanned<i64>>,
    /// Leading octets of the hardware address, e.g. "52:54:00".
    #[serde(default)]
    pub mac_prefix: Vec<Spanned<Hex>>,
    /// Option 82 sub-option 1, as text.
    #[serde(default)]
    pub circuit_id: Vec<String>,
    /// Option 82 sub-option 1, as hex.
    #[serde(default)]
    pub circuit_id_hex: Vec<Hex>,
    /// Option 82 sub-option 2, as text.
    #[serde(default)]
    pub remote_id: Vec<String>,
    /// Option 82 sub-option 2, as hex.
    #[serde(default)]
    pub remote_id_hex: Vec<Hex>,
    /// Has (true) or has not (false) a reservation on its link.
    pub known: Option<bool>,
    /// Option 6, DNS servers.
    #[serde(default)]
    pub dns_servers: Vec<Ip>,
    /// Option 15, domain name.
    pub domain_name: Option<String>,
    /// Option 119, domain search list.
    #[serde(default)]
    pub domain_search: Vec<String>,
    /// Option 42, NTP servers.
    #[serde(default)]
    pub ntp_servers: Vec<Ip>,
    /// Option 26, interface MTU.
    pub mtu: Option<Spanned<u16>>,
    /// `siaddr`: next server for network boot.
    pub next_server: Option<Ip>,
    /// `file` and option 67: boot file name.
    pub boot_file: Option<Spanned<String>>,
    /// `sname` and option 66: TFTP server name.
    pub server_hostname: Option<Spanned<String>>,
    /// Numbered options (`[[class.option]]`).
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
}

/// One `[[subnet.pool]]`: a range with class rules.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    /// "first-last" or a CIDR, inside the subnet.
    pub range: Spanned<Range>,
    /// Only members of one of these classes draw new addresses here.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Members of any of these classes draw no new address here.
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
}

/// One `[[shared_network]]`: several subnets on one link (ISC
/// `shared-network`, Kea `shared-networks`, a Windows superscope). Its
/// subnets name it with `shared_network = "NAME"`; what it sets here, each of
/// them inherits unless it sets its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSharedNetwork {
    /// The name its subnets give as `shared_network`.
    pub name: Spanned<String>,
    /// Default lease time of its subnets.
    pub lease_time: Option<Spanned<Secs>>,
    /// Shortest lease granted.
    pub min_lease_time: Option<Spanned<Secs>>,
    /// Longest lease granted.
    pub max_lease_time: Option<Spanned<Secs>>,
    /// Fixed T1.
    pub t1: Option<Spanned<Secs>>,
    /// Fixed T2.
    pub t2: Option<Spanned<Secs>>,
    /// NAK clients this server has no record of.
    pub authoritative: Option<bool>,
    /// Option 6, DNS servers.
    #[serde(default)]
    pub dns_servers: Vec<Ip>,
    /// Option 15, domain name.
    pub domain_name: Option<String>,
    /// Option 119, domain search list.
    #[serde(default)]
    pub domain_search: Vec<String>,
    /// Option 42, NTP servers.
    #[serde(default)]
    pub ntp_servers: Vec<Ip>,
    /// Option 26, interface MTU.
    pub mtu: Option<Spanned<u16>>,
    /// `siaddr`: next server for network boot.
    pub next_server: Option<Ip>,
    /// `file` and option 67: boot file name.
    pub boot_file: Option<Spanned<String>>,
    /// `sname` and option 66: TFTP server name.
    pub server_hostname: Option<Spanned<String>>,
    /// Numbered options (`[[shared_network.option]]`).
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
    /// DNS updates for the network's clients.
    pub ddns: Option<bool>,
    /// The qualifying suffix of its subnets.
    pub ddns_qualifying_suffix: Option<Spanned<String>>,
}

/// The `[server]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Name for logs, status and the partner; "tandem" when absent.
    pub name: Option<String>,
    /// Interface names to serve on, e.g. `["eth0"]`.
    #[serde(default)]
    pub interfaces: Vec<Spanned<String>>,
    /// Path of the SQLite lease database.
    pub lease_db: Spanned<String>,
    /// UDP port to listen on; 67 unless testing without privileges.
    pub port: Option<u16>,
    /// UDP port clients listen on; 68 unless testing.
    pub client_port: Option<u16>,
    /// Server identifier (option 54) to use instead of the receiving address.
    pub server_id: Option<Ip>,
    /// Quarantine of a DECLINEd address, as a duration ("24h" when absent).
    pub decline_probation: Option<Secs>,
    /// Ping an address before offering it to a new client ("false" when absent).
    pub ping_check: Option<bool>,
    /// How long to wait for the ping's answer ("500ms" when absent).
    pub ping_timeout: Option<Spanned<Millis>>,
    /// Ping an address that was leased before only when it has been free
    /// this long ("0s", every time, when absent).
    pub ping_after_free: Option<Secs>,
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
    /// TCP address serving Prometheus metrics on `/metrics`, "ADDR[:PORT]".
    pub metrics: Option<Spanned<String>>,
}

/// The `[failover]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    /// "primary" or "secondary".
    pub role: Spanned<String>,
    /// Address the secondary listens on for the peer link, with an optional port (647 when absent).
    pub listen: Spanned<String>,
    /// The partner's peer link address, which the primary connects to, with an
    /// optional port (647 when absent).
    pub peer: Spanned<String>,
    /// Path of the file holding the hex pre-shared key (tandem's protocol).
    pub secret_file: Option<Spanned<String>>,
    /// The peer protocol: "tandem" (when absent) or "isc-draft12", to
    /// pair with an ISC dhcpd 4.4 during a migration.
    pub protocol: Option<Spanned<String>>,
    /// The ISC relationship name (`failover peer "name"`), with "isc-draft12".
    pub relationship: Option<Spanned<String>>,
    /// Maximum Client Lead Time, as a duration ("1h" when absent).
    pub mclt: Option<Spanned<Secs>>,
    /// Hash buckets of 256 served by the primary, 0 to 256 (128 when absent).
    pub split: Option<Spanned<i64>>,
    /// Silence on the link before it is closed, as a duration ("20s" when absent).
    pub max_response_delay: Option<Spanned<Secs>>,
    /// Client `secs` from which either peer answers any client (3 when absent).
    pub load_balance_max_secs: Option<Spanned<i64>>,
    /// Silence in COMMUNICATIONS-INTERRUPTED before entering PARTNER-DOWN by itself;
    /// absent means never without the operator.
    pub auto_partner_down: Option<Spanned<Secs>>,
    /// Unacknowledged binding updates allowed in flight (256 when absent).
    pub max_unacked_updates: Option<Spanned<i64>>,
    /// Clock offset between the peers above which status raises an alarm.
    pub max_clock_offset: Option<Spanned<Secs>>,
    /// `[failover.partner_down_evidence]`: what `auto_partner_down` needs
    /// besides silence (all defaults when absent).
    pub partner_down_evidence: Option<RawEvidence>,
    /// A `tandem witness` both peers heartbeat, UDP, with an optional port
    /// (647 when absent); none when absent.
    pub witness: Option<Spanned<String>>,
}

/// The `[failover.partner_down_evidence]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    /// Require client evidence (true when absent); false is silence alone.
    pub enabled: Option<bool>,
    /// Distinct clients of the partner seen unanswered (10 when absent).
    pub clients: Option<Spanned<i64>>,
    /// Within how long, as a duration ("10m" when absent).
    pub window: Option<Spanned<Secs>>,
    /// Seconds a request must go unanswered to count (10 when absent, 5 to 600).
    pub secs: Option<Spanned<i64>>,
}

/// One `[[subnet]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubnet {
    /// The network, e.g. "10.20.0.0/16"; host bits must be zero.
    pub cidr: Spanned<Cidr>,
    /// The `[[shared_network]]` whose link this subnet shares with others.
    pub shared_network: Option<Spanned<String>>,
    /// Dynamic ranges, "first-last" or a CIDR, inside `cidr`.
    #[serde(default)]
    pub pools: Vec<Spanned<Range>>,
    /// Dynamic ranges with class rules (`[[subnet.pool]]`), after `pools`.
    #[serde(default)]
    pub pool: Vec<Spanned<RawPool>>,
    /// Default lease time ("12h" when absent).
    pub lease_time: Option<Spanned<Secs>>,
    /// Shortest lease granted (defaults to `lease_time`).
    pub min_lease_time: Option<Spanned<Secs>>,
    /// Longest lease granted (defaults to `lease_time`).
    pub max_lease_time: Option<Spanned<Secs>>,
    /// Fixed T1 (renewal time, option 58); half the lease when absent.
    pub t1: Option<Spanned<Secs>>,
    /// Fixed T2 (rebinding time, option 59); 7/8 of the lease when absent.
    pub t2: Option<Spanned<Secs>>,
    /// NAK clients this server has no record of instead of staying silent
    /// (false when neither this subnet nor its shared network says).
    pub authoritative: Option<bool>,
    /// Option 3, routers.
    #[serde(default)]
    pub routers: Vec<Ip>,
    /// Option 6, DNS servers.
    #[serde(default)]
    pub dns_servers: Vec<Ip>,
    /// Option 15, domain name (1 to 255 octets).
    pub domain_name: Option<String>,
    /// Option 119, domain search list.
    #[serde(default)]
    pub domain_search: Vec<String>,
    /// Option 42, NTP servers.
    #[serde(default)]
    pub ntp_servers: Vec<Ip>,
    /// Option 26, interface MTU (at least 68).
    pub mtu: Option<Spanned<u16>>,
    /// Option 28, broadcast address.
    pub broadcast_address: Option<Ip>,
    /// Option 121, classless static routes (RFC 3442).
    #[serde(default)]
    pub classless_routes: Vec<Spanned<RawRoute>>,
    /// `siaddr`: next server for network boot.
    pub next_server: Option<Ip>,
    /// `file` and option 67: boot file name.
    pub boot_file: Option<Spanned<String>>,
    /// `sname` and option 66: TFTP server name.
    pub server_hostname: Option<Spanned<String>>,
    /// Numbered options (`[[subnet.option]]`).
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
    /// Fixed addresses (`[[subnet.reservation]]`).
    #[serde(default)]
    pub reservation: Vec<Spanned<RawReservation>>,
    /// DNS updates for this subnet's clients when `[ddns]` is on (true
    /// when neither this subnet nor its shared network says).
    pub ddns: Option<bool>,
    /// The domain its clients' host labels are qualified with.
    pub ddns_qualifying_suffix: Option<Spanned<String>>,
}

impl RawSubnet {
    /// A subnet with nothing set, at `span` (0.0.0.0/0 as its network): the
    /// base of a shared network's or a class's settings, which are checked
    /// by a subnet's rules.
    pub fn settings_only(span: std::ops::Range<usize>) -> RawSubnet {
        RawSubnet {
            cidr: Spanned::new(
                span,
                Cidr {
                    network: std::net::Ipv4Addr::UNSPECIFIED,
                    prefix: 0,
                },
            ),
            shared_network: None,
            pools: Vec::new(),
            pool: Vec::new(),
            lease_time: None,
            min_lease_time: None,
            max_lease_time: None,
            t1: None,
            t2: None,
            authoritative: None,
            routers: Vec::new(),
            dns_servers: Vec::new(),
            domain_name: None,
            domain_search: Vec::new(),
            ntp_servers: Vec::new(),
            mtu: None,
            broadcast_address: None,
            classless_routes: Vec::new(),
            next_server: None,
            boot_file: None,
            server_hostname: None,
            option: Vec::new(),
            reservation: Vec::new(),
            ddns: None,
            ddns_qualifying_suffix: None,
        }
    }
}

/// One classless static route (option 121).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Destination network.
    pub dest: Cidr,
    /// Router for it; must be on the subnet.
    pub via: Ip,
}

/// One numbered option: `code`, `type` and `value`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    /// Option code, 1 to 254, except the codes tandem manages (`RESERVED_CODES`).
    pub code: Spanned<i64>,
    /// How to encode `value`: ipv4, u8, u16, u32, i32, bool, string, fqdn, hex or `<type>-list`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// The value, a TOML string, integer, boolean or array as `kind` requires.
    pub value: Spanned<toml::Value>,
    /// Send even when the client's parameter request list does not name it.
    #[serde(default)]
    pub always_send: bool,
}

/// One `[[subnet.reservation]]`: give exactly one of `mac` and `client_id`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReservation {
    /// Client hardware address, e.g. "52:54:00:12:34:56".
    pub mac: Option<Mac>,
    /// Client identifier (option 61) as hex, type byte included.
    pub client_id: Option<Hex>,
    /// The reserved address; a usable address of the subnet.
    pub address: Spanned<Ip>,
    /// Option 12, host name.
    pub hostname: Option<String>,
    /// Numbered options for this client only.
    #[serde(default)]
    pub option: Vec<Spanned<RawOption>>,
}
