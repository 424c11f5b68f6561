//! One connection to an ISC dhcpd partner as the failover messages of
//! tandem's own protocol (issue 19, research section 6.3), so that the
//! peer state machine (`failover::Peer`) runs unchanged beside a dhcpd:
//! frames from ISC become [`Message`]s for `Peer::receive`, and what the
//! peer sends becomes ISC frames. Sans-IO, like [`IscLink`], which it
//! drives for the handshake, keepalives and timeouts.
//!
//! What differs between the two protocols, and how it is bridged:
//! - ISC introduces itself in two steps (CONNECT or CONNECTACK, then its
//!   STATE); tandem's CONNECT carries the state. The partner's first STATE
//!   becomes a [`Connect`] with our own pool fingerprint (ISC has none:
//!   the pools are the operator's to keep identical, as between two
//!   dhcpd), a fixed database identity ([`ISC_EPOCH`]: ISC's database has
//!   none, so the first meeting asks for everything and the later ones for
//!   what is unacknowledged), and no report of the partner having known an
//!   older database of ours. What ISC sends before its STATE waits for it.
//! - ISC sends one binding per BNDUPD and acknowledges each; tandem
//!   batches. A batch of ours goes out as one BNDUPD per record, and its
//!   acknowledgement goes to the peer once every BNDUPD of it has an
//!   answer, with ISC's refusals. An ISC BNDUPD is a batch of one, whose
//!   number is its transaction id, and is answered by a minimal BNDACK
//!   with that id (ISC misreads a fuller one: research section 4.2).
//! - ISC's UPDREQ asks for what it has not acknowledged: the peer's
//!   request for changes after a sequence number, with the largest one
//!   (the peer answers from what the partner acknowledged). UPDDONE
//!   answers with the request's transaction id.
//! - ISC's POOLREQ names no pool: it is asked of every pool, and the
//!   POOLRESP counts what they gave. The peer's own requests go as one
//!   POOLREQ; ISC's POOLRESP answers each.
//! - STARTUP is never sent as a state (ISC in CONFLICT-DONE exits on it);
//!   PAUSED and RESOLUTION-INTERRUPTED, which tandem does not have, and
//!   unknown numbers close the connection, which the peer takes as
//!   COMMUNICATIONS-INTERRUPTED. DNS records, runtime reservations and
//!   pair-config exchanges have no ISC form and stay here.
//!
//! Not yet bridged (issue 19, step 2): ISC's own accept and reject rules
//! for a binding update (research section 3.5), which a dispute under
//! tandem's rules may meet; the clock offset bound ISC never reports.

use super::link::{IscLink, LinkConfig, LinkEvent};
use super::{Binding, Frame, Hello, IscMessage, MessageType, Rejection, binding, hba, state};
use crate::failover::State;
use crate::failover::message::{Connect, Message, PROTOCOL_VERSION, Reject, WireLease, WireState};
use crate::time::Time;
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

/// The database identity an ISC partner is given (its own has none).
pub const ISC_EPOCH: u64 = 0x15C0_0000_0000_0001;

/// How many messages ISC may send between its handshake and its STATE
/// before the connection is closed (it sends its STATE first).
pub const MAX_EARLY: usize = 64;

/// ISC's reject reasons a BNDACK of ours carries (draft section 12.21).
pub mod reject {
    /// The address is in no pool here.
    pub const ILLEGAL_ADDRESS: u8 = 1;
    /// The binding lacks what it must carry.
    pub const MISSING_BINDING_INFO: u8 = 3;
    /// The primary's MCLT is not ours.
    pub const INVALID_MCLT: u8 = 5;
    /// Anything else ISC files under "misc".
    pub const MISC: u8 = 6;
    /// Our version of the binding wins (a dueling update).
    pub const LESS_CRITICAL: u8 = 16;
    /// The partner's hash bucket assignment is not our split.
    pub const HBA_CONFLICT: u8 = 18;
}

