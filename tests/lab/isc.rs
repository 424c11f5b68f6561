//! ISC dhcpd in the lab: its failover state from its log and its lease
//! file's last blocks, read line by line (never with tandem's parser, so
//! the tests compare tandem with dhcpd's own word).

use std::collections::HashMap;
use std::path::Path;

/// dhcpd's failover state from its log: the latest "I move from X to Y".
pub fn isc_state(log: &Path) -> Option<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.contains("I move from"))
        .and_then(|l| l.rsplit(" to ").next())
        .map(|s| s.trim().to_string())
}

/// Each address's last block in a dhcpd.leases, read line by line (not
/// with tandem's parser): binding state, MAC and the `ends` text.
pub fn last_blocks(text: &str) -> HashMap<String, (String, String, String)> {
    let mut out = HashMap::new();
    let mut cur: Option<(String, String, String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("lease ") {
            let addr = rest.trim_end_matches(" {").to_string();
            cur = Some((addr, String::new(), String::new(), String::new()));
        } else if let Some(c) = cur.as_mut() {
            if let Some(s) = line.strip_prefix("binding state ") {
                c.1 = s.trim_end_matches(';').to_string();
            } else if let Some(m) = line.strip_prefix("hardware ethernet ") {
                c.2 = m.trim_end_matches(';').to_string();
            } else if let Some(e) = line.strip_prefix("ends ") {
                c.3 = e.trim_end_matches(';').to_string();
            } else if line == "}" {
                let (a, s, m, e) = cur.take().unwrap();
                out.insert(a, (s, m, e));
            }
        }
    }
    out
}

/// `dhcpd -4` in `ns` on `conf`, with an empty lease file and a log in
/// `dir` named after `name`, in the foreground as a child of the lab
/// (killed by PID with it). Returns (pid, lease file, log).
pub fn dhcpd(
    lab: &mut super::netns::Lab,
    ns: &str,
    dir: &Path,
    name: &str,
    conf: &Path,
) -> (u32, std::path::PathBuf, std::path::PathBuf) {
    std::fs::write(dir.join(format!("{name}.leases")), "").unwrap();
    dhcpd_again(lab, ns, dir, name, conf)
}

/// [`dhcpd`] on the lease file and log it left (a restart: dhcpd reads
/// its bindings and failover state back from the file; the log is
/// appended to).
pub fn dhcpd_again(
    lab: &mut super::netns::Lab,
    ns: &str,
    dir: &Path,
    name: &str,
    conf: &Path,
) -> (u32, std::path::PathBuf, std::path::PathBuf) {
    let leases = dir.join(format!("{name}.leases"));
    let pid = dir.join(format!("{name}.pid"));
    let log = dir.join(format!("{name}.log"));
    let s = |p: &Path| p.display().to_string();
    let (cf, lf, pf) = (s(conf), s(&leases), s(&pid));
    let args = [
        "dhcpd", "-4", "-f", "-d", "-cf", &cf, "-lf", &lf, "-pf", &pf, "eth0",
    ];
    let child = lab.spawn(ns, &args, &log);
    (child, leases, log)
}
