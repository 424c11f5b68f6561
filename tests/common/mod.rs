//! Helpers for tests that run real `tandem` processes: a server handle that is
//! killed on drop, and a relay agent on loopback that speaks DHCP with dhcproto.
#![allow(dead_code)]

use dhcproto::{Decodable, Encodable, v4};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tandem");

/// A free UDP port on loopback, picked by the kernel.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free TCP port on loopback, picked by the kernel.
pub fn free_port_tcp() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Option<Child>,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// `tandem init` (a no-op on an existing database), then `serve`.
    pub fn start(config: &Path, log: &Path) -> Server {
        Server::start_with(config, log, &["--log", "tandem=debug"], &[])
    }

    /// `tandem init`, then `serve` with `args` added and `env` set.
    pub fn start_with(config: &Path, log: &Path, args: &[&str], env: &[(&str, &Path)]) -> Server {
        let init = Command::new(BIN)
            .args(["init", "-c"])
            .arg(config)
            .output()
            .expect("run tandem init");
        assert!(
            init.status.success(),
            "tandem init: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        Server::spawn(config, log, args, env)
    }

    /// `serve` without `init`: a missing database is then a lost one.
    pub fn start_lost(config: &Path, log: &Path) -> Server {
        Server::spawn(config, log, &["--log", "tandem=debug"], &[])
    }

    fn spawn(config: &Path, log: &Path, args: &[&str], env: &[(&str, &Path)]) -> Server {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(BIN)
            .args(["serve", "-c"])
            .arg(config)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v.as_os_str())))
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("spawn tandem");
        Server {
            child: Some(child),
            config: config.into(),
            log: log.into(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// SIGTERM and wait; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let mut c = self.child.take().unwrap();
        unsafe_kill(c.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s.success();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `timeout` for the server to exit on its own; its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(s) = self.child.as_mut()?.try_wait().unwrap() {
                self.child = None;
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        let mut c = self.child.take().unwrap();
        let _ = c.kill();
        let _ = c.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn unsafe_kill(pid: i32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// `tandem ARGS -c CONFIG`, which must succeed; what it printed on stdout.
/// A failure panics with both of its outputs.
pub fn tandem_ok(args: &[&str], config: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("-c")
        .arg(config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "tandem {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `tandem leases --json` parsed.
pub fn leases(config: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&tandem_ok(&["leases", "--json"], config)).unwrap()
}

/// `tandem status --json` of the server running `config`, if it answers.
pub fn status(config: &Path) -> Option<serde_json::Value> {
    let out = Command::new(BIN)
        .args(["status", "--json", "-c"])
        .arg(config)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// Waits up to `timeout` for the server running `config` to report failover
/// state `want`; returns how long that took. Panics with its last status
/// and, if given, its log.
pub fn wait_state(config: &Path, want: &str, timeout: Duration, log: Option<&Path>) -> Duration {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if status(config).is_some_and(|s| s["state"] == want) {
            return t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} never reached {want}: last status {:?}\nlog:\n{}",
        config.display(),
        status(config),
        log.map(|l| std::fs::read_to_string(l).unwrap_or_default())
            .unwrap_or_default()
    );
}

/// A DHCP relay agent on loopback: sends requests with giaddr = its address
/// and receives the server's replies on the server port.
pub struct Relay {
    pub sock: UdpSocket,
    pub addr: Ipv4Addr,
    pub server: SocketAddrV4,
}

impl Relay {
    pub fn new(addr: Ipv4Addr, port: u16) -> Relay {
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .unwrap();
        s.set_reuse_address(true).unwrap();
        // Bound to lo like the server's socket, and to a specific address, so
        // the kernel delivers replies for this relay here, not to the server.
        s.bind_device(Some(b"lo")).unwrap();
        s.bind(&SocketAddr::from((addr, port)).into()).unwrap();
        let sock: UdpSocket = s.into();
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        Relay {
            sock,
            addr,
            server: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
        }
    }

    pub fn send(&self, m: &v4::Message) {
        self.sock
            .send_to(&m.to_vec().unwrap(), self.server)
            .unwrap();
    }

    /// The next reply with transaction id `xid`, if one comes within `wait`.
    pub fn recv(&self, xid: u32, wait: Duration) -> Option<v4::Message> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf)
                && let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(&buf[..n]))
                && m.xid() == xid
            {
                return Some(m);
            }
        }
        None
    }

    /// Sends `m` until a reply comes, up to `tries` times.
    pub fn exchange(&self, m: &v4::Message, tries: usize) -> Option<v4::Message> {
        for _ in 0..tries {
            self.send(m);
            if let Some(r) = self.recv(m.xid(), Duration::from_millis(500)) {
                return Some(r);
            }
        }
        None
    }

    /// A relayed request from client `mac`, with option 82 naming `link`.
    pub fn msg(
        &self,
        kind: v4::MessageType,
        mac: [u8; 6],
        xid: u32,
        link: Ipv4Addr,
    ) -> v4::Message {
        let mut m = v4::Message::new(
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            self.addr,
            &mac,
        );
        m.set_xid(xid);
        m.set_hops(1);
        m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
        m.opts_mut()
            .insert(v4::DhcpOption::ParameterRequestList(vec![
                v4::OptionCode::SubnetMask,
                v4::OptionCode::Router,
                v4::OptionCode::DomainNameServer,
            ]));
        let mut ri = v4::relay::RelayAgentInformation::default();
        ri.insert(v4::relay::RelayInfo::AgentCircuitId(b"port-7".to_vec()));
        ri.insert(v4::relay::RelayInfo::LinkSelection(link));
        m.opts_mut()
            .insert(v4::DhcpOption::RelayAgentInformation(ri));
        m
    }

    /// Full DORA for `mac`; returns the ACK.
    pub fn dora(&self, mac: [u8; 6], xid: u32, link: Ipv4Addr) -> Option<v4::Message> {
        let offer = self.exchange(&self.msg(v4::MessageType::Discover, mac, xid, link), 10)?;
        assert_eq!(offer.opts().msg_type(), Some(v4::MessageType::Offer));
        let sid = match offer.opts().get(v4::OptionCode::ServerIdentifier) {
            Some(v4::DhcpOption::ServerIdentifier(s)) => *s,
            other => panic!("offer without server id: {other:?}"),
        };
        let mut req = self.msg(v4::MessageType::Request, mac, xid + 1, link);
        req.opts_mut().insert(v4::DhcpOption::ServerIdentifier(sid));
        req.opts_mut()
            .insert(v4::DhcpOption::RequestedIpAddress(offer.yiaddr()));
        self.exchange(&req, 10)
    }
}

pub fn mac(n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [0x02, 0x42, b[0], b[1], b[2], b[3]]
}

/// `GET /metrics` from a tandem on 127.0.0.1:`port`; panics unless it
/// answers 200 with OpenMetrics text. Returns the body.
pub fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics listener");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    body.to_string()
}
