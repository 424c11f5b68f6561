//! Runtime reservations through the node: the control lines, the answers
//! that wait for the journal, the refusals, a restart and a reload.

use super::*;
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::node::tests::{CONFIG, NOW, SERVER, ack_waiting, node, outputs, reload, request};
use crate::node::{Command, Input, Output};
use dhcproto::v4;

fn control(n: &mut Node, line: &str) -> Vec<Output> {
    let command = Command::parse(line).unwrap();
    n.handle(NOW, Input::Control { id: 5, command });
    outputs(n)
}

/// A command whose answer waits for its batch: the batch, then the answer.
fn durable(n: &mut Node, line: &str) -> (Vec<(String, String)>, Value) {
    let out = control(n, line);
    let [Output::Journal(b)] = out.as_slice() else {
        panic!("the change goes to the journal first: {out:?}")
    };
    let (id, meta) = (b.id, b.meta.clone());
    n.handle(NOW, Input::Committed { upto: id });
    match outputs(n).as_slice() {
        [Output::Answer { id: 5, answer }] => (meta, answer.clone()),
        other => panic!("the answer once durable: {other:?}"),
    }
}

/// An immediate answer (a refusal, or the list).
fn answer(n: &mut Node, line: &str) -> Value {
    match control(n, line).as_slice() {
        [Output::Answer { id: 5, answer }] => answer.clone(),
        other => panic!("an answer at once: {other:?}"),
    }
}

/// The address OFFERed to client `mac`.
fn offered(n: &mut Node, mac: u8) -> Ipv4Addr {
    n.handle(NOW, request(v4::MessageType::Discover, mac, vec![]));
    let out = outputs(n);
    let [Output::Reply { reply, .. }] = out.as_slice() else {
        panic!("an OFFER: {out:?}")
    };
    <v4::Message as dhcproto::Decodable>::from_bytes(&reply.bytes)
        .unwrap()
        .yiaddr()
}

#[test]
fn control_lines_read_back_and_bad_ones_say_why() {
    for line in [
        "reservation-add mac=02:00:00:00:00:07 address=10.0.0.50 hostname=printer-3",
        "reservation-add client-id=01:02:00:00:00:00:07 address=10.0.0.50",
        "reservation-del mac=02:00:00:00:00:07",
        "reservation-list",
    ] {
        let c = Command::parse(line).unwrap();
        assert_eq!(c.line(), line);
        assert_eq!(Command::parse(&c.line()), Ok(c));
    }
    for (line, why) in [
        ("reservation-add mac=02:00:00:00:00:07", "needs address"),
        ("reservation-add address=10.0.0.5", "exactly one of"),
        (
            "reservation-add mac=1 client-id=0102 address=10.0.0.5",
            "exactly one of",
        ),
        (
            "reservation-add mac=02:00:00:00:07 address=10.0.0.5",
            "not a MAC",
        ),
        (
            "reservation-add mac=02:00:00:00:00:07 address=10.0.0",
            "not an IPv4",
        ),
        (
            "reservation-add mac=02:00:00:00:00:07 address=10.0.0.5 hostname=a.b",
            "host label",
        ),
        (
            "reservation-add mac=02:00:00:00:00:07 addr=10.0.0.5",
            "unknown argument",
        ),
        (
            "reservation-del mac=02:00:00:00:00:07 mac=02:00:00:00:00:08",
            "twice",
        ),
        ("reservation-del client-id=01", "2 to 255"),
        ("reservation-list now", "no arguments"),
        ("status now", "no arguments"),
        ("frobnicate", "unknown command"),
        ("", "empty"),
    ] {
        let e = Command::parse(line).unwrap_err();
        assert!(e.contains(why), "{line:?}: {e}");
    }
}

#[test]
fn an_added_reservation_is_kept_then_served_and_removed() {
    let mut n = node(false);
    outputs(&mut n);
    let (meta, a) = durable(
        &mut n,
        "reservation-add mac=02:00:00:00:00:07 address=10.0.0.50 hostname=printer-3",
    );
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(meta[0].0, META_KEY);
    assert!(meta[0].1.contains("printer-3"), "{meta:?}");
    assert_eq!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 50));
    let list = answer(&mut n, "reservation-list");
    assert_eq!(list["reservations"][0]["address"], "10.0.0.50", "{list}");
    assert_eq!(list["reservations"][0]["applied"], true, "{list}");
    // replacing it moves the client
    durable(
        &mut n,
        "reservation-add mac=02:00:00:00:00:07 address=10.0.0.51",
    );
    assert_eq!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 51));
    let (_, a) = durable(&mut n, "reservation-del mac=02:00:00:00:00:07");
    assert_eq!(a["ok"], true, "{a}");
    assert_ne!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 51));
    assert_eq!(
        answer(&mut n, "reservation-list")["reservations"],
        json!([])
    );
    let gone = answer(&mut n, "reservation-del mac=02:00:00:00:00:07");
    assert!(
        gone["error"]
            .as_str()
            .unwrap()
            .contains("no runtime reservation"),
        "{gone}"
    );
}

