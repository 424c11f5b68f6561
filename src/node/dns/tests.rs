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
