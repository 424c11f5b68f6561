use super::*;
use crate::config::DnsZone;
use hickory_proto::rr::DNSClass;

fn config() -> DdnsConfig {
    let zone = |name: &str| DnsZone {
        name: name.into(),
        servers: vec!["192.0.2.53:53".parse().unwrap()],
        key: Some("k".into()),
    };
    DdnsConfig {
        qualifying_suffix: Some("campus.example".into()),
        ttl: None,
        override_client_update: false,
        override_no_update: false,
        keys: vec![],
        zones: vec![zone("campus.example"), zone("0.10.in-addr.arpa")],
    }
}

fn job(remove: bool) -> DnsJob {
    DnsJob {
        addr: Ipv4Addr::new(10, 0, 0, 5),
        fqdn: "pc1.campus.example".into(),
        dhcid: vec![0, 0, 1, 7],
        ttl: 600,
        forward: true,
        reverse: true,
        stale: Vec::new(),
        remove,
    }
}

/// The stale name "old.campus.example" with the records it kept.
fn old_name(forward: bool, reverse: bool) -> Vec<StaleName> {
    vec![named("old", forward, reverse)]
}

/// The stale name "`label`.campus.example" with the records it kept.
fn named(label: &str, forward: bool, reverse: bool) -> StaleName {
    StaleName {
        fqdn: format!("{label}.campus.example"),
        dhcid: vec![0, 0, 1, 9],
        forward,
        reverse,
        tag: 5,
        done: false,
        adds: 0,
    }
}

/// Runs `j` to its end with `rcodes`: the steps taken and the result.
fn outcome(j: DnsJob, rcodes: &[ResponseCode]) -> (Vec<Step>, DnsStatus) {
    let mut x = Exchange::new(j, &config());
    let steps = run(&mut x, rcodes);
    assert!(x.next().is_none(), "the job is over");
    (steps, x.result())
}

/// Runs `x` answering each step with the next of `rcodes`; the steps taken.
fn run(x: &mut Exchange, rcodes: &[ResponseCode]) -> Vec<Step> {
    let mut steps = Vec::new();
    for rc in rcodes {
        let Some(step) = x.step else { break };
        let (m, zone) = x.next().expect("a message for the step");
        assert_eq!(m.metadata.op_code, OpCode::Update);
        assert_eq!(m.queries[0].name().to_string(), format!("{}.", zone.name));
        m.to_vec().expect("the message encodes");
        steps.push(step);
        x.answered(*rc).unwrap();
    }
    steps
}

#[test]
fn an_add_sets_forward_then_reverse() {
    let mut x = Exchange::new(job(false), &config());
    let (m, _) = x.next().unwrap();
    assert_eq!(m.answers.len(), 1, "the name-not-in-use prerequisite");
    assert_eq!(m.answers[0].dns_class, DNSClass::NONE);
    assert_eq!(m.authorities.len(), 2, "A and DHCID");
    let steps = run(&mut x, &[ResponseCode::NoError; 3]);
    assert_eq!(steps, vec![Step::AddForward, Step::AddReverse]);
    assert_eq!(x.result(), DnsStatus::Added);
    assert!(x.next().is_none());
}

#[test]
fn a_name_in_use_is_replaced_only_with_our_dhcid() {
    let mut x = Exchange::new(job(false), &config());
    let steps = run(
        &mut x,
        &[
            ResponseCode::YXDomain,
            ResponseCode::NoError,
            ResponseCode::NoError,
        ],
    );
    assert_eq!(
        steps,
        vec![Step::AddForward, Step::ReplaceForward, Step::AddReverse]
    );
    assert_eq!(x.result(), DnsStatus::Added);
    let mut x = Exchange::new(job(false), &config());
    let steps = run(&mut x, &[ResponseCode::YXDomain, ResponseCode::NXRRSet]);
    assert_eq!(steps, vec![Step::AddForward, Step::ReplaceForward]);
    assert_eq!(
        x.result(),
        DnsStatus::Conflict,
        "another client's name: no PTR either"
    );
    assert!(x.next().is_none());
}

#[test]
fn a_removal_takes_a_dhcid_then_ptr() {
    let mut x = Exchange::new(job(true), &config());
    let steps = run(&mut x, &[ResponseCode::NoError; 3]);
    assert_eq!(
        steps,
        vec![Step::RemoveA, Step::RemoveDhcid, Step::RemoveReverse]
    );
    assert_eq!(x.result(), DnsStatus::Removed);
    let mut x = Exchange::new(job(true), &config());
    let steps = run(&mut x, &[ResponseCode::NXRRSet, ResponseCode::NoError]);
    assert_eq!(
        steps,
        vec![Step::RemoveA, Step::RemoveReverse],
        "not ours: left alone"
    );
}

#[test]
fn a_stale_name_goes_first() {
    let mut j = job(false);
    j.stale = old_name(true, true);
    let mut x = Exchange::new(j, &config());
    let steps = run(&mut x, &[ResponseCode::NoError; 4]);
    assert_eq!(
        steps,
        vec![
            Step::RemoveStaleA,
            Step::RemoveStaleDhcid,
            Step::AddForward,
            Step::AddReverse
        ]
    );
}

