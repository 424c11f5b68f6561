//! `[[class]]` tables: a unique name, a match table with at least one
//! criterion, and options and boot fields checked as a subnet's are.

use super::Checker;
use super::raw::{RawClass, RawConfig, RawSubnet};
use super::subnet::subnet;
use crate::config::*;
use toml::Spanned;

/// Checks every `[[class]]`, in file order.
pub(super) fn classes(c: &mut Checker, raw: &RawConfig) -> Vec<Class> {
    let mut out: Vec<Class> = Vec::new();
    for (k, cl) in raw.class.iter().enumerate() {
        let label = format!("class[{k}]");
        let r = cl.get_ref();
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() {
            c.at(&r.name, format!("{label}.name"), "must not be empty");
        } else if out.iter().any(|o| o.name == name) {
            let message = format!("another [[class]] is named {name:?}");
            c.at(&r.name, format!("{label}.name"), message);
        }
        let rule = rule(c, r, &label);
        if rule.is_empty() {
            let message = "matches every client: give at least one of vendor_class, vendor_class_prefix, user_class, arch, mac_prefix, circuit_id, remote_id, known";
            c.at(cl, label.clone(), message);
        }
        let settings = subnet(
            c,
            &Spanned::new(cl.span(), settings(cl)),
            &label,
            SubnetId(u32::MAX),
            &mut Vec::new(),
            &[],
        );
        super::shared::per_subnet_only(c, &settings.options, cl, &label);
        out.push(Class {
            id: ClassId(k as u16),
            name,
            rule,
            options: settings.options,
            next_server: settings.next_server,
            boot_file: settings.boot_file,
            server_hostname: settings.server_hostname,
        });
    }
    if out.len() > usize::from(u16::MAX) {
        c.at_line(1, "class", "more classes than tandem supports (65535)");
    }
    out
}

/// The match table; a MAC prefix longer than a MAC, or an architecture
/// type that is not 16 bits, is a problem.
fn rule(c: &mut Checker, r: &RawClass, label: &str) -> ClassRule {
    let text = |v: &[String]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
    no_empty_values(c, r, label);
    let hex = |v: &[values::Hex]| v.iter().map(|h| h.0.clone()).collect::<Vec<_>>();
    for p in &r.mac_prefix {
        if p.get_ref().0.len() > 6 {
            c.at(
                p,
                format!("{label}.mac_prefix"),
                "is longer than a MAC address (6 octets)",
            );
        }
    }
    let arch = r
        .arch
        .iter()
        .filter_map(|a| match u16::try_from(*a.get_ref()) {
            Ok(v) => Some(v),
            Err(_) => {
                c.at(
                    a,
                    format!("{label}.arch"),
                    "must be 0 to 65535 (RFC 4578 types)",
                );
                None
            }
        })
        .collect();
    let mut circuit_id: Vec<Vec<u8>> = text(&r.circuit_id);
    circuit_id.extend(hex(&r.circuit_id_hex));
    let mut remote_id: Vec<Vec<u8>> = text(&r.remote_id);
    remote_id.extend(hex(&r.remote_id_hex));
    ClassRule {
        vendor_class: text(&r.vendor_class),
        vendor_class_prefix: text(&r.vendor_class_prefix),
        user_class: text(&r.user_class),
        arch,
        mac_prefix: r.mac_prefix.iter().map(|p| p.get_ref().0.clone()).collect(),
        circuit_id,
        remote_id,
        known: r.known,
    }
}

/// A problem for an empty text value, which would match (nearly) every
/// client.
fn no_empty_values(c: &mut Checker, r: &RawClass, label: &str) {
    let texts = [
        ("vendor_class", &r.vendor_class),
        ("vendor_class_prefix", &r.vendor_class_prefix),
        ("user_class", &r.user_class),
        ("circuit_id", &r.circuit_id),
        ("remote_id", &r.remote_id),
    ];
    for (key, values) in texts {
        if values.iter().any(String::is_empty) {
            let message = "an empty value would match (nearly) every client";
            c.at(&r.name, format!("{label}.{key}"), message);
        }
    }
}

/// The class's options and boot fields in a subnet's shape, to be checked
/// by the same rules.
fn settings(cl: &Spanned<RawClass>) -> RawSubnet {
    let r = cl.get_ref();
    RawSubnet {
        dns_servers: r.dns_servers.clone(),
        domain_name: r.domain_name.clone(),
        domain_search: r.domain_search.clone(),
        ntp_servers: r.ntp_servers.clone(),
        mtu: r.mtu.clone(),
        next_server: r.next_server,
        boot_file: r.boot_file.clone(),
        server_hostname: r.server_hostname.clone(),
        option: r.option.clone(),
        ..RawSubnet::settings_only(cl.span())
    }
}
