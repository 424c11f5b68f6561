//! The `[failover]` section.

use super::Checker;
use crate::config::*;
use toml::Spanned;

pub(super) fn failover(c: &mut Checker, f: &Spanned<super::raw::RawFailover>) -> FailoverConfig {
    let r = f.get_ref();
    let role = match r.role.get_ref().as_str() {
        "primary" => Role::Primary,
        "secondary" => Role::Secondary,
        other => {
            c.at(
                &r.role,
                "failover.role",
                format!("{other:?} is not \"primary\" or \"secondary\""),
            );
            Role::Primary
        }
    };
    let mut addr = |v: &Spanned<String>, key: &str| -> std::net::SocketAddr {
        let s = v.get_ref();
        let parsed = s.parse().or_else(|_| format!("{s}:647").parse());
        parsed.unwrap_or_else(|_| {
            c.at(
                v,
                key,
                format!("{s:?} is not an address with an optional port, e.g. \"192.0.2.1:647\""),
            );
            std::net::SocketAddr::from(([0, 0, 0, 0], 647))
        })
    };
    let listen = addr(&r.listen, "failover.listen");
    let peer = addr(&r.peer, "failover.peer");
    if listen == peer {
        c.at(&r.peer, "failover.peer", "is the same as listen");
    }
    let mclt = r.mclt.as_ref().map_or(3600, |m| m.get_ref().0);
    if let Some(m) = &r.mclt
        && !(10..=7 * 86_400).contains(&m.get_ref().0)
    {
        c.at(m, "failover.mclt", "must be between 10s and 7 days");
    }
    let split = r.split.as_ref().map_or(128, |s| *s.get_ref());
    if let Some(s) = r.split.as_ref().filter(|_| !(0..=256).contains(&split)) {
        c.at(
            s,
            "failover.split",
            "must be between 0 and 256 (buckets of the RFC 3074 hash served by the primary)",
        );
    }
    let mrd = r.max_response_delay.as_ref().map_or(20, |d| d.get_ref().0);
    if let Some(d) = r
        .max_response_delay
        .as_ref()
        .filter(|_| !(2..=3600).contains(&mrd))
    {
        c.at(
            d,
            "failover.max_response_delay",
            "must be between 2s and 1h",
        );
    }
    let lbms = r.load_balance_max_secs.as_ref().map_or(3, |d| *d.get_ref());
    if let Some(d) = r
        .load_balance_max_secs
        .as_ref()
        .filter(|_| !(0..=65_535).contains(&lbms))
    {
        c.at(
            d,
            "failover.load_balance_max_secs",
            "must be between 0 and 65535",
        );
    }
    let apd = r.auto_partner_down.as_ref().map(|d| d.get_ref().0);
    if let (Some(d), Some(v)) = (&r.auto_partner_down, apd)
        && v < mrd
    {
        c.at(
            d,
            "failover.auto_partner_down",
            "must be at least max_response_delay",
        );
    }
    let mu = r.max_unacked_updates.as_ref().map_or(256, |d| *d.get_ref());
    if let Some(d) = r
        .max_unacked_updates
        .as_ref()
        .filter(|_| !(1..=10_000).contains(&mu))
    {
        c.at(
            d,
            "failover.max_unacked_updates",
            "must be between 1 and 10000",
        );
    }
    FailoverConfig {
        role,
        listen,
        peer,
        secret_file: PathBuf::from(r.secret_file.get_ref()),
        mclt,
        split: split.clamp(0, 256) as u16,
        max_response_delay: mrd,
        load_balance_max_secs: lbms.clamp(0, 65_535) as u16,
        auto_partner_down: apd,
        max_unacked_updates: mu.clamp(1, 10_000) as usize,
        max_clock_offset: r.max_clock_offset.as_ref().map_or(5, |d| d.get_ref().0),
    }
}
