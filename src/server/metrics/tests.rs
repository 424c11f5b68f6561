//! The rendered text: every family present, labelled as documented, and
//! parseable as OpenMetrics (each sample a name, labels and a number).

use super::*;
use crate::failover::PeerGauges;
use crate::failover::clock::OffsetBounds;
use crate::lease::{LeaseState, Owner};
use crate::node::{PoolFigures, Stats};
use crate::time::Time;
use std::collections::BTreeMap;

fn figures() -> Figures {
    let mut stats = Stats::default();
    stats.received_by_type.insert("discover", 7);
    stats.ignored_by_reason.insert("no free address", 2);
    stats.offers = 5;
    stats.peer_sent.binding_records = 11;
    stats.peer_sent.messages.insert("binding-update", 3);
    let mut leases = BTreeMap::new();
    leases.insert((LeaseState::Active, Owner::Secondary), 4);
    Figures {
        stats,
        pools: vec![PoolFigures {
            range: "10.0.0.10-10.0.0.20".into(),
            subnet: "10.0.0.0/24".into(),
            free: [6, 1],
            leases,
        }],
        outside_pools: BTreeMap::from([(LeaseState::Active, 1)]),
        peer: Some(PeerGauges {
            state: State::CommunicationsInterrupted,
            since: Time(1_700_000_000),
            partner_state: None,
            connected: false,
            last_contact_age: Some(42),
            clock_offset: Some(OffsetBounds { low: -1, high: 2 }),
            unacked_updates: 9,
            evidence: Some(crate::failover::EvidenceGauges {
                collecting: true,
                counted: 4,
                needed: 10,
            }),
            auto_partner_down: 1,
            witness: Some((true, Some(37))),
        }),
        parked_replies: 0,
        uncommitted_batches: 0,
    }
}

/// The value of the sample whose line starts with `head` (name and labels).
fn sample(text: &str, head: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(head) && l[head.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no sample {head} in:\n{text}"));
    line[head.len()..].trim().parse().unwrap()
}

#[test]
fn every_family_is_rendered_with_its_labels() {
    let e = Exporter::new();
    e.observe_commit(1500, 3);
    let t = e.render(&figures());
    assert!(t.ends_with("# EOF\n"));
    assert_eq!(
        sample(&t, "tandem_dhcp_received_total{type=\"discover\"}"),
        7.0
    );
    assert_eq!(
        sample(&t, "tandem_dhcp_ignored_total{reason=\"no free address\"}"),
        2.0
    );
    assert_eq!(sample(&t, "tandem_dhcp_replies_total{type=\"offer\"}"), 5.0);
    assert_eq!(
        sample(&t, "tandem_dhcp_dropped_total{reason=\"malformed\"}"),
        0.0
    );
    let pool = "pool=\"10.0.0.10-10.0.0.20\",subnet=\"10.0.0.0/24\"";
    assert_eq!(
        sample(
            &t,
            &format!("tandem_leases{{{pool},state=\"active\",owner=\"secondary\"}}")
        ),
        4.0
    );
    assert_eq!(
        sample(&t, "tandem_leases{pool=\"none\",state=\"active\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &t,
            &format!("tandem_free_addresses{{{pool},owner=\"primary\"}}")
        ),
        6.0
    );
    assert_eq!(
        sample(
            &t,
            "tandem_failover_state{state=\"communications-interrupted\"}"
        ),
        1.0
    );
    assert_eq!(sample(&t, "tandem_failover_state{state=\"normal\"}"), 0.0);
    assert_eq!(
        sample(&t, "tandem_failover_partner_state{state=\"normal\"}"),
        0.0
    );
    assert_eq!(sample(&t, "tandem_failover_connected"), 0.0);
    assert_eq!(sample(&t, "tandem_failover_last_contact_age_seconds"), 42.0);
    assert_eq!(
        sample(&t, "tandem_failover_clock_offset_seconds{bound=\"low\"}"),
        -1.0
    );
    assert_eq!(sample(&t, "tandem_failover_unacked_updates"), 9.0);
    assert_eq!(sample(&t, "tandem_failover_auto_partner_down_total"), 1.0);
    let ev = "tandem_failover_partner_down_evidence";
    assert_eq!(sample(&t, &format!("{ev}_collecting")), 1.0);
    assert_eq!(sample(&t, &format!("{ev}_clients")), 4.0);
    assert_eq!(sample(&t, &format!("{ev}_clients_needed")), 10.0);
    assert_eq!(sample(&t, "tandem_failover_witness_reachable"), 1.0);
    let silent = "tandem_failover_witness_partner_silent_seconds";
    assert_eq!(sample(&t, silent), 37.0);
    assert_eq!(
        sample(
            &t,
            "tandem_failover_binding_updates_total{direction=\"sent\"}"
        ),
        11.0
    );
    assert_eq!(
        sample(
            &t,
            "tandem_failover_messages_total{message=\"binding-update\",direction=\"sent\"}"
        ),
        3.0
    );
    assert_eq!(
        sample(&t, "tandem_journal_commit_duration_seconds_count"),
        1.0
    );
    assert_eq!(sample(&t, "tandem_journal_commit_leases_sum"), 3.0);
    assert!(sample(&t, "process_start_time_seconds") > 1.6e9);
    assert!(t.contains("tandem_build_info{version=\""));
}

#[test]
fn a_server_without_a_partner_exports_no_failover_gauges() {
    let mut f = figures();
    f.peer = None;
    let t = Exporter::new().render(&f);
    assert!(!t.contains("tandem_failover_state"), "{t}");
    assert!(t.contains("tandem_failover_messages_total"));
}

#[test]
#[ignore = "prints a sample for a person to read"]
fn print_sample() {
    println!("{}", Exporter::new().render(&figures()));
}
