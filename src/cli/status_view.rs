//! `tandem status` for a person: this server and its partner as it sees
//! it, then one line per pool, on one 80-column screen. Rendered from the
//! `status --json` object, so both views say the same.

use serde_json::Value;

/// Columns the screen fits in.
pub const WIDTH: usize = 80;

/// Pools shown before the rest are summed up in one line.
const MAX_POOLS: usize = 10;

/// The states a pool line counts, in column order.
const STATES: [&str; 4] = ["active", "expired", "released", "declined"];

/// The screen for the status object `v`.
pub fn render(v: &Value) -> String {
    let mut out = Vec::new();
    head(v, &mut out);
    pools(v, &mut out);
    let mut s = out
        .iter()
        .flat_map(|l| wrap(l))
        .collect::<Vec<_>>()
        .join("\n");
    s.push('\n');
    s
}

/// `line` broken at spaces into lines of at most `WIDTH` columns, the
/// continuations indented under the value column.
fn wrap(line: &str) -> Vec<String> {
    const INDENT: &str = "           ";
    let mut out: Vec<String> = Vec::new();
    let mut cur: Option<String> = None;
    for word in line.split(' ') {
        cur = Some(match cur {
            None => word.to_string(),
            Some(c)
                if c.chars().count() + 1 + word.chars().count() <= WIDTH || c.trim().is_empty() =>
            {
                format!("{c} {word}")
            }
            Some(c) => {
                out.push(c);
                format!("{INDENT}{word}")
            }
        });
    }
    out.extend(cur);
    out
}

fn text(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        x => x.to_string(),
    }
}