/// This side of the relationship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// The connection's settings.
    pub link: LinkConfig,
    /// Our pool configuration's fingerprint (`Config::fingerprint`).
    pub fingerprint: String,
    /// How many pools the configuration has (`PoolId` 0 up to it).
    pub pools: u32,
}

/// What the session asks of the edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutput {
    /// A frame for the ISC partner.
    Frame(Frame),
    /// A message for the peer (`Peer::receive`).
    Message(Message),
    /// Close the connection, and why.
    Close(String),
}

/// An ISC POOLREQ being answered by every pool.
#[derive(Clone, Copy, Debug)]
struct PoolAnswer {
    xid: u32,
    pools_left: u32,
    given: u32,
}

/// One connection's translation state.
#[derive(Debug)]
pub struct IscSession {
    cfg: SessionConfig,
    link: IscLink,
    /// Our state and when we entered it (our clock), as the peer last said.
    ours: Option<(State, u64)>,
    /// The partner's side and the primary's MCLT, from the handshake.
    partner: Option<(Hello, Option<u32>)>,
    /// Whether the peer has the partner's (synthesized) CONNECT.
    introduced: bool,
    /// What ISC sent after the handshake and before its first STATE.
    early: Vec<(IscMessage, u32, u32)>,
    /// Our BNDUPDs awaiting ISC's BNDACK: transaction id to (batch, address).
    sent: HashMap<u32, (u64, Ipv4Addr)>,
    /// Our batches: BNDACKs still awaited, and ISC's refusals so far.
    batches: BTreeMap<u64, (usize, Vec<Reject>)>,
    /// ISC's BNDUPDs awaiting our BNDACK: transaction id to address.
    owed: HashMap<u32, Ipv4Addr>,
    /// The transaction id of ISC's last UPDREQ or UPDREQALL.
    request_xid: u32,
    /// ISC's POOLREQ being answered.
    pool_answer: Option<PoolAnswer>,
    /// Pools the peer asked for addresses, awaiting ISC's POOLRESP.
    pools_asked: Vec<u32>,
}

impl IscSession {
    /// A connection just opened at `now`, and what to send first (the
    /// primary's CONNECT).
    pub fn open(cfg: SessionConfig, now: Time) -> (IscSession, Vec<SessionOutput>) {
        let (link, first) = IscLink::open(cfg.link.clone(), now);
        let session = IscSession {
            cfg,
            link,
            ours: None,
            partner: None,
            introduced: false,
            early: Vec::new(),
            sent: HashMap::new(),
            batches: BTreeMap::new(),
            owed: HashMap::new(),
            request_xid: 0,
            pool_answer: None,
            pools_asked: Vec::new(),
        };
        (session, frames(first))
    }

    /// Time passed: keepalives, or the close on silence or a handshake
    /// not done in time.
    pub fn tick(&mut self, now: Time) -> Vec<SessionOutput> {
        let (out, ev) = self.link.tick(now);
        let mut out = frames(out);
        if let Some(LinkEvent::Close(why)) = ev {
            out.push(SessionOutput::Close(why));
        }
        out
    }

    /// A frame from ISC arrived at `now`: what to send back, what the peer
    /// is told, or the close.
    pub fn receive(&mut self, now: Time, f: &Frame) -> Vec<SessionOutput> {
        let (out, ev) = self.link.receive(now, f);
        let mut out = frames(out);
        match ev {
            Some(LinkEvent::Up { partner, mclt, hba }) => {
                out.extend(self.up(now, partner, mclt, hba))
            }
            Some(LinkEvent::Message(m, xid)) => out.extend(self.inbound(now, m, xid, f.time)),
            Some(LinkEvent::Close(why)) => out.push(SessionOutput::Close(why)),
            None if f.kind == MessageType::Contact && self.introduced => {
                out.push(SessionOutput::Message(Message::Contact {
                    time: u64::from(f.time),
                    floor: None,
                }));
            }
            None => {}
        }
        out
    }

