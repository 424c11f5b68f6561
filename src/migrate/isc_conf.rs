//! The common subset of ISC dhcpd.conf translated into tandem's TOML
//! (`tandem import-isc --dhcpd-conf`): subnets and their ranges and pools,
//! lease times, the options tandem names (routers, DNS, domain, search,
//! NTP, MTU, broadcast, T1/T2, PXE fields) and any other option of a known
//! code, `authoritative`, host reservations with a fixed address, shared
//! networks, classes with a simple match and pools that allow or deny them
//! (`classes`), the failover peer, and dynamic DNS (`ddns`: keys go to
//! key files of their own). Parameters are inherited from the global scope and
//! `group`s as dhcpd does. Everything else is listed with its line and why,
//! never guessed at.

use super::isc_leases::Skipped;
use super::lexer::{self, Kind, Token};
use super::statements::{self, Statement, show};
use std::fmt::Write;
use std::net::Ipv4Addr;

mod classes;
mod ddns;
mod emit;

pub use ddns::KeyFile;
mod failover_peer;
mod host;
mod options;

/// The translation and what it left out.
#[derive(Clone, Debug, Default)]
pub struct Translation {
    /// tandem.toml text, to review before use.
    pub toml: String,
    /// Statements not translated, in file order.
    pub untranslated: Vec<Skipped>,
    /// Subnets written.
    pub subnets: usize,
    /// Reservations written.
    pub reservations: usize,
    /// TSIG key files the TOML names, to write into the key directory
    /// given to [`translate`] (mode 0600: they hold secrets).
    pub key_files: Vec<KeyFile>,
}

