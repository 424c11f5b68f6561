//! Dynamic DNS (issue 17): the name a client gets (`name`, RFC 4702 and
//! option 12), the DHCID that marks it as that client's (`dhcid`, RFC
//! 4701), and the UPDATE exchange that adds and removes its records under
//! the RFC 4703 conflict rules (`update`). All sans-IO: the engine decides
//! the name at the grant, the node turns records due into jobs
//! (`node::dns`), and the edge sends them, signed (`server::dns`), off the
//! packet path: no DHCPACK waits for DNS.

pub mod dhcid;
pub mod key;
pub mod name;
pub mod update;

pub use update::{DnsError, DnsJob, Exchange, Step};

use crate::config::{DdnsConfig, Subnet};
use crate::lease::DnsRecords;

/// What DDNS decides at one grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The client's name, fully qualified, lower case, no trailing dot.
    pub fqdn: String,
    /// The server keeps the A and DHCID records.
    pub forward: bool,
    /// The server keeps the PTR record.
    pub reverse: bool,
    /// Option 81's data for the reply, when the client sent option 81.
    pub reply: Option<Vec<u8>>,
}

/// The registration for a client of `subnet` that sent option 81 data
/// `fqdn_option` and option 12 `hostname`, or that has a reservation
/// naming it `reserved` (which wins). `None` when DDNS is off for the
/// subnet or no usable name is left.
pub fn decide(
    cfg: &DdnsConfig,
    subnet: &Subnet,
    fqdn_option: Option<&[u8]>,
    hostname: Option<&str>,
    reserved: Option<&str>,
) -> Option<Registration> {
    if !subnet.ddns {
        return None;
    }
    let suffix = subnet
        .ddns_suffix
        .as_deref()
        .or(cfg.qualifying_suffix.as_deref());
    let client = fqdn_option.and_then(name::ClientFqdn::parse);
    let host = |h: &str| h.split('.').next().map(|l| vec![l.to_owned()]);
    let fqdn = match (reserved, &client) {
        (Some(r), _) => name::reserved_name(r, suffix),
        (None, Some(c)) if !c.labels.is_empty() => name::qualify(&c.labels, c.qualified, suffix),
        _ => hostname
            .and_then(host)
            .and_then(|l| name::qualify(&l, false, suffix)),
    }?;
    let answer = client.as_ref().map_or(
        name::Answer {
            flags: 0,
            forward: true,
            reverse: true,
        },
        |c| name::answer(c.flags, cfg.override_client_update, cfg.override_no_update),
    );
    Some(Registration {
        reply: client.map(|_| name::reply_option(answer.flags, &fqdn)),
        forward: answer.forward,
        reverse: answer.reverse,
        fqdn,
    })
}

/// Whether DNS records read from a database or a partner are well formed:
/// names a DNS name can be, a DHCID of sensible length.
pub fn valid_records(d: &DnsRecords) -> bool {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 253
            && n.split('.')
                .all(|l| name::sanitise_label(l).as_deref() == Some(l))
    };
    name_ok(&d.fqdn)
        && d.stale
            .as_ref()
            .is_none_or(|s| name_ok(&s.fqdn) && s.dhcid.len() <= 64)
}
