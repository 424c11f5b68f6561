//! Each kind of change, allowed or refused by name.

use super::*;

const SERVER: &str = "[server]\ninterfaces = [\"eth0\"]\nlease_db = \"/x\"\n";
const PAIR: &str = "[failover]\nrole = \"primary\"\nlisten = \"10.0.0.1\"\npeer = \"10.0.0.2\"\nsecret_file = \"/k\"\nmclt = \"1h\"\n";

fn cfg(failover: bool, body: &str) -> Config {
    let text = format!("{SERVER}{}{body}", if failover { PAIR } else { "" });
    Config::parse(&text, "t").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn subnet(pools: &str, extra: &str) -> String {
    format!("[[subnet]]\ncidr = \"10.0.0.0/24\"\npools = [{pools}]\n{extra}")
}

fn keys(r: Result<Change, Vec<Refusal>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.key)
        .collect()
}

#[test]
fn options_times_reservations_and_added_pools_apply() {
    for pair in [false, true] {
        let old = cfg(
            pair,
            &subnet("\"10.0.0.10-10.0.0.20\"", "lease_time = \"1h\"\n"),
        );
        let new = cfg(
            pair,
            &subnet(
                "\"10.0.0.10-10.0.0.20\", \"10.0.0.100-10.0.0.110\"",
                "lease_time = \"2h\"\nrouters = [\"10.0.0.1\"]\n[[subnet.reservation]]\nmac = \"52:54:00:00:00:01\"\naddress = \"10.0.0.50\"\n",
            ),
        );
        assert_eq!(check(&old, &new), Ok(Change::default()), "pair: {pair}");
    }
}

#[test]
fn what_the_edge_opened_at_start_is_refused_by_key() {
    let s = subnet("\"10.0.0.10-10.0.0.20\"", "");
    let old = cfg(false, &s);
    let mut new = cfg(false, &s);
    new.server.port = 6767;
    new.server.metrics = Some("127.0.0.1:1".parse().unwrap());
    assert_eq!(keys(check(&old, &new)), ["server.port", "server.metrics"]);
}

#[test]
fn any_failover_change_is_refused_by_key() {
    let s = subnet("\"10.0.0.10-10.0.0.20\"", "");
    let old = cfg(true, &s);
    let mut new = cfg(true, &s);
    let f = new.failover.as_mut().unwrap();
    f.split = 100;
    f.protocol = crate::config::PeerProtocol::Tandem {
        secret_file: "/other".into(),
    };
    f.witness = Some("192.0.2.9:647".parse().unwrap());
    assert_eq!(
        keys(check(&old, &new)),
        ["failover.secret_file", "failover.split", "failover.witness"]
    );
    assert_eq!(keys(check(&old, &cfg(false, &s))), ["failover"]);
}

#[test]
fn a_pool_resized_in_a_pair_is_refused_and_alone_is_left_to_the_leases() {
    let old_s = subnet("\"10.0.0.10-10.0.0.40\"", "");
    let new_s = subnet("\"10.0.0.10-10.0.0.19\", \"10.0.0.30-10.0.0.35\"", "");
    let refused = check(&cfg(true, &old_s), &cfg(true, &new_s)).unwrap_err();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].key, "subnet.pools");
    assert!(
        refused[0].why.contains("10.0.0.10-10.0.0.40"),
        "{refused:?}"
    );
    let alone = check(&cfg(false, &old_s), &cfg(false, &new_s)).unwrap();
    let gaps: Vec<String> = alone
        .vacated
        .iter()
        .map(|r| format!("{}-{}", r.first, r.last))
        .collect();
    assert_eq!(gaps, ["10.0.0.20-10.0.0.29", "10.0.0.36-10.0.0.40"]);
}

#[test]
fn in_a_pair_an_in_pool_reservation_and_the_subnets_change_only_together() {
    let res = |a: &str| {
        format!("[[subnet.reservation]]\nmac = \"52:54:00:00:00:01\"\naddress = \"{a}\"\n")
    };
    let base = subnet("\"10.0.0.10-10.0.0.20\"", "");
    let in_pool = subnet("\"10.0.0.10-10.0.0.20\"", &res("10.0.0.15"));
    let out_of_pool = subnet("\"10.0.0.10-10.0.0.20\"", &res("10.0.0.50"));
    let refused = check(&cfg(true, &base), &cfg(true, &in_pool)).unwrap_err();
    assert_eq!(refused[0].key, "subnet.reservation");
    assert!(refused[0].why.contains("10.0.0.15"), "{refused:?}");
    assert!(check(&cfg(true, &base), &cfg(true, &out_of_pool)).is_ok());
    assert!(
        check(&cfg(false, &base), &cfg(false, &in_pool)).is_ok(),
        "alone: any reservation"
    );
    let more = format!("{base}[[subnet]]\ncidr = \"10.1.0.0/24\"\n");
    assert_eq!(
        keys(check(&cfg(true, &base), &cfg(true, &more))),
        ["subnet.cidr"]
    );
    assert!(check(&cfg(false, &base), &cfg(false, &more)).is_ok());
}

#[test]
fn each_peers_own_failover_settings_apply_at_once() {
    let s = subnet("\"10.0.0.10-10.0.0.20\"", "");
    let old = cfg(true, &s);
    let mut new = cfg(true, &s);
    let f = new.failover.as_mut().unwrap();
    f.max_response_delay = 45;
    f.load_balance_max_secs = 9;
    f.max_unacked_updates = 64;
    assert!(check(&old, &new).is_ok());
}

/// Beside an ISC dhcpd, what its link told dhcpd at the handshake and the
/// pools it counts are refused by key; the rest applies as in any pair.
#[test]
fn beside_isc_the_link_s_handshake_settings_and_new_pools_need_a_restart() {
    let isc = |c: &mut Config| {
        let f = c.failover.as_mut().unwrap();
        f.protocol = crate::config::PeerProtocol::IscDraft12 {
            relationship: "campus".into(),
        };
    };
    let s = subnet("\"10.0.0.10-10.0.0.20\"", "");
    let mut old = cfg(true, &s);
    isc(&mut old);
    let mut new = old.clone();
    let f = new.failover.as_mut().unwrap();
    f.max_response_delay = 45;
    f.max_unacked_updates = 64;
    f.load_balance_max_secs = 9;
    assert_eq!(
        keys(check(&old, &new)),
        [
            "failover.max_response_delay",
            "failover.max_unacked_updates"
        ]
    );
    let mut more = cfg(
        true,
        &subnet("\"10.0.0.10-10.0.0.20\", \"10.0.0.100-10.0.0.110\"", ""),
    );
    isc(&mut more);
    assert_eq!(keys(check(&old, &more)), ["subnet.pools"]);
}
