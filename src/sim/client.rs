//! A simulated DHCP client (RFC 2131 section 4.4): DISCOVER, take the first
//! offer, REQUEST, renew at T1 to its server, rebind at T2 to both, start over
//! at expiry; and the misbehaviours the schedule asks for (release, decline,
//! reboot, disappear). Its expiry counts from when it sent the request, as
//! the RFC says, so the checker's view of "held" is the client's own.

use dhcproto::{Decodable, Encodable, v4};
use std::net::Ipv4Addr;

pub const RELAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Both,
    Server(Ipv4Addr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub addr: Ipv4Addr,
    pub server: Ipv4Addr,
    /// Global time the request that earned it was sent.
    pub start: u64,
    pub len: u64,
    pub t1: u64,
    pub t2: u64,
}

impl Held {
    pub fn expiry(&self) -> u64 {
        self.start + self.len
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Init,
    Requesting { addr: Ipv4Addr, server: Ipv4Addr },
    Bound,
    Renewing,
    Rebinding,
    Rebooting { addr: Ipv4Addr },
    Gone,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub mac: [u8; 6],
    pub phase: Phase,
    pub xid: u32,
    /// When the current exchange's request went out.
    pub sent_at: u64,
    pub started: u64,
    pub held: Option<Held>,
    pub wake: u64,
}

/// What a client did with a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Nothing,
    Bound(Held),
    Naked(Option<Held>),
}

fn build(
    kind: v4::MessageType,
    mac: [u8; 6],
    xid: u32,
    secs: u16,
    ciaddr: Ipv4Addr,
    opts: Vec<v4::DhcpOption>,
) -> Vec<u8> {
    let mut m = v4::Message::new(
        ciaddr,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        RELAY,
        &mac,
    );
    m.set_xid(xid).set_secs(secs).set_hops(1);
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    if let Some(name) = hostname(mac, xid) {
        m.opts_mut().insert(v4::DhcpOption::Hostname(name));
    }
    for o in opts {
        m.opts_mut().insert(o);
    }
    m.to_vec().expect("client messages encode")
}

/// The host name (option 12) a client sends: one in six sends none, one
/// in six changes its name every four exchanges, the others keep theirs
/// (the ddns family's names, dropped and renamed bindings among them).
fn hostname(mac: [u8; 6], xid: u32) -> Option<String> {
    match mac[5] % 6 {
        0 => None,
        1 if xid & 4 != 0 => Some(format!("host{}-b", mac[5])),
        _ => Some(format!("host{}", mac[5])),
    }
}

impl Client {
    /// A client that first asks for an address at `start`.
    pub fn new(id: usize, start: u64) -> Client {
        let mac = [2, 0x51, 0, 0, (id >> 8) as u8, id as u8];
        Client {
            mac,
            phase: Phase::Init,
            xid: (id as u32) << 20,
            sent_at: 0,
            started: start,
            held: None,
            wake: start,
        }
    }

    fn secs(&self, now: u64) -> u16 {
        now.saturating_sub(self.started).min(u64::from(u16::MAX)) as u16
    }

    /// Acts at `now` if due; returns what to send.
    pub fn wake(&mut self, now: u64, rng_retry: u64) -> Vec<(Target, Vec<u8>)> {
        if now < self.wake || self.phase == Phase::Gone {
            return vec![];
        }
        self.follow_timers(now);
        let retry = now + rng_retry;
        let (to, message) = match self.phase {
            Phase::Bound => {
                self.wake = self.held.map_or(retry, |h| h.start + h.t1);
                return vec![];
            }
            Phase::Gone => return vec![],
            Phase::Init => {
                self.xid += 1;
                self.wake = retry;
                (
                    Target::Both,
                    self.message(now, v4::MessageType::Discover, vec![]),
                )
            }
            Phase::Requesting { addr, server } => {
                self.wake = retry;
                let opts = vec![
                    v4::DhcpOption::ServerIdentifier(server),
                    v4::DhcpOption::RequestedIpAddress(addr),
                ];
                (
                    Target::Both,
                    self.message(now, v4::MessageType::Request, opts),
                )
            }
            Phase::Rebooting { addr } => {
                self.wake = retry;
                let opts = vec![v4::DhcpOption::RequestedIpAddress(addr)];
                (
                    Target::Both,
                    self.message(now, v4::MessageType::Request, opts),
                )
            }
            Phase::Renewing | Phase::Rebinding => return vec![self.renewal(now, retry)],
        };
        self.sent_at = now;
        vec![(to, message)]
    }

    /// Moves along the lease's life as RFC 2131 section 4.4.5 times it:
    /// past expiry back to INIT, past T2 to REBINDING, past T1 to RENEWING.
    fn follow_timers(&mut self, now: u64) {
        let Some(h) = self.held else { return };
        if now >= h.expiry() {
            self.held = None;
            self.phase = Phase::Init;
            self.started = now;
        } else if now >= h.start + h.t2 && matches!(self.phase, Phase::Bound | Phase::Renewing) {
            self.phase = Phase::Rebinding;
        } else if now >= h.start + h.t1 && self.phase == Phase::Bound {
            self.phase = Phase::Renewing;
        }
    }

    /// A DISCOVER or REQUEST from a client without an address (ciaddr 0),
    /// carrying `opts`.
    fn message(&self, now: u64, kind: v4::MessageType, opts: Vec<v4::DhcpOption>) -> Vec<u8> {
        build(
            kind,
            self.mac,
            self.xid,
            self.secs(now),
            Ipv4Addr::UNSPECIFIED,
            opts,
        )
    }