    /// The handshake is done: check the primary's hash bucket assignment
    /// against our split and its MCLT against ours (each side bounds its
    /// grants by its own MCLT past what the other acknowledged, so the two
    /// must agree; an ISC secondary adopts the primary's, tandem does
    /// not), and send our state if the peer has one to tell.
    fn up(
        &mut self,
        now: Time,
        partner: Hello,
        mclt: Option<u32>,
        assignment: Option<Vec<u8>>,
    ) -> Vec<SessionOutput> {
        let split = assignment.as_deref().and_then(hba::to_split);
        if assignment.is_some() && split != Some(self.cfg.link.split) {
            let why = format!(
                "the ISC primary's hash bucket assignment ({}) is not our split ({}): set `split` to the primary's load balancing",
                split.map_or("not a split".into(), |s| s.to_string()),
                self.cfg.link.split
            );
            return self.refuse(now, reject::HBA_CONFLICT, why);
        }
        if let Some(m) = mclt.filter(|m| *m != self.cfg.link.mclt) {
            let why = format!(
                "the ISC primary's MCLT is {m} s and ours is {} s: set `mclt` to the primary's",
                self.cfg.link.mclt
            );
            return self.refuse(now, reject::INVALID_MCLT, why);
        }
        self.partner = Some((partner, mclt));
        self.ours
            .and_then(|(s, since)| self.state_frame(now, s, since))
            .map(SessionOutput::Frame)
            .into_iter()
            .collect()
    }

    /// A DISCONNECT with ISC's `reason` code and `why`, and the close.
    fn refuse(&mut self, now: Time, reason: u8, why: String) -> Vec<SessionOutput> {
        tracing::error!("{why}");
        let bye = IscMessage::Disconnect(rejection(reason, &why));
        let frame = self.link.send(now, bye);
        vec![SessionOutput::Frame(frame), SessionOutput::Close(why)]
    }

    /// A message from ISC after the handshake.
    fn inbound(&mut self, now: Time, m: IscMessage, xid: u32, time: u32) -> Vec<SessionOutput> {
        if self.introduced {
            return self.translate(now, m, xid, time);
        }
        let IscMessage::State { state, flags, .. } = m else {
            if self.early.len() >= MAX_EARLY {
                let why = format!("the ISC partner sent {MAX_EARLY} messages before its state");
                return vec![SessionOutput::Close(why)];
            }
            self.early.push((m, xid, time));
            return vec![];
        };
        let s = match partner_state(state, flags) {
            Ok(s) => s,
            Err(why) => return vec![SessionOutput::Close(why)],
        };
        self.introduced = true;
        let mut out = vec![SessionOutput::Message(Message::Connect(
            self.introduce(s, time),
        ))];
        for (m, xid, time) in std::mem::take(&mut self.early) {
            out.extend(self.translate(now, m, xid, time));
        }
        out
    }

    /// The partner's CONNECT as the peer expects it (see the module doc).
    fn introduce(&self, s: State, time: u32) -> Connect {
        let (hello, mclt) = self.partner.clone().unwrap_or_default();
        let vendor = String::from_utf8_lossy(hello.vendor_class.as_deref().unwrap_or(b"isc"));
        Connect {
            version: PROTOCOL_VERSION,
            name: format!(
                "{} ({vendor})",
                String::from_utf8_lossy(&self.cfg.link.name)
            ),
            primary: !self.cfg.link.primary,
            time: u64::from(time),
            fingerprint: self.cfg.fingerprint.clone(),
            epoch: ISC_EPOCH,
            seen_epoch: None,
            state: WireState::from(s),
            mclt: u64::from(mclt.unwrap_or(self.cfg.link.mclt)),
            covers: matches!(
                s,
                State::Normal | State::CommunicationsInterrupted | State::PartnerDown
            ),
        }
    }

