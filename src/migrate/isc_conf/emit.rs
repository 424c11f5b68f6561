//! The translated configuration as tandem.toml text: `[server]` with what
//! dhcpd.conf cannot say left for the operator, `[failover]`, then each
//! subnet with its pools, parameters, options and reservations.

use super::options::{self, Mapped};
use super::{Failover, Host, Params, Skipped, Subnet, Translation, Walk, kv, quoted, secs};
use std::fmt::Write;
use std::net::Ipv4Addr;

const HEADER: &str = "\
# tandem.toml translated from dhcpd.conf by `tandem import-isc --dhcpd-conf`.
# Review every value, set `interfaces`, then `tandem check-config -c FILE`.

[server]
interfaces = [\"eth0\"]          # dhcpd.conf does not name them: set yours
lease_db = \"/var/lib/tandem/leases.sqlite\"
";

/// Writes the whole file.
pub(super) fn toml(mut w: Walk, key_dir: &str) -> Translation {
    let mut out = String::from(HEADER);
    ping_check(&mut out, &w.subnets, &mut w.skipped);
    if let Some(f) = w.failover.take() {
        failover(&mut out, &f, &mut w.skipped);
    }
    let zones = super::ddns::zone_names(&w);
    let mut t = Translation {
        key_files: super::ddns::emit(&mut out, &mut w, key_dir),
        ..Translation::default()
    };
    known_clients(&mut out, &w.subnets);
    keep_translated_rules(&mut w);
    super::classes::emit(&mut out, &w.classes, &mut w.skipped);
    shared_networks(&mut out, &w.subnets);
    let hosts = std::mem::take(&mut w.hosts);
    let mut placed = vec![false; hosts.len()];
    for s in &w.subnets {
        subnet(&mut out, s, zones.as_deref(), &mut w.skipped);
        for (i, h) in hosts.iter().enumerate() {
            if !placed[i] && contains(s, h.addr) {
                placed[i] = true;
                t.reservations += 1;
                reservation(&mut out, h);
            }
        }
    }
    for (h, _) in hosts.iter().zip(placed).filter(|(_, p)| !p) {
        let what = format!("host {}", h.name);
        w.skipped.push(Skipped {
            line: h.line,
            what,
            why: format!("fixed-address {} lies in no subnet", h.addr),
        });
    }
    w.skipped.sort_by_key(|s| s.line);
    t.subnets = w.subnets.len();
    t.toml = out;
    t.untranslated = w.skipped;
    t
}

fn contains(s: &Subnet, a: Ipv4Addr) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(s.prefix)).unwrap_or(0);
    u32::from(a) & mask == u32::from(s.net)
}

fn failover(out: &mut String, f: &Failover, skipped: &mut Vec<Skipped>) {
    let primary = f.primary.unwrap_or(true);
    let _ = writeln!(out, "\n[failover]");
    kv(
        out,
        "role",
        &quoted(if primary { "primary" } else { "secondary" }),
    );
    let at = |a: &Option<String>, p: Option<u16>| {
        quoted(&format!(
            "{}:{}",
            a.as_deref().unwrap_or("0.0.0.0"),
            p.unwrap_or(647)
        ))
    };
    kv(out, "listen", &at(&f.address, f.port));
    kv(out, "peer", &at(&f.peer_address, f.peer_port));
    kv(out, "secret_file", &quoted("/etc/tandem/peer.key"));
    let _ = writeln!(
        out,
        "# ISC's failover has no key: make one with `tandem keygen -o /etc/tandem/peer.key` and copy it to the partner"
    );
    match (f.mclt, f.split) {
        (Some(m), s) => {
            kv(out, "mclt", &quoted(&secs(m)));
            kv(out, "split", &s.unwrap_or(128).to_string());
        }
        (None, _) => skipped.push(Skipped {
            line: f.line,
            what: "failover peer (secondary)".into(),
            why: "ISC sets mclt and split on the primary only: copy the primary's values into [failover]; the two tandem peers must agree".into(),
        }),
    }
    for (key, v) in [
        ("max_response_delay", f.max_response_delay),
        ("auto_partner_down", f.auto_partner_down.filter(|s| *s > 0)),
    ] {
        if let Some(v) = v {
            kv(out, key, &quoted(&secs(v)));
        }
    }
    if f.auto_partner_down.is_some_and(|s| s > 0) {
        let _ = writeln!(
            out,
            "# ISC's auto-partner-down acts on silence alone; tandem also waits for client evidence that the partner is down ([failover.partner_down_evidence], see the README)"
        );
    }
    if let Some(n) = f.load_balance_max_secs {
        kv(out, "load_balance_max_secs", &n.to_string());
    }
}

