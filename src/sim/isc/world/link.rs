//! The simulated TCP connection between tandem and the dhcpd model: it
//! opens when both run and nothing is cut (tandem's link then reports
//! it up and opens an ISC session, as `net::isc_link` does); frames keep
//! their order, wait out a cut (TCP retransmits) and are lost with a
//! closed connection; a close reaches the other end at once, or at the
//! heal when a cut holds it (the RST), unless its own timeout closes it
//! first.

use super::*;
use crate::failover::isc::Frame;
use crate::failover::isc::session::SessionOutput;
use crate::node::Input;

impl World {
    /// Opens a connection when both servers run, neither end is open and
    /// nothing is cut.
    pub(super) fn try_connect(&mut self) -> Result<(), Violation> {
        if self.conn.open != [false, false]
            || self.conn.cut > 0
            || self.tandem.is_none()
            || self.dhcpd.is_none()
        {
            return Ok(());
        }
        self.conn.id += 1;
        self.conn.open = [true, true];
        self.conn.held.clear();
        self.conn.last = [self.now; 2];
        let id = self.conn.id;
        self.note(format!("connection {id} up"));
        let (now, dd) = (self.now, self.disk_delay);
        let h = self.tandem.as_mut().expect("checked");
        let local = h.local(now);
        let mut cfg = super::setup::session_config(&self.tandem_cfg);
        cfg.connection = id;
        cfg.recover_epoch = self.recover_epoch;
        let (session, first) = IscSession::open(cfg, local);
        self.session = Some(session);
        h.input(now, dd, Input::PeerUp);
        self.session_outputs(first)?;
        self.after_tandem()?;
        let t = self.dhcpd_time(now);
        self.dhcpd.as_mut().expect("checked").connected(t);
        self.after_dhcpd()
    }

    /// Sends `bytes` from `from` on the current connection.
    fn send(&mut self, from: usize, bytes: Vec<u8>) {
        if !self.conn.open[from] {
            return;
        }
        let to = 1 - from;
        if self.conn.cut > 0 {
            self.conn.held.push((to, bytes));
            return;
        }
        let d = self.rng.range(0, self.opts.link_delay);
        let t = self.conn.last[from].max(self.now + d);
        self.conn.last[from] = t;
        let conn = self.conn.id;
        self.at(t, Ev::Frame { to, conn, bytes });
    }

    /// The last cut heals: held frames go on in order, and an end whose
    /// partner closed learns it (the RST).
    pub(super) fn heal(&mut self) -> Result<(), Violation> {
        self.conn.cut = self.conn.cut.saturating_sub(1);
        if self.conn.cut > 0 {
            return Ok(());
        }
        if self.conn.open[0] != self.conn.open[1] {
            let i = if self.conn.open[0] { 0 } else { 1 };
            return self.close_end(i, "connection reset by the partner");
        }
        for (to, bytes) in std::mem::take(&mut self.conn.held) {
            self.send(1 - to, bytes);
        }
        Ok(())
    }

    /// Closes end `i`, and the other end too unless a cut holds the FIN.
    pub(super) fn close_end(&mut self, i: usize, why: &str) -> Result<(), Violation> {
        if !self.conn.open[i] {
            return Ok(());
        }
        self.conn.open[i] = false;
        self.note(format!("connection {} end {i} closed: {why}", self.conn.id));
        if i == TANDEM {
            if let Some(s) = self.session.take() {
                self.recover_epoch = s.recover_epoch();
            }
            let (now, dd) = (self.now, self.disk_delay);
            if let Some(h) = self.tandem.as_mut() {
                h.input(now, dd, Input::PeerDown(why.to_string()));
            }
            self.after_tandem()?;
        } else {
            let t = self.dhcpd_time(self.now);
            if let Some(d) = self.dhcpd.as_mut() {
                d.disconnected(t, why);
            }
            self.after_dhcpd()?;
        }
        if self.conn.cut == 0 {
            self.conn.held.clear();
            return self.close_end(1 - i, "the partner closed the connection");
        }
        Ok(())
    }

