//! Two real peers wired back to back in memory, frames passed through the
//! authenticated codec, commits applied at once: the harness here, the
//! scenarios in the files below.

use super::*;
use crate::config::Config;
use crate::dhcp::Policy;
use crate::failover::codec::{Hello, Session};
use crate::lease::LeaseState;
use crate::proto::HwAddr;

const CFG: &str = r#"
[server]
interfaces = ["lo"]
lease_db = "/tmp/unused"
[failover]
role = "primary"
listen = "127.0.0.1:1"
peer = "127.0.0.1:2"
secret_file = "/dev/null"
mclt = "100s"
split = 128
max_response_delay = "10s"
auto_partner_down = "30s"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.29"]
"#;

struct Side {
    now: Time,
    peer: Peer,
    store: LeaseStore,
    session: Option<Session>,
    closed: Vec<String>,
    /// Everything ever committed, as a journal would hold it.
    disk: HashMap<Ipv4Addr, Lease>,
    meta: HashMap<String, String>,
    /// Runtime reservation sets the partner sent, in order.
    reservations: Vec<Vec<crate::config::runtime::RuntimeEntry>>,
}

struct Duo {
    a: Side,
    b: Side,
    now: Time,
    config: Config,
    epochs: (u64, u64),
}

fn side(
    config: &Config,
    primary: bool,
    epoch: u64,
    p: Persisted,
    disk: HashMap<Ipv4Addr, Lease>,
    now: Time,
) -> Side {
    let mut cfg = PeerConfig::from_config(config).unwrap();
    cfg.primary = primary;
    cfg.name = if primary { "a".into() } else { "b".into() };
    let mut store = LeaseStore::new(config, cfg.split);
    for l in disk.values() {
        store.put(l.clone());
    }
    let next = disk.values().map(|l| l.update_seq).max().unwrap_or(0) + 1;
    store.replicate(next, p.acked_seq);
    Side {
        now,
        peer: Peer::new(cfg, p, epoch, now),
        store,
        session: None,
        closed: vec![],
        disk,
        meta: HashMap::new(),
        reservations: vec![],
    }
}

impl Side {
    /// Applies the peer's actions; returns the messages it sends.
    fn drain(&mut self) -> Vec<Message> {
        let mut out = vec![];
        while let Some(a) = self.peer.poll_action() {
            match a {
                Action::Send(m) => out.push(m),
                // Commits apply at once here, so every earlier one is done.
                Action::Announce { state, since } => self.peer.announce(self.now, state, since),
                Action::Commit {
                    leases,
                    meta,
                    then,
                    replicate,
                } => {
                    for l in &leases {
                        self.disk.insert(l.addr, l.clone());
                    }
                    self.meta.extend(meta);
                    out.extend(then);
                    self.peer.commit_durable(self.now, &self.store);
                    if replicate {
                        self.peer
                            .local_committed(self.now, &leases, &mut self.store);
                    }
                }
                Action::Close(why) => {
                    self.closed.push(why);
                    self.session = None;
                }
                Action::Reservations(entries) => self.reservations.push(entries),
            }
        }
        out
    }

    fn grant(&mut self, addr: &str, mac: u8, now: Time, secs: u64) -> Lease {
        let mut l = Lease::free(
            addr.parse().unwrap(),
            self.store.owner_of(addr.parse().unwrap()),
        );
        l.state = LeaseState::Active;
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, mac]);
        l.starts = now;
        l.cltt = now;
        l.expires = now.plus(secs);
        l.potential_expiry = now.plus(secs * 2);
        self.change(now, l)
    }

    /// A local change, numbered, on disk at once, and handed to the peer.
    fn change(&mut self, now: Time, l: Lease) -> Lease {
        let l = self.store.upsert(l);
        self.disk.insert(l.addr, l.clone());
        self.peer
            .local_committed(now, std::slice::from_ref(&l), &mut self.store);
        l
    }

    /// An input at `now`, on a monotonic clock that reads the same.
    fn wake(&mut self, now: Time) {
        self.peer.wake(now, Mono(now.0));
    }

    fn persisted(&self) -> Persisted {
        Persisted::from_meta(&self.meta)
    }
}