/// `ping-check` as `[server] ping_check` (server-wide in tandem: the first
/// subnet's setting, a different one elsewhere reported); ISC pings by
/// default, tandem only when asked, so an unset `ping-check` is written out
/// as on.
fn ping_check(out: &mut String, subnets: &[Subnet], skipped: &mut Vec<Skipped>) {
    let ping = |s: &Subnet| s.params.ping.unwrap_or((true, None));
    let Some(first) = subnets.first().map(ping) else {
        return;
    };
    if first.0 {
        kv(out, "ping_check", "true");
        let secs = first.1.unwrap_or(1).clamp(1, 10);
        if first.1.is_some_and(|t| t != secs) {
            skipped.push(Skipped {
                line: subnets[0].params.lease_line,
                what: "ping-timeout".into(),
                why: format!("tandem waits 1 to 10 s for a ping: {secs}s written"),
            });
        }
        kv(out, "ping_timeout", &quoted(&format!("{secs}s")));
    }
    if let Some(s) = subnets.iter().find(|s| ping(s) != first) {
        skipped.push(Skipped {
            line: s.params.lease_line,
            what: format!("ping-check in subnet {}/{}", s.net, s.prefix),
            why: "tandem's ping check is server-wide: the first subnet's setting was kept".into(),
        });
    }
}

/// Pools whose `allow` or `deny` names a class that was not translated are
/// left out, and reported: without the class, the rule would admit clients
/// dhcpd kept out.
fn keep_translated_rules(w: &mut Walk) {
    let known: Vec<String> = w
        .classes
        .iter()
        .map(|c| c.name.clone())
        .chain(["known-clients".into(), "unknown-clients".into()])
        .collect();
    let mut dropped = Vec::new();
    for s in &mut w.subnets {
        s.ruled.retain(|p| {
            let missing = p.allow.iter().chain(&p.deny).find(|c| !known.contains(c));
            if let Some(c) = missing {
                dropped.push(Skipped {
                    line: p.line,
                    what: "pool".into(),
                    why: format!("its allow/deny names class {c:?}, which was not translated: the pool is left out until you write the class as a [[class]]"),
                });
            }
            missing.is_none()
        });
    }
    w.skipped.extend(dropped);
}

/// dhcpd's built-in `known-clients` and `unknown-clients`, as classes, when
/// a pool names them.
fn known_clients(out: &mut String, subnets: &[Subnet]) {
    let named = |name: &str| {
        subnets
            .iter()
            .flat_map(|s| &s.ruled)
            .any(|p| p.allow.iter().chain(&p.deny).any(|c| c == name))
    };
    for (name, known) in [("known-clients", true), ("unknown-clients", false)] {
        if named(name) {
            let _ = writeln!(out, "\n[[class]]");
            kv(out, "name", &quoted(name));
            kv(out, "known", &known.to_string());
        }
    }
}

/// One `[[shared_network]]` per name the subnets give, in order of first use
/// (its parameters are already in each subnet, inherited as dhcpd does).
fn shared_networks(out: &mut String, subnets: &[Subnet]) {
    let mut names: Vec<&str> = Vec::new();
    for n in subnets
        .iter()
        .filter_map(|s| s.params.shared_network.as_deref())
    {
        if !names.contains(&n) {
            names.push(n);
            let _ = writeln!(out, "\n[[shared_network]]");
            kv(out, "name", &quoted(n));
        }
    }
}

