//! One connection to an ISC dhcpd failover peer, sans-IO: the handshake,
//! keepalives, the silence and startup timeouts, and transaction ids, as
//! ISC dhcpd 4.4 runs them (research sections 2.1-2.5). What the
//! connection carries once up ([`LinkEvent::Message`]) is for the failover
//! state machine.
//!
//! Only the primary sends CONNECT, whichever side opened the TCP
//! connection; the secondary answers CONNECTACK. Both check the
//! relationship name and a clock offset of at most 60 s, as ISC does, and
//! the secondary the hash bucket assignment and the MCLT; a refusal is a
//! CONNECTACK (or DISCONNECT) with ISC's reject reason, then the close.
//! Once up, each side must send its STATE at once (ISC does, and changes
//! state only on the partner's STATE): that is the caller's, which knows
//! the state.
//!
//! Left for the edge and the failover layer: a second connection while
//! one is up (ISC refuses it with reject 7), and timers on the monotonic
//! clock (these run on the wall clock).

use super::{Frame, Hello, IscMessage, Rejection, hba};
use crate::time::Time;

/// The most two clocks may differ before ISC refuses to connect, seconds.
pub const MAX_OFFSET: u64 = 60;

/// Seconds a connection has to complete its handshake (ISC's link
/// startup timer).
pub const STARTUP_SECS: u64 = 15;

/// The max-unacked-bndupd our CONNECT tells dhcpd, before we know its
/// own: the 10 of dhcpd.conf(5)'s example, the smallest window commonly
/// configured, so that half a window of ours makes dhcpd acknowledge
/// (`IscLink::advertised_window`).
pub const UNKNOWN_WINDOW: u32 = 10;

/// ISC's reject reasons this link sends (draft section 12.21).
pub mod reject {
    /// The clocks differ by more than [`super::MAX_OFFSET`].
    pub const TIME_MISMATCH: u8 = 4;
    /// A CONNECT without an MCLT.
    pub const INVALID_MCLT: u8 = 5;
    /// Not the configured relationship.
    pub const INVALID_PARTNER: u8 = 8;
    /// A CONNECT without a 32-octet hash bucket assignment.
    pub const HBA_CONFLICT: u8 = 18;
}

/// This side of the relationship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Whether this server is the primary.
    pub primary: bool,
    /// The relationship name, as in the ISC partner's `failover peer`.
    pub name: Vec<u8>,
    /// Our `max_response_delay`, seconds: sent as receive-timer, and the
    /// silence after which we close.
    pub max_response_delay: u32,
    /// How many binding updates we take unacknowledged.
    pub max_unacked: u32,
    /// The MCLT, seconds (the primary's CONNECT carries it).
    pub mclt: u32,
    /// The primary's share of the hash buckets (the CONNECT's assignment).
    pub split: u16,
}

/// What the connection tells the failover state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// The handshake is done: the partner's side and, from a CONNECT, its
    /// MCLT (seconds) and hash bucket assignment. Send our STATE now.
    Up {
        /// The partner's side.
        partner: Hello,
        /// The primary's MCLT, when the partner is the primary.
        mclt: Option<u32>,
        /// The primary's 32-octet assignment, when the partner is the
        /// primary (`hba::to_split` reads a split from it, if it is one).
        hba: Option<Vec<u8>>,
    },
    /// A message after the handshake, with its transaction id.
    Message(IscMessage, u32),
    /// The connection must close, and why.
    Close(String),
}

/// One connection's state.
#[derive(Clone, Debug)]
pub struct IscLink {
    cfg: LinkConfig,
    opened: Time,
    up: bool,
    /// The partner's receive-timer, seconds, once known.
    partner_timer: Option<u32>,
    last_sent: Time,
    last_received: Time,
    next_xid: u32,
}

impl IscLink {
    /// A connection just opened at `now`, and what to send first (the
    /// primary's CONNECT), its transaction ids from 0, as ISC numbers
    /// its own.
    pub fn open(cfg: LinkConfig, now: Time) -> (IscLink, Vec<Frame>) {
        IscLink::open_from(cfg, now, 0)
    }

    /// [`IscLink::open`] with transaction ids from `first_xid` (the
    /// session's, apart from an earlier connection's: `IscSession::open`).
    pub fn open_from(cfg: LinkConfig, now: Time, first_xid: u32) -> (IscLink, Vec<Frame>) {
        let mut link = IscLink {
            cfg,
            opened: now,
            up: false,
            partner_timer: None,
            last_sent: now,
            last_received: now,
            next_xid: first_xid,
        };
        let first = if link.cfg.primary {
            let connect = link.connect();
            vec![link.send(now, connect)]
        } else {
            vec![]
        };
        (link, first)
    }

    /// Whether the handshake is done.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// `m` as a frame sent at `now` with the next transaction id: the
    /// first one given at opening, never 0 after, as ISC reads a lease's
    /// xid 0 as "none awaited".
    pub fn send(&mut self, now: Time, m: IscMessage) -> Frame {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        self.reply(now, m, xid)
    }