    /// A renewing client's REQUEST (ciaddr set): unicast to the server that
    /// granted the lease while RENEWING, to both while REBINDING.
    fn renewal(&mut self, now: u64, retry: u64) -> (Target, Vec<u8>) {
        let h = self.held.expect("renewing clients hold a lease");
        self.xid += 1;
        self.sent_at = now;
        self.wake = retry.min(h.expiry());
        let to = if self.phase == Phase::Renewing {
            Target::Server(h.server)
        } else {
            Target::Both
        };
        let message = build(
            v4::MessageType::Request,
            self.mac,
            self.xid,
            0,
            h.addr,
            vec![],
        );
        (to, message)
    }

    /// Handles a reply addressed to this client.
    pub fn receive(&mut self, now: u64, bytes: &[u8]) -> Event {
        let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(bytes)) else {
            return Event::Nothing;
        };
        if m.xid() != self.xid || m.chaddr() != self.mac {
            return Event::Nothing;
        }
        let sid = match m.opts().get(v4::OptionCode::ServerIdentifier) {
            Some(v4::DhcpOption::ServerIdentifier(s)) => *s,
            _ => return Event::Nothing,
        };
        match (m.opts().msg_type(), self.phase) {
            (Some(v4::MessageType::Offer), Phase::Init) => {
                self.phase = Phase::Requesting {
                    addr: m.yiaddr(),
                    server: sid,
                };
                self.wake = now;
                Event::Nothing
            }
            (
                Some(v4::MessageType::Ack),
                Phase::Requesting { addr, .. } | Phase::Rebooting { addr },
            ) if m.yiaddr() == addr => self.bind(now, &m, sid),
            (Some(v4::MessageType::Ack), Phase::Renewing | Phase::Rebinding)
                if self.held.is_some_and(|h| h.addr == m.yiaddr()) =>
            {
                self.bind(now, &m, sid)
            }
            (
                Some(v4::MessageType::Nak),
                Phase::Requesting { .. }
                | Phase::Rebooting { .. }
                | Phase::Renewing
                | Phase::Rebinding,
            ) => {
                let lost = self.held.take();
                self.phase = Phase::Init;
                self.started = now;
                self.wake = now + 1;
                Event::Naked(lost)
            }
            _ => Event::Nothing,
        }
    }

    fn bind(&mut self, now: u64, m: &v4::Message, sid: Ipv4Addr) -> Event {
        let get = |c: v4::OptionCode| match m.opts().get(c) {
            Some(
                v4::DhcpOption::AddressLeaseTime(t)
                | v4::DhcpOption::Renewal(t)
                | v4::DhcpOption::Rebinding(t),
            ) => Some(u64::from(*t)),
            _ => None,
        };
        let len = get(v4::OptionCode::AddressLeaseTime).unwrap_or(0);
        let h = Held {
            addr: m.yiaddr(),
            server: sid,
            start: self.sent_at,
            len,
            t1: get(v4::OptionCode::Renewal).unwrap_or(len / 2),
            t2: get(v4::OptionCode::Rebinding).unwrap_or(len * 7 / 8),
        };
        self.held = Some(h);
        self.phase = Phase::Bound;
        self.wake = (h.start + h.t1).max(now + 1);
        Event::Bound(h)
    }

    /// Gives the lease back; returns the RELEASE to send.
    pub fn release(&mut self, now: u64) -> Option<(Target, Vec<u8>, Held)> {
        let h = self.held.take()?;
        self.phase = Phase::Init;
        self.started = now;
        self.wake = now + 30;
        self.xid += 1;
        let opts = vec![v4::DhcpOption::ServerIdentifier(h.server)];
        Some((
            Target::Server(h.server),
            build(
                v4::MessageType::Release,
                self.mac,
                self.xid,
                0,
                h.addr,
                opts,
            ),
            h,
        ))
    }

    /// Reports the address in use by someone else; returns the DECLINE to send.
    pub fn decline(&mut self, now: u64) -> Option<(Target, Vec<u8>, Held)> {
        let h = self.held.take()?;
        self.phase = Phase::Init;
        self.started = now;
        self.wake = now + 10;
        self.xid += 1;
        let opts = vec![
            v4::DhcpOption::ServerIdentifier(h.server),
            v4::DhcpOption::RequestedIpAddress(h.addr),
        ];
        Some((
            Target::Both,
            build(
                v4::MessageType::Decline,
                self.mac,
                self.xid,
                0,
                Ipv4Addr::UNSPECIFIED,
                opts,
            ),
            h,
        ))
    }

    /// The misbehaviour the schedule drew (`kind`, 0 to 3) at `now`: a
    /// release, a decline, a reboot, or (while faults are injected,
    /// `chaos`) leaving for good. Returns what to send, and the lease it
    /// gave up.
    pub fn misbehave(
        &mut self,
        kind: u64,
        now: u64,
        chaos: bool,
    ) -> Option<(Target, Vec<u8>, Held)> {
        match kind {
            0 => self.release(now),
            1 => self.decline(now),
            2 => {
                self.reboot(now);
                None
            }
            3 if chaos => {
                self.phase = Phase::Gone;
                None
            }
            _ => None,
        }
    }

    /// Reboots: keeps the address it remembers and asks for it again (INIT-REBOOT).
    pub fn reboot(&mut self, now: u64) {
        if let Some(h) = self.held {
            self.xid += 1;
            self.phase = Phase::Rebooting { addr: h.addr };
            self.started = now;
            self.wake = now;
        }
    }
}
