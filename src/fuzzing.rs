//! Entry points for the fuzzers (`fuzz/`), also replayed over the committed
//! corpus by `tests/fuzz_corpus.rs` on stable. Each takes arbitrary bytes and
//! must neither panic nor break an invariant it can check cheaply.

use crate::config::Config;
use crate::dhcp::{Engine, RecvContext, Standalone};
use crate::failover::codec::{Hello, Session};
use crate::failover::message::Message;
use crate::failover::{PairPolicy, Peer, PeerConfig, Persisted, State};
use crate::lease::{Lease, LeaseState, LeaseStore, Owner};
use crate::proto::{HwAddr, Request};
use crate::time::Time;
use std::net::Ipv4Addr;
use std::sync::Arc;

const CONFIG: &str = r#"
[server]
interfaces = ["fuzz0"]
lease_db = "/nonexistent"
server_id = "10.0.0.2"
[failover]
role = "primary"
listen = "192.0.2.1:647"
peer = "192.0.2.2:647"
secret_file = "/nonexistent"
mclt = "60s"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.73"]
lease_time = "1h"
routers = ["10.0.0.1"]
dns_servers = ["10.0.0.53"]
domain_name = "fuzz.example"
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "10.0.0.5"
[[subnet]]
cidr = "10.1.0.0/24"
pools = ["10.1.0.10-10.1.0.20"]
authoritative = true
"#;

fn config() -> Arc<Config> {
    Arc::new(Config::parse(CONFIG, "fuzz").expect("the fuzz config is valid"))
}

/// A store with some history: active, expired, released and declined records.
fn populated(config: &Config) -> LeaseStore {
    let mut s = LeaseStore::new(config, config.split());
    for (i, state) in [
        LeaseState::Active,
        LeaseState::Expired,
        LeaseState::Released,
        LeaseState::Declined,
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = Lease::free(Ipv4Addr::new(10, 0, 0, 10 + i as u8), Owner::Primary);
        l.state = state;
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, 0x10 + i as u8]);
        l.expires = Time(1_000_500);
        l.cltt = Time(999_000);
        s.put(l);
    }
    s
}

/// Raw bytes → DHCP parse → the engine's decision, standalone and as a pair
/// member in NORMAL; every reply must be a well-formed BOOTREPLY within its size limit.
pub fn dhcp_packet(data: &[u8]) {
    let Ok(req) = Request::parse(data) else {
        return;
    };
    let config = config();
    let engine = Engine::new(config.clone(), vec![Ipv4Addr::new(10, 0, 0, 2)]);
    let ctx = RecvContext {
        ifindex: 1,
        local: Ipv4Addr::new(10, 0, 0, 2),
        link: Some(Ipv4Addr::new(10, 0, 0, 2)),
        broadcast: true,
    };
    let pair = PairPolicy {
        me: Owner::Primary,
        state: State::Normal,
        split: 128,
        load_balance_max_secs: 3,
        mclt: 60,
        partner_down_since: None,
        guard: None,
        partner_unknown: false,
        own_at_risk: false,
    };
    let policies: [&dyn Fn(&mut LeaseStore) -> crate::dhcp::Outcome; 2] = [
        &|s| engine.handle(Time(1_000_000), s, &Standalone, &req, &ctx),
        &|s| engine.handle(Time(1_000_000), s, &pair, &req, &ctx),
    ];
    for run in policies {
        let mut store = populated(&config);
        let out = run(&mut store);
        if let Some(r) = out.reply {
            assert!(
                r.bytes.len() >= 300 && r.bytes.len() <= 1472,
                "reply size {}",
                r.bytes.len()
            );
            assert_eq!(r.bytes[0], 2, "a BOOTREPLY");
            assert_eq!(&r.bytes[236..240], &[99, 130, 83, 99]);
        }
        for l in &out.changes {
            assert!(store.pool_of(l.addr).is_some() || config.subnet_containing(l.addr).is_some());
        }
    }
}

/// The key the witness fuzz target seals and opens with.
pub const WITNESS_KEY: &[u8] = b"fuzz-key-0123456";