/// Seconds as "3d 4h", "2h 5m", "4m 10s" or "9s".
fn ago(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn head(v: &Value, out: &mut Vec<String>) {
    let role = match &v["role"] {
        Value::String(r) => format!(" ({r})"),
        _ => String::new(),
    };
    out.push(format!(
        "tandem {}{role}, up {}",
        text(v, "server"),
        ago(v["uptime"].as_u64().unwrap_or(0))
    ));
    let state = text(v, "state").to_uppercase();
    match v["since"].as_str() {
        Some(since) => {
            let held = ago(v["time_in_state"].as_u64().unwrap_or(0));
            out.push(format!("  state    {state} since {since} ({held})"));
        }
        None => out.push(format!("  state    {state}")),
    }
    out.push(format!("  serving  {}", text(v, "serving")));
    if v["role"].is_string() {
        partner(v, out);
    }
    out.push(format!("  leases   {} records", text(v, "leases")));
    if let Some(t) = v["relearn_until"].as_str() {
        out.push(format!(
            "  RELEARN  lost database: no new address until {t}"
        ));
    }
    if let Some(a) = v["alarm"].as_str() {
        out.push(format!("  ALARM    {a}"));
    }
}

fn partner(v: &Value, out: &mut Vec<String>) {
    let link = if v["connected"] == true {
        "connected"
    } else {
        "NOT CONNECTED"
    };
    let name = v["partner_name"].as_str().unwrap_or("partner");
    let pstate = v["partner_state"]
        .as_str()
        .map_or("unknown".into(), str::to_uppercase);
    out.push(format!(
        "  partner  {name}: {pstate}, {link}, last contact {}",
        text(v, "last_contact")
    ));
    let clock = match v["clock_offset_range_s"].as_array().map(Vec::as_slice) {
        Some([lo, hi]) => format!("partner - this server in [{lo}, {hi}] s"),
        _ => "not measured yet".into(),
    };
    out.push(format!("  clock    {clock}"));
    out.push(format!(
        "  updates  {} unacknowledged by the partner",
        text(v, "unacked_updates")
    ));
    if let Some(t) = v["partner_down_since"].as_str() {
        out.push(format!("  PARTNER-DOWN declared at {t}"));
    }
}

/// A count in at most 7 columns: 9999999, then 12.3M.
fn count(n: u64) -> String {
    if n < 10_000_000 {
        n.to_string()
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

fn pools(v: &Value, out: &mut Vec<String>) {
    let Some(list) = v["pools"].as_array().filter(|l| !l.is_empty()) else {
        return;
    };
    out.push(String::new());
    out.push(format!(
        "{:<31} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "pool", "free:pri", "sec", "active", "expired", "releas.", "declin."
    ));
    for p in list.iter().take(MAX_POOLS) {
        let n = |k: &str| count(p[k].as_u64().unwrap_or(0));
        let held = STATES.map(|s| count(p["leases"][s].as_u64().unwrap_or(0)));
        let range = text(p, "range");
        out.push(format!(
            "{:<31} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}",
            range.chars().take(31).collect::<String>(),
            n("free_primary"),
            n("free_secondary"),
            held[0],
            held[1],
            held[2],
            held[3]
        ));
    }
    if list.len() > MAX_POOLS {
        out.push(format!(
            "... and {} more pools (`tandem status --json`)",
            list.len() - MAX_POOLS
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair() -> Value {
        json!({
            "server": "dhcp-a", "role": "primary", "uptime": 7300, "state": "normal",
            "since": "2026-12-01T10:00:00Z", "time_in_state": 3700,
            "serving": "its hash share of new clients, and every renewal",
            "partner_name": "dhcp-b", "partner_state": "normal", "connected": true,
            "last_contact": "2026-12-01T11:01:39Z", "clock_offset_range_s": [-1, 1],
            "unacked_updates": 0, "leases": 1234,
            "pools": (0..12).map(|i| json!({
                "pool": i, "range": format!("10.20.{i}.10-10.20.{i}.250"), "subnet": "10.20.0.0/16",
                "free_primary": 100, "free_secondary": 99,
                "leases": {"active": 40, "expired": 1}
            })).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn a_pair_fits_one_screen_with_both_peers_and_its_pools() {
        let s = render(&pair());
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() <= 24, "{s}");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{s}");
        assert_eq!(lines[0], "tandem dhcp-a (primary), up 2h 1m");
        assert!(
            s.contains("state    NORMAL since 2026-12-01T10:00:00Z (1h 1m)"),
            "{s}"
        );
        assert!(
            s.contains("partner  dhcp-b: NORMAL, connected, last contact 2026-12-01T11:01:39Z")
        );
        assert!(s.contains("partner - this server in [-1, 1] s"));
        assert!(s.contains("10.20.0.10-10.20.0.250"), "{s}");
        assert!(s.contains("... and 2 more pools"), "{s}");
        assert_eq!(
            count(16_777_214),
            "16.8M",
            "a /8 pool's free count stays in its column"
        );
        let row = lines.iter().find(|l| l.starts_with("10.20.3.10")).unwrap();
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[1..], ["100", "99", "40", "1", "0", "0"]);
    }

    #[test]
    fn a_long_line_wraps_under_its_value() {
        let long = "renewals only: resumed partner-down after a restart without reaching the partner; run `tandem partner-down` again if it is still down";
        let v = json!({"server": "s", "state": "partner-down", "serving": long, "leases": 0, "uptime": 1});
        let s = render(&v);
        assert!(s.lines().all(|l| l.chars().count() <= WIDTH), "{s}");
        assert!(s.contains("  serving  renewals only:"), "{s}");
        assert!(
            s.contains("\n           "),
            "continued under the value: {s}"
        );
        assert_eq!(
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .matches("still down")
                .count(),
            1
        );
    }

    #[test]
    fn a_server_alone_shows_no_partner_and_an_alarm_stands_out() {
        let mut v = json!({"server": "solo", "state": "standalone", "serving": "every client", "leases": 3, "uptime": 5});
        let s = render(&v);
        assert!(!s.contains("partner"), "{s}");
        v["alarm"] = "clock offset 12 s".into();
        assert!(render(&v).contains("  ALARM    clock offset 12 s"));
    }
}
