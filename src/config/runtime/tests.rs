//! Runtime reservations: how versions settle and what a configuration takes.

use super::*;

const PAIR: &str = r#"
[server]
interfaces = ["lo"]
lease_db = "/tmp/unused"
[failover]
role = "primary"
listen = "127.0.0.1:1"
peer = "127.0.0.1:2"
secret_file = "/dev/null"
mclt = "100s"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.29"]
[[subnet.reservation]]
mac = "02:00:00:00:00:aa"
address = "10.0.0.200"
"#;

fn mac(last: u8) -> ReservedClient {
    ReservedClient::Mac([2, 0, 0, 0, 0, last])
}

fn entry(last: u8, addr: Option<&str>, changed: u64) -> RuntimeEntry {
    RuntimeEntry {
        client: mac(last),
        address: addr.map(|a| a.parse().unwrap()),
        hostname: None,
        changed,
    }
}

#[test]
fn versions_settle_on_the_later_change_on_both_sides() {
    let a = vec![
        entry(1, Some("10.0.0.100"), 10),
        entry(2, Some("10.0.0.101"), 20),
        entry(3, Some("10.0.0.102"), 30),
    ];
    let b = vec![
        entry(1, None, 11),               // removed later: wins
        entry(2, Some("10.0.0.105"), 19), // older: loses
        entry(3, Some("10.0.0.103"), 30), // same time: larger address wins
        entry(4, Some("10.0.0.104"), 5),  // only here
    ];
    let (mut x, mut y) = (
        RuntimeReservations::default(),
        RuntimeReservations::default(),
    );
    x.merge(a.clone());
    y.merge(b.clone());
    assert!(x.merge(b));
    assert!(y.merge(a));
    assert_eq!(x, y, "both peers hold the same set");
    assert_eq!(x.get(&mac(1)).unwrap().address, None);
    assert_eq!(
        x.get(&mac(2)).unwrap().address,
        Some("10.0.0.101".parse().unwrap())
    );
    assert_eq!(
        x.get(&mac(3)).unwrap().address,
        Some("10.0.0.103".parse().unwrap())
    );
    assert_eq!(x.live().count(), 3);
    assert!(
        !x.clone().merge(y.list()),
        "merging the same set again changes nothing"
    );
}

#[test]
fn a_local_change_supersedes_the_entry_it_replaces_even_after_a_clock_step() {
    let mut s = RuntimeReservations::default();
    s.set(entry(1, Some("10.0.0.100"), 500));
    let removed = s.set(entry(1, None, 400));
    assert_eq!(removed.changed, 501);
    assert_eq!(s.get(&mac(1)).unwrap().address, None);
    let back = RuntimeReservations::from_json(&s.to_json()).unwrap();
    assert_eq!(back, s, "the meta value reads back whole");
    assert!(RuntimeReservations::from_json("{not json").is_err());
}

#[test]
fn a_configuration_takes_what_fits_and_says_why_not_for_the_rest() {
    let config = Config::parse(PAIR, "t").unwrap();
    let mut s = RuntimeReservations::default();
    s.set(entry(1, Some("10.0.0.150"), 10)); // fits
    s.set(entry(2, Some("10.1.0.5"), 10)); // outside every subnet
    s.set(entry(3, Some("10.0.0.20"), 10)); // in a pool of a pair
    s.set(entry(4, Some("10.0.0.200"), 10)); // the file reserves it for aa
    s.set(RuntimeEntry {
        client: mac(0xaa),
        address: Some("10.0.0.201".parse().unwrap()),
        hostname: None,
        changed: 10,
    }); // the file reserves this client already
    s.set(entry(5, Some("10.0.0.150"), 9)); // an older claim on 1's address
    s.set(entry(6, Some("10.0.0.255"), 10)); // broadcast
    s.set(entry(7, None, 10)); // removed: not applied, not reported
    let (c, shadowed) = config.with_runtime(&s);
    let runtime: Vec<_> = c.subnets[0]
        .reservations
        .iter()
        .filter(|r| r.runtime)
        .collect();
    assert_eq!(runtime.len(), 1);
    assert_eq!(
        runtime[0].address,
        "10.0.0.150".parse::<Ipv4Addr>().unwrap()
    );
    assert_eq!(runtime[0].mac, Some([2, 0, 0, 0, 0, 1]));
    let why = |last: u8| {
        shadowed
            .iter()
            .find(|x| x.entry.client == mac(last))
            .map(|x| x.why.clone())
            .unwrap_or_default()
    };
    assert!(why(2).contains("outside every subnet"), "{}", why(2));
    assert!(why(3).contains("dynamic pool"), "{}", why(3));
    assert!(why(4).contains("reserved in the file"), "{}", why(4));
    assert!(
        why(0xaa).contains("the file's reservation"),
        "{}",
        why(0xaa)
    );
    assert!(why(5).contains("reserved at runtime"), "{}", why(5));
    assert!(why(6).contains("not a usable address"), "{}", why(6));
    assert_eq!(shadowed.len(), 6, "{shadowed:#?}");
    assert_eq!(
        c.fingerprint(),
        config.fingerprint(),
        "runtime reservations reach the partner by replication, not by its file"
    );
}