#[test]
fn an_error_rcode_stops_the_job_and_a_missing_zone_skips_its_steps() {
    let mut x = Exchange::new(job(false), &config());
    let e = x.answered(ResponseCode::Refused).unwrap_err();
    assert!(
        matches!(
            e,
            DnsError::Refused {
                step: Step::AddForward,
                ..
            }
        ),
        "{e}"
    );
    let mut only_forward = config();
    only_forward.zones.truncate(1);
    let mut x = Exchange::new(job(false), &only_forward);
    assert_eq!(
        run(&mut x, &[ResponseCode::NoError; 2]),
        vec![Step::AddForward]
    );
    assert_eq!(x.result(), DnsStatus::Added);
}

/// A binding with no name of its own removes what its address's previous
/// name left: A and DHCID by that name's DHCID, then the PTR naming it
/// (which no new PTR replaces); at its end there is nothing left to remove.
#[test]
fn a_removal_only_job_removes_the_stale_ptr_too() {
    let mut j = job(false);
    (j.forward, j.reverse) = (false, false);
    j.stale = old_name(true, true);
    let stale = vec![
        Step::RemoveStaleA,
        Step::RemoveStaleDhcid,
        Step::RemoveStalePtr,
    ];
    let done = outcome(j.clone(), &[ResponseCode::NoError; 4]);
    assert_eq!(done, (stale, DnsStatus::Added));
    // the add removed the stale name (`node::dns` drops it from the record)
    (j.remove, j.stale) = (true, vec![]);
    assert_eq!(outcome(j, &[]), (vec![], DnsStatus::Removed));
}

/// A binding that ends while its add (and so its stale name's removal) is
/// still due removes the stale name too, A, DHCID and PTR, before its own
/// records: a client renamed and then gone leaves neither name.
#[test]
fn a_removal_takes_the_stale_name_first() {
    let mut j = job(true);
    j.stale = old_name(true, true);
    let steps = vec![
        Step::RemoveStaleA,
        Step::RemoveStaleDhcid,
        Step::RemoveStalePtr,
        Step::RemoveA,
        Step::RemoveDhcid,
        Step::RemoveReverse,
    ];
    let done = outcome(j, &[ResponseCode::NoError; 6]);
    assert_eq!(done, (steps, DnsStatus::Removed));
}

/// An add that meets another client's name (`Conflict`) adds no PTR of its
/// own, so the stale name's PTR, which that PTR would have replaced, is
/// removed alone.
#[test]
fn a_conflict_still_removes_the_stale_ptr() {
    let mut j = job(false);
    j.stale = old_name(false, true);
    let answers = [
        ResponseCode::YXDomain,
        ResponseCode::NXRRSet,
        ResponseCode::NoError,
    ];
    let steps = vec![Step::AddForward, Step::ReplaceForward, Step::RemoveStalePtr];
    assert_eq!(outcome(j, &answers), (steps, DnsStatus::Conflict));
}

/// Several stale names go one after the other, each with the records it
/// kept, before the job's own; each step names the stale name it is at.
#[test]
fn stale_names_go_in_turn() {
    let mut j = job(true);
    j.stale = vec![
        named("a", true, false),
        named("b", false, true),
        named("c", true, true),
    ];
    let mut x = Exchange::new(j, &config());
    let mut seen = Vec::new();
    while let Some(step) = x.step() {
        seen.push((step, x.stale_name().map(|s| s.fqdn.clone())));
        x.answered(ResponseCode::NoError).unwrap();
    }
    let at = |step, label: &str| (step, Some(format!("{label}.campus.example")));
    let want = vec![
        at(Step::RemoveStaleA, "a"),
        at(Step::RemoveStaleDhcid, "a"),
        at(Step::RemoveStalePtr, "b"),
        at(Step::RemoveStaleA, "c"),
        at(Step::RemoveStaleDhcid, "c"),
        at(Step::RemoveStalePtr, "c"),
        (Step::RemoveA, None),
        (Step::RemoveDhcid, None),
        (Step::RemoveReverse, None),
    ];
    assert_eq!(seen, want);
    assert_eq!(x.result(), DnsStatus::Removed);
}

/// An add that meets another client's name removes every stale PTR its
/// own would have replaced, after the stale forward records went first.
#[test]
fn a_conflict_removes_every_stale_ptr() {
    let mut j = job(false);
    j.stale = vec![named("a", true, true), named("b", false, true)];
    let answers = [
        ResponseCode::NoError,
        ResponseCode::NoError,
        ResponseCode::YXDomain,
        ResponseCode::NXRRSet,
        ResponseCode::NoError,
        ResponseCode::NoError,
    ];
    let steps = vec![
        Step::RemoveStaleA,
        Step::RemoveStaleDhcid,
        Step::AddForward,
        Step::ReplaceForward,
        Step::RemoveStalePtr,
        Step::RemoveStalePtr,
    ];
    assert_eq!(outcome(j, &answers), (steps, DnsStatus::Conflict));
}
