//! Conflicts between tandem and a real ISC dhcpd 4.4 over ISC's failover
//! protocol (issue 19): the peer link is cut, the operator puts one side
//! in PARTNER-DOWN (tandem with `tandem partner-down`, dhcpd with
//! omshell), the link comes back, and the two resolve the conflict ISC's
//! way (the primary asks first) back to NORMAL, tandem in either role,
//! without ever telling dhcpd a state it shuts down or exits on. Needs
//! root, dhcpd and perfdhcp (CI has them); elsewhere it says why and
//! skips.

mod common;
#[path = "lab/isc.rs"]
mod isc;
#[path = "lab/isc_ops.rs"]
mod isc_ops;
#[path = "lab/isc_pair.rs"]
mod isc_pair;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use isc::isc_state;
use isc_pair::start_pair;
use setup::{read, wait_for};
use std::time::Duration;

/// The link is cut; tandem, the secondary, is put in PARTNER-DOWN by the
/// operator; the link comes back. dhcpd resolves the conflict its way
/// (POTENTIAL-CONFLICT, then CONFLICT-DONE as the primary) and tandem
/// follows it to NORMAL, never telling dhcpd a state it exits on (tandem's
/// own CONFLICT-DONE, which a dhcpd in CONFLICT-DONE takes for a fatal
/// error).
#[test]
fn a_conflict_after_partner_down_resolves_with_isc() {
    let steps = [
        "peer moves from partner-down to potential-conflict",
        "I move from potential-conflict to conflict-done",
        "I move from conflict-done to normal",
    ];
    let test = "a_conflict_after_partner_down_resolves_with_isc";
    conflict_after_partner_down(test, "sec4", "secondary", false, &steps);
}

/// As above with tandem the primary: it resolves the conflict (asks
/// dhcpd's updates, enters CONFLICT-DONE, sends its own) and dhcpd, the
/// secondary, follows to NORMAL.
#[test]
fn a_conflict_after_partner_down_resolves_with_isc_as_secondary() {
    let steps = [
        "I move from communications-interrupted to potential-conflict",
        "peer moves from potential-conflict to conflict-done",
        "I move from potential-conflict to normal",
    ];
    let test = "a_conflict_after_partner_down_resolves_with_isc_as_secondary";
    conflict_after_partner_down(test, "pri4", "primary", false, &steps);
}

/// The link is cut and dhcpd, the primary, is put in PARTNER-DOWN by the
/// operator (omshell); after the heal tandem, meeting a partner that
/// took over, goes through POTENTIAL-CONFLICT with it to NORMAL.
#[test]
fn a_conflict_after_isc_partner_down_resolves() {
    let steps = [
        "I move from partner-down to potential-conflict",
        "I move from potential-conflict to conflict-done",
        "I move from conflict-done to normal",
    ];
    let test = "a_conflict_after_isc_partner_down_resolves";
    conflict_after_partner_down(test, "ipd4", "secondary", true, &steps);
}

/// As above with dhcpd the secondary.
#[test]
fn a_conflict_after_isc_partner_down_resolves_with_isc_as_secondary() {
    let steps = [
        "I move from partner-down to potential-conflict",
        "I move from potential-conflict to normal",
    ];
    let test = "a_conflict_after_isc_partner_down_resolves_with_isc_as_secondary";
    conflict_after_partner_down(test, "isd4", "primary", true, &steps);
}

/// tandem in `role`; during a cut the operator puts tandem in
/// PARTNER-DOWN, or dhcpd if `isc_declares`; after the heal both reach
/// NORMAL and dhcpd logged `steps`.
fn conflict_after_partner_down(
    test: &str,
    tag: &str,
    role: &str,
    isc_declares: bool,
    steps: &[&str],
) {
    if netns::skipped(test, &["ip", "dhcpd", "omshell", "perfdhcp"]) {
        return;
    }
    let p = start_pair(tag, role, 4);
    let link = |state: &str| netns::run(&["ip", "-n", &p.tandem_ns, "link", "set", "eth0", state]);
    link("down");
    wait_for(
        "communications-interrupted",
        Duration::from_secs(30),
        || common::status(&p.cfg).is_some_and(|s| s["state"] == "communications-interrupted"),
    );
    if isc_declares {
        wait_for("dhcpd alone", Duration::from_secs(30), || {
            isc_state(&p.isc_log).as_deref() == Some("communications-interrupted")
        });
        p.isc_partner_down();
    } else {
        common::tandem_ok(&["partner-down"], &p.cfg);
    }
    link("up");
    netns::route(&p.tandem_ns, &["10.128.0.0/12", "dev", "eth0"]);
    wait_for("both in normal again", Duration::from_secs(60), || {
        isc_state(&p.isc_log).as_deref() == Some("normal")
            && common::status(&p.cfg).is_some_and(|s| s["state"] == "normal")
    });
    let isc_said = read(&p.isc_log);
    for step in steps {
        assert!(
            isc_said.contains(step),
            "{step} in dhcpd's log:\n{isc_said}"
        );
    }
    assert!(!isc_said.contains("shut"), "dhcpd shut down:\n{isc_said}");
}
