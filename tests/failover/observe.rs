//! What a person or a monitor sees of a live pair (issue 16): its metrics
//! scrape, the shipped Grafana dashboard's queries against it, and
//! `tandem status` in an 80x24 terminal.

use crate::common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// Adds `server.metrics` on a free loopback port to the config at `cfg`.
pub fn add_metrics(cfg: &Path) -> u16 {
    let port = free_port_tcp();
    let text = std::fs::read_to_string(cfg).unwrap().replacen(
        "[server]\n",
        &format!("[server]\nmetrics = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(cfg, text).unwrap();
    port
}

/// A live server's metrics (issue 16): every family there, the pair in
/// NORMAL on both sides, `leases` leases held, every address accounted for,
/// binding updates flowing both ways and commits timed.
pub fn check_metrics(port: u16, leases: usize) {
    let text = scrape(port);
    let families = [
        "process_start_time_seconds",
        "tandem_build_info",
        "tandem_dhcp_received_total",
        "tandem_dhcp_dropped_total",
        "tandem_dhcp_ignored_total",
        "tandem_dhcp_replies_total",
        "tandem_dhcp_send_errors_total",
        "tandem_leases",
        "tandem_free_addresses",
        "tandem_failover_state",
        "tandem_failover_partner_state",
        "tandem_failover_connected",
        "tandem_failover_state_since_seconds",
        "tandem_failover_last_contact_age_seconds",
        "tandem_failover_clock_offset_seconds",
        "tandem_failover_unacked_updates",
        "tandem_failover_messages_total",
        "tandem_failover_binding_updates_total",
        "tandem_failover_binding_rejects_total",
        "tandem_journal_commits_total",
        "tandem_journal_commit_duration_seconds_bucket",
        "tandem_journal_commit_leases_bucket",
        "tandem_parked_replies",
    ];
    for f in families {
        assert!(
            text.lines().any(|l| l.starts_with(f)),
            "no {f} on port {port}:\n{text}"
        );
    }
    let sum = |prefix: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert_eq!(
        sum("tandem_failover_state{state=\"normal\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(sum("tandem_failover_partner_state{state=\"normal\"}"), 1.0);
    assert_eq!(sum("tandem_failover_connected "), 1.0);
    assert_eq!(sum("tandem_leases{"), leases as f64, "{text}");
    assert_eq!(
        sum("tandem_leases{") + sum("tandem_free_addresses{"),
        240.0,
        "every pool address is leased or free"
    );
    for dir in ["sent", "received"] {
        let k = format!("tandem_failover_binding_updates_total{{direction=\"{dir}\"}}");
        assert!(sum(&k) > 0.0, "{k}: {text}");
    }
    assert!(sum("tandem_journal_commit_duration_seconds_count") > 0.0);
    assert!(sum("tandem_dhcp_received_total{type=\"discover\"}") > 0.0);
    dashboard_names_exported_series(&text);
}

/// Every series a query of the shipped Grafana dashboard names is one the
/// server exports (`packaging/grafana-dashboard.json`).
fn dashboard_names_exported_series(scrape: &str) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/grafana-dashboard.json"
    );
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries: Vec<String> = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            queries.push(t["expr"].as_str().unwrap().to_string());
        }
    }
    for v in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["query"].as_str() {
            queries.push(q.to_string());
        }
    }
    let mut names = BTreeSet::new();
    for q in &queries {
        let tokens = q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        names.extend(
            tokens
                .filter(|t| t.starts_with("tandem_") || t.starts_with("process_"))
                .map(str::to_string),
        );
    }
    assert!(names.len() >= 15, "the dashboard queries {names:?}");
    for n in &names {
        let exported = scrape.lines().any(|l| {
            l.strip_prefix(n.as_str())
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        });
        assert!(
            exported,
            "the dashboard queries {n}, which the server does not export"
        );
    }
}

/// `tandem status` as a person sees it in an 80x24 terminal (tmux): both
/// peers and the pool on one screen, no line wrapped.
pub fn check_status_screen(cfg: &Path) {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED the status screen check: tmux is not installed (.ci/run installs it)");
        return;
    }
    let server = format!("tandem-status-{}", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .args(["-L", &server])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        tmux(&[
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            "st",
            "sh"
        ])
        .status
        .success()
    );
    let cmd = format!("clear; {BIN} status -c {}", cfg.display());
    tmux(&["send-keys", "-t", "st", &cmd, "Enter"]);
    let t0 = Instant::now();
    let screen = loop {
        let shown =
            String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "st"]).stdout).into_owned();
        if shown.contains("10.99.0.10-10.99.0.249") || t0.elapsed() > Duration::from_secs(10) {
            break shown;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    tmux(&["kill-server"]);
    for want in [
        "tandem a (primary), up ",
        "  state    NORMAL since ",
        "  partner  b: NORMAL, connected, last contact ",
        "  clock    partner - this server in [",
        "  updates  0 unacknowledged by the partner",
        "pool                            free:pri     sec  active expired releas. declin.",
    ] {
        assert!(
            screen.lines().any(|l| l.starts_with(want)),
            "no line starting {want:?} on the screen:\n{screen}"
        );
    }
    let row = screen
        .lines()
        .find(|l| l.starts_with("10.99.0.10-10.99.0.249"))
        .unwrap_or_else(|| panic!("no pool line:\n{screen}"));
    let cols: Vec<u64> = row
        .split_whitespace()
        .skip(1)
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(cols.len(), 6, "{row}");
    assert_eq!(
        cols[0] + cols[1] + cols[2] + cols[3] + cols[4] + cols[5],
        240,
        "{row}"
    );
}
