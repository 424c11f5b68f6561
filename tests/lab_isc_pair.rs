//! tandem as the secondary of a real ISC dhcpd 4.4 primary, and as the
//! primary of a real ISC secondary, over ISC's own
//! failover protocol (`[failover] protocol = "isc-draft12"`, issue 19):
//! both start empty, go through RECOVER (each asks the other for every
//! binding) to NORMAL; perfdhcp relays distinct clients to both, and each
//! server leases to the clients its hash share gives it. Then both sides
//! hold the same bindings: every active lease in dhcpd's own lease file
//! (read line by line) is active in `tandem leases` with the same MAC, and
//! the other way round, and each side granted some. The clients leave: every
//! lease ends on both sides alike, with no loop of refusals. A decline
//! reaches both. A link cut with tandem (either role) in PARTNER-DOWN
//! meanwhile resolves with dhcpd. A kill -9 of either side in either role,
//! tandem re-installed, or a link cut: the survivors serve alone,
//! and once the fault is over every lease either side acknowledged is on
//! both, no address acknowledged to two clients. Needs root, dhcpd,
//! perfdhcp and nft (CI has them); elsewhere it says why and skips.

mod common;
#[path = "lab/isc.rs"]
mod isc;
#[path = "lab/isc_pair.rs"]
mod isc_pair;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use isc::isc_state;
use isc_pair::{
    MCLT, Pair, isc_active, isc_states, perfdhcp_round, perfdhcp_round_with, start_pair, states,
    tandem_active,
};
use setup::{read, wait_for};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// The MAC base of the clients before a fault, and of those that come
/// while one side is down.
const CLIENTS: [&str; 2] = ["00:0c:01:00:00:00", "00:0c:02:00:00:00"];

#[test]
fn tandem_pairs_with_a_real_isc_primary() {
    pair_with_isc("tandem_pairs_with_a_real_isc_primary", "secondary");
}

/// As the primary, tandem gives the ISC secondary its share of the free
/// addresses when it reaches NORMAL (`IscSession::balance`).
#[test]
fn tandem_pairs_with_a_real_isc_secondary() {
    pair_with_isc("tandem_pairs_with_a_real_isc_secondary", "primary");
}

/// tandem in `role` (dhcpd in the other) through the whole run the module
/// doc tells.
fn pair_with_isc(test: &str, role: &str) {
    if netns::skipped(test, &["ip", "dhcpd", "perfdhcp"]) {
        return;
    }
    let mut p = start_pair(&format!("{}15", &role[..3]), role, 15);
    let tandem_log = read(&p.log);
    for step in [
        "from=startup to=recover",
        "partner finished sending updates full=true",
        "to=normal",
    ] {
        assert!(
            tandem_log.contains(step),
            "{step} in tandem's log:\n{tandem_log}"
        );
    }
    assert!(read(&p.isc_log).contains("peer moves from recover-done to normal"));
    p.lease_from_both(CLIENTS[0]);
    let Pair {
        cfg,
        log,
        isc_log,
        isc_leases,
        ..
    } = p;
    std::thread::sleep(Duration::from_secs(2)); // the last binding updates and acks
    let (ours, theirs) = (tandem_active(&cfg), isc_active(&isc_leases));
    assert_eq!(
        ours,
        theirs,
        "tandem leases == dhcpd.leases\n{}",
        read(&log)
    );
    // The first grants run MCLT; the clients are gone: every lease ends,
    // on both sides alike, without the two refusing each other's versions
    // in a loop (ISC's expiries carry no transaction time, and ISC never
    // sends its version back on a refusal: `isc::session::refusals`).
    wait_for(
        "every lease to end on both sides",
        Duration::from_secs(MCLT * 4),
        || tandem_active(&cfg).is_empty() && isc_active(&isc_leases).is_empty(),
    );
    std::thread::sleep(Duration::from_secs(2));
    // One refusal per address and side is how two dhcpd peers end a
    // lease too (an ISC primary refuses its secondary's expiry until its
    // own timer has run); a loop would show hundreds.
    let most = |text: &str| {
        let mut per: HashMap<&str, usize> = HashMap::new();
        for l in text
            .lines()
            .filter(|l| l.contains("rejected:") || l.contains("refused our update"))
        {
            let addr = l
                .split(['=', ' ', ':'])
                .find(|w| w.starts_with("10.128.2."))
                .unwrap_or("?");
            *per.entry(addr).or_default() += 1;
        }
        per.values().copied().max().unwrap_or(0)
    };
    let (isc_said, tandem_said) = (read(&isc_log), read(&log));
    assert!(most(&isc_said) <= 3, "dhcpd's refusals:\n{isc_said}");
    assert!(most(&tandem_said) <= 3, "tandem's refusals:\n{tandem_said}");
    // And the two databases agree on every address's state again.
    states_agree(&cfg, &isc_leases, 30);
}