impl Duo {
    fn new() -> Duo {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter("tandem=debug")
            .try_init();
        let config = Config::parse(CFG, "t").unwrap();
        let now = Time(1_000_000);
        let a = side(&config, true, 11, Persisted::default(), HashMap::new(), now);
        let b = side(
            &config,
            false,
            22,
            Persisted::default(),
            HashMap::new(),
            now,
        );
        Duo {
            a,
            b,
            now,
            config,
            epochs: (11, 22),
        }
    }

    fn connect(&mut self) {
        self.link_up();
        self.settle();
    }

    /// Brings the link up without delivering anything yet.
    fn link_up(&mut self) {
        let ha = Hello {
            version: 1,
            primary: true,
            nonce: [1; 32],
        };
        let hb = Hello {
            version: 1,
            primary: false,
            nonce: [2; 32],
        };
        self.a.session = Some(Session::new(b"k", &ha, &hb).unwrap());
        self.b.session = Some(Session::new(b"k", &hb, &ha).unwrap());
        self.a.peer.link_up(self.now, &self.a.store);
        self.b.peer.link_up(self.now, &self.b.store);
    }

    fn disconnect(&mut self) {
        self.a.session = None;
        self.b.session = None;
        self.a.peer.link_down(self.now);
        self.b.peer.link_down(self.now);
        self.settle();
    }

    /// Delivers messages until both sides are quiet.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.round() {
                return;
            }
        }
        panic!("peers never went quiet");
    }

    /// One exchange: what each side has to send is delivered to the other
    /// (so updates made on both sides at once cross on the wire). Returns
    /// whether anything was sent.
    fn round(&mut self) -> bool {
        self.a.now = self.now;
        self.b.now = self.now;
        let from_a = self.a.drain();
        let from_b = self.b.drain();
        let sent = !(from_a.is_empty() && from_b.is_empty());
        self.deliver(from_a, from_b);
        sent
    }

    /// Delivers `from_a` to b and `from_b` to a, over the current sessions.
    fn deliver(&mut self, from_a: Vec<Message>, from_b: Vec<Message>) {
        for m in from_a {
            if let (Some(sa), Some(sb)) = (&mut self.a.session, &mut self.b.session) {
                let m = sb.open(&sa.seal(&m).unwrap()).unwrap();
                self.b.peer.receive(self.now, m, &mut self.b.store);
            }
        }
        for m in from_b {
            if let (Some(sa), Some(sb)) = (&mut self.a.session, &mut self.b.session) {
                let m = sa.open(&sb.seal(&m).unwrap()).unwrap();
                self.a.peer.receive(self.now, m, &mut self.a.store);
            }
        }
    }

    /// Settles the pair like `settle`, returning everything a sent, in
    /// order.
    fn exchange(&mut self) -> Vec<Message> {
        let mut sent = vec![];
        for _ in 0..10_000 {
            self.a.now = self.now;
            self.b.now = self.now;
            let from_a = self.a.drain();
            let from_b = self.b.drain();
            if from_a.is_empty() && from_b.is_empty() {
                return sent;
            }
            sent.extend(from_a.iter().cloned());
            self.deliver(from_a, from_b);
        }
        panic!("peers never went quiet");
    }

    fn advance(&mut self, secs: u64) {
        for _ in 0..secs {
            self.now = self.now.plus(1);
            self.a.peer.tick(self.now, &mut self.a.store);
            self.b.peer.tick(self.now, &mut self.b.store);
            self.settle();
        }
    }

    /// a restarts now from what its journal holds (its state, its
    /// heartbeat, its bindings), with b as it stands.
    fn restart_a(&mut self) {
        let pa = self.a.persisted();
        let disk = self.a.disk.clone();
        self.a = side(&self.config, true, self.epochs.0, pa, disk, self.now);
    }

    fn states(&self) -> (State, State) {
        (self.a.peer.state(), self.b.peer.state())
    }

    fn active(s: &Side) -> Vec<(Ipv4Addr, Option<crate::proto::ClientKey>)> {
        let mut v: Vec<_> = s
            .store
            .iter()
            .filter(|l| l.state == LeaseState::Active)
            .map(|l| (l.addr, l.client()))
            .collect();
        v.sort();
        v
    }
}

mod acks;
mod evidence;
mod isc;
mod limits;
mod liveness;
mod lost;
mod maintenance;
mod reload;
mod reservations;
mod restart;
mod scenarios;
mod witness;