/// One witness datagram, then the same bytes as a run of reports to a
/// peer with a witness: opening never panics, what opens seals back to
/// the same bytes, and no report, however absurd its numbers, panics the
/// peer or its status.
pub fn witness_datagram(data: &[u8]) {
    use crate::failover::witness::{Witness, WitnessKey};
    let key = WitnessKey::derive(WITNESS_KEY);
    if let Ok(h) = key.open_heartbeat(data) {
        assert_eq!(key.seal_heartbeat(&h), data, "a heartbeat re-seals alike");
        let mut w = Witness::new(0);
        let r = w.heartbeat(u64::MAX, &h);
        assert_eq!(key.open_report(&key.seal_report(&r)), Ok(r));
    }
    if let Ok(r) = key.open_report(data) {
        assert_eq!(key.seal_report(&r), data, "a report re-seals alike");
    }
    let config = config();
    let mut store = populated(&config);
    let mut cfg = PeerConfig::from_config(&config).expect("fuzz config has failover");
    cfg.witness = Some("192.0.2.9:647".parse().expect("an address"));
    cfg.auto_partner_down = Some(60);
    let mut peer = Peer::new(cfg, Persisted::default(), 7, Time(1_000_000));
    let mut now = Time(1_000_000);
    for r in data.chunks_exact(11) {
        now = now.plus(u64::from(r[0]));
        let asked = Time(
            now.0
                .wrapping_sub(u64::from(r[1]))
                .wrapping_add(u64::from(r[2])),
        );
        let ms = u64::from_be_bytes(r[3..11].try_into().expect("8 octets"));
        peer.witness_heartbeat(now);
        peer.witness_report(now, asked, ms, r[0] & 1 == 1);
        peer.tick(now, &mut store);
        let _ = peer.status(now, &store);
        let _ = peer.gauges(now, &store);
    }
}

/// Raw bytes → peer frames: each chunk (2-byte length prefix) is tried as an
/// authenticated frame, and as a bare message fed to a peer state machine.
pub fn peer_frames(data: &[u8]) {
    let _ = Hello::decode(data);
    let config = config();
    let mut store = populated(&config);
    let cfg = PeerConfig::from_config(&config).expect("fuzz config has failover");
    let mut peer = Peer::new(cfg, Persisted::default(), 7, Time(1_000_000));
    peer.link_up(Time(1_000_000), &store);
    let h1 = Hello {
        version: 1,
        primary: true,
        nonce: [1; 32],
    };
    let h2 = Hello {
        version: 1,
        primary: false,
        nonce: [2; 32],
    };
    let mut session = Session::new(b"fuzz-key-0123456", &h1, &h2).expect("roles differ");
    let mut rest = data;
    let mut now = Time(1_000_000);
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let frame = &rest[2..2 + len];
        rest = &rest[2 + len..];
        let _ = session.open(frame);
        if let Ok(msg) = postcard::from_bytes::<Message>(frame) {
            now = now.plus(1);
            peer.receive(now, msg, &mut store);
            peer.tick(now, &mut store);
            // Commits apply at once, as a driver reports them.
            while let Some(a) = peer.poll_action() {
                if matches!(a, crate::failover::Action::Commit { .. }) {
                    peer.commit_durable(now, &store);
                }
            }
        }
    }
}

/// Config text → validation.
pub fn config_text(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(text, "fuzz");
    }
}

/// A TCP stream from an ISC dhcpd failover peer, cut into messages by
/// their length fields: no message panics the decoder, and what decodes
/// encodes back to the same octets (`failover::isc`).
pub fn isc_frames(data: &[u8]) {
    use crate::failover::isc::{Frame, MessageType, wire::frame_len};
    let mut rest = data;
    let mut decoded = Vec::new();
    // A length out of range closes the connection: the stream ends there.
    while let Ok(Some(len)) = frame_len(rest) {
        let (one, after) = rest.split_at(len.min(rest.len()));
        match Frame::decode(one) {
            Ok(f) if matches!(f.kind, MessageType::Unknown(_)) => {
                assert!(f.encode().is_err(), "an unknown type is never sent");
            }
            Ok(f) => {
                assert_eq!(f.encode().as_deref(), Ok(one), "re-encodes alike");
                decoded.push(f);
            }
            Err(_) => {}
        }
        rest = after;
    }
    isc_session(&decoded);
}