    /// A frame reaches `to`.
    pub(super) fn frame(&mut self, to: usize, conn: u64, bytes: Vec<u8>) -> Result<(), Violation> {
        if conn != self.conn.id || !self.conn.open[to] {
            return Ok(());
        }
        let f = match Frame::decode(&bytes) {
            Ok(f) => f,
            Err(e) => {
                return Err(self.violation(format!("server {to} got an undecodable frame: {e}")));
            }
        };
        if to == DHCPD {
            // dhcpd is blind to tandem's PARTNER-DOWN until it hears
            // tandem's state, not merely a connection: one cut a second
            // after it opened left a restarted dhcpd serving as if alone
            // (sweep seed 1006376, 10 clients).
            if f.kind == crate::failover::isc::MessageType::State {
                self.dhcpd_blind = false;
            }
            let t = self.dhcpd_time(self.now);
            if let Some(d) = self.dhcpd.as_mut() {
                d.receive(t, &f);
            }
            return self.after_dhcpd();
        }
        let Some(h) = self.tandem.as_ref() else {
            return Ok(());
        };
        let local = h.local(self.now);
        let out = match self.session.as_mut() {
            Some(s) => s.receive(local, &f),
            None => return Ok(()),
        };
        self.session_outputs(out)
    }

    /// What the session asks: frames to dhcpd, messages to the node, a
    /// close. As in `net::isc_link`, every frame of one call is written
    /// before the node answers any message of it (the node is another
    /// task there): a reaction must not overtake what the session sent
    /// before it.
    pub(super) fn session_outputs(&mut self, out: Vec<SessionOutput>) -> Result<(), Violation> {
        let mut messages = vec![];
        for o in out {
            match o {
                SessionOutput::Frame(f) => {
                    self.check_tandem_frame(&f)?;
                    match f.encode() {
                        Ok(b) => self.send(TANDEM, b),
                        Err(e) => {
                            return Err(self.violation(format!("tandem encodes no frame: {e}")));
                        }
                    }
                }
                SessionOutput::Message(m) => messages.push(m),
                SessionOutput::Close(why) => {
                    self.deliver_messages(messages)?;
                    return self.close_end(TANDEM, &why);
                }
            }
        }
        self.deliver_messages(messages)
    }

    fn deliver_messages(
        &mut self,
        messages: Vec<crate::failover::message::Message>,
    ) -> Result<(), Violation> {
        for m in messages {
            let (now, dd) = (self.now, self.disk_delay);
            if let Some(h) = self.tandem.as_mut() {
                h.input(now, dd, Input::PeerFrame(m));
            }
            self.after_tandem()?;
        }
        Ok(())
    }

    /// Carries tandem's outputs out: replies, the node's messages through
    /// the session, a close, a halt.
    pub(super) fn after_tandem(&mut self) -> Result<(), Violation> {
        self.collect_tandem();
        self.trace_states();
        let Some(h) = self.tandem.as_mut() else {
            return Ok(());
        };
        if let Some(p) = h.undurable.pop() {
            return Err(self.violation(format!("tandem: {p}")));
        }
        let replies = std::mem::take(&mut h.replies);
        let outbox = std::mem::take(&mut h.outbox);
        let close = h.close.take();
        let halted = h.halted.clone();
        for r in replies {
            self.reply_to_client(r.bytes);
        }
        let local = self.tandem.as_ref().map(|h| h.local(self.now));
        for m in outbox {
            if let (Some(s), Some(t)) = (self.session.as_mut(), local) {
                let out = s.send(t, m);
                self.session_outputs(out)?;
            }
        }
        if let Some(why) = close {
            self.close_end(TANDEM, &why)?;
        }
        if let Some(why) = halted {
            self.summary.halts += 1;
            self.note(format!("tandem halted: {why}"));
            self.crash(TANDEM, false)?;
        }
        Ok(())
    }

    /// Carries dhcpd's outputs out: frames, a close, its faults.
    pub(super) fn after_dhcpd(&mut self) -> Result<(), Violation> {
        self.collect_dhcpd();
        self.note_dropped();
        self.trace_states();
        let Some(d) = self.dhcpd.as_mut() else {
            return Ok(());
        };
        let frames = std::mem::take(&mut d.out);
        let close = d.close.take();
        let log = std::mem::take(&mut d.log);
        if let Some(f) = d.faults.first().cloned() {
            return Err(self.violation(f));
        }
        for l in log {
            self.note(l);
        }
        for f in frames {
            match f.encode() {
                Ok(b) => self.send(DHCPD, b),
                Err(e) => return Err(self.violation(format!("dhcpd model encodes no frame: {e}"))),
            }
        }
        if let Some(why) = close {
            self.close_end(DHCPD, &why)?;
        }
        Ok(())
    }
}
