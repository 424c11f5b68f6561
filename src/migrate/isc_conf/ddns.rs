//! dhcpd.conf's dynamic DNS statements as `[ddns]`: `ddns-update-style`,
//! `ddns-updates`, `ddns-domainname` (else the scope's `option
//! domain-name`, as dhcpd falls back to), `ddns-ttl`, `ignore
//! client-updates`, and the `key` and `zone` blocks. A key's secret is
//! never written into the TOML: it goes to a key file of its own
//! (`Translation::key_files`), which the TOML names.

use super::lexer::Kind;
use super::statements::Statement;
use super::{Params, Skipped, Subnet, Walk, kv, quoted, word};
use std::fmt::Write;

/// The DDNS parameters a scope sets (inherited like the others).
#[derive(Clone, Debug, Default)]
pub(super) struct DdnsParams {
    /// `ddns-updates on|off`.
    updates: Option<bool>,
    /// `ddns-domainname`, without the trailing dot.
    domain: Option<String>,
    /// `ignore client-updates` (true) or `allow client-updates` (false).
    ignore_client_updates: Option<bool>,
    /// `ddns-ttl`, seconds.
    ttl: Option<u64>,
}

/// A `key` block.
#[derive(Clone, Debug)]
pub(super) struct IscKey {
    name: String,
    line: usize,
    algorithm: Option<String>,
    secret: Option<String>,
}

/// A `zone` block.
#[derive(Clone, Debug)]
pub(super) struct IscZone {
    name: String,
    line: usize,
    servers: Vec<String>,
    key: Option<String>,
}

/// A key file to write beside the translation: its name in the key
/// directory, and its text (BIND's `key` statement, which
/// `ddns::key` reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    /// The file's name, e.g. `ddns-update-key.key`.
    pub file_name: String,
    /// Its content.
    pub text: String,
}

/// The algorithms tandem signs with, by dhcpd's spelling (with or without
/// BIND's `.sig-alg.reg.int` suffix).
const ALGORITHMS: [&str; 3] = ["hmac-sha256", "hmac-sha384", "hmac-sha512"];

/// A name or string token as text, lower case, without a trailing dot.
fn name_at(s: &Statement<'_>, i: usize) -> Option<String> {
    let text = match &s.head.get(i)?.kind {
        Kind::Word(w) => w.clone(),
        Kind::Str(v) => String::from_utf8_lossy(v).into_owned(),
        Kind::Punct(_) => return None,
    };
    let t = text.trim_end_matches('.').to_ascii_lowercase();
    (!t.is_empty()).then_some(t)
}

/// One DDNS parameter statement into `p` (or `w`'s global settings);
/// false when `s` is not one.
pub(super) fn param(w: &mut Walk, s: &Statement<'_>, p: &mut Params) -> bool {
    let on_off = |v: Option<&str>| match v {
        Some("on" | "true") => Some(true),
        Some("off" | "false") => Some(false),
        _ => None,
    };
    match (word(s, 0), word(s, 1), s.head.len()) {
        (Some("ddns-update-style"), Some(style @ ("none" | "standard" | "interim")), 2) => {
            w.ddns_style = Some((style.to_string(), s.line));
        }
        (Some("ddns-updates" | "do-forward-updates"), v, 2) if on_off(v).is_some() => {
            if word(s, 0) == Some("ddns-updates") {
                p.ddns.updates = on_off(v);
            } else if on_off(v) == Some(false) {
                w.skip(s, "tandem updates forward and reverse together: set `ddns = false` on the subnet to leave both out");
            }
        }
        (Some("ddns-domainname"), _, 2) if name_at(s, 1).is_some() => {
            p.ddns.domain = name_at(s, 1);
        }
        (Some("ddns-rev-domainname"), _, 2) if name_at(s, 1).as_deref() == Some("in-addr.arpa") => {}
        (Some("ddns-ttl"), Some(v), 2) if v.parse::<u64>().is_ok() => p.ddns.ttl = v.parse().ok(),
        (Some(a @ ("ignore" | "deny" | "allow")), Some("client-updates"), 2) => {
            p.ddns.ignore_client_updates = Some(a != "allow");
        }
        (Some(k), ..) if k.starts_with("ddns-") || k.starts_with("update-") => w.skip(
            s,
            "no tandem equivalent: tandem names clients by option 81 or 12 under the subnet's suffix, reverse under in-addr.arpa, and follows RFC 4703's conflict rules",
        ),
        _ => return false,
    }
    true
}

/// `key NAME { algorithm ALG; secret "..."; }`.
pub(super) fn key(w: &mut Walk, s: &Statement<'_>, body: &[Statement<'_>]) {
    let Some(name) = name_at(s, 1) else {
        return w.skip(s, "a key without a name");
    };
    let mut k = IscKey {
        name,
        line: s.line,
        algorithm: None,
        secret: None,
    };
    for st in body {
        match (word(st, 0), st.head.len()) {
            (Some("algorithm"), 2) => k.algorithm = name_at(st, 1),
            (Some("secret"), n) if n >= 2 => k.secret = secret_at(st),
            _ => w.skip(st, "no tandem equivalent in a key"),
        }
    }
    w.keys.push(k);
}