#[test]
fn refusals_name_the_obstacle() {
    let mut n = node(false);
    outputs(&mut n);
    // client 1 holds 10.0.0.100
    let b = ack_waiting(&mut n);
    n.handle(NOW, Input::Committed { upto: b });
    outputs(&mut n);
    durable(
        &mut n,
        "reservation-add mac=02:00:00:00:00:07 address=10.0.0.50",
    );
    for (line, why) in [
        (
            "reservation-add mac=02:00:00:00:00:08 address=10.9.0.1",
            "outside every subnet",
        ),
        (
            "reservation-add mac=02:00:00:00:00:08 address=10.0.0.100",
            "leased to another client",
        ),
        (
            "reservation-add mac=02:00:00:00:00:08 address=10.0.0.50",
            "reserved at runtime for mac 02:00:00:00:00:07",
        ),
        (
            "reservation-add mac=02:00:00:00:00:08 address=10.0.0.255",
            "not a usable address",
        ),
    ] {
        let a = answer(&mut n, line);
        assert_eq!(a["ok"], false, "{line}: {a}");
        assert!(a["error"].as_str().unwrap().contains(why), "{line}: {a}");
    }
    // the client holding the address may have it reserved
    let (_, a) = durable(
        &mut n,
        "reservation-add mac=02:00:00:00:00:01 address=10.0.0.100",
    );
    assert_eq!(a["ok"], true, "{a}");
}

#[test]
fn reservations_survive_a_restart_and_a_reload_reports_what_it_leaves_out() {
    let mut n = node(false);
    outputs(&mut n);
    let (meta, _) = durable(
        &mut n,
        "reservation-add mac=02:00:00:00:00:07 address=10.0.0.50",
    );
    let mut snap = Snapshot::default();
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    snap.meta.extend(meta);
    let config = Arc::new(Config::parse(CONFIG, "t").unwrap());
    let mut n = Node::start(config, snap, vec![SERVER], NOW);
    outputs(&mut n);
    assert_eq!(
        offered(&mut n, 7),
        Ipv4Addr::new(10, 0, 0, 50),
        "kept across a restart"
    );
    // a reload keeps it; one whose file reserves the address for another
    // client leaves it out, says why, and takes it back once that goes
    let a = reload(&mut n, &CONFIG.replace("1h", "2h"));
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 50));
    let clash = format!(
        "{CONFIG}[[subnet.reservation]]\nmac = \"02:00:00:00:00:09\"\naddress = \"10.0.0.50\"\n"
    );
    let a = reload(&mut n, &clash);
    assert_eq!(a["ok"], true, "{a}");
    let why = &a["runtime_reservations_not_applied"][0]["why_not"];
    assert!(
        why.as_str().unwrap().contains("reserved in the file"),
        "{a}"
    );
    assert_ne!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 50));
    assert_eq!(
        answer(&mut n, "reservation-list")["reservations"][0]["applied"],
        false
    );
    reload(&mut n, CONFIG);
    assert_eq!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 50));
}

#[test]
fn the_partners_set_is_merged_kept_and_applied() {
    let mut n = node(false);
    outputs(&mut n);
    let entry = RuntimeEntry {
        client: ReservedClient::Mac([2, 0, 0, 0, 0, 7]),
        address: Some(Ipv4Addr::new(10, 0, 0, 60)),
        hostname: None,
        changed: NOW.0,
    };
    n.partner_reservations(NOW, vec![entry.clone()]);
    let out = outputs(&mut n);
    assert!(
        matches!(out.as_slice(), [Output::Journal(b)] if b.meta[0].0 == META_KEY),
        "{out:?}"
    );
    assert_eq!(offered(&mut n, 7), Ipv4Addr::new(10, 0, 0, 60));
    n.partner_reservations(NOW, vec![entry]);
    assert!(outputs(&mut n).is_empty(), "nothing new: nothing written");
}