/// Waits up to `secs` seconds for tandem and dhcpd to hold every address
/// in the same state (in the words both share: `common_word`).
fn states_agree(cfg: &Path, isc_leases: &Path, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (ours, theirs) = (states(cfg), isc_states(isc_leases));
        let differ: Vec<_> = theirs
            .iter()
            .filter(|(a, s)| ours.get(*a) != Some(*s))
            .map(|(a, s)| (a.clone(), s.clone(), ours.get(a).cloned()))
            .collect();
        if differ.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "(address, dhcpd, tandem) differ: {differ:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Clients renew and release (perfdhcp's `-f` and `-F`) through both
/// servers, in NORMAL: some release, and every address, released ones
/// included, ends in the same state on both.
#[test]
fn renewals_and_releases_reach_both() {
    let test = "renewals_and_releases_reach_both";
    if netns::skipped(test, &["ip", "dhcpd", "perfdhcp"]) {
        return;
    }
    let mut p = start_pair("rel", "secondary", 15);
    p.lease_from_both(CLIENTS[0]);
    let perf_log = p.dir.path().join("perfdhcp.log");
    let churn = ["-f", "3", "-F", "3"];
    perfdhcp_round_with(&mut p.lab, &p.perf_ns, &perf_log, CLIENTS[0], &churn);
    let released = (
        read(&p.isc_log).matches("DHCPRELEASE of").count(),
        read(&p.log).matches("verdict=Released(").count(),
    );
    assert!(
        released.0 + released.1 > 0,
        "no release (dhcpd, tandem): {released:?}\n{}",
        read(&perf_log)
    );
    states_agree(&p.cfg, &p.isc_leases, 30);
}

/// A client declines tandem's lease, another dhcpd's: each address is
/// ABANDONED in dhcpd's lease file and declined in tandem's database,
/// with no loop of refusals (ISC refuses an ABANDONED update carrying a
/// client: `isc::binding`).
#[test]
fn declines_reach_both() {
    let test = "declines_reach_both";
    if netns::skipped(test, &["ip", "dhcpd"]) {
        return;
    }
    let p = start_pair("dec", "secondary", 15);
    let ours = p.decline_at(isc_pair::TANDEM, [0, 0x0c, 3, 0, 0, 1], 0x3000);
    let theirs = p.decline_at(isc_pair::ISC, [0, 0x0c, 3, 0, 0, 2], 0x4000);
    for a in [ours, theirs] {
        wait_for(
            &format!("{a} declined on both"),
            Duration::from_secs(20),
            || {
                let a = a.to_string();
                let declined = Some(&"declined".to_string());
                states(&p.cfg).get(&a) == declined && isc_states(&p.isc_leases).get(&a) == declined
            },
        );
    }
    assert!(read(&p.log).contains(&format!("verdict=Declined({ours})")));
    assert!(read(&p.isc_log).contains(&format!("DHCPDECLINE of {theirs} ")));
    let refused = |text: &str| text.lines().filter(|l| l.contains("rejected")).count();
    assert!(refused(&read(&p.isc_log)) == 0, "{}", read(&p.isc_log));
    assert!(
        !read(&p.log).contains("refused our update"),
        "{}",
        read(&p.log)
    );
}

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
    conflict_after_partner_down(test, "sec4", "secondary", &steps);
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
    conflict_after_partner_down(test, "pri4", "primary", &steps);
}