    /// An ISC message, once the peer knows the partner, as what the peer
    /// is told or what is answered here.
    fn translate(&mut self, now: Time, m: IscMessage, xid: u32, time: u32) -> Vec<SessionOutput> {
        let to_peer = |m: Message| vec![SessionOutput::Message(m)];
        match m {
            IscMessage::State {
                state,
                flags,
                since,
            } => match partner_state(state, flags) {
                Ok(s) => to_peer(Message::State {
                    state: WireState::from(s),
                    since: u64::from(since.unwrap_or(time)),
                }),
                Err(why) => vec![SessionOutput::Close(why)],
            },
            IscMessage::BndUpd(b) => self.binding_update(now, &b, xid, time),
            IscMessage::BndAck { addr, reject } => self.binding_ack(xid, addr, reject),
            IscMessage::UpdReq | IscMessage::UpdReqAll => {
                self.request_xid = xid;
                to_peer(if matches!(m, IscMessage::UpdReq) {
                    Message::UpdateRequest { since: u64::MAX }
                } else {
                    Message::UpdateRequestAll
                })
            }
            IscMessage::UpdDone => to_peer(Message::UpdateDone),
            IscMessage::PoolReq => self.pool_request(xid),
            IscMessage::PoolResp { transferred } => self.pool_response(transferred),
            IscMessage::Disconnect(r) => to_peer(Message::Disconnect {
                reason: describe(&r),
            }),
            IscMessage::Contact => to_peer(Message::Contact {
                time: u64::from(time),
                floor: None,
            }),
            IscMessage::Connect { .. } | IscMessage::ConnectAck { .. } => {
                vec![SessionOutput::Close(format!(
                    "{:?} on a connection already up",
                    m.kind()
                ))]
            }
        }
    }

    /// ISC's BNDUPD as a batch of one; one tandem cannot read is refused
    /// here with ISC's reason.
    fn binding_update(
        &mut self,
        now: Time,
        b: &Binding,
        xid: u32,
        time: u32,
    ) -> Vec<SessionOutput> {
        match binding::to_wire(b) {
            Ok(w) => {
                self.owed.insert(xid, Ipv4Addr::from(w.addr));
                vec![SessionOutput::Message(Message::BindingUpdate {
                    batch: u64::from(xid),
                    time: u64::from(time),
                    leases: vec![w],
                })]
            }
            Err(e) => {
                let reason = match e {
                    binding::BindingError::Missing => reject::MISSING_BINDING_INFO,
                    _ => reject::MISC,
                };
                let ack = IscMessage::BndAck {
                    addr: b.addr,
                    reject: Some(rejection(reason, &e.to_string())),
                };
                vec![SessionOutput::Frame(self.link.reply(now, ack, xid))]
            }
        }
    }

    /// ISC's BNDACK of one of our BNDUPDs; the peer hears of the batch once
    /// every BNDUPD of it is answered.
    fn binding_ack(
        &mut self,
        xid: u32,
        addr: Option<Ipv4Addr>,
        refusal: Option<Rejection>,
    ) -> Vec<SessionOutput> {
        let Some((batch, ours)) = self.sent.remove(&xid) else {
            tracing::debug!(
                xid,
                ?addr,
                "BNDACK for no binding update of ours on this connection"
            );
            return vec![];
        };
        let Some((left, rejects)) = self.batches.get_mut(&batch) else {
            return vec![];
        };
        if let Some(r) = refusal {
            rejects.push(Reject {
                addr: u32::from(ours),
                reason: describe(&r),
            });
        }
        *left -= 1;
        if *left > 0 {
            return vec![];
        }
        let (_, rejects) = self.batches.remove(&batch).unwrap_or_default();
        vec![SessionOutput::Message(Message::BindingAck {
            batch,
            rejects,
        })]
    }