#[test]
fn alone_a_runtime_reservation_may_lie_in_a_pool() {
    let alone = PAIR.replace("[failover]", "[nofailover]");
    let alone: String = alone
        .lines()
        .filter(|l| {
            ![
                "role",
                "listen",
                "peer",
                "secret_file",
                "mclt",
                "[nofailover]",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::parse(&alone, "t").unwrap();
    let mut s = RuntimeReservations::default();
    s.set(entry(3, Some("10.0.0.20"), 10));
    let (c, shadowed) = config.with_runtime(&s);
    assert!(shadowed.is_empty(), "{shadowed:?}");
    assert!(c.subnets[0].reservations.iter().any(|r| r.runtime));
}

#[test]
fn entries_from_outside_are_checked() {
    let now = 1_000_000;
    let mut e = entry(1, Some("10.0.0.100"), now);
    assert_eq!(e.invalid(now), None);
    e.client = ReservedClient::ClientId(vec![1]);
    assert!(e.invalid(now).is_some());
    e.client = mac(1);
    e.hostname = Some("x".repeat(64));
    assert!(e.invalid(now).is_some());
    e.hostname = Some("a.b".into());
    assert!(e.invalid(now).is_some(), "a host label, as the operator's");
    e.hostname = None;
    e.changed = u64::MAX;
    assert!(
        e.invalid(now).is_some(),
        "a time far ahead would win for good"
    );
    let mut s = RuntimeReservations::default();
    s.merge(vec![entry(2, None, u64::MAX)]);
    assert_eq!(s.set(entry(2, None, 5)).changed, u64::MAX, "no overflow");
}

#[test]
fn the_set_stays_within_its_bound_forgetting_old_removals_first() {
    let mut s = RuntimeReservations::default();
    let many: Vec<RuntimeEntry> = (0..MAX_ENTRIES as u32 + 10)
        .map(|i| RuntimeEntry {
            client: ReservedClient::ClientId(i.to_be_bytes().to_vec()),
            address: (i >= 20).then(|| Ipv4Addr::from(0x0a00_0000 + i)),
            hostname: None,
            changed: u64::from(i),
        })
        .collect();
    s.merge(many);
    assert_eq!(s.len(), MAX_ENTRIES);
    assert_eq!(
        s.live().count(),
        MAX_ENTRIES - 10,
        "the ten oldest removals went"
    );
    assert!(
        s.get(&ReservedClient::ClientId(0u32.to_be_bytes().to_vec()))
            .is_none()
    );
}

#[test]
fn frames_hold_every_entry_within_their_size() {
    let mut s = RuntimeReservations::default();
    s.merge(
        (0..400u32)
            .map(|i| RuntimeEntry {
                client: ReservedClient::ClientId({
                    let mut id = vec![0xee; 255];
                    id[..4].copy_from_slice(&i.to_be_bytes());
                    id
                }),
                address: Some(Ipv4Addr::from(0x0a00_0000 + i)),
                hostname: Some("h".repeat(63)),
                changed: 1,
            })
            .collect(),
    );
    let frames = s.frames(32 * 1024);
    assert!(frames.len() > 1, "split: {}", frames.len());
    assert_eq!(frames.iter().map(Vec::len).sum::<usize>(), 400);
    for f in &frames {
        let m = crate::failover::message::Message::Reservations { entries: f.clone() };
        let octets = postcard::to_allocvec(&m).unwrap().len();
        assert!(octets < 48 * 1024, "a frame of {octets} octets");
    }
}

#[test]
fn an_address_left_out_is_held_from_the_free_addresses() {
    let config = Config::parse(PAIR, "t").unwrap();
    let mut s = RuntimeReservations::default();
    s.set(entry(3, Some("10.0.0.20"), 10)); // in a pool of a pair: left out
    let (c, _) = config.with_runtime(&s);
    assert_eq!(c.held, vec!["10.0.0.20".parse::<Ipv4Addr>().unwrap()]);
    let store = crate::lease::LeaseStore::new(&c, c.split());
    assert!(
        !store.is_allocatable("10.0.0.20".parse().unwrap()),
        "the partner may apply it: never given to another client here"
    );
    assert!(store.is_allocatable("10.0.0.21".parse().unwrap()));
}
