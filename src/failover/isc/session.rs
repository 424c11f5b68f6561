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
//!   batches. A batch of ours goes out as one BNDUPD per record, no more
//!   in flight than ISC's max-unacked-updates (told to the peer in the
//!   partner's CONNECT, so that what waits, waits there, where a newer
//!   version of an address replaces an unsent one), and its
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
//! - STARTUP is never sent as a state (ISC in CONFLICT-DONE exits on it),
//!   nor any state ISC would shut down or exit on where it stands
//!   (`outbound::deliverable`). ISC's RESOLUTION-INTERRUPTED reads as
//!   POTENTIAL-CONFLICT; PAUSED, which tandem does not have, and unknown
//!   numbers close the connection, which the peer takes as
//!   COMMUNICATIONS-INTERRUPTED. DNS records, runtime reservations and
//!   pair-config exchanges have no ISC form and stay here.
//! - ISC's database has no identity: the partner's CONNECT names
//!   [`ISC_EPOCH`], "the one met last", and a new identity when dhcpd
//!   starts in RECOVER, having lost its lease file.
//!
//! Not bridged: ISC's own accept and reject rules for a binding update
//! (research section 3.5), which a dispute under tandem's rules may meet:
//! an update ISC refuses is offered again every 5 s until ISC sends its
//! own version of the address (`refusals`); when the two crossed and each
//! took the other's, the peer offers what it took (`Peer::acknowledged`),
//! as dhcpd never offers again the version it dropped
//! (`tests/isc_crossing.rs` runs every pair of versions through a model
//! of dhcpd's rules).

use super::link::{IscLink, LinkConfig, LinkEvent};
use super::{Binding, Frame, Hello, IscMessage, MessageType, Rejection, binding, hba, state};
use crate::failover::State;
use crate::failover::message::{Connect, Message, PROTOCOL_VERSION, Reject, WireLease, WireState};
use crate::time::Time;
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

pub use crate::failover::peer::ISC_EPOCH;

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
    /// How many pools the configuration has (`PoolId` 0 up to it).
    pub pools: u32,
    /// The connection's number (the link's generation): the high half of
    /// the batch numbers the peer is given for ISC's BNDUPDs, so that an
    /// acknowledgement the peer made for an earlier connection (ISC's
    /// transaction ids start again at 0 on each) never answers this one's.
    pub connection: u64,
    /// The identity given to dhcpd's database when it last showed it had
    /// lost it (its first STATE was RECOVER), while it stays in RECOVER:
    /// carried from one connection to the next (`IscSession::recover_epoch`).
    pub recover_epoch: Option<u64>,
}

impl SessionConfig {
    /// The first connection's settings for `config`'s ISC partner; `None`
    /// without `[failover] protocol = "isc-draft12"`.
    pub fn from_config(config: &crate::config::Config) -> Option<SessionConfig> {
        let f = config.failover.as_ref()?;
        let crate::config::PeerProtocol::IscDraft12 { relationship } = &f.protocol else {
            return None;
        };
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Some(SessionConfig {
            link: LinkConfig {
                primary: f.role == crate::config::Role::Primary,
                name: relationship.as_bytes().to_vec(),
                max_response_delay: clamp(f.max_response_delay),
                max_unacked: clamp(f.max_unacked_updates as u64),
                mclt: clamp(f.mclt),
                split: f.split,
            },
            pools: u32::try_from(config.pools.len()).unwrap_or(u32::MAX),
            connection: 0,
            recover_epoch: None,
        })
    }
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
    /// ISC's POOLREQ's transaction id; `None` for our own balancing, which
    /// ISC did not ask for and gets no POOLRESP.
    xid: Option<u32>,
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
    /// Our records waiting for room in ISC's window (`outbound::dispatch`),
    /// oldest first. The peer keeps no more in flight than ISC takes
    /// (`Connect::max_unacked`), so only offers of refused addresses,
    /// held back and sent when due (`refusals`), wait here.
    queued: std::collections::VecDeque<(u64, WireLease)>,
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
    /// Addresses ISC refused, and the peer's offers of them held back.
    refusals: refusals::Refusals,
    /// Whether, as the primary, we gave the ISC secondary its share of the
    /// free addresses once both were in NORMAL on this connection.
    balanced: bool,
    /// ISC's state, as its last STATE said (the saved one under the
    /// STARTUP flag; RESOLUTION-INTERRUPTED as POTENTIAL-CONFLICT).
    theirs: Option<State>,
    /// Whether that was RESOLUTION-INTERRUPTED, which, unlike
    /// POTENTIAL-CONFLICT, takes any state of ours.
    theirs_interrupted: bool,
    /// The identity given to dhcpd's database in RECOVER (`introduction`),
    /// the configuration's at first.
    recover_epoch: Option<u64>,
    /// Our state held back from ISC and ISC's state that holds it, as
    /// last logged (a warning once per pair, not per STATE).
    held: Option<(State, State)>,
    /// Our pool fingerprint, as the peer's own CONNECT gave it (it follows
    /// reloads), for the partner's synthesized CONNECT.
    fingerprint: String,
    /// The state ISC last heard from us (`outbound::deliverable`).
    told: Option<State>,
    /// Whether the request made on ISC's behalf at its introduction
    /// (`introduction`) was put off because ISC was in RECOVER, whose
    /// UPDREQALL was to come, and none has come yet (`partner_in`).
    behalf_put_off: bool,
    /// The last state we sent ISC on this connection (`told` is cleared
    /// when ours changes, to tell the new one).
    said: Option<State>,
    /// Whether ISC's last STATE carried the STARTUP flag.
    theirs_startup: bool,
    /// Whether `told` reached ISC in STARTUP, which may not have acted on
    /// it (`inbound::partner_in`).
    told_in_startup: bool,
    /// Whether ISC asked for updates (UPDREQ, UPDREQALL) that the peer has
    /// not answered yet: only then does the peer's UPDDONE go to ISC.
    isc_asked: bool,
    /// Whether dhcpd has answered the peer's own update request of this
    /// connection (its first UPDDONE): until then a request for the peer's
    /// updates, ISC's or made on its behalf, waits in `held_request`, so
    /// that what dhcpd changed while apart reaches the peer before the
    /// peer's changes reach dhcpd (`inbound`).
    learned: bool,
    /// The request for the peer's updates waiting for `learned`.
    held_request: Option<Message>,
    /// The transaction id of the peer's own update request (UPDREQ,
    /// UPDREQALL) on this connection: dhcpd's UPDDONE answering it
    /// carries it (failover.c `dhcp_failover_send_update_done` sends
    /// `updxid`, the request's xid).
    asked_xid: Option<u32>,
}

