//! tandem as the secondary of a real ISC dhcpd 4.4 primary, and as the
//! primary of a real ISC secondary, over ISC's own
//! failover protocol (`[failover] protocol = "isc-draft12"`, issue 19):
//! both start empty, go through RECOVER (each asks the other for every
//! binding) to NORMAL; perfdhcp relays distinct clients to both, and each
//! server leases to the clients its hash share gives it. Then both sides
//! hold the same bindings: every active lease in dhcpd's own lease file
//! (read line by line) is active in `tandem leases` with the same MAC, and
//! the other way round, and each side granted some. The clients leave: every
//! lease ends on both sides alike, with no loop of refusals. And a link cut
//! with tandem in PARTNER-DOWN meanwhile resolves with dhcpd. Needs root, dhcpd and
//! perfdhcp (CI has them); elsewhere it says why and skips.

mod common;
#[path = "lab/isc.rs"]
mod isc;
#[path = "lab/netns.rs"]
mod netns;
#[path = "lab/setup.rs"]
mod setup;

use isc::{isc_state, last_blocks};
use netns::Lab;
use setup::{read, start_tandem, wait_for};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ISC: &str = "192.168.79.1";
const TANDEM: &str = "192.168.79.2";
const POOL: (&str, &str) = ("10.128.2.0", "10.128.2.31");
/// The pair's MCLT, seconds: tandem, meeting a database new to it, holds
/// back new grants this long (`Peer::hold_lost_grants`).
const MCLT: u64 = 20;

/// dhcpd.conf: the primary (with the MCLT and split), or the secondary.
fn dhcpd_conf(dir: &Path, primary: bool) -> PathBuf {
    let role = if primary {
        format!("primary;\n  mclt {MCLT};\n  split 128;")
    } else {
        "secondary;".to_string()
    };
    let text = format!(
        "authoritative;\nddns-update-style none;\nping-check false;\ndefault-lease-time 600;\nmax-lease-time 600;\n\
         failover peer \"lab\" {{\n  {role}\n  address {ISC};\n  port 647;\n  peer address {TANDEM};\n  peer port 647;\n  \
         max-response-delay 15;\n  max-unacked-updates 10;\n  load balance max seconds 3;\n}}\n\
         subnet 192.168.79.0 netmask 255.255.255.0 {{ }}\n\
         subnet 10.128.0.0 netmask 255.240.0.0 {{\n  option routers 10.128.0.1;\n  pool {{\n    failover peer \"lab\";\n    \
         range {} {};\n  }}\n}}\n",
        POOL.0, POOL.1
    );
    let p = dir.join("dhcpd.conf");
    std::fs::write(&p, text).unwrap();
    p
}