    /// ISC asks for free addresses, of no pool in particular: every pool
    /// is asked, and the answer waits for all of them.
    fn pool_request(&mut self, xid: u32) -> Vec<SessionOutput> {
        if self.pool_answer.is_some() || self.cfg.pools == 0 {
            return vec![];
        }
        self.pool_answer = Some(PoolAnswer {
            xid,
            pools_left: self.cfg.pools,
            given: 0,
        });
        (0..self.cfg.pools)
            .map(|pool| {
                SessionOutput::Message(Message::PoolRequest {
                    pool,
                    wanted: u32::MAX,
                })
            })
            .collect()
    }

    /// ISC answered our POOLREQ: every pool the peer asked for is answered.
    fn pool_response(&mut self, transferred: Option<u32>) -> Vec<SessionOutput> {
        let given = transferred.unwrap_or(0);
        std::mem::take(&mut self.pools_asked)
            .into_iter()
            .map(|pool| SessionOutput::Message(Message::PoolResponse { pool, given }))
            .collect()
    }

    /// A message from the peer at `now`, as frames for ISC (or nothing, for
    /// what ISC has no form of).
    pub fn send(&mut self, now: Time, m: Message) -> Vec<SessionOutput> {
        match m {
            Message::Connect(c) => self.set_ours(now, c.state, now.0),
            Message::State { state, since } => self.set_ours(now, state, since),
            Message::BindingUpdate { batch, leases, .. }
            | Message::BindingUpdateDns { batch, leases, .. }
            | Message::BindingUpdateStale { batch, leases, .. } => {
                self.send_batch(now, batch, &leases)
            }
            Message::BindingAck { batch, rejects } => self.send_ack(now, batch, &rejects),
            Message::UpdateRequest { .. } => self.frame(now, IscMessage::UpdReq),
            Message::UpdateRequestAll => self.frame(now, IscMessage::UpdReqAll),
            Message::UpdateDone => {
                let frame = self.link.reply(now, IscMessage::UpdDone, self.request_xid);
                vec![SessionOutput::Frame(frame)]
            }
            Message::PoolRequest { pool, .. } => self.ask_pool(now, pool),
            Message::PoolResponse { given, .. } => self.answer_pool(now, given),
            Message::Disconnect { reason } => {
                let bye = IscMessage::Disconnect(rejection(reject::MISC, &reason));
                self.frame(now, bye)
            }
            Message::ConnectAck(_)
            | Message::Contact { .. }
            | Message::PairConfig { .. }
            | Message::Reservations { .. } => vec![],
        }
    }

    fn frame(&mut self, now: Time, m: IscMessage) -> Vec<SessionOutput> {
        vec![SessionOutput::Frame(self.link.send(now, m))]
    }

    /// The peer's state changed (or its CONNECT told it): ISC hears it once
    /// the connection is up, and never STARTUP.
    fn set_ours(&mut self, now: Time, s: WireState, since: u64) -> Vec<SessionOutput> {
        let Some(s) = s.state() else { return vec![] };
        self.ours = Some((s, since));
        if !self.link.is_up() || self.partner.is_none() {
            return vec![];
        }
        self.state_frame(now, s, since)
            .map(SessionOutput::Frame)
            .into_iter()
            .collect()
    }

    fn state_frame(&mut self, now: Time, s: State, since: u64) -> Option<Frame> {
        let number = state::to_isc(s)?;
        let m = IscMessage::State {
            state: Some(number),
            flags: Some(0),
            since: Some(u32::try_from(since).unwrap_or(binding::MAX_TIME)),
        };
        Some(self.link.send(now, m))
    }