    /// `m` as a frame sent at `now` answering transaction `xid`.
    pub fn reply(&mut self, now: Time, m: IscMessage, xid: u32) -> Frame {
        self.last_sent = now;
        m.frame(now.0 as u32, xid)
    }

    /// Time passed: a CONTACT when a third of the partner's receive-timer
    /// has gone by without our sending, or the close after our
    /// `max_response_delay` without a message, or a handshake not done in
    /// [`STARTUP_SECS`].
    pub fn tick(&mut self, now: Time) -> (Vec<Frame>, Option<LinkEvent>) {
        if !self.up && self.opened.until(now) >= STARTUP_SECS {
            let why = format!("no handshake in {STARTUP_SECS} s");
            return (vec![], Some(LinkEvent::Close(why)));
        }
        let silent = self.last_received.until(now);
        if silent > u64::from(self.cfg.max_response_delay) {
            let why = format!("no message from the ISC partner for {silent} s");
            return (vec![], Some(LinkEvent::Close(why)));
        }
        let timer = self.partner_timer.unwrap_or(self.cfg.max_response_delay);
        let every = u64::from(timer / 3).max(1);
        if self.up && self.last_sent.until(now) >= every {
            return (vec![self.send(now, IscMessage::Contact)], None);
        }
        (vec![], None)
    }

    /// A frame arrived at `now`: what to send back and what it means.
    pub fn receive(&mut self, now: Time, f: &Frame) -> (Vec<Frame>, Option<LinkEvent>) {
        self.last_received = now;
        let Some(m) = IscMessage::read(f) else {
            return (vec![], None); // ISC ignores a type it has no handler for
        };
        match m {
            IscMessage::Connect {
                hello, mclt, hba, ..
            } if !self.cfg.primary => self.on_connect(now, f, hello, mclt, hba),
            IscMessage::ConnectAck { hello, reject, .. } if self.cfg.primary => {
                self.on_connect_ack(now, f, hello, reject)
            }
            IscMessage::Contact => (vec![], None),
            m if self.up => (vec![], Some(LinkEvent::Message(m, f.xid))),
            m => {
                let why = format!("{:?} before the handshake", m.kind());
                (vec![], Some(LinkEvent::Close(why)))
            }
        }
    }

    fn on_connect(
        &mut self,
        now: Time,
        f: &Frame,
        hello: Hello,
        mclt: Option<u32>,
        assignment: Option<Vec<u8>>,
    ) -> (Vec<Frame>, Option<LinkEvent>) {
        // In ISC's order: name and clocks, the assignment, then the MCLT.
        let refusal = self
            .refusal(now, f, &hello)
            .or_else(|| {
                let ok = assignment.as_ref().is_some_and(|a| a.len() == hba::HBA_LEN);
                (!ok).then(|| (reject::HBA_CONFLICT, "invalid HBA".to_string()))
            })
            .or_else(|| {
                mclt.is_none()
                    .then(|| (reject::INVALID_MCLT, "no MCLT provided".to_string()))
            });
        let tls_reply = Some(0);
        if let Some((reason, text)) = refusal {
            let reject = Some(rejection(reason, &text));
            let ack = IscMessage::ConnectAck {
                hello: self.hello(),
                tls_reply,
                reject,
            };
            let frame = self.reply(now, ack, f.xid);
            return (vec![frame], Some(LinkEvent::Close(text)));
        }
        let mut ours = self.hello();
        ours.max_unacked = Some(self.advertised_window(hello.max_unacked));
        let ack = IscMessage::ConnectAck {
            hello: ours,
            tls_reply,
            reject: None,
        };
        let frame = self.reply(now, ack, f.xid);
        (vec![frame], Some(self.up(hello, mclt, assignment)))
    }

    fn on_connect_ack(
        &mut self,
        now: Time,
        f: &Frame,
        hello: Hello,
        reject: Option<Rejection>,
    ) -> (Vec<Frame>, Option<LinkEvent>) {
        if let Some(r) = reject {
            let why = format!("the ISC partner refused us: {}", self.explain(&r));
            return (vec![], Some(LinkEvent::Close(why)));
        }
        if let Some((reason, text)) = self.refusal(now, f, &hello) {
            let bye = IscMessage::Disconnect(rejection(reason, &text));
            let frame = self.send(now, bye);
            return (vec![frame], Some(LinkEvent::Close(text)));
        }
        if let Some(why) = self.slow_acks(&hello) {
            tracing::warn!("{why}");
        }
        (vec![], Some(self.up(hello, None, None)))
    }

    /// As the primary we tell dhcpd our window in the CONNECT, before we
    /// know its own (`advertised_window`). dhcpd acknowledges once half
    /// the told window waits (rounded down), or on its 2-s timer; we keep no more in
    /// flight than its own max-unacked-updates (`partner`'s), so if that
    /// is under half of what we told, every update of ours waits for the
    /// timer. Why, with the remedy, or `None`.
    pub(crate) fn slow_acks(&self, partner: &Hello) -> Option<String> {
        let told = self.advertised_window(None);
        // dhcpd flushes once `told / 2` (integer division) wait
        // (failover.c `dhcp_failover_queue_ack`).
        let m = partner.max_unacked.filter(|m| *m < told / 2)?;
        Some(format!(
            "dhcpd's max-unacked-updates ({m}) is under half the window our CONNECT told it ({told}): it acknowledges our updates only on its 2-s timer; set [failover] max_unacked_updates = {m} here, or dhcpd's to {told}"
        ))
    }