fn subnet(out: &mut String, s: &Subnet, zones: Option<&[String]>, skipped: &mut Vec<Skipped>) {
    let _ = writeln!(out, "\n[[subnet]]");
    kv(out, "cidr", &quoted(&format!("{}/{}", s.net, s.prefix)));
    if let Some(n) = &s.params.shared_network {
        kv(out, "shared_network", &quoted(n));
    }
    let pools: Vec<String> = s
        .ranges
        .iter()
        .map(|(a, b)| quoted(&format!("{a}-{b}")))
        .collect();
    kv(out, "pools", &format!("[{}]", pools.join(", ")));
    super::ddns::subnet(out, s, zones, skipped);
    params(out, &s.params, skipped);
    for p in &s.ruled {
        for (a, b) in &p.ranges {
            let _ = writeln!(out, "\n[[subnet.pool]]");
            kv(out, "range", &quoted(&format!("{a}-{b}")));
            for (key, list) in [("allow", &p.allow), ("deny", &p.deny)] {
                if !list.is_empty() {
                    let names: Vec<String> = list.iter().map(|c| quoted(c)).collect();
                    kv(out, key, &format!("[{}]", names.join(", ")));
                }
            }
        }
    }
}

/// Lease times (max raised to the default, reported, where dhcpd had it
/// lower), authoritative and the boot fields.
fn times_and_boot(out: &mut String, p: &Params, skipped: &mut Vec<Skipped>) {
    let mut max = p.max_lease;
    if let (Some(d), Some(m)) = (p.default_lease, p.max_lease)
        && d > m
    {
        max = Some(d);
        let why = format!(
            "default-lease-time {d} is above max-lease-time {m}: tandem needs max_lease_time >= lease_time, so it was raised to {d}; check"
        );
        skipped.push(Skipped {
            line: p.lease_line,
            what: "max-lease-time".into(),
            why,
        });
    }
    for (key, v) in [
        ("lease_time", p.default_lease),
        ("max_lease_time", max),
        ("min_lease_time", p.min_lease),
    ] {
        if let Some(v) = v {
            kv(out, key, &quoted(&secs(v)));
        }
    }
    if let Some(a) = p.authoritative {
        kv(out, "authoritative", &a.to_string());
    }
    if let Some(a) = p.next_server {
        kv(out, "next_server", &quoted(&a.to_string()));
    }
    for (key, v) in [
        ("boot_file", &p.filename),
        ("server_hostname", &p.server_name),
    ] {
        if let Some(v) = v {
            kv(out, key, &quoted(v));
        }
    }
}

/// The parameters and options of a subnet.
fn params(out: &mut String, p: &Params, skipped: &mut Vec<Skipped>) {
    times_and_boot(out, p, skipped);
    let mut numbered = Vec::new();
    for (name, value, line) in &p.options {
        match options::map(name, value) {
            Mapped::Key(k, v) => kv(out, k, &v),
            Mapped::Numbered(c, t, v) => numbered.push((c, t, v)),
            Mapped::Not(why) => skipped.push(Skipped {
                line: *line,
                what: format!("option {name}"),
                why,
            }),
        }
    }
    numbered_options(out, "subnet", numbered);
}

/// Options by code, type and value, each a `[[TABLE.option]]`.
pub(super) fn numbered_options(out: &mut String, table: &str, numbered: Vec<(u8, &str, String)>) {
    for (code, kind, value) in numbered {
        let _ = writeln!(out, "\n[[{table}.option]]");
        kv(out, "code", &code.to_string());
        kv(out, "type", &quoted(kind));
        kv(out, "value", &value);
    }
}

fn reservation(out: &mut String, h: &Host) {
    let _ = writeln!(out, "\n[[subnet.reservation]]");
    match (&h.mac, &h.client_id) {
        (_, Some(id)) => kv(out, "client_id", &quoted(id)),
        (Some(m), None) => kv(out, "mac", &quoted(m)),
        (None, None) => {}
    }
    kv(out, "address", &quoted(&h.addr.to_string()));
    if let Some(name) = &h.hostname {
        kv(out, "hostname", &quoted(name));
    }
}