/// The file cannot be read as ISC syntax.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    /// An unterminated string.
    #[error(transparent)]
    Lex(#[from] lexer::LexError),
    /// Unbalanced braces or a statement without `;`.
    #[error(transparent)]
    Syntax(#[from] statements::SyntaxError),
}

/// Parameters a scope sets and its inner scopes inherit.
#[derive(Clone, Debug, Default)]
struct Params {
    default_lease: Option<u64>,
    max_lease: Option<u64>,
    min_lease: Option<u64>,
    /// Line of the latest default- or max-lease-time, for reports.
    lease_line: usize,
    authoritative: Option<bool>,
    next_server: Option<Ipv4Addr>,
    filename: Option<String>,
    server_name: Option<String>,
    /// `option NAME ...;` by name, the innermost setting last.
    options: Vec<(String, Vec<Token>, usize)>,
    /// The `shared-network` the scope lies in.
    shared_network: Option<String>,
    /// `ping-check` and `ping-timeout` (seconds), server-wide in tandem.
    ping: Option<(bool, Option<u64>)>,
    /// `ddns-updates`, `ddns-domainname` and the like.
    ddns: ddns::DdnsParams,
}

/// One `subnet` with what it inherited.
#[derive(Clone, Debug)]
struct Subnet {
    net: Ipv4Addr,
    prefix: u8,
    params: Params,
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Pools with `allow`/`deny` rules: their ranges, and the classes.
    ruled: Vec<RuledPool>,
}

/// A `pool` that allows or denies classes.
#[derive(Clone, Debug, Default)]
struct RuledPool {
    /// Line of the pool's first statement, for reports.
    line: usize,
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    allow: Vec<String>,
    deny: Vec<String>,
}

/// One `host` with a single fixed address.
#[derive(Clone, Debug)]
struct Host {
    name: String,
    line: usize,
    /// Normalised ("52:54:00:12:34:56").
    mac: Option<String>,
    client_id: Option<String>,
    addr: Ipv4Addr,
    /// `option host-name`.
    hostname: Option<String>,
}

/// The `failover peer` statement's values.
#[derive(Clone, Debug, Default)]
struct Failover {
    line: usize,
    primary: Option<bool>,
    address: Option<String>,
    port: Option<u16>,
    peer_address: Option<String>,
    peer_port: Option<u16>,
    mclt: Option<u64>,
    split: Option<u64>,
    max_response_delay: Option<u64>,
    load_balance_max_secs: Option<u64>,
    auto_partner_down: Option<u64>,
}

#[derive(Default)]
struct Walk {
    subnets: Vec<Subnet>,
    classes: Vec<classes::IscClass>,
    hosts: Vec<Host>,
    failover: Option<Failover>,
    /// `ddns-update-style` and its line.
    ddns_style: Option<(String, usize)>,
    keys: Vec<ddns::IscKey>,
    zones: Vec<ddns::IscZone>,
    skipped: Vec<Skipped>,
}

impl Walk {
    fn skip(&mut self, s: &Statement<'_>, why: impl Into<String>) {
        self.skipped.push(Skipped {
            line: s.line,
            what: show(s.head),
            why: why.into(),
        });
    }
}

/// Translates the dhcpd.conf `text`; the TOML names TSIG key files in
/// `key_dir` (`Translation::key_files`). Errors: the text is not ISC syntax.
pub fn translate(text: &str, key_dir: &str) -> Result<Translation, ConfError> {
    let tokens = lexer::tokens(text)?;
    let mut w = Walk::default();
    scope(
        &mut w,
        &statements::statements(&tokens)?,
        &Params::default(),
        false,
    )?;
    w.skipped.sort_by_key(|s| s.line);
    Ok(emit::toml(w, key_dir))
}

fn word<'a>(s: &'a Statement<'_>, i: usize) -> Option<&'a str> {
    match &s.head.get(i)?.kind {
        Kind::Word(w) => Some(w),
        _ => None,
    }
}

/// The statements of one scope (global, `group`, `shared-network`).
fn scope(
    w: &mut Walk,
    list: &[Statement<'_>],
    outer: &Params,
    nested: bool,
) -> Result<(), ConfError> {
    let mut params = outer.clone();
    let subnets =
        |s: &&Statement<'_>| matches!(word(s, 0), Some("subnet" | "shared-network" | "group"));
    let hosts_only = nested && !list.iter().any(|s| subnets(&s));
    // Parameters apply to the whole scope wherever they stand, as in dhcpd.
    for s in list.iter().filter(|s| s.body.is_none()) {
        if hosts_only {
            w.skip(s, "set for a group of hosts: per-host settings are not translated; add them to the reservations as [[subnet.reservation.option]]");
        } else {
            param(w, s, &mut params);
        }
    }
    for s in list {
        let Some(body) = s.body else { continue };
        let inner = statements::statements(body)?;
        match word(s, 0) {
            Some("subnet") => subnet(w, s, &inner, &params)?,
            Some("group") => scope(w, &inner, &params, true)?,
            Some("shared-network") => shared_network(w, s, &inner, &params)?,
            Some("host") => host::host(w, s, &inner),
            Some("failover") => failover_peer::failover(w, s, &inner),
            Some("class") => classes::class(w, s, &inner),
            Some("key") => ddns::key(w, s, &inner),
            Some("zone") => ddns::zone(w, s, &inner),
            Some("subclass") => w.skip(
                s,
                "subclasses are not translated: list their values in the class's [[class]] key",
            ),
            _ => w.skip(
                s,
                "no tandem equivalent (pools outside a subnet, event blocks...)",
            ),
        }
    }
    Ok(())
}

/// `shared-network NAME { subnet ... }`: its subnets name it (they inherit
/// its parameters as they are translated, as in dhcpd).
fn shared_network(
    w: &mut Walk,
    s: &Statement<'_>,
    body: &[Statement<'_>],
    outer: &Params,
) -> Result<(), ConfError> {
    let name = match s.head.get(1).map(|t| &t.kind) {
        Some(Kind::Word(v)) => v.clone(),
        Some(Kind::Str(v)) => String::from_utf8_lossy(v).into_owned(),
        _ => {
            w.skip(s, "a shared-network without a name");
            return scope(w, body, outer, true);
        }
    };
    if outer.shared_network.is_some() {
        w.skip(s, "a shared-network inside another: dhcpd refuses it");
        return Ok(());
    }
    let params = Params {
        shared_network: Some(name),
        ..outer.clone()
    };
    scope(w, body, &params, true)
}

/// One parameter statement into `p`, or a report.
fn param(w: &mut Walk, s: &Statement<'_>, p: &mut Params) {
    let num = |i| word(s, i).and_then(|v| v.parse::<u64>().ok());
    let text = |i: usize| match s.head.get(i).map(|t| &t.kind) {
        Some(Kind::Str(v)) => Some(String::from_utf8_lossy(v).into_owned()),
        Some(Kind::Word(v)) => Some(v.clone()),
        _ => None,
    };
    if ddns::param(w, s, p) {
        return;
    }
    match (word(s, 0), word(s, 1), s.head.len()) {
        (Some("default-lease-time"), _, 2) if num(1).is_some() => {
            p.default_lease = num(1);
            p.lease_line = s.line;
        }
        (Some("max-lease-time"), _, 2) if num(1).is_some() => {
            p.max_lease = num(1);
            p.lease_line = s.line;
        }
        (Some("min-lease-time"), _, 2) if num(1).is_some() => p.min_lease = num(1),
        (Some("authoritative"), None, 1) => p.authoritative = Some(true),
        (Some("not"), Some("authoritative"), 2) => p.authoritative = Some(false),
        (Some("next-server"), Some(a), 2) if a.parse::<Ipv4Addr>().is_ok() => {
            p.next_server = a.parse().ok()
        }
        (Some("filename"), _, 2) => p.filename = text(1),
        (Some("server-name"), _, 2) => p.server_name = text(1),
        // The same fields as options: one key each in tandem, the later wins.
        (Some("option"), Some("bootfile-name"), 3) => p.filename = text(2),
        (Some("option"), Some("tftp-server-name"), 3) => p.server_name = text(2),
        (Some("option"), Some(_), n) if n > 2 && word(s, 2) != Some("code") => {
            let name = word(s, 1).unwrap_or_default().to_string();
            p.options.retain(|(o, _, _)| *o != name);
            p.options.push((name, s.head[2..].to_vec(), s.line));
        }
        (Some("ping-check" | "ping-timeout"), Some(v), 2) if ping(p, word(s, 0), v) => {}
        (Some("range"), ..) => w.skip(s, "a range outside any subnet"),
        (Some("log-facility"), ..) => w.skip(
            s,
            "tandem logs to stderr (journald under systemd); `--log-format json` for shippers",
        ),
        (Some("option"), _, _) => w.skip(
            s,
            "an option definition: use [[subnet.option]] with its code and type",
        ),
        _ => w.skip(s, "no tandem equivalent"),
    }
}

/// `ping-check FLAG;` or `ping-timeout SECONDS;` into `p` (dhcpd pings by
/// default); false for a value it does not take.
fn ping(p: &mut Params, what: Option<&str>, v: &str) -> bool {
    let on = p.ping.is_none_or(|x| x.0);
    let timeout = p.ping.and_then(|x| x.1);
    p.ping = match (what, v) {
        (Some("ping-check"), "true" | "on") => Some((true, timeout)),
        (Some("ping-check"), "false" | "off") => Some((false, timeout)),
        (Some("ping-timeout"), _) => match v.parse::<u64>() {
            Ok(t) => Some((on, Some(t))),
            Err(_) => return false,
        },
        _ => return false,
    };
    true
}

/// `subnet NET netmask MASK { ... }`.
fn subnet(
    w: &mut Walk,
    s: &Statement<'_>,
    body: &[Statement<'_>],
    outer: &Params,
) -> Result<(), ConfError> {
    let net = word(s, 1).and_then(|a| a.parse::<Ipv4Addr>().ok());
    let mask = word(s, 3).and_then(|a| a.parse::<Ipv4Addr>().ok());
    let prefix = mask
        .map(u32::from)
        .filter(|m| m.leading_ones() == m.count_ones());
    let (Some(net), Some(mask), Some(_), Some("netmask")) = (net, prefix, mask, word(s, 2)) else {
        w.skip(s, "not `subnet ADDRESS netmask MASK`");
        return Ok(());
    };
    let mut sub = Subnet {
        net,
        prefix: mask.leading_ones() as u8,
        params: outer.clone(),
        ranges: Vec::new(),
        ruled: Vec::new(),
    };
    for st in body.iter().filter(|st| st.body.is_none()) {
        if word(st, 0) == Some("range") {
            range(w, st, &mut sub);
        } else {
            param(w, st, &mut sub.params);
        }
    }
    for st in body.iter().filter(|st| st.body.is_some()) {
        let inner = statements::statements(st.body.unwrap_or_default())?;
        match word(st, 0) {
            Some("pool") => pool(w, &inner, &mut sub),
            Some("host") => host::host(w, st, &inner),
            _ => w.skip(st, "no tandem equivalent inside a subnet"),
        }
    }
    w.subnets.push(sub);
    Ok(())
}

/// `range A B;` (a single address when B is absent).
fn range(w: &mut Walk, s: &Statement<'_>, sub: &mut Subnet) {
    let ip = |i| word(s, i).and_then(|a| a.parse::<Ipv4Addr>().ok());
    match (ip(1), ip(2), s.head.len()) {
        (Some(a), Some(b), 3) => sub.ranges.push((a, b)),
        (Some(a), None, 2) => sub.ranges.push((a, a)),
        _ => w.skip(s, "dynamic-bootp ranges are not in tandem (DHCP only)"),
    }
}

/// `pool { range ...; failover peer "x"; allow members of "c"; }`: its
/// ranges join the subnet's pools, or, with class rules, make
/// `[[subnet.pool]]`s; other pool parameters are reported.
fn pool(w: &mut Walk, body: &[Statement<'_>], sub: &mut Subnet) {
    let mut own = Subnet {
        ranges: Vec::new(),
        ruled: Vec::new(),
        ..sub.clone()
    };
    let mut rules = RuledPool::default();
    for st in body {
        let words: Vec<&str> = (0..st.head.len()).filter_map(|i| word(st, i)).collect();
        let class = match st.head.get(3).map(|t| &t.kind) {
            Some(Kind::Str(v)) => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        };
        match (words.as_slice(), class, st.body) {
            (["range", ..], _, None) => range(w, st, &mut own),
            (["failover", "peer"], _, None) => {}
            (["allow", "members", "of"], Some(c), None) => rules.allow.push(c),
            (["deny", "members", "of"], Some(c), None) => rules.deny.push(c),
            (["allow", k @ ("known-clients" | "unknown-clients")], ..) => {
                rules.allow.push(k.to_string())
            }
            (["deny", k @ ("known-clients" | "unknown-clients")], ..) => {
                rules.deny.push(k.to_string())
            }
            _ => w.skip(
                st,
                "pool parameters other than ranges and allow/deny of classes or known/unknown clients are not translated",
            ),
        }
    }
    if rules.allow.is_empty() && rules.deny.is_empty() {
        sub.ranges.extend(own.ranges);
    } else {
        rules.ranges = own.ranges;
        rules.line = body.first().map_or(0, |st| st.line);
        sub.ruled.push(rules);
    }
}

/// Seconds as tandem's duration text.
fn secs(n: u64) -> String {
    format!("{n}s")
}

/// A TOML string literal for `s`.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Appends `key = value` to `out`.
fn kv(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key} = {value}");
}

#[cfg(test)]
mod tests;