/// The frames, one after another, into an ISC session (as the secondary
/// of relationship "lab", at each frame's own time), with the peer's
/// answers to what it is told fed back, some of them refusals, and the
/// peer's own moves between frames (a state, a binding update, a pool
/// request, chosen by each frame's transaction id), so that the state
/// guard, balancing and held re-offers run too: no input makes it panic.
/// The peer asks for updates when told of the partner, as it does, and
/// some of ISC's UPDDONEs carry that request's xid, so that learning
/// first ends and what it held runs too.
fn isc_session(frames: &[crate::failover::isc::Frame]) {
    use crate::failover::isc::session::SessionOutput;
    use crate::failover::message::Message;
    use crate::time::Time;
    let Some(first) = frames.first() else { return };
    let start = Time(u64::from(first.time));
    let mut s = isc_lab_session(start);
    let mut asked = None;
    for (i, f) in frames.iter().enumerate() {
        let now = Time(u64::from(f.time));
        let pick = f.xid as usize;
        if let Some(m) = isc_peer_move(pick, i as u64, now) {
            s.send(now, m);
        }
        let mut f = f.clone();
        if f.kind == crate::failover::isc::MessageType::UpdDone && pick & 0x200 == 0 {
            f.xid = asked.unwrap_or(f.xid);
        }
        for out in s.receive(now, &f) {
            if let SessionOutput::Message(Message::Connect(_)) = out {
                let request = Message::UpdateRequest { since: 0 };
                asked = s.send(now, request).iter().find_map(|o| match o {
                    SessionOutput::Frame(f) => Some(f.xid),
                    _ => None,
                });
            } else if let Some(answer) = isc_peer_answer(out, pick) {
                s.send(now, answer);
            }
        }
        s.tick(now.plus(1 + (pick >> 12) as u64 % 8));
    }
}

/// A session as the secondary of relationship "lab", opened at `start`,
/// told the peer's CONNECT.
fn isc_lab_session(start: crate::time::Time) -> crate::failover::isc::session::IscSession {
    use crate::failover::isc::link::LinkConfig;
    use crate::failover::isc::session::{IscSession, SessionConfig};
    let link = LinkConfig {
        primary: false,
        name: b"lab".to_vec(),
        max_response_delay: 15,
        max_unacked: 10,
        mclt: 30,
        split: 128,
    };
    let cfg = SessionConfig {
        link,
        pools: 2,
        connection: 1,
        recover_epoch: None,
    };
    let (mut s, _) = IscSession::open(cfg, start);
    s.send(start, isc_peer_connect(start));
    s
}

/// The peer's answer to what the session tells it: an acknowledgement of
/// a binding update (refused when `pick` says so, as a dispute would), a
/// pool response, the UPDDONE after an UPDREQALL.
fn isc_peer_answer(
    out: crate::failover::isc::session::SessionOutput,
    pick: usize,
) -> Option<crate::failover::message::Message> {
    use crate::failover::isc::session::SessionOutput;
    use crate::failover::message::{Message, Reject};
    let SessionOutput::Message(m) = out else {
        return None;
    };
    match m {
        Message::BindingUpdate { batch, leases, .. } => {
            let rejects = leases
                .iter()
                .filter(|_| pick & 0x100 != 0)
                .map(|w| Reject {
                    addr: w.addr,
                    reason: "a later transaction is recorded here".into(),
                })
                .collect();
            Some(Message::BindingAck { batch, rejects })
        }
        Message::PoolRequest { pool, .. } => Some(Message::PoolResponse { pool, given: 1 }),
        Message::UpdateRequestAll => Some(Message::UpdateDone),
        _ => None,
    }
}

/// The peer's own CONNECT, which it sends first on every link.
fn isc_peer_connect(now: crate::time::Time) -> crate::failover::message::Message {
    use crate::failover::message::{Connect, Message, PROTOCOL_VERSION, WireState};
    Message::Connect(Connect {
        version: PROTOCOL_VERSION,
        name: "tandem".into(),
        primary: false,
        time: now.0,
        fingerprint: String::new(),
        epoch: 1,
        seen_epoch: None,
        state: WireState::from(crate::failover::State::Startup),
        mclt: 30,
        covers: false,
        max_unacked: None,
    })
}

/// The peer's own move before frame `i`, chosen by `pick`: a state, a
/// binding update of one record, a pool request, or nothing.
fn isc_peer_move(
    pick: usize,
    i: u64,
    now: crate::time::Time,
) -> Option<crate::failover::message::Message> {
    use crate::failover::State;
    use crate::failover::message::{Message, WireLease, WireState};
    use crate::lease::{Lease, LeaseState, Owner};
    Some(match pick % 4 {
        0 => Message::State {
            state: WireState::from(State::ALL[(pick >> 2) % State::ALL.len()]),
            since: now.0,
        },
        1 => {
            let addr = std::net::Ipv4Addr::new(10, 0, 0, (pick >> 2) as u8);
            let mut l = Lease::free(addr, Owner::Primary);
            l.state = if pick & 0x40 != 0 {
                LeaseState::Active
            } else {
                LeaseState::Expired
            };
            l.cltt = now;
            l.expires = now.plus(600);
            Message::BindingUpdate {
                batch: i + 1,
                time: now.0,
                leases: vec![WireLease::from_lease(&l)],
            }
        }
        2 => Message::PoolRequest {
            pool: (pick >> 2) as u32 % 3,
            wanted: 5,
        },
        _ => return None,
    })
}
