//! The benchmark's reading of perfdhcp's output (`benches/anchors/perf.rs`,
//! whose tests come along) and of its captures and client logs
//! (`benches/anchors/reading.rs`), tested here because the bench itself
//! has no test harness.

#[path = "lab/capture.rs"]
mod capture;
mod common;
#[path = "lab/netns.rs"]
mod netns;
#[allow(dead_code)]
#[path = "../benches/anchors/perf.rs"]
mod perf;
#[path = "../benches/anchors/reading.rs"]
mod reading;
#[path = "lab/setup.rs"]
mod setup;

use capture::Seen;

/// A message of `kind` (option 53) from or to client `mac` at `time`.
fn msg(kind: u8, mac: u8, time: f64) -> Seen {
    Seen {
        src: String::new(),
        dst: String::new(),
        kind,
        ciaddr: "0.0.0.0".into(),
        yiaddr: "0.0.0.0".into(),
        giaddr: "0.0.0.0".into(),
        requested: String::new(),
        server_id: String::new(),
        xid: String::new(),
        time,
        chaddr: format!("02:00:00:00:00:{mac:02x}"),
        lease: 0,
    }
}

#[test]
fn new_clients_count_as_served_from_the_last_bad_second_on() {
    // Fault at 100, heal at 110. Client 1 (DISCOVER at 100.5) waits 5 s;
    // clients 2.. (one a second from 103) are answered in 0.1 s.
    let mut seen = vec![msg(1, 1, 100.5), msg(5, 1, 105.5)];
    for (i, t) in (103..108).enumerate() {
        let t = t as f64;
        seen.extend([msg(1, 2 + i as u8, t), msg(5, 2 + i as u8, t + 0.1)]);
    }
    let (served, new) = reading::served_from(&seen, 100.0, 110.0, 2.0);
    assert_eq!(served, Some(1.0));
    assert_eq!(new, 6);
    // Nobody waited: served from the fault on.
    let (served, _) = reading::served_from(&seen[2..], 100.0, 110.0, 2.0);
    assert_eq!(served, Some(0.0));
    // The last judged second is bad: not before the heal.
    seen.extend([msg(1, 40, 107.2)]);
    let (served, _) = reading::served_from(&seen, 100.0, 110.0, 2.0);
    assert_eq!(served, None);
}

#[test]
fn delays_pair_each_clients_first_question_and_answer() {
    let mut seen = Vec::new();
    for c in 0..100u8 {
        let at = f64::from(c);
        // One slow answer in a hundred; an unanswered client is left out.
        let d = if c == 99 {
            0.5
        } else {
            0.001 * f64::from(1 + c % 3)
        };
        seen.extend([msg(1, c, at), msg(2, c, at + d), msg(2, c, at + 9.0)]);
    }
    seen.push(msg(1, 200, 5.0));
    let [p50, p99] = reading::delays(&seen, 1, 2);
    assert!((p50 - 2.0).abs() < 1e-6, "{p50}");
    assert!((p99 - 500.0).abs() < 1e-6, "{p99}");
    assert_eq!(reading::delays(&[], 1, 2), [0.0, 0.0]);
}

#[test]
fn dhclients_first_retransmission_is_read_from_its_log() {
    let log = "Listening on LPF/eth0/02:5e:00:00:10:00\n\
        DHCPDISCOVER on eth0 to 255.255.255.255 port 67 interval 7\n\
        DHCPDISCOVER on eth0 to 255.255.255.255 port 67 interval 18\n\
        DHCPOFFER of 10.128.131.253 from 10.128.0.2\n";
    assert_eq!(reading::first_retransmission(log), Some(7.0));
    assert_eq!(reading::first_retransmission("no discover here"), None);
}
