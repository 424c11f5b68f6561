use super::*;
use crate::proto::HwAddr;

fn cfg() -> Config {
    Config::parse(
        r#"[server]
interfaces = ["lo"]
lease_db = "/tmp/x"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.13", "10.0.0.20-10.0.0.21"]
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "10.0.0.11"
"#,
        "t",
    )
    .unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn active(addr: &str, mac: u8, expires: u64) -> Lease {
    let mut l = Lease::free(ip(addr), Owner::Primary);
    l.state = LeaseState::Active;
    l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, mac]);
    l.expires = Time(expires);
    l
}

#[test]
fn free_addresses_skip_reservations_and_follow_split() {
    let c = cfg();
    let s = LeaseStore::new(&c, 256);
    assert_eq!(
        s.free_count(PoolId(0), Owner::Primary),
        3,
        "10.0.0.11 is reserved"
    );
    assert_eq!(
        s.first_free(PoolId(0), Owner::Primary),
        Some(ip("10.0.0.10"))
    );
    let half = LeaseStore::new(&c, 128);
    assert_eq!(half.free_count(PoolId(0), Owner::Primary), 1);
    assert_eq!(half.free_count(PoolId(0), Owner::Secondary), 2);
    assert_eq!(half.initial_owner(ip("10.0.0.12")), Owner::Secondary);
    assert_eq!(half.pool_of(ip("10.0.0.21")), Some(PoolId(1)));
    assert_eq!(half.pool_of(ip("10.0.0.15")), None);
}

#[test]
fn upsert_moves_address_between_indexes() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 256);
    let l = active("10.0.0.10", 5, 100);
    let key = l.client().unwrap();
    s.upsert(l.clone());
    assert!(!s.is_allocatable(ip("10.0.0.10")));
    assert_eq!(
        s.first_free(PoolId(0), Owner::Primary),
        Some(ip("10.0.0.12"))
    );
    assert_eq!(s.client_leases(&key).count(), 1);
    assert!(s.due(Time(99)).is_empty());
    assert_eq!(s.due(Time(100)), vec![ip("10.0.0.10")]);
    let mut e = l;
    e.state = LeaseState::Expired;
    s.upsert(e);
    assert!(s.due(Time(100)).is_empty());
    assert!(s.is_allocatable(ip("10.0.0.10")));
    // never-used addresses come before a recently expired one
    assert_eq!(
        s.first_free(PoolId(0), Owner::Primary),
        Some(ip("10.0.0.12"))
    );
    assert_eq!(
        s.client_leases(&key).count(),
        1,
        "an expired lease still remembers its client"
    );
    // a new client taking it over removes it from the old client's index
    s.upsert(active("10.0.0.10", 6, 200));
    assert_eq!(s.client_leases(&key).count(), 0);
}

#[test]
fn offers_set_addresses_aside_and_expire() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 256);
    let k1 = ClientKey::Hw(1, vec![1].into());
    let k2 = ClientKey::Hw(1, vec![2].into());
    s.hold_offer(ip("10.0.0.10"), k1.clone(), Time(30));
    assert_eq!(s.offer_for(&k1), Some(ip("10.0.0.10")));
    assert!(s.offered_to_other(ip("10.0.0.10"), &k2));
    assert!(!s.offered_to_other(ip("10.0.0.10"), &k1));
    assert!(!s.is_allocatable(ip("10.0.0.10")));
    // a second offer to the same client replaces the first
    s.hold_offer(ip("10.0.0.12"), k1.clone(), Time(40));
    assert!(s.is_allocatable(ip("10.0.0.10")));
    assert_eq!(s.next_timer(), Some(Time(40)));
    s.expire_offers(Time(40));
    assert_eq!(s.offer_for(&k1), None);
    assert!(s.is_allocatable(ip("10.0.0.12")));
    assert_eq!(s.free_count(PoolId(0), Owner::Primary), 3);
}

#[test]
fn offer_of_a_clients_own_lease_keeps_its_record_indexed() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 256);
    let mut l = active("10.0.0.10", 5, 100);
    l.state = LeaseState::Expired;
    let key = l.client().unwrap();
    s.upsert(l);
    s.hold_offer(ip("10.0.0.10"), key.clone(), Time(50));
    assert_eq!(s.client_leases(&key).count(), 1);
    s.drop_offer(ip("10.0.0.10"));
    assert!(s.is_allocatable(ip("10.0.0.10")));
}

