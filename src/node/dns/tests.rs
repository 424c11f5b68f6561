use super::super::tests::{CONFIG, NOW, SERVER, outputs, request};
use super::*;
use crate::config::Config;
use crate::lease::journal::{EPOCH_KEY, Snapshot};
use crate::node::Input;
use dhcproto::v4;
use std::sync::Arc;

const DDNS: &str = r#"
[ddns]
qualifying_suffix = "campus.test"
[[ddns.zone]]
name = "campus.test"
servers = ["10.0.0.53"]
[[ddns.zone]]
name = "0.0.10.in-addr.arpa"
servers = ["10.0.0.53"]
"#;

const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn ddns_node() -> Node {
    let config = Arc::new(Config::parse(&format!("{CONFIG}{DDNS}"), "t").unwrap());
    let mut snap = Snapshot::default();
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    Node::start(config, snap, vec![SERVER], NOW)
}

/// DISCOVER and REQUEST of a client naming itself `pc1` by option 12;
/// returns the ACK's batch number (not yet durable).
fn granted(n: &mut Node) -> u64 {
    let host = v4::DhcpOption::Hostname("PC1".into());
    n.handle(
        NOW,
        request(v4::MessageType::Discover, 1, vec![host.clone()]),
    );
    outputs(n);
    let opts = vec![
        v4::DhcpOption::ServerIdentifier(SERVER),
        v4::DhcpOption::RequestedIpAddress(ADDR),
        host,
    ];
    n.handle(NOW, request(v4::MessageType::Request, 1, opts));
    match outputs(n).as_slice() {
        [Output::Journal(b)] => b.id,
        other => panic!("the ACK waits for its batch: {other:?}"),
    }
}

