//! The model dhcpd's side of a connection (failover.c 325-347, 520-610,
//! 1320-1470, 4335-4384): the primary sends CONNECT, the secondary checks
//! it (name, clocks within 60 s, a 32-octet assignment, an MCLT) and
//! answers CONNECTACK and its STATE, the primary checks the CONNECTACK and
//! says its STATE; CONTACT a third of the partner's receive-timer after
//! the last frame sent; the connection closes after our own
//! max-response-delay without a frame, or 15 s without a handshake.

use super::{Dhcpd, IscState};
use crate::failover::isc::{Frame, Hello, IscMessage, Rejection};

/// Clock offset dhcpd takes at most, seconds.
const MAX_OFFSET: i64 = 60;

/// An open connection.
pub(super) struct Conn {
    pub(super) opened: u32,
    /// The handshake is done: the partner's window and receive-timer.
    pub(super) partner: Option<(u32, u32)>,
    last_sent: u32,
    last_received: u32,
    pub(super) next_xid: u32,
    /// BNDUPDs in flight.
    pub(super) unacked: u32,
}

impl Dhcpd {
    /// A TCP connection to the partner opened at `now`.
    pub fn connected(&mut self, now: u32) {
        self.connections += 1;
        self.conn = Some(Conn {
            opened: now,
            partner: None,
            last_sent: now,
            last_received: now,
            next_xid: 1,
            unacked: 0,
        });
        if self.cfg.primary {
            let hba = crate::failover::isc::hba::from_split(128).to_vec();
            let m = IscMessage::Connect {
                hello: self.hello(),
                tls_request: Some(0),
                mclt: Some(self.file.mclt),
                hba: Some(hba),
            };
            self.send_message(now, m);
        }
    }