impl IscSession {
    /// A connection just opened at `now`, and what to send first (the
    /// primary's CONNECT).
    pub fn open(cfg: SessionConfig, now: Time) -> (IscSession, Vec<SessionOutput>) {
        let first_xid = first_xid(now, cfg.connection);
        let (link, first) = IscLink::open_from(cfg.link.clone(), now, first_xid);
        let recover_epoch = cfg.recover_epoch;
        let session = IscSession {
            cfg,
            link,
            ours: None,
            partner: None,
            introduced: false,
            early: Vec::new(),
            sent: HashMap::new(),
            queued: std::collections::VecDeque::new(),
            batches: BTreeMap::new(),
            owed: HashMap::new(),
            request_xid: 0,
            pool_answer: None,
            pools_asked: Vec::new(),
            refusals: refusals::Refusals::default(),
            balanced: false,
            theirs: None,
            theirs_interrupted: false,
            theirs_startup: false,
            said: None,
            behalf_put_off: false,
            told_in_startup: false,
            recover_epoch,
            held: None,
            fingerprint: String::new(),
            told: None,
            isc_asked: false,
            learned: false,
            held_request: None,
            asked_xid: None,
        };
        (session, frames(first))
    }

    /// Time passed: keepalives, or the close on silence or a handshake
    /// not done in time.
    pub fn tick(&mut self, now: Time) -> Vec<SessionOutput> {
        let (out, ev) = self.link.tick(now);
        let mut out = frames(out);
        for h in self.refusals.due(now) {
            out.extend(
                self.dispatch(now, h.batch, h.lease)
                    .map(SessionOutput::Frame),
            );
        }
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
        self.tell_held(now)
    }

    /// A DISCONNECT with ISC's `reason` code and `why`, and the close.
    fn refuse(&mut self, now: Time, reason: u8, why: String) -> Vec<SessionOutput> {
        tracing::error!("{why}");
        let bye = IscMessage::Disconnect(rejection(reason, &why));
        let frame = self.link.send(now, bye);
        vec![SessionOutput::Frame(frame), SessionOutput::Close(why)]
    }
}

/// ISC's reject reason for one of the peer's refusals (`sync::judge`).
fn reject_reason(reason: &str) -> u8 {
    use crate::failover::message::{REJECT_INVALID_RECORD, REJECT_NO_SUBNET};
    if reason.starts_with(REJECT_INVALID_RECORD) {
        reject::MISSING_BINDING_INFO
    } else if reason.starts_with(REJECT_NO_SUBNET) {
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

mod inbound;
mod introduction;
mod outbound;
mod refusals;
#[cfg(test)]
mod tests;

pub use refusals::REOFFER_AFTER;

/// The first transaction id of a connection opened at `now` (seconds)
/// with number `connection`: apart from the ids an earlier connection
/// (of this process, or of one before it) began with, unless it opened
/// in the same second with the same number modulo 16, or 2^16 seconds
/// before. dhcpd keeps a pending UPDDONE across a disconnect and sends it
/// with the old request's xid (failover.c `send_update_done`, `updxid`);
/// with ids restarting at 0 each connection, the peer's request, always
/// the connection's first or second or third frame, would have that
/// xid again, and `inbound`'s check could not tell the stale UPDDONE.
/// Below 2^24, so billions of frames go before the ids wrap.
fn first_xid(now: Time, connection: u64) -> u32 {
    let seconds = (now.0 & 0xffff) as u32;
    let number = (connection & 0xf) as u32;
    (seconds << 8) | (number << 4)
}