fn job_in(outs: &[Output]) -> (u64, DnsJob) {
    let jobs: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Dns { id, job } => Some((*id, job.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(jobs.len(), 1, "one DNS job: {outs:?}");
    jobs[0].clone()
}

fn status(n: &Node) -> DnsStatus {
    n.store().get(ADDR).unwrap().dns.as_ref().unwrap().status
}

#[test]
fn a_grant_is_registered_once_durable_and_its_status_journaled() {
    let mut n = ddns_node();
    let batch = granted(&mut n);
    n.handle(NOW, Input::Committed { upto: batch });
    let (id, job) = job_in(&outputs(&mut n));
    assert_eq!(
        (job.fqdn.as_str(), job.addr, job.remove),
        ("pc1.campus.test", ADDR, false)
    );
    assert!(job.forward && job.reverse);
    assert_eq!(job.ttl, 1200, "a third of the hour's lease");
    assert_eq!(status(&n), DnsStatus::Pending);
    n.handle(
        NOW,
        Input::DnsDone {
            id,
            result: Ok(DnsStatus::Added),
        },
    );
    let outs = outputs(&mut n);
    assert!(
        matches!(outs.as_slice(), [Output::Journal(b)] if b.leases[0].dns.as_ref().unwrap().status == DnsStatus::Added),
        "{outs:?}"
    );
    assert_eq!(status(&n), DnsStatus::Added);
    assert_eq!(n.stats().dns_updates, 1);
}

#[test]
fn a_release_removes_the_records_and_a_failure_is_tried_again_later() {
    let mut n = ddns_node();
    let batch = granted(&mut n);
    n.handle(NOW, Input::Committed { upto: batch });
    let (id, _) = job_in(&outputs(&mut n));
    n.handle(
        NOW,
        Input::DnsDone {
            id,
            result: Ok(DnsStatus::Added),
        },
    );
    outputs(&mut n);
    let mut rel = request(
        v4::MessageType::Release,
        1,
        vec![v4::DhcpOption::ServerIdentifier(SERVER)],
    );
    if let Input::Request(r) = &mut rel {
        r.req.ciaddr = ADDR;
    }
    n.handle(NOW, rel);
    let batch = match outputs(&mut n).as_slice() {
        [Output::Journal(b), ..] => b.id,
        other => panic!("the release is journaled: {other:?}"),
    };
    n.handle(NOW, Input::Committed { upto: batch });
    let (id, job) = job_in(&outputs(&mut n));
    assert!(job.remove, "{job:?}");
    n.handle(
        NOW,
        Input::DnsDone {
            id,
            result: Err("no answer".into()),
        },
    );
    assert_eq!(n.stats().dns_failures, 1);
    n.handle(NOW.plus(RETRY_FIRST - 1), Input::Tick);
    assert!(
        !outputs(&mut n)
            .iter()
            .any(|o| matches!(o, Output::Dns { .. })),
        "not before the backoff"
    );
    n.handle(NOW.plus(RETRY_FIRST), Input::Tick);
    let (id, job) = job_in(&outputs(&mut n));
    assert!(job.remove);
    n.handle(
        NOW.plus(RETRY_FIRST),
        Input::DnsDone {
            id,
            result: Ok(DnsStatus::Removed),
        },
    );
    outputs(&mut n);
    assert_eq!(status(&n), DnsStatus::Removed);
}

/// A node started on `l` (its only record) with DDNS on.
fn node_with(l: Lease) -> Node {
    let config = Arc::new(Config::parse(&format!("{CONFIG}{DDNS}"), "t").unwrap());
    let mut snap = Snapshot::default();
    snap.meta.insert(EPOCH_KEY.into(), "7".into());
    snap.leases.push(l);
    Node::start(config, snap, vec![SERVER], NOW)
}

/// `ADDR` bound to client 1 as `pc1`, with records `status` and the
/// stale name `old` still due (a merge with a losing registration).
fn with_stale(state: LeaseState, status: DnsStatus) -> Lease {
    let mut l = Lease::free(ADDR, crate::lease::Owner::Primary);
    l.state = state;
    l.hw = crate::proto::HwAddr::new(1, &[2, 0, 0, 0, 0, 1]);
    (l.cltt, l.starts, l.expires) = (NOW, NOW, NOW.plus(3600));
    l.update_seq = 1;
    l.dns = Some(Box::new(crate::lease::DnsRecords {
        fqdn: "pc1.campus.test".into(),
        forward: true,
        reverse: true,
        tag: NOW.0 << 8,
        status,
        stale: vec![StaleName {
            fqdn: "old.campus.test".into(),
            dhcid: vec![0, 0, 1, 9],
            forward: true,
            reverse: true,
            tag: 3,
            done: false,
            adds: 0,
        }],
        adds: 0,
    }));
    l
}

/// Runs the one job due, answering `result`; the job.
fn run_job(n: &mut Node, result: DnsStatus) -> DnsJob {
    n.handle(NOW, Input::Tick);
    let (id, job) = job_in(&outputs(n));
    n.handle(
        NOW,
        Input::DnsDone {
            id,
            result: Ok(result),
        },
    );
    job
}

fn due(n: &Node) -> usize {
    let l = n.store().get(ADDR).unwrap();
    l.dns.as_ref().unwrap().pending_stale().count()
}

/// An active binding whose records are in DNS, with a stale name due:
/// only the stale name goes (the partner may be ending the binding: an
/// add here could put its records back after its removal), and it is
/// marked removed.
#[test]
fn a_stale_name_beside_records_in_place_goes_alone() {
    let mut n = node_with(with_stale(LeaseState::Active, DnsStatus::Added));
    let job = run_job(&mut n, DnsStatus::Removed);
    assert!(job.remove && !job.forward && !job.reverse, "{job:?}");
    assert_eq!(job.stale.len(), 1);
    assert_eq!((status(&n), due(&n)), (DnsStatus::Added, 0));
    assert!(
        outputs(&mut n)
            .iter()
            .any(|o| matches!(o, Output::Journal(_))),
        "the removal is journaled"
    );
    n.handle(NOW.plus(1), Input::Tick);
    assert!(
        !outputs(&mut n)
            .iter()
            .any(|o| matches!(o, Output::Dns { .. })),
        "nothing more to do"
    );
}

/// An ended binding whose own records are gone, with a stale name due
/// (a release that beat a re-added registration): only the stale name
/// goes, the own records are left alone.
#[test]
fn a_stale_name_of_an_ended_binding_goes_alone() {
    let mut n = node_with(with_stale(LeaseState::Released, DnsStatus::Removed));
    let job = run_job(&mut n, DnsStatus::Removed);
    assert!(job.remove && !job.forward && !job.reverse, "{job:?}");
    assert_eq!(job.stale[0].fqdn, "old.campus.test");
    assert_eq!((status(&n), due(&n)), (DnsStatus::Removed, 0));
    // Likewise beside an active binding whose records a peer removed: the
    // binding is not registered again for it.
    let mut n = node_with(with_stale(LeaseState::Active, DnsStatus::Removed));
    let job = run_job(&mut n, DnsStatus::Removed);
    assert!(job.remove && !job.forward && !job.reverse, "{job:?}");
    assert_eq!((status(&n), due(&n)), (DnsStatus::Removed, 0));
}

/// An add that ends after the record learned the records are gone (a
/// merge with the partner's removal while the add ran) is counted and its
/// records listed to remove; an add that ends as expected is counted.
#[test]
fn an_add_ending_after_a_removal_is_listed_to_remove() {
    let mut l = with_stale(LeaseState::Active, DnsStatus::Pending);
    l.dns.as_mut().unwrap().stale.clear();
    let job = InFlight {
        addr: ADDR,
        tag: l.dns.as_ref().unwrap().tag,
        remove: false,
        own: true,
        stale: vec![],
    };
    let mut ok = l.clone();
    assert!(record_result(NOW, &mut ok, &job, DnsStatus::Added));
    let d = ok.dns.as_ref().unwrap();
    assert_eq!((d.status, d.adds, d.stale.len()), (DnsStatus::Added, 1, 0));
    l.dns.as_mut().unwrap().status = DnsStatus::Removed;
    assert!(record_result(NOW, &mut l, &job, DnsStatus::Added));
    let d = l.dns.as_ref().unwrap();
    assert_eq!((d.status, d.adds), (DnsStatus::Removed, 1));
    let due: Vec<_> = d
        .pending_stale()
        .map(|s| (s.fqdn.as_str(), s.adds))
        .collect();
    assert_eq!(due, [("pc1.campus.test", 1)]);
}

/// The registering server adds, by the tag's bit once the partner speaks
/// protocol 8; before, the one that wrote the current version.
#[test]
fn the_registering_server_adds() {
    let mut d = with_stale(LeaseState::Active, DnsStatus::Pending)
        .dns
        .unwrap();
    d.tag = 0x500; // the primary's
    assert!(registers(true, &d, false, false));
    assert!(!registers(true, &d, true, true));
    d.tag |= 1; // the secondary's
    assert!(registers(true, &d, true, false));
    assert!(!registers(true, &d, false, true));
    // An older partner: its tags say nothing.
    assert!(registers(false, &d, false, true));
    assert!(!registers(false, &d, true, false));
}