#[test]
fn unacknowledged_local_changes_are_not_free() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 256);
    s.replicate(1, 0);
    let a = ip("10.0.0.12");
    // the partner's active binding arrives, is acknowledged, then the client declines here
    s.put(active("10.0.0.12", 8, 100));
    let mut d = s.get(a).unwrap().clone();
    d.state = LeaseState::Declined;
    let d = s.upsert(d);
    assert!(d.update_seq > 0);
    // probation ends: free again, but the partner has not heard of it yet
    let f = s.upsert(Lease::free(a, Owner::Primary));
    assert!(!s.is_synced(&f));
    assert!(
        !s.is_allocatable(a),
        "an unacknowledged free record is not allocatable"
    );
    assert!(s.free_addrs(PoolId(0), Owner::Primary).all(|x| x != a));
    assert_eq!(s.limbo().count(), 1);
    s.ack_upto(f.update_seq);
    assert!(s.is_allocatable(a));
    assert_eq!(s.limbo().count(), 0);
}

#[test]
fn a_reload_moves_reservations_and_pools_and_keeps_every_record() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 256);
    s.upsert(active("10.0.0.12", 9, 500));
    assert_eq!(s.free_count(PoolId(0), Owner::Primary), 2);
    // 10.0.0.11 is no longer reserved, 10.0.0.10 now is; a pool is added
    // before the others (pool ids shift) and the second one is gone.
    let text = r#"[server]
interfaces = ["lo"]
lease_db = "/tmp/x"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.100-10.0.0.104", "10.0.0.10-10.0.0.13"]
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "10.0.0.10"
"#;
    let c2 = Config::parse(text, "t").unwrap();
    s.reconfigure(&c2);
    assert_eq!(s.free_count(PoolId(0), Owner::Primary), 5, "the added pool");
    let old_pool: Vec<_> = s.free_addrs(PoolId(1), Owner::Primary).collect();
    assert_eq!(old_pool, [ip("10.0.0.11"), ip("10.0.0.13")]);
    assert!(s.is_allocatable(ip("10.0.0.11")));
    assert!(!s.is_allocatable(ip("10.0.0.10")), "newly reserved");
    assert!(s.pool_of(ip("10.0.0.20")).is_none(), "the removed pool");
    assert_eq!(s.get(ip("10.0.0.12")).unwrap().state, LeaseState::Active);
    assert_eq!(s.len(), 1);
}

/// Beside an ISC dhcpd (`return_freed_to_primary`), a binding that ends
/// here, by expiry, release or decline, leaves its address to the primary,
/// as dhcpd makes it FREE: a secondary that kept it would give it out while
/// dhcpd gives it to another client (isc family seed 22). Without the
/// setting the owner stays as it was (two tandem peers).
#[test]
fn beside_isc_an_ended_binding_goes_to_the_primary() {
    let c = cfg();
    for (isc, owner) in [(true, Owner::Primary), (false, Owner::Secondary)] {
        let mut s = LeaseStore::new(&c, 0);
        s.replicate(1, 0);
        if isc {
            s.return_freed_to_primary();
        }
        for (addr, end) in [
            ("10.0.0.10", LeaseState::Expired),
            ("10.0.0.12", LeaseState::Released),
            ("10.0.0.13", LeaseState::Declined),
        ] {
            let mut l = active(addr, 9, 100);
            l.owner = Owner::Secondary;
            s.put(l.clone());
            l.state = end;
            assert_eq!(s.upsert(l).owner, owner, "{addr} {end:?} isc {isc}");
        }
        // A free address given to the secondary stays the secondary's.
        let f = s.upsert(Lease::free(ip("10.0.0.20"), Owner::Secondary));
        assert_eq!(f.owner, Owner::Secondary);
    }
}

/// A database kept from before the setting (a tandem upgraded in place
/// beside dhcpd): records that ended as the secondary's go to the primary
/// when the setting is made, and leave the secondary's free set.
#[test]
fn records_ended_before_the_isc_setting_go_to_the_primary() {
    let c = cfg();
    let mut s = LeaseStore::new(&c, 0);
    let mut l = active("10.0.0.12", 9, 100);
    l.owner = Owner::Secondary;
    l.state = LeaseState::Released;
    s.put(l);
    s.replicate(1, 0);
    s.return_freed_to_primary();
    assert_eq!(s.get(ip("10.0.0.12")).unwrap().owner, Owner::Primary);
    assert_eq!(s.owner_of(ip("10.0.0.12")), Owner::Primary);
}