    /// Why ISC would refuse a CONNECT or CONNECTACK from this partner: the
    /// wrong relationship, or clocks more than [`MAX_OFFSET`] apart; the
    /// reason code and words an operator can act on.
    fn refusal(&self, now: Time, f: &Frame, hello: &Hello) -> Option<(u8, String)> {
        if hello.name.as_deref() != Some(&self.cfg.name[..]) {
            let theirs = String::from_utf8_lossy(hello.name.as_deref().unwrap_or_default());
            let why = format!(
                "unknown failover relationship name \"{theirs}\": set `relationship` to the name in dhcpd's `failover peer`"
            );
            return Some((reject::INVALID_PARTNER, why));
        }
        let offset = i128::from(f.time) - i128::from(now.0);
        (offset.unsigned_abs() > u128::from(MAX_OFFSET)).then(|| {
            let why = format!(
                "time offset too large: dhcpd's clock is {offset:+} s from tandem's, and ISC failover refuses more than {MAX_OFFSET} s: synchronise both hosts' clocks (NTP)"
            );
            (reject::TIME_MISMATCH, why)
        })
    }

    /// The ISC partner's refusal of our CONNECT in words an operator can
    /// act on: its reason code's meaning and remedy, then its own text.
    fn explain(&self, r: &Rejection) -> String {
        let text = String::from_utf8_lossy(r.message.as_deref().unwrap_or_default());
        let hint = match r.reason {
            Some(reject::TIME_MISMATCH) => format!(
                "our clocks differ by more than {MAX_OFFSET} s (dhcpd's limit): synchronise both hosts' clocks (NTP)"
            ),
            Some(reject::INVALID_PARTNER) => format!(
                "it has no failover relationship named \"{}\": set `relationship` to the name in its `failover peer`",
                String::from_utf8_lossy(&self.cfg.name)
            ),
            Some(reject::INVALID_MCLT) | Some(reject::HBA_CONFLICT) => {
                "it does not take our MCLT or split: check `mclt` and `split`".to_string()
            }
            Some(n) => format!("ISC reject reason {n}"),
            None => "no reason given".to_string(),
        };
        format!("{hint} (dhcpd said: \"{text}\")")
    }

    fn up(&mut self, partner: Hello, mclt: Option<u32>, hba: Option<Vec<u8>>) -> LinkEvent {
        self.up = true;
        self.partner_timer = partner.receive_timer;
        LinkEvent::Up { partner, mclt, hba }
    }

    /// The max-unacked-bndupd we tell dhcpd, given its own (`theirs`, from
    /// its CONNECT; unknown when we send ours first). dhcpd acknowledges
    /// our updates once half that many wait, or 2 s after the last
    /// (`dhcp_failover_queue_ack`), and we have at most `theirs` in flight
    /// (`session::outbound`): with our configured 256 and its 10, every
    /// window waited for the timer, and dhcpd learned 64 bindings in 8 s.
    /// So we tell it its own (at most ours), as a dhcpd partner
    /// configured alike would: it acknowledges each half window, while we
    /// send the other half. [`UNKNOWN_WINDOW`] before we know dhcpd's (a
    /// primary's CONNECT): a dhcpd configured with fewer than 10 then
    /// acknowledges our windows on its timer. It sends us as many
    /// unacknowledged (`scripts/bench-isc-recover.sh`,
    /// 8,192 bindings: a dhcpd re-learns them from tandem in 6.4 s, tandem
    /// from dhcpd in 4.4 s, a dhcpd from a dhcpd in 3.5 s).
    fn advertised_window(&self, theirs: Option<u32>) -> u32 {
        let cap = self.cfg.max_unacked.max(1);
        theirs.unwrap_or(UNKNOWN_WINDOW).clamp(1, cap)
    }

    /// Our side, as CONNECT and CONNECTACK carry it (the window as before
    /// we know dhcpd's: `advertised_window`).
    fn hello(&self) -> Hello {
        Hello {
            name: Some(self.cfg.name.clone()),
            max_unacked: Some(self.advertised_window(None)),
            receive_timer: Some(self.cfg.max_response_delay),
            vendor_class: Some(format!("tandem-{}", env!("CARGO_PKG_VERSION")).into_bytes()),
            protocol_version: Some(1),
        }
    }

    fn connect(&self) -> IscMessage {
        IscMessage::Connect {
            hello: self.hello(),
            tls_request: Some(0),
            mclt: Some(self.cfg.mclt),
            hba: Some(hba::from_split(self.cfg.split).to_vec()),
        }
    }
}

fn rejection(reason: u8, text: &str) -> Rejection {
    Rejection {
        reason: Some(reason),
        message: Some(text.as_bytes().to_vec()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
