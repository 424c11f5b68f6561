//! Options, named and numbered, and reservations with their own options.

use super::super::option_specs;
use super::super::options::{self, OptionValue, RESERVED_CODES};
use super::super::raw::{RawOption, RawSubnet};
use super::Checker;
use crate::config::*;
use toml::Spanned;

pub(super) fn named_options(
    c: &mut Checker,
    r: &RawSubnet,
    key: &dyn Fn(&str) -> String,
    cidr: Cidr,
) -> Vec<OptionValue> {
    let mut out = Vec::new();
    let mut push = |code: u8, data: Vec<u8>| {
        out.push(OptionValue {
            code,
            data,
            always_send: false,
        })
    };
    let addrs =
        |v: &[super::values::Ip]| options::encode_addrs(&v.iter().map(|i| i.0).collect::<Vec<_>>());
    if !r.routers.is_empty() {
        push(3, addrs(&r.routers));
    }
    if !r.dns_servers.is_empty() {
        push(6, addrs(&r.dns_servers));
    }
    if let Some(d) = &r.domain_name {
        if d.is_empty() || d.len() > 255 {
            c.at(&r.cidr, key("domain_name"), "must be 1 to 255 bytes");
        }
        push(15, d.as_bytes().to_vec());
    }
    if let Some(m) = &r.mtu {
        if *m.get_ref() < 68 {
            c.at(m, key("mtu"), "must be at least 68 (RFC 2132 section 5.1)");
        }
        push(26, m.get_ref().to_be_bytes().to_vec());
    }
    if let Some(b) = r.broadcast_address {
        push(28, b.0.octets().to_vec());
    }
    if !r.ntp_servers.is_empty() {
        push(42, addrs(&r.ntp_servers));
    }
    if !r.domain_search.is_empty() {
        push(119, domain_search(c, r, key));
    }
    if !r.classless_routes.is_empty() {
        push(121, classless_routes(c, r, key, cidr));
    }
    out
}

/// Option 119's data: the search list in RFC 1035 name encoding (RFC 3397
/// allows compression; tandem writes names out whole).
fn domain_search(c: &mut Checker, r: &RawSubnet, key: &dyn Fn(&str) -> String) -> Vec<u8> {
    let mut data = Vec::new();
    for d in &r.domain_search {
        match options::encode_fqdn(d) {
            Ok(b) => data.extend(b),
            Err(e) => c.at(&r.cidr, key("domain_search"), e),
        }
    }
    data
}

/// Option 121's data (RFC 3442); each route's router must be on the
/// subnet, or clients could not reach it.
fn classless_routes(
    c: &mut Checker,
    r: &RawSubnet,
    key: &dyn Fn(&str) -> String,
    cidr: Cidr,
) -> Vec<u8> {
    for s in &r.classless_routes {
        let via = s.get_ref().via.0;
        if !cidr.contains(via) {
            let message = format!("router {via} is not on {cidr}, so clients cannot reach it");
            c.at(s, key("classless_routes"), message);
        }
    }
    let routes: Vec<_> = r
        .classless_routes
        .iter()
        .map(|s| (s.get_ref().dest, s.get_ref().via.0))
        .collect();
    options::encode_classless_routes(&routes)
}

pub(super) fn custom_option(
    c: &mut Checker,
    o: &Spanned<RawOption>,
    key: &str,
) -> Option<OptionValue> {
    let r = o.get_ref();
    let code = *r.code.get_ref();
    if !(1..=254).contains(&code) || RESERVED_CODES.contains(&(code as u8)) {
        c.at(&r.code, format!("{key}.code"), format!("{code} cannot be configured (valid: 1-254, except the codes tandem manages: 50-55, 57-59, 61, 82)"));
        return None;
    }
    match options::encode(r.kind.get_ref(), r.value.get_ref())
        .and_then(|data| option_specs::check(code as u8, &data).map(|()| data))
    {
        Ok(data) => Some(OptionValue {
            code: code as u8,
            data,
            always_send: r.always_send,
        }),
        Err(e) => {
            c.at(&r.value, format!("{key}.value"), e);
            None
        }
    }
}

pub(super) fn reservation(
    c: &mut Checker,
    res: &Spanned<super::raw::RawReservation>,
    key: &str,
    cidr: Cidr,
) -> Reservation {
    let r = res.get_ref();
    if r.mac.is_some() == r.client_id.is_some() {
        c.at(res, key, "give exactly one of mac or client_id");
    }
    let address = r.address.get_ref().0;
    if !cidr.contains(address)
        || (cidr.prefix < 31 && (address == cidr.network || address == cidr.broadcast()))
    {
        c.at(
            &r.address,
            format!("{key}.address"),
            format!("{address} is not a usable address of {cidr}"),
        );
    }
    let options = r
        .option
        .iter()
        .filter_map(|o| custom_option(c, o, &format!("{key}.option")))
        .collect();
    Reservation {
        mac: r.mac.map(|m| m.0),
        client_id: r.client_id.as_ref().map(|h| h.0.clone()),
        address,
        hostname: r.hostname.clone(),
        options,
        runtime: false,
    }
}
