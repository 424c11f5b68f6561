//! What crossed a link, as tshark (an independent dissector) read it: a
//! capture on one namespace's interface for the length of a test, then
//! the DHCP messages in it, field by field.
#![allow(dead_code)]

use super::netns::Lab;
use super::setup::{read, wait_for};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One DHCP message in a capture.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub src: String,
    pub dst: String,
    /// Option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, 6 NAK, 7 RELEASE.
    pub kind: u8,
    pub ciaddr: String,
    pub yiaddr: String,
    pub giaddr: String,
    /// Option 50, empty if absent.
    pub requested: String,
    /// Option 54, empty if absent.
    pub server_id: String,
    pub xid: String,
    /// Seconds since the Unix epoch, as captured.
    pub time: f64,
    pub chaddr: String,
    /// Option 51 in seconds, 0 if absent.
    pub lease: u64,
}

impl Seen {
    /// A REQUEST in the RENEWING state: unicast from the client's own
    /// address (RFC 2131 section 4.3.2).
    pub fn is_renewing(&self, addr: &str) -> bool {
        self.kind == 3 && self.ciaddr == addr && self.src == addr && self.giaddr == "0.0.0.0"
    }

    /// A REQUEST in the REBINDING state: ciaddr filled, sent by broadcast
    /// (or relayed, when a relay carries the broadcast).
    pub fn is_rebinding(&self, addr: &str) -> bool {
        self.kind == 3
            && self.ciaddr == addr
            && self.server_id.is_empty()
            && (self.dst == "255.255.255.255" || self.giaddr != "0.0.0.0")
    }

    /// A REQUEST in the INIT-REBOOT state: no ciaddr, option 50, no
    /// option 54.
    pub fn is_init_reboot(&self, addr: &str) -> bool {
        self.kind == 3
            && self.ciaddr == "0.0.0.0"
            && self.requested == addr
            && self.server_id.is_empty()
    }
}

pub struct Capture {
    pid: u32,
    ns: String,
    pcap: PathBuf,
}

impl Capture {
    /// Starts tshark on `iface` in `ns`, DHCP server port only, for at
    /// most `secs` seconds; returns once it captures.
    pub fn start(lab: &mut Lab, ns: &str, iface: &str, dir: &Path, secs: u32) -> Capture {
        let pcap = dir.join(format!("{ns}-{iface}.pcap"));
        let log = dir.join(format!("{ns}-{iface}.tshark.log"));
        let duration = format!("duration:{secs}");
        let pid = lab.spawn(
            ns,
            &[
                "tshark",
                "-i",
                iface,
                "-f",
                "udp port 67",
                "-w",
                pcap.to_str().unwrap(),
                "-a",
                &duration,
                "-q",
            ],
            &log,
        );
        wait_for("tshark to capture", Duration::from_secs(15), || {
            read(&log).contains("Capturing on")
        });
        Capture {
            pid,
            ns: ns.to_string(),
            pcap,
        }
    }

    /// Stops the capture and returns every DHCP message in it, after
    /// checking that tshark found none malformed.
    pub fn stop(self, lab: &mut Lab) -> Vec<Seen> {
        // dumpcap hands packets to the file in batches: the last ones
        // would be lost to an immediate stop.
        std::thread::sleep(Duration::from_secs(1));
        lab.signal(self.pid, "INT");
        let pcap = self.pcap.to_str().unwrap();
        let bad = tshark(
            lab,
            &self.ns,
            &[
                "-r",
                pcap,
                "-Y",
                "dhcp && (_ws.malformed || _ws.expert.severity >= warning)",
            ],
        );
        assert!(
            bad.trim().is_empty(),
            "tshark finds these DHCP messages malformed:\n{bad}"
        );
        let fields = [
            "ip.src",
            "ip.dst",
            "dhcp.option.dhcp",
            "dhcp.ip.client",
            "dhcp.ip.your",
            "dhcp.ip.relay",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
            "dhcp.id",
            "frame.time_epoch",
            "dhcp.hw.mac_addr",
            "dhcp.option.ip_address_lease_time",
        ];
        let mut args = vec![
            "-r",
            pcap,
            "-Y",
            "dhcp",
            "-T",
            "fields",
            "-E",
            "separator=|",
        ];
        for f in &fields {
            args.extend(["-e", f]);
        }
        tshark(lab, &self.ns, &args)
            .lines()
            .map(|l| {
                // A field that occurs twice in a packet comes as "a,b".
                let f: Vec<String> = l
                    .split('|')
                    .map(|v| v.split(',').next().unwrap_or("").to_string())
                    .collect();
                Seen {
                    src: f[0].clone(),
                    dst: f[1].clone(),
                    kind: f[2].parse().unwrap_or(0),
                    ciaddr: f[3].clone(),
                    yiaddr: f[4].clone(),
                    giaddr: f[5].clone(),
                    requested: f[6].clone(),
                    server_id: f[7].clone(),
                    xid: f[8].clone(),
                    time: f[9].parse().unwrap_or(0.0),
                    chaddr: f[10].clone(),
                    lease: f[11].parse().unwrap_or(0),
                }
            })
            .collect()
    }
}

