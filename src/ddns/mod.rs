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
use crate::lease::dns::MAX_STALE;
use crate::lease::{DnsRecords, Lease, StaleName};

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
/// names a DNS name can be, a DHCID of sensible length, at most
/// [`MAX_STALE`] stale names.
pub fn valid_records(d: &DnsRecords) -> bool {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 253
            && n.split('.')
                .all(|l| name::sanitise_label(l).as_deref() == Some(l))
    };
    // A tag's time (above its lowest 8 bits) within 32 bits of seconds:
    // `next_tag` stays above it without saturating.
    let tag_ok = |t: u64| t >> 8 <= u64::from(u32::MAX);
    name_ok(&d.fqdn)
        && tag_ok(d.tag)
        && d.stale.iter().all(|s| tag_ok(s.tag))
        && d.stale.len() <= MAX_STALE
        && d.stale
            .iter()
            .all(|s| name_ok(&s.fqdn) && s.dhcid.len() <= 64)
}

/// The records `d` of the binding `l` as a stale name to remove, if some
/// may be in DNS (pending or added, with records the server keeps).
pub fn left_by(l: &Lease, d: &DnsRecords) -> Option<StaleName> {
    (d.status.may_be_in_dns() && (d.forward || d.reverse)).then(|| StaleName {
        dhcid: dhcid::for_lease(l, &d.fqdn),
        fqdn: d.fqdn.clone(),
        forward: d.forward,
        reverse: d.reverse,
        tag: d.tag,
        done: false,
        adds: d.adds,
    })
}

/// Takes out of `d`'s stale names what its own registration holds (the
/// binding `l`'s, while it may be in DNS): the forward records of its own
/// name with its DHCID (the client's own A record when the server does not
/// keep it: RFC 4701 gives both one DHCID) and, if the server keeps it,
/// the address's PTR naming its name (whatever the DHCID: a PTR carries
/// none, and two clients may use one host name); a name left with neither
/// goes from the list. Removing them would remove the binding's own
/// records, since a stale name's removal may run while they are in place.
pub fn spare_own(l: &Lease, d: &mut DnsRecords) {
    // Nothing to spare: no DHCID to compute on a grant's packet path.
    if !d.status.may_be_in_dns() || !d.has_pending_stale() {
        return;
    }
    let own = dhcid::for_lease(l, &d.fqdn);
    let (fqdn, reverse) = (d.fqdn.clone(), d.reverse);
    for s in d.stale.iter_mut().filter(|s| !s.done && s.fqdn == fqdn) {
        s.forward &= s.dhcid != own;
        s.reverse &= !reverse;
    }
    d.stale.retain(|s| s.done || s.forward || s.reverse);
}

/// The records `d` of the binding `l`, about to lose its client (a
/// declined address freed after probation, or quarantined for a ping
/// answer), as records with nothing of their own, only stale names to
/// remove: `l`'s own while they may be in DNS (with its client's DHCID,
/// which the record will no longer give) and those still due. `None` when
/// nothing is left to remove.
pub fn orphaned(l: &Lease, d: &DnsRecords) -> Option<Box<DnsRecords>> {
    let mut r = DnsRecords {
        fqdn: d.fqdn.clone(),
        forward: false,
        reverse: false,
        tag: d.tag,
        status: crate::lease::DnsStatus::Removed,
        stale: d.stale.clone(),
        adds: d.adds,
    };
    left_by(l, d).into_iter().for_each(|s| r.add_stale(s));
    r.has_pending_stale().then(|| Box::new(r))
}

/// `l` with its own live records spared from its stale names
/// (`spare_own`): a grant renamed back to a name still listed as stale.
pub fn spared(mut l: Lease) -> Lease {
    if let Some(mut d) = l.dns.take() {
        spare_own(&l, &mut d);
        l.dns = Some(d);
    }
    l
}
