//! The simulated peer link: connecting, framing through the real codec,
//! faults, and closing each end on its own (half-open connections).

use super::*;

impl World {
    /// Connects the two servers when both run and nothing is cut. An end
    /// still open from a connection its partner has closed (half-open) is
    /// reset first, as its next keepalive would be.
    pub(super) fn try_connect(&mut self) {
        if self.link.open == [true, true]
            || self.blocked(0)
            || self.blocked(1)
            || self
                .nodes
                .iter()
                .any(|n| n.as_ref().is_none_or(|n| n.frozen))
        {
            return;
        }
        // Resetting may stop a server (a failed commit): connect on the
        // next tick.
        if let Some(i) = (0..2).find(|i| self.link.open[*i]) {
            return self.close_end(i, "connection reset by the partner");
        }
        let hp = Hello {
            version: crate::failover::message::PROTOCOL_VERSION,
            primary: true,
            nonce: self.rng.bytes32(),
        };
        let hs = Hello {
            version: crate::failover::message::PROTOCOL_VERSION,
            primary: false,
            nonce: self.rng.bytes32(),
        };
        self.link.id += 1;
        self.link.open = [true, true];
        self.link.sessions = [
            Session::new(b"sim-key", &hp, &hs).ok(),
            Session::new(b"sim-key", &hs, &hp).ok(),
        ];
        self.link.last = [self.now; 2];
        self.summary_note(format!("peer link {} up", self.link.id));
        for i in 0..2 {
            let (now, dd) = (self.now, self.faults.disk_delay);
            let n = self.nodes[i].as_mut().expect("both up");
            n.input(now, dd, Input::PeerUp);
        }
        for i in 0..2 {
            self.after_node_later(i);
        }
    }

    /// `after_node` where a violation cannot be returned: it is kept, and
    /// the run stops with it after the event.
    pub(super) fn after_node_later(&mut self, i: usize) {
        if let Err(v) = self.after_node(i) {
            self.pending.get_or_insert(v);
        }
    }

    /// Closes server `i`'s end of the link (`why`). Its FIN reaches the
    /// other end unless frames from `i` are lost: then that end stays open
    /// (half-open) until its own timeout, or a reset, closes it.
    pub(super) fn close_end(&mut self, i: usize, why: &str) {
        if !self.link.open[i] {
            return;
        }
        self.link.open[i] = false;
        self.link.sessions[i] = None;
        self.summary_note(format!("peer link {} end {i} closed: {why}", self.link.id));
        let (now, dd) = (self.now, self.faults.disk_delay);
        if let Some(n) = self.nodes[i].as_mut() {
            n.input(now, dd, Input::PeerDown(why.to_string()));
        }
        self.after_node_later(i);
        if !self.blocked(i) {
            self.close_end(1 - i, "the partner closed the connection");
        } else if self.link.open[1 - i] {
            self.summary.reached.half_open_links += 1;
        }
    }

    pub(super) fn link_send(&mut self, from: usize, m: &Message) {
        if !self.link.open[from] {
            return;
        }
        let Some(s) = self.link.sessions[from].as_mut() else {
            return;
        };
        let Ok(bytes) = s.seal(m) else { return };
        if self.blocked(from) || self.rng.chance(self.faults.link_loss) {
            return;
        }
        let mut t = self.link.last[from].max(self.now + self.rng.range(0, self.opts.link_delay));
        if self.rng.chance(self.faults.link_reorder) {
            t = self.now;
        }
        self.link.last[from] = t;
        let (to, link) = (1 - from, self.link.id);
        if self.rng.chance(self.faults.link_dup) {
            self.at(
                t,
                Ev::Frame {
                    to,
                    link,
                    bytes: bytes.clone(),
                },
            );
        }
        self.at(t, Ev::Frame { to, link, bytes });
    }

    /// A frame reaches server `to`. One for an end already closed draws a
    /// reset, which closes the sender's end unless it is lost on the way.
    pub(super) fn frame(&mut self, to: usize, link: u64, bytes: &[u8]) -> Result<(), Violation> {
        if link != self.link.id || self.nodes[to].as_ref().is_none_or(|n| !n.up) {
            return Ok(());
        }
        if !self.link.open[to] {
            if !self.blocked(to) {
                self.close_end(1 - to, "connection reset by the partner");
            }
            return Ok(());
        }
        let msg = match self.link.sessions[to].as_mut().map(|s| s.open(bytes)) {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                self.close_end(to, &format!("server {to} refused a frame: {e}"));
                return Ok(());
            }
            None => return Ok(()),
        };
        if self.opts.trace {
            if let Message::BindingUpdate { leases, .. } = &msg {
                for l in leases {
                    let _ = writeln!(
                        self.trace,
                        "         server {to} receives {} state {} owner {} pe {} seq {}",
                        Ipv4Addr::from(l.addr),
                        l.state,
                        l.owner,
                        l.potential_expiry,
                        l.seq
                    );
                }
            } else {
                let _ = writeln!(self.trace, "         server {to} receives {}", msg.name());
            }
        }
        let (now, dd) = (self.now, self.faults.disk_delay);
        let n = self.nodes[to].as_mut().expect("checked up");
        n.input(now, dd, Input::PeerFrame(msg));
        self.after_node(to)
    }
}