    /// A batch of ours as one BNDUPD per record.
    fn send_batch(&mut self, now: Time, batch: u64, leases: &[WireLease]) -> Vec<SessionOutput> {
        if leases.is_empty() {
            let ack = Message::BindingAck {
                batch,
                rejects: vec![],
            };
            return vec![SessionOutput::Message(ack)];
        }
        self.batches.insert(batch, (leases.len(), Vec::new()));
        leases
            .iter()
            .map(|w| {
                let frame = self
                    .link
                    .send(now, IscMessage::BndUpd(binding::from_wire(w)));
                self.sent.insert(frame.xid, (batch, Ipv4Addr::from(w.addr)));
                SessionOutput::Frame(frame)
            })
            .collect()
    }

    /// The peer's acknowledgement of ISC's BNDUPD (a batch of one).
    fn send_ack(&mut self, now: Time, batch: u64, rejects: &[Reject]) -> Vec<SessionOutput> {
        let Some((xid, addr)) = u32::try_from(batch)
            .ok()
            .and_then(|xid| Some((xid, self.owed.remove(&xid)?)))
        else {
            return vec![];
        };
        let refusal = rejects
            .iter()
            .find(|r| r.addr == u32::from(addr))
            .map(|r| rejection(reject_reason(&r.reason), &r.reason));
        let ack = IscMessage::BndAck {
            addr: Some(addr),
            reject: refusal,
        };
        vec![SessionOutput::Frame(self.link.reply(now, ack, xid))]
    }

    /// The peer asks for free addresses of `pool`: one POOLREQ for all
    /// the pools it asks about until ISC answers.
    fn ask_pool(&mut self, now: Time, pool: u32) -> Vec<SessionOutput> {
        let first = self.pools_asked.is_empty();
        if !self.pools_asked.contains(&pool) {
            self.pools_asked.push(pool);
        }
        if first {
            self.frame(now, IscMessage::PoolReq)
        } else {
            vec![]
        }
    }

    /// One pool answered ISC's POOLREQ; the POOLRESP goes with the last.
    fn answer_pool(&mut self, now: Time, given: u32) -> Vec<SessionOutput> {
        let Some(a) = &mut self.pool_answer else {
            return vec![];
        };
        a.given = a.given.saturating_add(given);
        a.pools_left = a.pools_left.saturating_sub(1);
        if a.pools_left > 0 {
            return vec![];
        }
        let (xid, transferred) = (a.xid, a.given);
        self.pool_answer = None;
        let resp = IscMessage::PoolResp {
            transferred: Some(transferred),
        };
        vec![SessionOutput::Frame(self.link.reply(now, resp, xid))]
    }
}

/// The partner's state from a STATE's number and flags: STARTUP when the
/// flag says so (ISC sends its saved state then); an error for a state
/// tandem does not have.
fn partner_state(number: Option<u8>, flags: Option<u8>) -> Result<State, String> {
    if flags.is_some_and(|f| f & 1 != 0) {
        return Ok(State::Startup);
    }
    let n = number.ok_or("a STATE without a server-state")?;
    state::from_isc(n).ok_or_else(|| {
        format!("the ISC partner is in state {n}, which tandem does not have: closing")
    })
}

/// ISC's reject reason for one of the peer's refusals (`sync::judge`).
fn reject_reason(reason: &str) -> u8 {
    if reason.starts_with("invalid record") {
        reject::MISSING_BINDING_INFO
    } else if reason.starts_with("address is in no subnet") {
        reject::ILLEGAL_ADDRESS
    } else {
        reject::LESS_CRITICAL
    }
}

fn rejection(reason: u8, text: &str) -> Rejection {
    Rejection {
        reason: Some(reason),
        message: Some(text.as_bytes().to_vec()),
    }
}

/// A rejection as text for the peer's log.
fn describe(r: &Rejection) -> String {
    let text = String::from_utf8_lossy(r.message.as_deref().unwrap_or_default());
    match r.reason {
        Some(n) => format!("ISC reason {n}: {text}"),
        None => text.into_owned(),
    }
}

fn frames(v: Vec<Frame>) -> Vec<SessionOutput> {
    v.into_iter().map(SessionOutput::Frame).collect()
}

#[cfg(test)]
mod tests;
