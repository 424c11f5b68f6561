//! The `[ddns]` settings: dynamic DNS updates of clients' names (RFC 2136
//! signed with TSIG, RFC 8945; the RFC 4703 conflict rules). Present means
//! on; `[[subnet]] ddns = false` leaves a subnet out.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The DDNS settings (`[ddns]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DdnsConfig {
    /// The domain a host label is qualified with when its subnet names none
    /// (lower case, no trailing dot); Kea's `ddns-qualifying-suffix`.
    pub qualifying_suffix: Option<String>,
    /// TTL of the records added, seconds; `None`: a third of the lease
    /// time, at least 60 (Kea's default rule).
    pub ttl: Option<u32>,
    /// Update the A record although the client asked to do it itself
    /// (option 81 flag S clear).
    pub override_client_update: bool,
    /// Update although the client asked for no update (flag N set).
    pub override_no_update: bool,
    /// TSIG keys, by name.
    pub keys: Vec<DnsKey>,
    /// Zones updated, forward and reverse alike.
    pub zones: Vec<DnsZone>,
}

/// A TSIG key (RFC 8945).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsKey {
    /// The key's name, as the DNS server knows it.
    pub name: String,
    /// Its algorithm.
    pub algorithm: TsigAlgorithm,
    /// The file holding its secret: a BIND key file (`tsig-keygen` output)
    /// or the base64 secret alone. Read when the server starts.
    pub secret_file: PathBuf,
}

/// The TSIG algorithms tandem signs with (RFC 8945 section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsigAlgorithm {
    /// hmac-sha256, the default (and BIND's `tsig-keygen` default).
    HmacSha256,
    /// hmac-sha384.
    HmacSha384,
    /// hmac-sha512.
    HmacSha512,
}

impl TsigAlgorithm {
    /// The names accepted in `algorithm`, with their algorithm.
    pub const NAMES: [(&'static str, TsigAlgorithm); 3] = [
        ("hmac-sha256", TsigAlgorithm::HmacSha256),
        ("hmac-sha384", TsigAlgorithm::HmacSha384),
        ("hmac-sha512", TsigAlgorithm::HmacSha512),
    ];
}

/// A zone tandem updates, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsZone {
    /// The zone's name (lower case, no trailing dot), e.g.
    /// "campus.example" or "0.10.in-addr.arpa".
    pub name: String,
    /// Its primary servers, tried in order (port 53 unless given).
    pub servers: Vec<SocketAddr>,
    /// The `DnsKey::name` updates are signed with; `None`: unsigned.
    pub key: Option<String>,
}

impl DdnsConfig {
    /// The zone holding `name` (text, no trailing dot): the longest
    /// configured zone that is `name` or one of its parents.
    pub fn zone_for(&self, name: &str) -> Option<&DnsZone> {
        let name = name.to_ascii_lowercase();
        self.zones
            .iter()
            .filter(|z| name == z.name || name.ends_with(&format!(".{}", z.name)))
            .max_by_key(|z| z.name.len())
    }

    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<&DnsKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// TTL for records of a lease of `lease_time` seconds.
    pub fn ttl_for(&self, lease_time: u32) -> u32 {
        self.ttl.unwrap_or((lease_time / 3).max(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_zone_holding_a_name_is_chosen() {
        let zone = |name: &str| DnsZone {
            name: name.into(),
            servers: vec![],
            key: None,
        };
        let c = DdnsConfig {
            qualifying_suffix: None,
            ttl: None,
            override_client_update: false,
            override_no_update: false,
            keys: vec![],
            zones: vec![
                zone("example"),
                zone("campus.example"),
                zone("10.in-addr.arpa"),
            ],
        };
        assert_eq!(
            c.zone_for("PC1.Campus.Example").unwrap().name,
            "campus.example"
        );
        assert_eq!(c.zone_for("www.example").unwrap().name, "example");
        assert_eq!(c.zone_for("badexample"), None);
        assert_eq!(
            c.zone_for("5.0.0.10.in-addr.arpa").unwrap().name,
            "10.in-addr.arpa"
        );
        assert_eq!(c.ttl_for(3600), 1200);
        assert_eq!(c.ttl_for(90), 60);
    }
}