fn tandem_conf(dir: &Path, role: &str) -> PathBuf {
    let text = format!(
        "[server]\ninterfaces = [\"eth0\"]\nlease_db = \"{d}/tandem.sqlite\"\ncontrol_socket = \"{d}/t.sock\"\n\n\
         [failover]\nrole = \"{role}\"\nlisten = \"{TANDEM}\"\npeer = \"{ISC}\"\nprotocol = \"isc-draft12\"\n\
         relationship = \"lab\"\nmclt = \"{MCLT}s\"\nsplit = 128\nmax_response_delay = \"15s\"\n\n\
         [[subnet]]\ncidr = \"10.128.0.0/12\"\npools = [\"{}-{}\"]\nlease_time = \"600s\"\nrouters = [\"10.128.0.1\"]\n",
        POOL.0,
        POOL.1,
        d = dir.display()
    );
    let p = dir.join("tandem.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// tandem's active leases: address to MAC.
fn tandem_active(cfg: &Path) -> HashMap<String, String> {
    common::leases(cfg)
        .iter()
        .filter(|l| l["state"] == "active")
        .map(|l| {
            let mac = l["mac"].as_str().unwrap_or_default().to_string();
            (l["address"].as_str().unwrap().to_string(), mac)
        })
        .collect()
}

/// dhcpd's active leases, from its lease file: address to MAC.
fn isc_active(leases: &Path) -> HashMap<String, String> {
    last_blocks(&read(leases))
        .into_iter()
        .filter(|(_, b)| b.0 == "active")
        .map(|(a, b)| (a, b.1))
        .collect()
}

/// A state in words both sides share: "ended" for a binding that is
/// over, whatever its path (dhcpd turns an expired or released lease free,
/// or backup, once its partner knows, without telling it; tandem keeps
/// "expired", reusable once the partner knows).
fn common_word(state: &str) -> String {
    match state {
        "free" | "backup" | "expired" | "released" => "ended".into(),
        "abandoned" => "declined".into(),
        s => s.into(),
    }
}

/// tandem's state of every address.
fn states(cfg: &Path) -> HashMap<String, String> {
    common::leases(cfg)
        .iter()
        .map(|l| {
            let addr = l["address"].as_str().unwrap().to_string();
            (addr, common_word(l["state"].as_str().unwrap()))
        })
        .collect()
}

/// dhcpd's, from its lease file.
fn isc_states(leases: &Path) -> HashMap<String, String> {
    last_blocks(&read(leases))
        .into_iter()
        .map(|(a, b)| (a, common_word(&b.0)))
        .collect()
}

/// One round of 20 relayed clients (the same MACs each round), until
/// perfdhcp reports (the log is appended to, round after round).
fn perfdhcp_round(lab: &mut Lab, ns: &str, log: &Path) {
    let before = read(log).matches("Rate:").count();
    let args = [
        "perfdhcp",
        "-4",
        "-r",
        "10",
        "-R",
        "20",
        "-n",
        "20",
        "-p",
        "6",
        "-l",
        "10.128.0.1",
        "all",
    ];
    let pid = lab.spawn(ns, &args, log);
    wait_for("perfdhcp's report", Duration::from_secs(20), || {
        read(log).matches("Rate:").count() > before
    });
    lab.signal(pid, "TERM");
}

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

/// The lab of one run: dhcpd in one namespace, tandem in another, a
/// relay for perfdhcp in a third, both servers started and in NORMAL.
struct Pair {
    lab: Lab,
    dir: tempfile::TempDir,
    /// tandem's namespace, and perfdhcp's.
    tandem_ns: String,
    perf_ns: String,
    cfg: PathBuf,
    log: PathBuf,
    isc_log: PathBuf,
    isc_leases: PathBuf,
}

/// Starts the pair with tandem in `role` and both sides' silence timeout
/// `mrd` seconds, and waits until both are in NORMAL.
fn start_pair(role: &str, mrd: u64) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut lab = Lab::new(&format!("{}{mrd}", &role[..3]));
    let a = lab.host("a", "eth0", Some(&format!("{ISC}/24")), None);
    let b = lab.host("b", "eth0", Some(&format!("{TANDEM}/24")), None);
    let perf = lab.host("p", "eth0", Some("10.128.0.1/12"), None);
    for n in [&a, &b] {
        netns::route(n, &["10.128.0.0/12", "dev", "eth0"]);
    }
    netns::route(&perf, &["192.168.79.0/24", "dev", "eth0"]);
    let conf = dhcpd_conf(d, role == "secondary");
    let text = read(&conf).replace(
        "max-response-delay 15;",
        &format!("max-response-delay {mrd};"),
    );
    std::fs::write(&conf, text).unwrap();
    let (_, isc_leases, isc_log) = isc::dhcpd(&mut lab, &a, d, "dhcpd", &conf);
    let cfg = tandem_conf(d, role);
    let text = read(&cfg).replace(
        "max_response_delay = \"15s\"",
        &format!("max_response_delay = \"{mrd}s\""),
    );
    std::fs::write(&cfg, text).unwrap();
    let log = d.join("tandem.log");
    start_tandem(&mut lab, &b, &cfg, &log);
    wait_for("both in normal", Duration::from_secs(60), || {
        isc_state(&isc_log).as_deref() == Some("normal")
            && common::status(&cfg).is_some_and(|s| s["state"] == "normal")
    });
    Pair {
        lab,
        dir,
        tandem_ns: b,
        perf_ns: perf,
        cfg,
        log,
        isc_log,
        isc_leases,
    }
}

/// tandem in `role` (dhcpd in the other) through the whole run the module
/// doc tells.
fn pair_with_isc(test: &str, role: &str) {
    if let Some(why) = netns::unavailable(&["ip", "dhcpd", "perfdhcp"]) {
        eprintln!("SKIPPED {test}: {why}");
        return;
    }
    let Pair {
        mut lab,
        dir,
        perf_ns: perf,
        cfg,
        log,
        isc_log,
        isc_leases,
        ..
    } = start_pair(role, 15);
    let d = dir.path();
    let tandem_log = read(&log);
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
    assert!(read(&isc_log).contains("peer moves from recover-done to normal"));
    // tandem grants only once MCLT has passed since it met the new
    // database; until then (and after) ISC's share is served by ISC.
    let perf_log = d.join("perfdhcp.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(MCLT * 4);
    loop {
        perfdhcp_round(&mut lab, &perf, &perf_log);
        let held = tandem_active(&cfg).len();
        let granted_here = read(&log).matches("verdict=Ack(10.128.2.").count();
        if granted_here > 0 && held > granted_here {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no lease from each side: tandem granted {granted_here} and holds {held}\n{}\n{}",
            read(&perf_log),
            read(&log)
        );
    }
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
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (ours, theirs) = (states(&cfg), isc_states(&isc_leases));
        let differ: Vec<_> = theirs
            .iter()
            .filter(|(a, s)| ours.get(*a) != Some(*s))
            .map(|(a, s)| (a.clone(), s.clone(), ours.get(a).cloned()))
            .collect();
        if differ.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "(address, dhcpd, tandem) differ: {differ:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The link is cut; tandem, the secondary, is put in PARTNER-DOWN by the
/// operator; the link comes back. dhcpd resolves the conflict its way
/// (POTENTIAL-CONFLICT, then CONFLICT-DONE as the primary) and tandem
/// follows it to NORMAL, never telling dhcpd a state it exits on (tandem's
/// own CONFLICT-DONE, which a dhcpd in CONFLICT-DONE takes for a fatal
/// error).
#[test]
fn a_conflict_after_partner_down_resolves_with_isc() {
    let test = "a_conflict_after_partner_down_resolves_with_isc";
    if let Some(why) = netns::unavailable(&["ip", "dhcpd", "perfdhcp"]) {
        eprintln!("SKIPPED {test}: {why}");
        return;
    }
    let p = start_pair("secondary", 4);
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
    for step in [
        "peer moves from partner-down to potential-conflict",
        "I move from potential-conflict to conflict-done",
        "I move from conflict-done to normal",
    ] {
        assert!(
            isc_said.contains(step),
            "{step} in dhcpd's log:\n{isc_said}"
        );
    }
    assert!(!isc_said.contains("shut"), "dhcpd shut down:\n{isc_said}");
}
