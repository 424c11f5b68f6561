//! `[[shared_network]]`: each is checked once, like a subnet without pools;
//! its subnets inherit what it sets (lease times and `authoritative` before
//! their own checks, options and boot fields after), and each subnet's
//! `shared_network` must name one.

use super::Checker;
use super::raw::{RawConfig, RawSharedNetwork, RawSubnet};
use super::subnet::subnet;
use crate::config::*;
use toml::Spanned;

/// A shared network's checked settings, as a subnet without pools.
pub(super) struct Network {
    pub name: String,
    pub settings: Subnet,
    raw: RawSubnet,
}

/// Checks every `[[shared_network]]`: a name, used once, and valid settings.
pub(super) fn networks(c: &mut Checker, raw: &RawConfig) -> Vec<Network> {
    let mut out: Vec<Network> = Vec::new();
    for (k, n) in raw.shared_network.iter().enumerate() {
        let label = format!("shared_network[{k}]");
        let name = n.get_ref().name.get_ref().trim().to_string();
        if name.is_empty() {
            c.at(
                &n.get_ref().name,
                format!("{label}.name"),
                "must not be empty",
            );
        } else if out.iter().any(|o| o.name == name) {
            let message = format!("another [[shared_network]] is named {name:?}");
            c.at(&n.get_ref().name, format!("{label}.name"), message);
        }
        let raw = as_subnet(n);
        let settings = subnet(
            c,
            &Spanned::new(n.span(), raw.clone()),
            &label,
            SubnetId(u32::MAX),
            &mut Vec::new(),
            &[],
        );
        per_subnet_only(c, &settings.options, n, &label);
        out.push(Network {
            name,
            settings,
            raw,
        });
    }
    out
}

/// Options whose value depends on the subnet's own network (routers,
/// broadcast address, classless routes): set per subnet, never for a shared
/// network or a class, whose members lie in different subnets.
const PER_SUBNET: [u8; 3] = [3, 28, 121];

/// A problem for each option in `options` that only a subnet may set.
pub(super) fn per_subnet_only<T>(
    c: &mut Checker,
    options: &[OptionValue],
    at: &Spanned<T>,
    label: &str,
) {
    for o in options.iter().filter(|o| PER_SUBNET.contains(&o.code)) {
        let message = format!(
            "option {} depends on the subnet: set it in each [[subnet]] instead",
            o.code
        );
        c.at(at, format!("{label}.option"), message);
    }
}

/// A subnet of a shared network: checked with what it inherits.
pub(super) fn member_subnet(
    c: &mut Checker,
    s: &Spanned<RawSubnet>,
    (label, id): (&str, SubnetId),
    (net, n): (usize, &Network),
    pools: &mut Vec<Pool>,
    classes: &[Class],
) -> Subnet {
    let mut sub = subnet(c, &inherit_times(s, n), label, id, pools, classes);
    inherit_options(&mut sub, n);
    sub.shared_network = Some(net);
    sub
}

/// The shared network subnet `i` names, if any; naming none that exists is
/// a problem (a misspelt name would otherwise split the link silently).
pub(super) fn member(
    c: &mut Checker,
    s: &Spanned<RawSubnet>,
    i: usize,
    networks: &[Network],
) -> Option<usize> {
    let name = s.get_ref().shared_network.as_ref()?;
    let found = networks
        .iter()
        .position(|n| n.name == name.get_ref().trim());
    if found.is_none() {
        let message = format!("no [[shared_network]] is named {:?}", name.get_ref());
        c.at(name, format!("subnet[{i}].shared_network"), message);
    }
    found
}

/// Subnet `s` with the lease times and `authoritative` it leaves unset taken
/// from its shared network, so that its own checks see what it will grant.
pub(super) fn inherit_times(s: &Spanned<RawSubnet>, n: &Network) -> Spanned<RawSubnet> {
    let mut r = s.get_ref().clone();
    let fill = |own: &mut Option<Spanned<values::Secs>>, net: &Option<Spanned<values::Secs>>| {
        if own.is_none() {
            own.clone_from(net);
        }
    };
    fill(&mut r.lease_time, &n.raw.lease_time);
    fill(&mut r.min_lease_time, &n.raw.min_lease_time);
    fill(&mut r.max_lease_time, &n.raw.max_lease_time);
    fill(&mut r.t1, &n.raw.t1);
    fill(&mut r.t2, &n.raw.t2);
    r.authoritative = r.authoritative.or(n.raw.authoritative);
    r.ddns = r.ddns.or(n.raw.ddns);
    if r.ddns_qualifying_suffix.is_none() {
        r.ddns_qualifying_suffix
            .clone_from(&n.raw.ddns_qualifying_suffix);
    }
    Spanned::new(s.span(), r)
}

/// Adds to `s` the shared network's options for codes `s` does not set, and
/// its boot fields where `s` has none.
pub(super) fn inherit_options(s: &mut Subnet, n: &Network) {
    let own: Vec<u8> = s.options.iter().map(|o| o.code).collect();
    let more = n
        .settings
        .options
        .iter()
        .filter(|o| !own.contains(&o.code))
        .cloned();
    s.options.extend(more);
    s.next_server = s.next_server.or(n.settings.next_server);
    if s.boot_file.is_none() {
        s.boot_file.clone_from(&n.settings.boot_file);
    }
    if s.server_hostname.is_none() {
        s.server_hostname.clone_from(&n.settings.server_hostname);
    }
}

/// The shared networks with their member subnets; one without any is a
/// problem (it would configure nothing).
pub(super) fn with_members(
    c: &mut Checker,
    raw: &RawConfig,
    networks: Vec<Network>,
    subnets: &[Subnet],
) -> Vec<SharedNetwork> {
    networks
        .into_iter()
        .enumerate()
        .map(|(k, n)| {
            let members: Vec<SubnetId> = subnets
                .iter()
                .filter(|s| s.shared_network == Some(k))
                .map(|s| s.id)
                .collect();
            if members.is_empty() {
                let message = format!(
                    "no [[subnet]] names it (add shared_network = {:?} to its subnets)",
                    n.name
                );
                c.at(
                    &raw.shared_network[k],
                    format!("shared_network[{k}]"),
                    message,
                );
            }
            SharedNetwork {
                name: n.name,
                subnets: members,
            }
        })
        .collect()
}

/// A shared network's settings in a subnet's shape, to be checked by the
/// same rules.
fn as_subnet(n: &Spanned<RawSharedNetwork>) -> RawSubnet {
    let r = n.get_ref();
    RawSubnet {
        lease_time: r.lease_time.clone(),
        min_lease_time: r.min_lease_time.clone(),
        max_lease_time: r.max_lease_time.clone(),
        t1: r.t1.clone(),
        t2: r.t2.clone(),
        authoritative: r.authoritative,
        dns_servers: r.dns_servers.clone(),
        domain_name: r.domain_name.clone(),
        domain_search: r.domain_search.clone(),
        ntp_servers: r.ntp_servers.clone(),
        mtu: r.mtu.clone(),
        next_server: r.next_server,
        boot_file: r.boot_file.clone(),
        server_hostname: r.server_hostname.clone(),
        option: r.option.clone(),
        ddns: r.ddns,
        ddns_qualifying_suffix: r.ddns_qualifying_suffix.clone(),
        ..RawSubnet::settings_only(n.span())
    }
}