    /// Whether the handshake is done.
    pub fn link_up(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.partner.is_some())
    }

    /// The partner's window (max-unacked-updates), once known.
    pub(super) fn partner_window(&self) -> u32 {
        self.conn
            .as_ref()
            .and_then(|c| c.partner)
            .map_or(0, |p| p.0)
    }

    fn hello(&self) -> Hello {
        Hello {
            name: Some(self.cfg.name.clone()),
            max_unacked: Some(self.cfg.max_unacked),
            receive_timer: Some(self.cfg.max_response_delay),
            vendor_class: Some(b"isc-4.4.3-P1".to_vec()),
            protocol_version: Some(1),
        }
    }

    /// Sends `m` with a new transaction id.
    pub(super) fn send_message(&mut self, now: u32, m: IscMessage) {
        let Some(c) = self.conn.as_mut() else { return };
        let xid = c.next_xid;
        c.next_xid += 1;
        self.reply(now, m, xid);
    }

    /// Sends `m` answering transaction `xid`.
    pub(super) fn reply(&mut self, now: u32, m: IscMessage, xid: u32) {
        let Some(c) = self.conn.as_mut() else { return };
        c.last_sent = now;
        self.out.push(m.frame(now, xid));
    }

    /// Our STATE, if the handshake is done: the saved state with the
    /// STARTUP flag while starting.
    pub(super) fn send_state(&mut self, now: u32) {
        if !self.link_up() {
            return;
        }
        let m = IscMessage::State {
            state: Some(self.state().wire()),
            flags: Some(u8::from(self.starting())),
            since: Some(self.file.stos),
        };
        self.send_message(now, m);
    }

    /// Closes the connection: `why`, and the disconnect transition.
    fn drop_link(&mut self, now: u32, why: String) {
        self.close = Some(why.clone());
        self.disconnected(now, &why);
    }

    pub(super) fn link_tick(&mut self, now: u32) {
        let Some(c) = self.conn.as_ref() else { return };
        if c.partner.is_none() && now >= c.opened + 15 {
            return self.drop_link(now, "dhcpd: no handshake in 15 s".into());
        }
        if now > c.last_received + self.cfg.max_response_delay {
            return self.drop_link(now, "dhcpd: partner silent".into());
        }
        if let Some((_, timer)) = c.partner
            && now >= c.last_sent + timer / 3
        {
            self.send_message(now, IscMessage::Contact);
        }
    }

    /// A frame from the partner at `now`.
    pub fn receive(&mut self, now: u32, f: &Frame) {
        let Some(c) = self.conn.as_mut() else { return };
        c.last_received = now;
        let Some(m) = IscMessage::read(f) else { return };
        if let Some(why) = self.refused(now, f, &m) {
            return self.drop_link(now, why);
        }
        match m {
            IscMessage::Connect { hello, .. } => self.on_connect(now, f.xid, &hello),
            IscMessage::ConnectAck { hello, .. } => self.handshake_done(now, &hello),
            IscMessage::Contact => {}
            _ if !self.link_up() => {
                self.drop_link(now, format!("dhcpd: {:?} before the handshake", m.kind()))
            }
            IscMessage::State { state, flags, .. } => self.on_state(now, state, flags),
            IscMessage::Disconnect(r) => self.drop_link(now, format!("partner disconnects: {r:?}")),
            other => self.on_update_message(now, f.xid, other),
        }
    }

    /// Why dhcpd closes on `m`: a CONNECT to a primary or a CONNECTACK to
    /// a secondary, a refusal, a wrong name, clocks too far apart, a
    /// CONNECT without MCLT or assignment, a second handshake.
    fn refused(&self, now: u32, f: &Frame, m: &IscMessage) -> Option<String> {
        let (hello, is_connect) = match m {
            IscMessage::Connect {
                hello, mclt, hba, ..
            } => {
                if self.cfg.primary {
                    return Some("dhcpd (primary) got a CONNECT".into());
                }
                if mclt.is_none() || hba.as_ref().is_none_or(|h| h.len() != 32) {
                    return Some("dhcpd: CONNECT without MCLT or HBA".into());
                }
                (hello, true)
            }
            IscMessage::ConnectAck { hello, reject, .. } => {
                if let Some(Rejection { reason, .. }) = reject {
                    return Some(format!("dhcpd: CONNECTACK refuses us ({reason:?})"));
                }
                (hello, false)
            }
            _ => return None,
        };
        if self.link_up() || (is_connect == self.cfg.primary) {
            return Some("dhcpd: a second handshake".into());
        }
        if hello.name.as_deref() != Some(&self.cfg.name[..]) {
            return Some("dhcpd: unknown relationship name".into());
        }
        ((i64::from(f.time) - i64::from(now)).abs() > MAX_OFFSET)
            .then(|| "dhcpd: time offset too large".into())
    }

    fn on_connect(&mut self, now: u32, xid: u32, hello: &Hello) {
        let ack = IscMessage::ConnectAck {
            hello: self.hello(),
            tls_reply: Some(0),
            reject: None,
        };
        self.reply(now, ack, xid);
        self.handshake_done(now, hello);
    }

    /// The partner's side is known: its window and timer; our STATE goes.
    fn handshake_done(&mut self, now: u32, hello: &Hello) {
        let window = hello.max_unacked.unwrap_or(0);
        let timer = hello.receive_timer.unwrap_or(0);
        if let Some(c) = self.conn.as_mut() {
            c.partner = Some((window, timer));
        }
        self.send_state(now);
    }

    fn on_state(&mut self, now: u32, state: Option<u8>, flags: Option<u8>) {
        let n = state.unwrap_or(0);
        let startup = flags.unwrap_or(0) & 1 == 1;
        match (n, IscState::from_wire(n)) {
            (_, Some(s)) => self.peer_state_changed(now, Some(s), startup),
            // STARTUP, PAUSED and unknown are states dhcpd knows, but
            // tandem's session promises never to say them (dhcpd in
            // CONFLICT-DONE exits on each).
            (0 | 1 | 7, None) => self.faults.push(format!(
                "tandem told dhcpd state {n}, which it never should"
            )),
            _ => {
                self.faults
                    .push(format!("dhcpd shuts down: invalid partner state {n}"));
                self.set_state(now, IscState::Shutdown);
            }
        }
    }
}
