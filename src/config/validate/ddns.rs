//! The `[ddns]` section: suffixes, keys and zones.

use super::Checker;
use super::failover::address;
use super::raw::{RawDdns, RawDnsKey, RawDnsZone};
use crate::config::*;
use crate::ddns::name::normalise_suffix;
use toml::Spanned;

/// A qualifying suffix, normalised; `None` with a problem at `key` when it
/// is not a domain name.
pub(super) fn suffix(c: &mut Checker, s: &Spanned<String>, key: &str) -> Option<String> {
    normalise_suffix(s.get_ref())
        .map_err(|message| c.at(s, key, message))
        .ok()
}

pub(super) fn ddns(c: &mut Checker, d: &Spanned<RawDdns>, subnets: &[Subnet]) -> DdnsConfig {
    let r = d.get_ref();
    let keys: Vec<DnsKey> = r
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| key(c, k, i))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.name == k.name) {
            let message = format!("another [[ddns.key]] is named {:?}", k.name);
            c.at(
                &r.key[i].get_ref().name,
                format!("ddns.key[{i}].name"),
                message,
            );
        }
    }
    let zones = r
        .zone
        .iter()
        .enumerate()
        .map(|(i, z)| zone(c, z, i, &keys))
        .collect();
    let ttl = r.ttl.as_ref().map(|t| {
        if !(1..=7 * 86_400).contains(&t.get_ref().0) {
            c.at(t, "ddns.ttl", "must be between 1s and 7 days");
        }
        t.get_ref().0.min(u64::from(u32::MAX)) as u32
    });
    let config = DdnsConfig {
        qualifying_suffix: r
            .qualifying_suffix
            .as_ref()
            .and_then(|s| suffix(c, s, "ddns.qualifying_suffix")),
        ttl,
        override_client_update: r.override_client_update.unwrap_or(false),
        override_no_update: r.override_no_update.unwrap_or(false),
        keys,
        zones,
    };
    suffixes_in_zones(c, d, &config, subnets);
    config
}

fn key(c: &mut Checker, k: &Spanned<RawDnsKey>, i: usize) -> DnsKey {
    let r = k.get_ref();
    let label = format!("ddns.key[{i}]");
    let algorithm = c.one_of(
        r.algorithm.as_ref(),
        &format!("{label}.algorithm"),
        &TsigAlgorithm::NAMES,
        TsigAlgorithm::HmacSha256,
    );
    let name = r
        .name
        .get_ref()
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if name.is_empty() {
        c.at(&r.name, format!("{label}.name"), "must not be empty");
    }
    DnsKey {
        name,
        algorithm,
        secret_file: PathBuf::from(r.secret_file.get_ref()),
    }
}

fn zone(c: &mut Checker, z: &Spanned<RawDnsZone>, i: usize, keys: &[DnsKey]) -> DnsZone {
    let r = z.get_ref();
    let label = format!("ddns.zone[{i}]");
    let name = suffix(c, &r.name, &format!("{label}.name")).unwrap_or_default();
    let servers: Vec<_> = r
        .servers
        .iter()
        .map(|s| address(c, s, &format!("{label}.servers"), 53))
        .collect();
    if servers.is_empty() {
        c.at(
            z,
            format!("{label}.servers"),
            "names no server to send updates to",
        );
    }
    let key = r.key.as_ref().map(|k| {
        let name = k
            .get_ref()
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !keys.iter().any(|o| o.name == name) {
            let message = format!("no [[ddns.key]] is named {:?}", k.get_ref());
            c.at(k, format!("{label}.key"), message);
        }
        name
    });
    DnsZone { name, servers, key }
}

/// A subnet whose names would go to no zone is a mistake: its clients
/// would never be updated, silently.
fn suffixes_in_zones(c: &mut Checker, d: &Spanned<RawDdns>, cfg: &DdnsConfig, subnets: &[Subnet]) {
    for s in subnets.iter().filter(|s| s.ddns) {
        let suffix = s.ddns_suffix.as_ref().or(cfg.qualifying_suffix.as_ref());
        let Some(suffix) = suffix else {
            let message = format!(
                "subnet {} has no qualifying suffix: set ddns.qualifying_suffix, the subnet's ddns_qualifying_suffix, or ddns = false",
                s.cidr
            );
            c.at(d, "ddns.qualifying_suffix", message);
            continue;
        };
        if cfg.zone_for(&format!("x.{suffix}")).is_none() {
            let message = format!(
                "no [[ddns.zone]] holds {suffix:?} (the suffix of subnet {})",
                s.cidr
            );
            c.at(d, "ddns.zone", message);
        }
    }
}
