//! Options for a reply: the ones the protocol requires, then what the client
//! asked for in its own order (RFC 2132 section 9.8) or, when it sent no
//! list, everything configured for it; then `always_send` ones; then the
//! echoes of options 61 (RFC 6842) and 82 (RFC 3046). For each option and
//! boot field the first source that sets it wins: the client's reservation,
//! its classes in file order, its subnet (which has inherited its shared
//! network's).

use super::times::Grant;
use crate::config::{Class, OptionValue, Reservation, Subnet};
use crate::proto::code;
use crate::proto::{ReplyBuilder, Request};
use std::net::Ipv4Addr;

pub struct Assembly<'a> {
    pub req: &'a Request,
    pub subnet: &'a Subnet,
    pub reservation: Option<&'a Reservation>,
    /// The client's classes, in file order.
    pub classes: Vec<&'a Class>,
    pub server_id: Ipv4Addr,
    /// None for a reply to DHCPINFORM, which carries no lease times.
    pub grant: Option<Grant>,
    /// Option 81's data (RFC 4702 section 4), when the client sent one and
    /// DDNS is on for it.
    pub fqdn: Option<Vec<u8>>,
}

impl Assembly<'_> {
    /// Every configured option for the client, by precedence: the
    /// reservation's, its classes', then the subnet's.
    fn all_options(&self) -> impl Iterator<Item = &OptionValue> {
        self.reservation
            .into_iter()
            .flat_map(|r| &r.options)
            .chain(self.classes.iter().flat_map(|c| &c.options))
            .chain(&self.subnet.options)
    }

    /// A configured value for `code`: the first source that sets it.
    fn configured(&self, code: u8) -> Option<&OptionValue> {
        self.all_options().find(|o| o.code == code)
    }

    /// `siaddr`, `sname` and `file`: the first class that sets each, else the subnet's.
    fn next_server(&self) -> Option<Ipv4Addr> {
        self.classes
            .iter()
            .find_map(|c| c.next_server)
            .or(self.subnet.next_server)
    }

    fn server_hostname(&self) -> Option<&String> {
        self.classes
            .iter()
            .find_map(|c| c.server_hostname.as_ref())
            .or(self.subnet.server_hostname.as_ref())
    }

    fn boot_file(&self) -> Option<&String> {
        self.classes
            .iter()
            .find_map(|c| c.boot_file.as_ref())
            .or(self.subnet.boot_file.as_ref())
    }

    /// Values the server derives rather than stores as options.
    fn derived(&self, c: u8) -> Option<Vec<u8>> {
        match c {
            code::HOSTNAME => self
                .reservation
                .and_then(|r| r.hostname.clone())
                .map(String::into_bytes),
            code::TFTP_SERVER => self.server_hostname().map(|s| s.clone().into_bytes()),
            code::BOOT_FILE => self.boot_file().map(|s| s.clone().into_bytes()),
            _ => None,
        }
    }

    /// The BOOTP fields for network boot (RFC 2131 section 2): `siaddr`,
    /// `sname` and `file`.
    pub fn write_fixed(&self, rb: &mut ReplyBuilder) {
        if let Some(ns) = self.next_server() {
            rb.set_siaddr(ns);
        }
        if let Some(h) = self.server_hostname() {
            rb.set_sname(h);
        }
        if let Some(f) = self.boot_file() {
            rb.set_file(f);
        }
    }

    pub fn write(&self, rb: &mut ReplyBuilder) {
        let echoes = self.echo_len();
        rb.reserve(echoes);
        rb.push(code::SERVER_ID, &self.server_id.octets());
        if let Some(g) = self.grant {
            rb.push_u32(code::LEASE_TIME, g.lease);
            rb.push_u32(code::RENEWAL_TIME, g.t1);
            rb.push_u32(code::REBINDING_TIME, g.t2);
        }
        if let Some(f) = &self.fqdn {
            rb.push(code::CLIENT_FQDN, f);
        }
        rb.push(code::SUBNET_MASK, &self.subnet.cidr.netmask().octets());
        let mut dropped = Vec::new();
        for &c in self.wanted().iter() {
            if rb.has(c) {
                continue;
            }
            let pushed = if let Some(o) = self.configured(c) {
                rb.push(c, &o.data)
            } else if let Some(v) = self.derived(c) {
                rb.push(c, &v)
            } else {
                true
            };
            if !pushed && !rb.has(c) {
                dropped.push(c);
            }
        }
        for o in self.all_options().filter(|o| o.always_send) {
            if !rb.has(o.code) && !rb.push(o.code, &o.data) {
                dropped.push(o.code);
            }
        }
        if !dropped.is_empty() {
            tracing::debug!(
                xid = self.req.xid,
                ?dropped,
                "options left out: the client's maximum message size is reached"
            );
        }
        rb.release_reserve();
        self.write_echoes(rb);
    }

    /// The option codes to send beyond the required ones: the client's
    /// parameter request list in its order (RFC 2132 section 9.8); without
    /// one (BOOTP-era and embedded stacks), every option configured for the
    /// client and its subnet, by code, as ISC dhcpd does (RFC 2131 section
    /// 4.3.1 leaves the choice to the server).
    fn wanted(&self) -> std::borrow::Cow<'_, [u8]> {
        let list = self.req.parameter_list();
        if !list.is_empty() {
            return std::borrow::Cow::Borrowed(list);
        }
        let mut codes: Vec<u8> = self.all_options().map(|o| o.code).collect();
        if self.reservation.is_some_and(|r| r.hostname.is_some()) {
            codes.push(code::HOSTNAME);
        }
        codes.sort_unstable();
        codes.dedup();
        std::borrow::Cow::Owned(codes)
    }

    fn echo_len(&self) -> usize {
        let l = |o: Option<&[u8]>| o.map_or(0, |v| v.len() + 2 * v.len().div_ceil(255).max(1));
        l(self.req.client_id()) + l(self.req.relay_info())
    }

    fn write_echoes(&self, rb: &mut ReplyBuilder) {
        if let Some(id) = self.req.client_id() {
            rb.push(code::CLIENT_ID, id);
        }
        if let Some(ri) = self.req.relay_info() {
            rb.push(code::RELAY_AGENT_INFO, ri);
        }
    }

    /// The options of a DHCPNAK: 54, 56, and the echoes (RFC 2131 table 3).
    pub fn write_nak(&self, rb: &mut ReplyBuilder, message: &str) {
        rb.push(code::SERVER_ID, &self.server_id.octets());
        rb.push(code::MESSAGE, message.as_bytes());
        self.write_echoes(rb);
    }
}
