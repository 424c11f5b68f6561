//! What an operator (or a client) does to the ISC lab pair
//! (`isc_pair::Pair`): re-install tandem, put dhcpd in PARTNER-DOWN with
//! omshell, decline a lease at one server.
#![allow(dead_code)]

use super::common;
use super::isc::isc_state;
use super::isc_pair::Pair;
use super::netns;
use super::setup::{read, start_tandem};
use dhcproto::v4;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Duration;

impl Pair {
    /// tandem re-installed: its database deleted, `tandem init` and
    /// started again (in RECOVER, it learns every binding from dhcpd).
    pub fn reinstall_tandem(&mut self) {
        for f in std::fs::read_dir(self.dir.path()).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("tandem.sqlite") {
                std::fs::remove_file(&f).unwrap();
            }
        }
        let (ns, cfg, log) = (&self.tandem_ns, &self.cfg, &self.log);
        self.tandem_pid = start_tandem(&mut self.lab, ns, cfg, log);
    }

    /// A relayed client `mac` takes a lease from the server at `server`
    /// alone (its `secs` past load balancing, so that either answers) and
    /// declines it; returns the address.
    pub fn decline_at(&self, server: &str, mac: [u8; 6], xid: u32) -> Ipv4Addr {
        let to: Ipv4Addr = server.parse().unwrap();
        let relay = netns::inside(&self.perf_ns, move || common::Relay {
            sock: {
                let s = UdpSocket::bind((Ipv4Addr::new(10, 128, 0, 1), 67)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(300)))
                    .unwrap();
                s
            },
            addr: Ipv4Addr::new(10, 128, 0, 1),
            server: SocketAddrV4::new(to, 67),
        });
        let link = Ipv4Addr::new(10, 128, 0, 1);
        let late = |mut m: v4::Message| {
            m.set_secs(60);
            m
        };
        // Up to 20 s: a server may hold its free addresses back a while
        // after pairing.
        let discover = late(relay.msg(v4::MessageType::Discover, mac, xid, link));
        let offer = relay.exchange(&discover, 40);
        let offer = offer.unwrap_or_else(|| panic!("no offer from {server}"));
        let addr = offer.yiaddr();
        let mut req = late(relay.msg(v4::MessageType::Request, mac, xid + 1, link));
        req.opts_mut().insert(v4::DhcpOption::ServerIdentifier(to));
        req.opts_mut()
            .insert(v4::DhcpOption::RequestedIpAddress(addr));
        let ack = relay
            .exchange(&req, 10)
            .unwrap_or_else(|| panic!("no ack from {server}"));
        assert_eq!(ack.opts().msg_type(), Some(v4::MessageType::Ack), "{ack:?}");
        let mut decline = relay.msg(v4::MessageType::Decline, mac, xid + 2, link);
        decline
            .opts_mut()
            .insert(v4::DhcpOption::ServerIdentifier(to));
        decline
            .opts_mut()
            .insert(v4::DhcpOption::RequestedIpAddress(addr));
        relay.send(&decline);
        addr
    }

    /// The operator puts dhcpd in PARTNER-DOWN with omshell (OMAPI's
    /// failover-state, local-state 4: dhcpd 4.4 numbers states as the
    /// draft does, not as omshell(1)'s old list, where 1 is now STARTUP),
    /// and waits until its log says so.
    pub fn isc_partner_down(&self) {
        let script = self.dir.path().join("omshell.txt");
        let text = "server 127.0.0.1\nport 7911\nconnect\nnew failover-state\n\
                    set name = \"lab\"\nopen\nset local-state = 4\nupdate\n";
        std::fs::write(&script, text).unwrap();
        let sh = format!("omshell < {}", script.display());
        let out = self.lab.exec(&self.isc_ns, &["sh", "-c", &sh]);
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success() && !said.contains("can't"),
            "omshell: {said}"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while isc_state(&self.isc_log).as_deref() != Some("partner-down") {
            assert!(
                std::time::Instant::now() < deadline,
                "dhcpd not in partner-down; omshell said:\n{said}\n{}",
                read(&self.isc_log)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
