//! The sample lease file of `isc_leases` under a pair's configuration.

use super::*;
use crate::migrate::isc_leases::{parse, tests::SAMPLE};
use std::net::Ipv4Addr;

const CONFIG: &str = r#"[server]
interfaces = ["eth0"]
lease_db = "/x"
[failover]
role = "primary"
listen = "10.0.0.1"
peer = "10.0.0.2"
secret_file = "/k"
mclt = "1h"
split = 128
[[subnet]]
cidr = "10.20.0.0/16"
pools = ["10.20.1.0-10.20.1.255"]
"#;

fn imported() -> Imported {
    let config = Config::parse(CONFIG, "t").unwrap();
    to_tandem(parse(SAMPLE).unwrap(), &config)
}

fn at(i: &Imported, last: u8) -> &Lease {
    let a = Ipv4Addr::new(10, 20, 1, last);
    i.leases
        .iter()
        .find(|l| l.addr == a)
        .unwrap_or_else(|| panic!("{a} imported"))
}

#[test]
fn binding_states_owners_and_times_map_as_dhcpd_means_them() {
    let i = imported();
    let active = at(&i, 5);
    assert_eq!(
        (active.state, active.owner),
        (LeaseState::Active, Owner::Secondary),
        "rewind binding state backup"
    );
    assert_eq!(
        active.hw,
        HwAddr::new(1, &[0x52, 0x54, 0, 0x12, 0x34, 0x56])
    );
    assert_eq!(
        active.client_id.as_deref(),
        Some(&[1, b'R', b'T', 0, 0x12, b'4', b'V'][..])
    );
    assert_eq!(active.hostname.as_deref(), Some("laptop-1"));
    assert_eq!(
        (active.starts, active.expires),
        (Time(1_796_121_000), Time(1_796_128_200))
    );
    assert_eq!(active.lease_time, 7200);
    assert_eq!(active.potential_expiry, Time(1_796_130_000), "tstp");
    assert_eq!(active.acked_potential_expiry, Time(1_796_130_000), "tsfp");
    assert_eq!(active.update_seq, 0);
    let expired = at(&i, 6);
    assert_eq!(expired.state, LeaseState::Expired);
    assert_eq!(
        expired.owner,
        Owner::Primary,
        "no rewind: the split's owner of the pool's first half"
    );
    assert_eq!(expired.potential_expiry, expired.expires);
    assert_eq!(
        expired.acked_potential_expiry,
        Time(0),
        "nothing acknowledged"
    );
    assert_eq!(
        (at(&i, 7).state, at(&i, 7).owner),
        (LeaseState::Free, Owner::Primary)
    );
    assert_eq!(
        (at(&i, 8).state, at(&i, 8).owner),
        (LeaseState::Free, Owner::Secondary)
    );
    assert_eq!(at(&i, 9).state, LeaseState::Declined, "abandoned");
    assert_eq!(
        at(&i, 9).expires,
        Time(1_796_205_600),
        "in probation until its ends"
    );
}

#[test]
fn counts_by_state_and_what_tandem_cannot_hold_is_skipped_by_line() {
    let i = imported();
    assert_eq!(i.leases.len(), 5);
    let counts: Vec<(&str, usize)> = i.by_state.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("abandoned", 1),
            ("active", 1),
            ("backup", 1),
            ("expired", 1),
            ("free", 1)
        ]
    );
    let why = |what: &str| {
        i.skipped
            .iter()
            .find(|s| s.what.starts_with(what))
            .unwrap_or_else(|| panic!("{what} skipped: {:?}", i.skipped))
            .why
            .clone()
    };
    assert!(why("lease 10.20.1.10").contains("infinite"));
    assert!(why("lease 10.99.0.1").contains("outside every [[subnet]]"));
    let lines: Vec<usize> = i.skipped.iter().map(|s| s.line).collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "in file order: {lines:?}"
    );
}

#[test]
fn owners_mean_something_only_between_pairs() {
    // into a tandem without a partner: everything is the primary's
    let alone = Config::parse(
        "[server]\ninterfaces = [\"eth0\"]\nlease_db = \"/x\"\n[[subnet]]\ncidr = \"10.20.0.0/16\"\npools = [\"10.20.1.0-10.20.1.255\"]\n",
        "t",
    )
    .unwrap();
    let i = to_tandem(parse(SAMPLE).unwrap(), &alone);
    assert!(
        i.leases.iter().all(|l| l.owner == Owner::Primary),
        "{:?}",
        i.leases
    );
    // from an ISC server that ran alone: free addresses get no record
    let single = "lease 10.20.1.7 {\n  binding state free;\n}\nlease 10.20.1.8 {\n  starts epoch 1;\n  ends epoch 2;\n  binding state expired;\n  rewind binding state free;\n  hardware ethernet 52:54:00:00:00:08;\n}\n";
    let config = Config::parse(CONFIG, "t").unwrap();
    let i = to_tandem(parse(single).unwrap(), &config);
    assert_eq!(i.free_unrecorded, 1);
    assert_eq!(i.leases.len(), 1);
    let owners = LeaseStore::new(&config, config.split());
    assert_eq!(
        i.leases[0].owner,
        owners.initial_owner(i.leases[0].addr),
        "the split's, not the rewind state's"
    );
}
