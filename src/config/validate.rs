//! Raw config → typed `Config`, collecting every problem with its line.

use super::raw::{RawConfig, RawSubnet};
use super::values::Range;
use super::*;
use toml::Spanned;

/// Above this many pool addresses in total the free-address indexes would
/// take hundreds of megabytes; a campus needs far fewer.
const MAX_POOL_ADDRESSES: u64 = 1 << 22;

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn at<T>(&mut self, spanned: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        let line = self.line(spanned.span().start);
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    fn at_line(&mut self, line: usize, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.into(),
        });
    }
}

pub(super) fn validate(raw: RawConfig, text: &str) -> Result<Config, Vec<Problem>> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let server = server(&mut c, &raw.server);
    let failover = raw.failover.as_ref().map(|f| failover(&mut c, f));
    if raw.subnet.is_empty() {
        c.at_line(
            c.line(text.len()),
            "subnet",
            "no [[subnet]] is configured; tandem would serve nothing",
        );
    }
    let mut subnets = Vec::new();
    let mut pools: Vec<Pool> = Vec::new();
    for (i, s) in raw.subnet.iter().enumerate() {
        let id = SubnetId(i as u32);
        subnets.push(subnet(&mut c, s, i, id, &mut pools));
    }
    cross_checks(&mut c, &raw, &subnets, &pools);
    if c.problems.is_empty() {
        Ok(Config {
            server,
            failover,
            subnets,
            pools,
        })
    } else {
        c.problems.sort_by_key(|p| p.line);
        Err(c.problems)
    }
}

fn server(c: &mut Checker, s: &super::raw::RawServer) -> ServerConfig {
    let interfaces: Vec<String> = s.interfaces.iter().map(|i| i.get_ref().clone()).collect();
    for i in &s.interfaces {
        let n = i.get_ref();
        if n.is_empty() || n.len() >= 16 || n.contains('/') || n.contains(char::is_whitespace) {
            c.at(
                i,
                "server.interfaces",
                format!("{n:?} is not a valid interface name"),
            );
        }
    }
    if interfaces.is_empty() {
        c.at(
            &s.lease_db,
            "server.interfaces",
            "name at least one interface to serve, e.g. interfaces = [\"eth0\"]",
        );
    }
    if s.lease_db.get_ref().trim().is_empty() {
        c.at(
            &s.lease_db,
            "server.lease_db",
            "give a path for the lease database",
        );
    }
    let direct_unicast = match s.direct_unicast.as_ref().map(|d| d.get_ref().as_str()) {
        None | Some("packet") => DirectUnicast::Packet,
        Some("arp") => DirectUnicast::Arp,
        Some("broadcast") => DirectUnicast::Broadcast,
        Some(other) => {
            let d = s.direct_unicast.as_ref().expect("matched Some");
            c.at(
                d,
                "server.direct_unicast",
                format!("{other:?} is not one of \"packet\", \"arp\", \"broadcast\""),
            );
            DirectUnicast::Packet
        }
    };
    let sync_full = match s.sync.as_ref().map(|d| d.get_ref().as_str()) {
        None | Some("full") => true,
        Some("normal") => false,
        Some(other) => {
            let d = s.sync.as_ref().expect("matched Some");
            c.at(
                d,
                "server.sync",
                format!("{other:?} is not one of \"full\", \"normal\""),
            );
            true
        }
    };
    ServerConfig {
        name: s.name.clone().unwrap_or_else(|| "tandem".into()),
        interfaces,
        lease_db: PathBuf::from(s.lease_db.get_ref()),
        port: s.port.unwrap_or(67),
        client_port: s.client_port.unwrap_or(68),
        server_id: s.server_id.map(|i| i.0),
        decline_probation: s.decline_probation.map_or(86_400, |d| d.0),
        offer_hold: s.offer_hold.map_or(30, |d| d.0.max(1)),
        direct_unicast,
        sync_full,
        client_rate_limit: s.client_rate_limit.unwrap_or(20),
        global_rate_limit: s.global_rate_limit.unwrap_or(20_000),
        control_socket: PathBuf::from(
            s.control_socket
                .as_deref()
                .unwrap_or("/run/tandem/control.sock"),
        ),
    }
}

fn subnet(
    c: &mut Checker,
    s: &Spanned<RawSubnet>,
    i: usize,
    id: SubnetId,
    pools: &mut Vec<Pool>,
) -> Subnet {
    let key = |k: &str| format!("subnet[{i}].{k}");
    let r = s.get_ref();
    let cidr = *r.cidr.get_ref();
    let mut pool_ids = Vec::new();
    for p in &r.pools {
        let range = *p.get_ref();
        if !cidr.contains(range.first) || !cidr.contains(range.last) {
            c.at(
                p,
                key("pools"),
                format!("pool {}-{} is not inside {cidr}", range.first, range.last),
            );
        } else if cidr.prefix < 31
            && (range.contains(cidr.network) || range.contains(cidr.broadcast()))
        {
            c.at(
                p,
                key("pools"),
                format!(
                    "pool {}-{} includes the network or broadcast address of {cidr}",
                    range.first, range.last
                ),
            );
        }
        let pid = PoolId(pools.len() as u32);
        pools.push(Pool {
            id: pid,
            subnet: id,
            range,
        });
        pool_ids.push(pid);
    }
    let lease = lease_times(c, r, &key);
    let mut opts = named_options(c, r, &key, cidr);
    for o in &r.option {
        if let Some(v) = custom_option(c, o, &key("option")) {
            if opts.iter().any(|x| x.code == v.code) {
                c.at(
                    &o.get_ref().code,
                    key("option"),
                    format!(
                        "option {} is already set by a named key or another [[option]]",
                        v.code
                    ),
                );
            }
            opts.push(v);
        }
    }
    for (name, v, max) in [
        ("boot_file", &r.boot_file, 127),
        ("server_hostname", &r.server_hostname, 63),
    ] {
        if let Some(v) = v
            && (v.get_ref().is_empty() || v.get_ref().len() > max)
        {
            c.at(v, key(name), format!("must be 1 to {max} bytes"));
        }
    }
    let reservations = r
        .reservation
        .iter()
        .map(|res| reservation(c, res, &key("reservation"), cidr))
        .collect();
    Subnet {
        id,
        cidr,
        pools: pool_ids,
        lease,
        authoritative: r.authoritative,
        options: opts,
        next_server: r.next_server.map(|i| i.0),
        boot_file: r.boot_file.as_ref().map(|b| b.get_ref().clone()),
        server_hostname: r.server_hostname.as_ref().map(|b| b.get_ref().clone()),
        reservations,
    }
}

