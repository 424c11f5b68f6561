//! One `[[subnet]]`: its pools, lease times, options, boot fields and
//! reservations.

use super::Checker;
use super::option_checks::{custom_option, named_options, reservation};
use super::raw::RawSubnet;
use crate::config::options::OptionValue;
use crate::config::values::Secs;
use crate::config::*;
use toml::Spanned;

/// How each subnet names its keys in problems: `subnet[3].pools`.
type KeyOf<'a> = &'a dyn Fn(&str) -> String;

/// Checks one subnet (or, labelled `shared_network[k]`, a shared network's
/// settings) and adds its pools to `pools`. `label` names it in problems,
/// e.g. `subnet[3]`.
pub(super) fn subnet(
    c: &mut Checker,
    s: &Spanned<RawSubnet>,
    label: &str,
    id: SubnetId,
    pools: &mut Vec<Pool>,
    classes: &[Class],
) -> Subnet {
    let key = |k: &str| format!("{label}.{k}");
    let r = s.get_ref();
    let cidr = *r.cidr.get_ref();
    let pool_ids = subnet_pools(c, r, &key, id, pools, classes);
    let lease = lease_times(c, r, &key);
    let options = subnet_options(c, r, &key, cidr);
    boot_fields(c, r, &key);
    let reservations = r
        .reservation
        .iter()
        .map(|res| reservation(c, res, &key("reservation"), cidr))
        .collect();
    Subnet {
        id,
        cidr,
        shared_network: None,
        pools: pool_ids,
        lease,
        authoritative: r.authoritative.unwrap_or(false),
        options,
        next_server: r.next_server.map(|i| i.0),
        boot_file: r.boot_file.as_ref().map(|b| b.get_ref().clone()),
        server_hostname: r.server_hostname.as_ref().map(|b| b.get_ref().clone()),
        reservations,
        ddns: r.ddns.unwrap_or(true),
        ddns_suffix: r
            .ddns_qualifying_suffix
            .as_ref()
            .and_then(|s| super::ddns::suffix(c, s, &key("ddns_qualifying_suffix"))),
    }
}

/// Adds the subnet's pools (`pools`, then each `[[subnet.pool]]`) to
/// `pools` (numbered across the whole config) and returns their ids.
fn subnet_pools(
    c: &mut Checker,
    r: &RawSubnet,
    key: KeyOf,
    id: SubnetId,
    pools: &mut Vec<Pool>,
    classes: &[Class],
) -> Vec<PoolId> {
    let plain = r.pools.iter().map(|p| (p, "pools", Vec::new(), Vec::new()));
    let ruled = r.pool.iter().map(|p| {
        let p = p.get_ref();
        let mut names = |list: &[Spanned<String>], which: &str| {
            class_ids(c, list, &key(&format!("pool.{which}")), classes)
        };
        let (allow, deny) = (names(&p.allow, "allow"), names(&p.deny, "deny"));
        if let Some(both) = allow.iter().find(|a| deny.contains(a)) {
            let message = format!(
                "class {:?} is both allowed and denied",
                classes[usize::from(both.0)].name
            );
            c.at(&p.range, key("pool"), message);
        }
        (&p.range, "pool.range", allow, deny)
    });
    let mut pool_ids = Vec::new();
    for (p, name, allow, deny) in plain.chain(ruled.collect::<Vec<_>>()) {
        let range = *p.get_ref();
        check_range(c, p, &key(name), r);
        let pid = PoolId(pools.len() as u32);
        pools.push(Pool {
            id: pid,
            subnet: id,
            range,
            allow,
            deny,
        });
        pool_ids.push(pid);
    }
    pool_ids
}

