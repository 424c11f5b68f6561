//! dhcpd.conf `option NAME VALUE;` as tandem keys: the options tandem names
//! (routers, DNS, domain...) become those keys, other options of a known
//! code a `[[subnet.option]]` with its type, and anything else a reason.

use super::{Kind, Token, quoted};
use std::net::Ipv4Addr;

/// Where one option goes in tandem.toml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Mapped {
    /// A named key of `[[subnet]]` and its TOML value.
    Key(&'static str, String),
    /// A `[[subnet.option]]`: code, type and TOML value.
    Numbered(u8, &'static str, String),
    /// Not translated, and why.
    Not(String),
}

/// Options tandem takes by code and type; their names are ISC's.
const NUMBERED: &[(&str, u8, &str)] = &[
    ("time-offset", 2, "i32"),
    ("time-servers", 4, "ipv4-list"),
    ("log-servers", 7, "ipv4-list"),
    ("root-path", 17, "string"),
    ("default-ip-ttl", 23, "u8"),
    ("nis-domain", 40, "string"),
    ("nis-servers", 41, "ipv4-list"),
    ("vendor-encapsulated-options", 43, "hex"),
    ("netbios-name-servers", 44, "ipv4-list"),
    ("netbios-node-type", 46, "u8"),
    ("netbios-scope", 47, "string"),
    ("smtp-server", 69, "ipv4-list"),
    ("pop-server", 70, "ipv4-list"),
    ("www-server", 72, "ipv4-list"),
];

/// The comma-separated items of a value: each a word or a string.
fn items(v: &[Token]) -> Option<Vec<&Kind>> {
    let mut out = Vec::new();
    for (i, t) in v.iter().enumerate() {
        match (&t.kind, i % 2) {
            (Kind::Punct(','), 1) => {}
            (k @ (Kind::Word(_) | Kind::Str(_)), 0) => out.push(k),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

fn ips(v: &[Token]) -> Option<String> {
    let list: Option<Vec<String>> = items(v)?
        .into_iter()
        .map(|k| match k {
            Kind::Word(w) => w.parse::<Ipv4Addr>().ok().map(|a| quoted(&a.to_string())),
            _ => None,
        })
        .collect();
    Some(format!("[{}]", list?.join(", ")))
}

fn strings(v: &[Token]) -> Option<Vec<String>> {
    items(v)?
        .into_iter()
        .map(|k| match k {
            Kind::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        })
        .collect()
}

fn one_string(v: &[Token]) -> Option<String> {
    strings(v).filter(|s| s.len() == 1).map(|s| quoted(&s[0]))
}

fn number(v: &[Token]) -> Option<i64> {
    match v {
        [
            Token {
                kind: Kind::Word(w),
                ..
            },
        ] => w.parse().ok(),
        _ => None,
    }
}

/// Where option `name` with value tokens `v` goes.
pub(super) fn map(name: &str, v: &[Token]) -> Mapped {
    let unreadable = || {
        Mapped::Not(format!(
            "the value of option {name} is not one tandem can read (a host name instead of an address, an expression...)"
        ))
    };
    let mapped = match name {
        "routers" => ips(v).map(|x| Mapped::Key("routers", x)),
        "domain-name-servers" => ips(v).map(|x| Mapped::Key("dns_servers", x)),
        "ntp-servers" => ips(v).map(|x| Mapped::Key("ntp_servers", x)),
        "domain-name" => one_string(v).map(|x| Mapped::Key("domain_name", x)),
        "domain-search" => strings(v).map(|s| {
            let list: Vec<String> = s.iter().map(|d| quoted(d)).collect();
            Mapped::Key("domain_search", format!("[{}]", list.join(", ")))
        }),
        "interface-mtu" => number(v).map(|n| Mapped::Key("mtu", n.to_string())),
        "broadcast-address" => ips(v)
            .filter(|x| !x.contains(','))
            .map(|x| Mapped::Key("broadcast_address", x[1..x.len() - 1].to_string())),
        "dhcp-renewal-time" => number(v).map(|n| Mapped::Key("t1", quoted(&format!("{n}s")))),
        "dhcp-rebinding-time" => number(v).map(|n| Mapped::Key("t2", quoted(&format!("{n}s")))),
        "host-name" => {
            return Mapped::Not(
                "a host name for the whole scope: tandem sends the client's own or its reservation's".into(),
            );
        }
        "subnet-mask" => {
            return Mapped::Not("tandem sends the subnet's own mask (its cidr)".into());
        }
        "dhcp-lease-time" => return Mapped::Not("use default-lease-time (lease_time)".into()),
        _ => return numbered(name, v),
    };
    mapped.unwrap_or_else(unreadable)
}

fn numbered(name: &str, v: &[Token]) -> Mapped {
    let Some((_, code, kind)) = NUMBERED.iter().find(|(n, _, _)| *n == name) else {
        return Mapped::Not(format!(
            "option {name} has no code tandem knows: add it as [[subnet.option]] with its code and type"
        ));
    };
    let value = match *kind {
        "ipv4-list" => ips(v),
        "string" => one_string(v),
        "u8" | "i32" => number(v).map(|n| n.to_string()),
        _ => hex(v).map(|h| quoted(&h)),
    };
    match value {
        Some(val) => Mapped::Numbered(*code, kind, val),
        None => Mapped::Not(format!(
            "the value of option {name} is not one tandem can read"
        )),
    }
}

/// Colon-separated hex as ISC writes it (leading zeros dropped) → "01:02:...".
fn hex_of(w: &str) -> Option<String> {
    let octets = crate::migrate::isc_leases::hex_octets(w)?;
    Some(
        octets
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn hex(v: &[Token]) -> Option<String> {
    match v {
        [
            Token {
                kind: Kind::Word(w),
                ..
            },
        ] => hex_of(w),
        [
            Token {
                kind: Kind::Str(s), ..
            },
        ] => Some(
            s.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        _ => None,
    }
}

/// A MAC as tandem reads it ("52:54:00:12:34:56"), from ISC's form.
pub(super) fn mac(w: &str) -> Option<String> {
    hex_of(w).filter(|h| h.len() == 17)
}

/// `option dhcp-client-identifier` as tandem's hex client_id.
pub(super) fn client_id(v: &[Token]) -> Option<String> {
    hex(v)
}