fn lease_times(c: &mut Checker, r: &RawSubnet, key: &dyn Fn(&str) -> String) -> LeaseTimes {
    let get = |v: &Option<Spanned<super::values::Secs>>| v.as_ref().map(|s| s.get_ref().0);
    let default = get(&r.lease_time).unwrap_or(43_200);
    let min = get(&r.min_lease_time).unwrap_or(default);
    let max = get(&r.max_lease_time).unwrap_or(default);
    let t = LeaseTimes {
        default,
        min,
        max,
        t1: get(&r.t1),
        t2: get(&r.t2),
    };
    let line_of = |v: &Option<Spanned<super::values::Secs>>| {
        v.as_ref()
            .map(|s| s.span().start)
            .unwrap_or(r.cidr.span().start)
    };
    if default < 10 || default > u64::from(u32::MAX - 1) {
        c.at_line(
            c.line(line_of(&r.lease_time)),
            key("lease_time"),
            "must be between 10s and about 136 years",
        );
    }
    if min > default {
        c.at_line(
            c.line(line_of(&r.min_lease_time)),
            key("min_lease_time"),
            "is longer than lease_time",
        );
    }
    if max < default || max > u64::from(u32::MAX - 1) {
        c.at_line(
            c.line(line_of(&r.max_lease_time)),
            key("max_lease_time"),
            "must be at least lease_time and below 2^32-1 seconds",
        );
    }
    if let Some(t1) = t.t1
        && (t1 == 0 || t1 >= min)
    {
        c.at_line(
            c.line(line_of(&r.t1)),
            key("t1"),
            "must be above zero and shorter than the shortest lease (min_lease_time)",
        );
    }
    if let Some(t2) = t.t2
        && (t2 >= min || t.t1.is_some_and(|t1| t2 <= t1))
    {
        c.at_line(
            c.line(line_of(&r.t2)),
            key("t2"),
            "must be longer than t1 and shorter than the shortest lease (min_lease_time)",
        );
    }
    t
}

fn cross_checks(c: &mut Checker, raw: &RawConfig, subnets: &[Subnet], pools: &[Pool]) {
    for (i, a) in raw.subnet.iter().enumerate() {
        for b in &raw.subnet[..i] {
            let (x, y) = (*a.get_ref().cidr.get_ref(), *b.get_ref().cidr.get_ref());
            if x.contains(y.network) || y.contains(x.network) {
                c.at(
                    &a.get_ref().cidr,
                    format!("subnet[{i}].cidr"),
                    format!("{x} overlaps {y}"),
                );
            }
        }
    }
    let ranges: Vec<(Range, &Spanned<Range>, usize)> = raw
        .subnet
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.get_ref().pools.iter().map(move |p| (*p.get_ref(), p, i)))
        .collect();
    for (k, (r, span, i)) in ranges.iter().enumerate() {
        if let Some((o, _, _)) = ranges[..k].iter().find(|(o, _, _)| o.overlaps(*r)) {
            c.at(
                span,
                format!("subnet[{i}].pools"),
                format!(
                    "{}-{} overlaps pool {}-{}",
                    r.first, r.last, o.first, o.last
                ),
            );
        }
    }
    let total: u64 = pools.iter().map(|p| p.range.len()).sum();
    if total > MAX_POOL_ADDRESSES {
        c.at_line(
            1,
            "subnet.pools",
            format!("{total} pool addresses in all; tandem supports up to {MAX_POOL_ADDRESSES}"),
        );
    }
    for (i, s) in subnets.iter().enumerate() {
        let rs = &raw.subnet[i].get_ref().reservation;
        for (k, r) in s.reservations.iter().enumerate() {
            let clash = s.reservations[..k].iter().find(|o| {
                o.address == r.address
                    || (r.mac.is_some() && o.mac == r.mac)
                    || (r.client_id.is_some() && o.client_id == r.client_id)
            });
            if let Some(o) = clash {
                c.at(
                    &rs[k],
                    format!("subnet[{i}].reservation"),
                    format!(
                        "duplicates the reservation of {} (same address, mac or client_id)",
                        o.address
                    ),
                );
            }
        }
    }
}

mod failover;
mod option_checks;
use failover::failover;
use option_checks::{custom_option, named_options, reservation};

#[cfg(test)]
mod tests;