/// A pool (named `key` in problems) must lie inside its subnet and, below
/// a /31, leave out its network and broadcast addresses.
fn check_range(c: &mut Checker, p: &Spanned<Range>, key: &str, r: &RawSubnet) {
    let cidr = *r.cidr.get_ref();
    let (first, last) = (p.get_ref().first, p.get_ref().last);
    if !cidr.contains(first) || !cidr.contains(last) {
        let message = format!("pool {first}-{last} is not inside {cidr}");
        c.at(p, key, message);
    } else if cidr.prefix < 31
        && (p.get_ref().contains(cidr.network) || p.get_ref().contains(cidr.broadcast()))
    {
        let message =
            format!("pool {first}-{last} includes the network or broadcast address of {cidr}");
        c.at(p, key, message);
    }
}

/// The classes a pool's `allow` or `deny` names; a name no `[[class]]` has
/// is a problem.
fn class_ids(
    c: &mut Checker,
    names: &[Spanned<String>],
    key: &str,
    classes: &[Class],
) -> Vec<ClassId> {
    names
        .iter()
        .filter_map(|n| {
            let found = classes.iter().find(|cl| cl.name == n.get_ref().trim());
            if found.is_none() {
                let message = format!("no [[class]] is named {:?}", n.get_ref());
                c.at(n, key, message);
            }
            found.map(|cl| cl.id)
        })
        .collect()
}

/// The named options, then the numbered `[[subnet.option]]`s; a code set
/// twice is a problem.
fn subnet_options(c: &mut Checker, r: &RawSubnet, key: KeyOf, cidr: Cidr) -> Vec<OptionValue> {
    let mut opts = named_options(c, r, key, cidr);
    for o in &r.option {
        if let Some(v) = custom_option(c, o, &key("option")) {
            if opts.iter().any(|x| x.code == v.code) {
                let message = format!(
                    "option {} is already set by a named key or another [[option]]",
                    v.code
                );
                c.at(&o.get_ref().code, key("option"), message);
            }
            opts.push(v);
        }
    }
    opts
}

/// The BOOTP `file` and `sname` fields: 1 to 127 and 1 to 63 octets
/// (RFC 2131 section 2, less the terminating NUL).
fn boot_fields(c: &mut Checker, r: &RawSubnet, key: KeyOf) {
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
}

/// The subnet's lease times (seconds): `lease_time` (12 hours by default)
/// with its bounds, and T1/T2 when set.
fn lease_times(c: &mut Checker, r: &RawSubnet, key: KeyOf) -> LeaseTimes {
    let get = |v: &Option<Spanned<Secs>>| v.as_ref().map(|s| s.get_ref().0);
    let default = get(&r.lease_time).unwrap_or(43_200);
    let t = LeaseTimes {
        default,
        min: get(&r.min_lease_time).unwrap_or(default),
        max: get(&r.max_lease_time).unwrap_or(default),
        t1: get(&r.t1),
        t2: get(&r.t2),
    };
    let at = |c: &mut Checker, v: &Option<Spanned<Secs>>, name: &str, message: &str| {
        let offset = v.as_ref().map_or(r.cidr.span().start, |s| s.span().start);
        c.at_line(c.line(offset), key(name), message);
    };
    if default < 10 || default > u64::from(u32::MAX - 1) {
        at(
            c,
            &r.lease_time,
            "lease_time",
            "must be between 10s and about 136 years",
        );
    }
    if t.min > default {
        at(
            c,
            &r.min_lease_time,
            "min_lease_time",
            "is longer than lease_time",
        );
    }
    if t.max < default || t.max > u64::from(u32::MAX - 1) {
        let message = "must be at least lease_time and below 2^32-1 seconds";
        at(c, &r.max_lease_time, "max_lease_time", message);
    }
    if t.t1.is_some_and(|t1| t1 == 0 || t1 >= t.min) {
        let message = "must be above zero and shorter than the shortest lease (min_lease_time)";
        at(c, &r.t1, "t1", message);
    }
    if let Some(t2) = t.t2
        && (t2 >= t.min || t.t1.is_some_and(|t1| t2 <= t1))
    {
        let message = "must be longer than t1 and shorter than the shortest lease (min_lease_time)";
        at(c, &r.t2, "t2", message);
    }
    t
}