fn tshark(lab: &Lab, ns: &str, args: &[&str]) -> String {
    let mut full = vec!["tshark"];
    full.extend_from_slice(args);
    let out = lab.exec(ns, &full);
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Every address that was ACKed to one client while another still held
/// it by an earlier ACK (RFC 2131's first rule: an address is bound to one
/// client at a time), as "addr: client until t, then client at t".
/// A RELEASE by the earlier holder ends its hold.
pub fn double_acks(seen: &[Seen]) -> Vec<String> {
    let mut held: std::collections::HashMap<&str, (&str, f64)> = Default::default();
    let mut found = vec![];
    let mut ordered: Vec<&Seen> = seen.iter().collect();
    ordered.sort_by(|a, b| a.time.total_cmp(&b.time));
    for s in ordered {
        match s.kind {
            5 if s.yiaddr != "0.0.0.0" => {
                if let Some((who, until)) = held.get(s.yiaddr.as_str())
                    && *who != s.chaddr
                    && *until > s.time
                {
                    found.push(format!(
                        "{}: {who} until {until}, then {} at {}",
                        s.yiaddr, s.chaddr, s.time
                    ));
                }
                held.insert(&s.yiaddr, (&s.chaddr, s.time + s.lease as f64));
            }
            7 if held
                .get(s.ciaddr.as_str())
                .is_some_and(|(who, _)| *who == s.chaddr) =>
            {
                held.remove(s.ciaddr.as_str());
            }
            _ => {}
        }
    }
    found
}

/// Whether `seen` holds a request matching `is` that the server answered
/// with an ACK of `addr` (the same transaction, later in the capture).
pub fn acked(seen: &[Seen], addr: &str, is: impl Fn(&Seen) -> bool) -> bool {
    seen.iter().enumerate().any(|(i, r)| {
        is(r)
            && seen[i..]
                .iter()
                .any(|a| a.kind == 5 && a.xid == r.xid && a.yiaddr == addr)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(t: f64, addr: &str, mac: &str, lease: u64) -> Seen {
        Seen {
            src: "192.168.77.1".into(),
            dst: addr.into(),
            kind: 5,
            ciaddr: "0.0.0.0".into(),
            yiaddr: addr.into(),
            giaddr: "0.0.0.0".into(),
            requested: String::new(),
            server_id: "192.168.77.1".into(),
            xid: "0x1".into(),
            time: t,
            chaddr: mac.into(),
            lease,
        }
    }

    /// The checker the pair's fault tests rest on finds a double
    /// allocation, and only one.
    #[test]
    fn double_acks_finds_an_address_given_twice() {
        let (a, b) = ("02:00:00:00:00:0a", "02:00:00:00:00:0b");
        let given_twice = [ack(10.0, "10.0.0.5", a, 20), ack(25.0, "10.0.0.5", b, 20)];
        assert_eq!(double_acks(&given_twice).len(), 1);
        let after_expiry = [ack(10.0, "10.0.0.5", a, 20), ack(31.0, "10.0.0.5", b, 20)];
        assert!(double_acks(&after_expiry).is_empty());
        let renewed = [ack(10.0, "10.0.0.5", a, 20), ack(25.0, "10.0.0.5", a, 20)];
        assert!(double_acks(&renewed).is_empty());
        let mut release = ack(12.0, "10.0.0.5", a, 0);
        release.kind = 7;
        release.ciaddr = "10.0.0.5".into();
        let released = [
            ack(10.0, "10.0.0.5", a, 20),
            release,
            ack(13.0, "10.0.0.5", b, 20),
        ];
        assert!(double_acks(&released).is_empty());
    }
}
