//! dhcpd.conf's `host` blocks, as reservations.

use super::lexer::Kind;
use super::statements::Statement;
use super::{Host, Walk, options, word};
use std::net::Ipv4Addr;

/// `host NAME { hardware ethernet MAC; fixed-address ADDR; ... }`.
/// Its hardware, fixed address, client identifier and host name become a
/// reservation; any other setting of the host is reported, not dropped.
pub(super) fn host(w: &mut Walk, s: &Statement<'_>, body: &[Statement<'_>]) {
    let mut h = Host {
        name: word(s, 1).unwrap_or("host").to_string(),
        line: s.line,
        mac: None,
        client_id: None,
        addr: Ipv4Addr::UNSPECIFIED,
        hostname: None,
    };
    for st in body {
        match (word(st, 0), word(st, 1), word(st, 2), st.head.len()) {
            (Some("hardware"), Some("ethernet"), Some(m), 3) => match options::mac(m) {
                Some(mac) => h.mac = Some(mac),
                None => return w.skip(s, format!("hardware ethernet {m} is not a MAC")),
            },
            (Some("fixed-address"), Some(a), None, 2) if a.parse::<Ipv4Addr>().is_ok() => {
                h.addr = a.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
            }
            (Some("option"), Some("dhcp-client-identifier"), _, _) => {
                h.client_id = options::client_id(&st.head[2..])
            }
            (Some("option"), Some("host-name"), _, 3) => match &st.head[2].kind {
                Kind::Str(v) => h.hostname = Some(String::from_utf8_lossy(v).into_owned()),
                _ => w.skip(st, "a host name that is not a string"),
            },
            _ => w.skip(st, "a host's own settings other than its address, hardware, client identifier and host name are not translated: add them to the reservation as [[subnet.reservation.option]]"),
        }
    }
    if h.addr.is_unspecified() || (h.mac.is_none() && h.client_id.is_none()) {
        w.skip(
            s,
            "a host without one fixed IPv4 address and a hardware ethernet or client identifier",
        );
    } else {
        w.hosts.push(h);
    }
}