/// tandem in `role` put in PARTNER-DOWN by the operator during a cut;
/// after the heal both reach NORMAL and dhcpd logged `steps`.
fn conflict_after_partner_down(test: &str, tag: &str, role: &str, steps: &[&str]) {
    if netns::skipped(test, &["ip", "dhcpd", "perfdhcp"]) {
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
    common::tandem_ok(&["partner-down"], &p.cfg);
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

/// The faults of issue 19's step 2.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// SIGKILL to tandem, then tandem started again on its database.
    KillTandem,
    /// SIGKILL to dhcpd, then dhcpd started again on its lease file.
    KillIsc,
    /// SIGKILL to dhcpd, its lease file lost, then dhcpd started again
    /// (in RECOVER: it learns every binding back from tandem).
    WipeIsc,
    /// The failover link cut (dhcpd's side dropping tandem's address)
    /// while both keep serving, then healed.
    CutLink,
    /// SIGKILL to tandem, its database deleted, then `tandem init` and
    /// started again (re-installed: in RECOVER, it learns every binding
    /// back from dhcpd, its own grants included).
    ReinstallTandem,
}

/// kill -9 of tandem, the secondary: dhcpd, the primary, serves the new
/// clients alone, and tandem, started again on its database, learns them
/// (and keeps what it had).
#[test]
fn tandem_killed_as_secondary_loses_no_lease() {
    fault_and_recover(
        "tandem_killed_as_secondary_loses_no_lease",
        "kts",
        "secondary",
        Fault::KillTandem,
    );
}

/// kill -9 of tandem, the primary.
#[test]
fn tandem_killed_as_primary_loses_no_lease() {
    fault_and_recover(
        "tandem_killed_as_primary_loses_no_lease",
        "ktp",
        "primary",
        Fault::KillTandem,
    );
}

/// tandem, the secondary, re-installed on an empty database.
#[test]
fn tandem_reinstalled_as_secondary_loses_no_lease() {
    fault_and_recover(
        "tandem_reinstalled_as_secondary_loses_no_lease",
        "rts",
        "secondary",
        Fault::ReinstallTandem,
    );
}

/// tandem, the primary, re-installed on an empty database.
#[test]
fn tandem_reinstalled_as_primary_loses_no_lease() {
    fault_and_recover(
        "tandem_reinstalled_as_primary_loses_no_lease",
        "rtp",
        "primary",
        Fault::ReinstallTandem,
    );
}

/// kill -9 of dhcpd, the secondary: tandem, the primary, serves the new
/// clients alone, and dhcpd, started again on its lease file, learns them.
#[test]
fn isc_killed_as_secondary_loses_no_lease() {
    fault_and_recover(
        "isc_killed_as_secondary_loses_no_lease",
        "kis",
        "primary",
        Fault::KillIsc,
    );
}

/// kill -9 of dhcpd, the primary.
#[test]
fn isc_killed_as_primary_loses_no_lease() {
    fault_and_recover(
        "isc_killed_as_primary_loses_no_lease",
        "kip",
        "secondary",
        Fault::KillIsc,
    );
}

/// kill -9 of dhcpd, the primary, and its lease file lost: dhcpd starts
/// again in RECOVER and learns back from tandem every lease, its own
/// included; tandem takes it for a database new to it (the session names
/// it anew) and holds back what the lost one may have granted.
#[test]
fn isc_wiped_as_primary_loses_no_lease() {
    fault_and_recover(
        "isc_wiped_as_primary_loses_no_lease",
        "wip",
        "secondary",
        Fault::WipeIsc,
    );
}

/// The link cut with both serving (COMMUNICATIONS-INTERRUPTED, no
/// partner-down): each serves the new clients from its own free
/// addresses, and after the heal each learns the other's.
#[test]
fn a_link_cut_beside_isc_loses_no_lease() {
    fault_and_recover(
        "a_link_cut_beside_isc_loses_no_lease",
        "cut",
        "secondary",
        Fault::CutLink,
    );
}

/// tandem in `role` beside dhcpd, leases from both; then `fault`, new
/// clients come to the survivor (or both), the fault ends, and both
/// reach NORMAL with every acknowledged lease on both sides, no address
/// acknowledged to two clients (`Pair::check_every_ack_on_both`).
fn fault_and_recover(test: &str, tag: &str, role: &str, fault: Fault) {
    if netns::skipped(test, &["ip", "dhcpd", "perfdhcp", "nft"]) {
        return;
    }
    let mut p = start_pair(tag, role, 4);
    p.lease_from_both(CLIENTS[0]);
    let perf_log = p.dir.path().join("perfdhcp.log");
    // Again, now that the partner has acknowledged them: the leases run
    // their full 600 s, and must outlive the test on both sides.
    perfdhcp_round(&mut p.lab, &p.perf_ns, &perf_log, CLIENTS[0]);
    let tandem_alone =
        || common::status(&p.cfg).is_some_and(|s| s["state"] == "communications-interrupted");
    let isc_alone = || isc_state(&p.isc_log).as_deref() == Some("communications-interrupted");
    match fault {
        Fault::KillTandem | Fault::ReinstallTandem => {
            p.lab.signal(p.tandem_pid, "KILL");
        }
        Fault::KillIsc | Fault::WipeIsc => {
            p.lab.signal(p.isc_pid, "KILL");
        }
        Fault::CutLink => p.cut_link(true),
    }
    wait_for(
        "the survivor alone",
        Duration::from_secs(30),
        || match fault {
            Fault::KillTandem | Fault::ReinstallTandem => isc_alone(),
            Fault::KillIsc | Fault::WipeIsc => tandem_alone(),
            Fault::CutLink => isc_alone() && tandem_alone(),
        },
    );
    perfdhcp_round(&mut p.lab, &p.perf_ns, &perf_log, CLIENTS[1]);
    let acked = p.acked();
    let served = |who: &str| {
        acked
            .iter()
            .any(|(_, m, w)| m.starts_with("00:0c:02") && *w == who)
    };
    // With the link cut both answer every client, and the faster offer
    // wins: either may have served them all.
    let survived = match fault {
        Fault::KillTandem | Fault::ReinstallTandem => served("dhcpd"),
        Fault::KillIsc | Fault::WipeIsc => served("tandem"),
        Fault::CutLink => served("dhcpd") || served("tandem"),
    };
    assert!(
        survived,
        "no new client served alone\n{}\n{}",
        read(&perf_log),
        read(&p.log)
    );
    match fault {
        Fault::KillTandem => p.restart_tandem(),
        Fault::ReinstallTandem => p.reinstall_tandem(),
        Fault::KillIsc => p.restart_isc(),
        Fault::WipeIsc => {
            std::fs::write(&p.isc_leases, "").unwrap();
            p.restart_isc();
        }
        Fault::CutLink => p.cut_link(false),
    }
    p.wait_normal(60);
    if fault == Fault::WipeIsc {
        // The session named dhcpd's database anew: the peer held back what
        // the lost one may have granted.
        let said = read(&p.log);
        assert!(said.contains("lease database is new to us"), "{said}");
    }
    p.check_every_ack_on_both(10);
}
