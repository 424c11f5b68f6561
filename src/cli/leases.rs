use crate::config::Config;
use crate::lease::{Lease, LeaseState};
use crate::proto::identity::hex;
use crate::time::{Clock, SystemClock, Time};
use std::path::Path;
use std::process::ExitCode;

/// The state an operator should see: an active lease past its expiry is
/// expired even if the server has not yet processed its timer.
fn shown_state(l: &Lease, now: Time) -> &'static str {
    if l.state == LeaseState::Active && l.expires <= now {
        "expired"
    } else {
        l.state.as_str()
    }
}

pub fn to_json(l: &Lease, now: Time) -> serde_json::Value {
    serde_json::json!({
        "address": l.addr.to_string(),
        "mac": (!l.hw.bytes().is_empty()).then(|| l.hw.to_string()),
        "client_id": l.client_id.as_deref().map(hex),
        "hostname": l.hostname,
        "relay_info": l.relay_info.as_deref().map(hex),
        "state": shown_state(l, now),
        "starts": (l.starts != Time::ZERO).then(|| l.starts.rfc3339()),
        "expires": (l.expires != Time::ZERO).then(|| l.expires.rfc3339()),
        "cltt": (l.cltt != Time::ZERO).then(|| l.cltt.rfc3339()),
        "lease_time": l.lease_time,
        "owner": l.owner.as_str(),
        "dns": l.dns.as_ref().map(|d| serde_json::json!({
            "fqdn": d.fqdn,
            "forward": d.forward,
            "reverse": d.reverse,
            "status": format!("{:?}", d.status).to_lowercase(),
            "stale": d.stale.iter().map(|s| serde_json::json!({
                "fqdn": s.fqdn,
                "forward": s.forward,
                "reverse": s.reverse,
                "done": s.done,
            })).collect::<Vec<_>>(),
        })),
    })
}

pub fn run(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let db = &config.server.lease_db;
    if !db.exists() {
        anyhow::bail!(
            "no lease database at {} (has the server run yet?)",
            db.display()
        );
    }
    let leases = crate::lease::sqlite::read_all(db)?;
    let now = SystemClock.now();
    if json {
        let arr: Vec<_> = leases.iter().map(|l| to_json(l, now)).collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<16} {:<9} {:<18} {:<21} {:<10} {:<20}  hostname",
        "address", "state", "mac", "expires", "owner", "client-id"
    );
    for l in &leases {
        println!(
            "{:<16} {:<9} {:<18} {:<21} {:<10} {:<20}  {}",
            l.addr,
            shown_state(l, now),
            l.hw.to_string(),
            if l.expires == Time::ZERO {
                "-".into()
            } else {
                l.expires.rfc3339()
            },
            l.owner.as_str(),
            l.client_id.as_deref().map_or_else(|| "-".into(), hex),
            l.hostname.as_deref().unwrap_or("-"),
        );
    }
    eprintln!("{} leases", leases.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{DnsRecords, DnsStatus, LeaseState, Owner, StaleName};

    /// `leases --json` shows a binding's DNS side with the names it still
    /// has to remove (docs/DDNS.md, "In a pair").
    #[test]
    fn the_json_shows_the_stale_names() {
        let mut l = Lease::free("10.0.0.9".parse().unwrap(), Owner::Primary);
        l.state = LeaseState::Active;
        l.dns = Some(Box::new(DnsRecords {
            fqdn: "pc1.campus.test".into(),
            forward: true,
            reverse: false,
            tag: 512,
            status: DnsStatus::Added,
            stale: vec![StaleName {
                fqdn: "old.campus.test".into(),
                dhcid: vec![1],
                forward: true,
                reverse: true,
                tag: 256,
                done: false,
                adds: 0,
            }],
            adds: 0,
        }));
        let v = to_json(&l, Time(1));
        assert_eq!(v["dns"]["status"], "added");
        assert_eq!(v["dns"]["stale"][0]["fqdn"], "old.campus.test");
        assert_eq!(v["dns"]["stale"][0]["done"], false);
    }
}