/// A key's secret as written (base64 is case sensitive: not lowered). An
/// unquoted one comes in pieces: the lexer splits its `=` padding off.
fn secret_at(s: &Statement<'_>) -> Option<String> {
    let mut out = String::new();
    for t in &s.head[1..] {
        match &t.kind {
            Kind::Word(v) => out.push_str(v),
            Kind::Str(v) => out.push_str(&String::from_utf8_lossy(v)),
            Kind::Punct('=') => out.push('='),
            Kind::Punct(_) => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `zone NAME { primary ADDR; secondary ADDR; key NAME; }`.
pub(super) fn zone(w: &mut Walk, s: &Statement<'_>, body: &[Statement<'_>]) {
    let Some(name) = name_at(s, 1) else {
        return w.skip(s, "a zone without a name");
    };
    let mut z = IscZone {
        name,
        line: s.line,
        servers: Vec::new(),
        key: None,
    };
    for st in body {
        match word(st, 0) {
            Some("primary" | "secondary") => servers(w, st, &mut z.servers),
            Some("key") if st.head.len() == 2 => z.key = name_at(st, 1),
            _ => w.skip(
                st,
                "no tandem equivalent in a zone (primary, secondary, key)",
            ),
        }
    }
    w.zones.push(z);
}

/// The IPv4 addresses of `primary A, B;` or `secondary ...;` into `out`;
/// anything else (a host name, IPv6) reported.
fn servers(w: &mut Walk, st: &Statement<'_>, out: &mut Vec<String>) {
    for t in &st.head[1..] {
        match &t.kind {
            Kind::Word(a) if a.parse::<std::net::Ipv4Addr>().is_ok() => out.push(a.clone()),
            Kind::Punct(',') => {}
            _ => {
                return w.skip(
                    st,
                    "a zone server tandem cannot use: give IPv4 addresses (not host names)",
                );
            }
        }
    }
}

/// Whether `ddns-update-style` turns updates on.
pub(super) fn on(w: &Walk) -> bool {
    w.ddns_style.as_ref().is_some_and(|(s, _)| s != "none")
}

/// Writes `[ddns]`, its keys and zones, when `ddns-update-style` turns
/// updates on; returns the key files the TOML names (in `key_dir`).
pub(super) fn emit(out: &mut String, w: &mut Walk, key_dir: &str) -> Vec<KeyFile> {
    let Some((style, line)) = w.ddns_style.clone().filter(|_| on(w)) else {
        if !w.zones.is_empty() || !w.keys.is_empty() {
            let line = w.zones.first().map_or(0, |z| z.line);
            skipped(
                w,
                line,
                "zone",
                "DDNS is off (no `ddns-update-style standard` or `interim`): its keys and zones are not translated",
            );
        }
        return Vec::new();
    };
    if style == "interim" {
        skipped(
            w,
            line,
            "ddns-update-style interim",
            "tandem writes RFC 4701 DHCID records (dhcpd's `standard` style); a name dhcpd added in `interim` style carries a TXT record instead, so tandem leaves it alone as another client's until it is removed: clear them from the zones, or move dhcpd to `standard` first",
        );
    }
    let _ = writeln!(out, "\n[ddns]");
    server_wide(out, w);
    let files = keys(out, w, key_dir);
    zones(out, w, &files);
    files.into_iter().map(|(_, f)| f).collect()
}

/// `ddns-ttl` and `ignore client-updates` as `[ddns] ttl` and
/// `override_client_update`: server-wide in tandem, so the first subnet's
/// settings, and a subnet that differs reported.
fn server_wide(out: &mut String, w: &mut Walk) {
    let of = |s: &Subnet| {
        (
            s.params.ddns.ttl,
            s.params.ddns.ignore_client_updates == Some(true),
        )
    };
    let Some(first) = w.subnets.first().map(of) else {
        return;
    };
    if let Some(t) = first.0 {
        kv(out, "ttl", &quoted(&format!("{t}s")));
    }
    if first.1 {
        kv(out, "override_client_update", "true");
    }
    let differs = w.subnets.iter().find(|s| of(s) != first);
    if let Some((line, what)) = differs.map(|s| {
        (
            s.params.lease_line,
            format!("subnet {}/{}", s.net, s.prefix),
        )
    }) {
        skipped(
            w,
            line,
            &what,
            "ddns-ttl and client-updates are server-wide in tandem ([ddns] ttl, override_client_update): the first subnet's were kept",
        );
    }
}

/// Adds a report to `w`.
fn skipped(w: &mut Walk, line: usize, what: &str, why: &str) {
    w.skipped.push(Skipped {
        line,
        what: what.into(),
        why: why.into(),
    });
}

/// `[[ddns.key]]` for each key tandem can sign with, its secret in a file;
/// the keys written, by name, with their files.
fn keys(out: &mut String, w: &mut Walk, key_dir: &str) -> Vec<(String, KeyFile)> {
    let mut files = Vec::new();
    for k in std::mem::take(&mut w.keys) {
        let alg = k.algorithm.as_deref().unwrap_or("hmac-md5");
        let alg = alg.trim_end_matches(".sig-alg.reg.int");
        let (Some(secret), true) = (&k.secret, ALGORITHMS.contains(&alg)) else {
            let why = format!(
                "tandem signs with hmac-sha256, -384 or -512 (RFC 8945), not {alg}, and needs the secret: make a new key with `tsig-keygen -a hmac-sha256 {}` for the DNS server and tandem",
                k.name
            );
            skipped(w, k.line, &format!("key {}", k.name), &why);
            continue;
        };
        let file_name = key_file_name(&k.name);
        if files
            .iter()
            .any(|(_, f): &(String, KeyFile)| f.file_name == file_name)
        {
            let why = format!("another key has the file name {file_name}: rename one");
            skipped(w, k.line, &format!("key {}", k.name), &why);
            continue;
        }
        let text = format!(
            "key \"{}\" {{\n\talgorithm {alg};\n\tsecret \"{secret}\";\n}};\n",
            k.name
        );
        let _ = writeln!(out, "\n[[ddns.key]]");
        kv(out, "name", &quoted(&k.name));
        kv(out, "algorithm", &quoted(alg));
        let path = format!("{}/{file_name}", key_dir.trim_end_matches('/'));
        kv(out, "secret_file", &quoted(&path));
        files.push((k.name.clone(), KeyFile { file_name, text }));
    }
    files
}

/// The key file for key `name`: `ddns-NAME.key`, any character other than
/// a letter, digit, `-`, `_` or `.` as `_` (a name cannot leave the key
/// directory).
fn key_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("ddns-{}.key", safe.trim_start_matches('.'))
}

/// `[[ddns.zone]]` for each zone with a server; a key that was not
/// translated is reported, and the zone written unsigned.
fn zones(out: &mut String, w: &mut Walk, keys: &[(String, KeyFile)]) {
    for z in std::mem::take(&mut w.zones) {
        if z.servers.is_empty() {
            skipped(
                w,
                z.line,
                &format!("zone {}", z.name),
                "a zone without an IPv4 primary",
            );
            continue;
        }
        let _ = writeln!(out, "\n[[ddns.zone]]");
        kv(out, "name", &quoted(&z.name));
        let servers: Vec<String> = z.servers.iter().map(|s| quoted(s)).collect();
        kv(out, "servers", &format!("[{}]", servers.join(", ")));
        match &z.key {
            Some(k) if keys.iter().any(|(n, _)| n == k) => kv(out, "key", &quoted(k)),
            Some(k) => {
                let why = format!(
                    "its key {k} was not translated: the zone is written unsigned; add a key"
                );
                skipped(w, z.line, &format!("zone {}", z.name), &why);
            }
            None => {}
        }
    }
}

/// The names of the zones `emit` writes (those with a server), when DDNS
/// is on.
pub(super) fn zone_names(w: &Walk) -> Option<Vec<String>> {
    on(w).then(|| {
        w.zones
            .iter()
            .filter(|z| !z.servers.is_empty())
            .map(|z| z.name.clone())
            .collect()
    })
}

/// The subnet's DDNS keys, with DDNS on and `zones` written: `ddns =
/// false` where updates are off, or where no domain names its clients or
/// no zone holds it (reported), else its qualifying suffix.
pub(super) fn subnet(
    out: &mut String,
    s: &Subnet,
    zones: Option<&[String]>,
    skipped: &mut Vec<Skipped>,
) {
    let Some(zones) = zones else { return };
    let domain = s
        .params
        .ddns
        .domain
        .clone()
        .or_else(|| domain_name(&s.params));
    let held = |d: &str| {
        zones
            .iter()
            .any(|z| d == z || d.ends_with(&format!(".{z}")))
    };
    let why = match (s.params.ddns.updates, domain) {
        (Some(false), _) => None,
        (_, Some(d)) if held(&d) => return kv(out, "ddns_qualifying_suffix", &quoted(&d)),
        (_, Some(d)) => Some(format!("no zone block holds {d} (dhcpd can find zones by their SOA; tandem needs each listed): DDNS is off for the subnet (`ddns = false`) until you add a [[ddns.zone]] and remove that line")),
        (_, None) => Some("no ddns-domainname or domain-name: its clients' names have no domain, so DDNS is off for it (`ddns = false`)".into()),
    };
    kv(out, "ddns", "false");
    if let Some(why) = why {
        skipped.push(Skipped {
            line: s.params.lease_line,
            what: format!("subnet {}/{}", s.net, s.prefix),
            why,
        });
    }
}

/// The scope's `option domain-name`, dhcpd's fallback for `ddns-domainname`.
fn domain_name(p: &Params) -> Option<String> {
    let (_, value, _) = p
        .options
        .iter()
        .rev()
        .find(|(n, _, _)| n == "domain-name")?;
    match &value.first()?.kind {
        Kind::Str(v) => Some(
            String::from_utf8_lossy(v)
                .trim_end_matches('.')
                .to_ascii_lowercase(),
        ),
        _ => None,
    }
    .filter(|d| !d.is_empty())
}
