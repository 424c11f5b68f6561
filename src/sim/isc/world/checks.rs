//! The isc family's invariants: every grant within MCLT of what the
//! partner stored for that client (tandem's by its committed records,
//! dhcpd's by its lease file), and after settling both in NORMAL with
//! the same bindings. (No address held by two clients is checked as
//! clients bind, in `World::client_receive`; dhcpd's shutdowns and exits
//! as it acts, in `after_dhcpd`.)

use super::*;
use crate::failover::isc::binding::status::ACTIVE;
use crate::lease::LeaseState;
use crate::node::Grant;
use crate::proto::ClientKey;

/// The client a dhcpd record names (its hardware type and chaddr).
fn client_of(chaddr: &[u8]) -> Option<ClientKey> {
    let (htype, hw) = chaddr.split_first()?;
    Some(ClientKey::Hw(*htype, hw.into()))
}

/// Whether `key` is `client_of(chaddr)`, without building it.
fn names(key: Option<&ClientKey>, chaddr: &[u8]) -> bool {
    match (key, chaddr.split_first()) {
        (Some(ClientKey::Hw(h, b)), Some((htype, hw))) => h == htype && **b == *hw,
        (None, None) => true,
        _ => false,
    }
}

impl World {
    /// Keeps the latest potential expiry a server ever stored for an
    /// address, whichever client it names, and even if its database is
    /// lost since: ISC bounds a grant by the address's `tsfp` alone
    /// (dhcp.c 2897-2915), what the partner acknowledged then. (A
    /// partner that lost its database knows less than that; the clients'
    /// own view, `client_receive`, is what shows a double grant.)
    fn remember(&mut self, node: usize, addr: Ipv4Addr, client: Option<ClientKey>, t: u64) {
        let e = self.acked[node].entry(addr).or_insert((client.clone(), t));
        if t >= e.1 {
            *e = (client, t);
        }
    }

    /// What tandem committed since last looked at.
    pub(super) fn collect_tandem(&mut self) {
        let Some(h) = self.tandem.as_mut() else {
            return;
        };
        let committed: Vec<_> = h.committed_pe.drain(..).collect();
        for c in committed {
            self.note(format!(
                "tandem committed {} ({}) for {:?} potential expiry t={}",
                c.addr, c.what, c.client, c.pe
            ));
            if c.what.starts_with("Active") {
                let now = self.now;
                let e = self
                    .marks
                    .tandem_ends
                    .entry(c.addr)
                    .or_insert((c.client.clone(), 0, now));
                if e.0 != c.client || c.expires > e.1 {
                    *e = (c.client.clone(), c.expires, now);
                }
            }
            self.remember(TANDEM, c.addr, c.client, c.pe);
        }
    }

    /// What dhcpd's lease file holds now.
    pub(super) fn collect_dhcpd(&mut self) {
        let Some(d) = self.dhcpd.as_ref() else { return };
        let off = self.offsets[DHCPD];
        let known = &self.acked[DHCPD];
        // Only what changed since last looked at: this runs after every
        // step of dhcpd's, over its whole lease file.
        let stored: Vec<_> = d
            .file
            .leases
            .values()
            .filter(|l| !l.chaddr.is_empty())
            .filter_map(|l| {
                let t = (i64::from(l.tstp.max(l.tsfp)) - off).max(0) as u64;
                let same = known
                    .get(&l.addr)
                    .is_some_and(|(k, at)| *at > t || (*at == t && names(k.as_ref(), &l.chaddr)));
                (!same).then(|| (l.addr, client_of(&l.chaddr), t))
            })
            .collect();
        for (addr, client, t) in stored {
            self.remember(DHCPD, addr, client, t);
        }
    }

    /// A grant ending past MCLT beyond what the other server stored for
    /// this client (or now) breaks the MCLT rule.
    fn check_grant(&self, node: usize, addr: Ipv4Addr, end: u64) -> Result<(), Violation> {
        let acked = self.acked[1 - node].get(&addr).map_or(0, |(_, t)| *t);
        // ISC takes every time as sent, with no correction for the
        // clocks' offset (research section 2.4): the bound holds up to it.
        let skew = self.offsets[0].abs_diff(self.offsets[1]);
        let bound = self.now.max(acked) + MCLT + CLOCK_SLACK + skew;
        if end > bound {
            return Err(self.violation(format!(
                "server {node} granted {addr} until t={end}, beyond MCLT past what its partner stored (bound t={bound})"
            )));
        }
        Ok(())
    }

    /// tandem tells dhcpd a binding expired only once it has, by its own
    /// clock: dhcpd takes an expiry up to 65 s early (`rules`), which would
    /// hide an early one behind dhcpd's hazard. Remembers when tandem sent
    /// an end (expired, released) of an address (`Marks::end_sent`).
    pub(super) fn check_tandem_frame(
        &mut self,
        f: &crate::failover::isc::Frame,
    ) -> Result<(), Violation> {
        use crate::failover::isc::binding::status;
        let Some(crate::failover::isc::IscMessage::BndUpd(b)) =
            crate::failover::isc::IscMessage::read(f)
        else {
            return Ok(());
        };
        if let (Some(addr), Some(s)) = (b.addr, b.status)
            && (s == status::EXPIRED || s == status::RELEASED)
        {
            self.marks.end_sent.insert(addr, self.now);
        }
        let now = self.tandem.as_ref().map_or(0, |h| h.local(self.now).0);
        let ends = u64::from(b.ends.unwrap_or(0));
        if b.status == Some(status::EXPIRED) && ends > now + 1 {
            return Err(self.violation(format!(
                "tandem told dhcpd {:?} expired at {now}, its end being {ends}",
                b.addr
            )));
        }
        Ok(())
    }

    pub(super) fn check_tandem_grant(&mut self, g: &Grant) -> Result<(), Violation> {
        let end = self.now + u64::from(g.lease.lease_time);
        self.note(format!(
            "tandem ACK {} to {:?} for {} s",
            g.lease.addr,
            g.lease.client(),
            g.lease.lease_time
        ));
        self.check_grant(TANDEM, g.lease.addr, end)
    }

    pub(super) fn check_dhcpd_grant(&mut self, reply: &[u8]) -> Result<(), Violation> {
        use dhcproto::{Decodable, v4};
        let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(reply)) else {
            return Ok(());
        };
        if m.opts().msg_type() != Some(v4::MessageType::Ack) {
            return Ok(());
        }
        let time = match m.opts().get(v4::OptionCode::AddressLeaseTime) {
            Some(v4::DhcpOption::AddressLeaseTime(t)) => u64::from(*t),
            _ => 0,
        };
        let in_pd = self
            .dhcpd
            .as_ref()
            .is_some_and(|d| d.state() == crate::sim::isc::dhcpd::IscState::PartnerDown);
        self.check_grant(DHCPD, m.yiaddr(), self.now + time)
            .map_err(|mut v| {
                // In PARTNER-DOWN dhcpd hears nothing of tandem: its lease
                // time is its own rule. Entering PARTNER-DOWN sets an ended
                // lease's `tsfp` to MCLT from then, and it grants up to
                // `tsfp` + MCLT (dhcp.c 2900-2915): up to twice MCLT past
                // what tandem stored (sweep seed 1002227, 10 clients).
                if in_pd {
                    v.dangerous = true;
                    v.message = format!(
                        "dhcpd's own hazard (its PARTNER-DOWN grants up to MCLT past the tsfp its entry set, MCLT from then): {}",
                        v.message
                    );
                }
                v
            })
    }

    /// dhcpd's ACK in `reply`, if one of its own hazards made it
    /// (`hazards`, as the model reported them), or if it renewed past what
    /// tandem stored for the address while blind (`dhcpd_blind`: restarted
    /// behind a cut while tandem is in PARTNER-DOWN, which ISC has no rule
    /// against): the address is marked for that client until the grant
    /// ends, and again at each renewal dhcpd gives that client. A double
    /// grant tandem makes before its own stored expiry stays its own
    /// fault.
    pub(super) fn note_hazard_grant(&mut self, reply: &[u8], hazards: &[(Ipv4Addr, &'static str)]) {
        use dhcproto::{Decodable, v4};
        let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(reply)) else {
            return;
        };
        let time = match m.opts().get(v4::OptionCode::AddressLeaseTime) {
            Some(v4::DhcpOption::AddressLeaseTime(t)) => u64::from(*t),
            _ => return,
        };
        let addr = m.yiaddr();
        let end = self.now + time;
        let Some(client) = self.clients.iter().position(|c| c.mac == m.chaddr()) else {
            return;
        };
        let (stored_for, stored) = self.acked[TANDEM].get(&addr).cloned().unwrap_or_default();
        let mut chaddr = vec![1];
        chaddr.extend_from_slice(&self.clients[client].mac);
        let this_client = client_of(&chaddr);
        // Beside a partner in PARTNER-DOWN it cannot reach, dhcpd resumes
        // its own saved PARTNER-DOWN and serves as if alone: a renewal past
        // what tandem stored, or an address tandem may have bound to
        // another client meanwhile (sweep seed 1016209).
        let taken = stored > self.now && stored_for != this_client;
        let blind = (self.dhcpd_blind && (end > stored + CLOCK_SLACK || taken)).then_some(
            "dhcpd, restarted while its partner is in PARTNER-DOWN and out of reach (behind a cut, or down), serves as if alone: it renews past what the partner stored, or gives an address the partner may have bound (ISC has no rule against it)",
        );
        // A renewal of a hazard's grant carries the hazard on.
        let renewed = self
            .marks
            .hazardous
            .get(&addr)
            .filter(|(grantee, ..)| *grantee == client)
            .map(|(_, _, w)| *w);
        let why = hazards
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, w)| *w)
            .or(blind)
            .or(renewed);
        if let Some(why) = why {
            self.note(format!("dhcpd grants {addr} under its own hazard: {why}"));
            self.marks.hazardous.insert(addr, (client, end, why));
        }
    }

    /// Bindings dhcpd dropped under one of its own rules
    /// (`Dhcpd::dropped`): its client may hold the address until the
    /// binding's end, whoever gives it next (dhcpd, or tandem once dhcpd
    /// made it FREE and its pool balance gave it away: sweep seed
    /// 1003521), so a double grant with that client is dhcpd's hazard.
    /// Not where tandem had stored that binding (an active one for its
    /// client ending as late) before it sent its end: then tandem knew,
    /// and what follows is its own fault (review of session 23); one that
    /// reached tandem after its end left crossed it (sweep seed 1016509).
    pub(super) fn note_dropped(&mut self) {
        let Some(d) = self.dhcpd.as_mut() else { return };
        let dropped = std::mem::take(&mut d.dropped);
        for (addr, chaddr, ends, why) in dropped {
            let until = (i64::from(ends) - self.offsets[DHCPD]).max(0) as u64;
            let key = client_of(&chaddr);
            let sent = self.marks.end_sent.get(&addr).copied().unwrap_or(self.now);
            let knew = self
                .marks
                .tandem_ends
                .get(&addr)
                .is_some_and(|(k, t, at)| *k == key && *t + CLOCK_SLACK >= until && *at < sent);
            if knew {
                if let Some(d) = self.dhcpd.as_mut() {
                    d.forget_hazard(addr);
                }
                continue;
            }
            let mac = chaddr.get(1..).unwrap_or_default();
            let Some(client) = self.clients.iter().position(|c| c.mac[..] == *mac) else {
                continue;
            };
            self.note(format!(
                "dhcpd drops client {client}'s binding of {addr} under its own hazard: {why}"
            ));
            self.marks.victims.insert(addr, (client, until, why));
        }
    }

    /// After settling: both in NORMAL, the same bindings on both (those
    /// ending within the clock slack aside).
    pub(super) fn final_check(&mut self) -> Result<(), Violation> {
        let (Some(h), Some(d)) = (self.tandem.as_ref(), self.dhcpd.as_ref()) else {
            return Err(self.violation("a server is down after settling".into()));
        };
        let ts = h.node.state();
        if ts != Some(crate::failover::State::Normal)
            || d.state() != IscState::Normal
            || d.starting()
        {
            return Err(self.violation(format!(
                "pair not in NORMAL after settling: tandem {ts:?}, dhcpd {:?}",
                d.state()
            )));
        }
        let margin = 2 * CLOCK_SLACK + 40;
        let tnow = h.local(self.now).0;
        let ours: BTreeMap<Ipv4Addr, String> = h
            .node
            .store()
            .iter()
            .filter(|l| l.state == LeaseState::Active && l.expires.0 > tnow + margin)
            .map(|l| (l.addr, format!("{:?}", l.client())))
            .collect();
        let dnow = u64::from(self.dhcpd_time(self.now));
        let theirs: BTreeMap<Ipv4Addr, String> = d
            .file
            .leases
            .values()
            .filter(|l| l.status == ACTIVE && u64::from(l.ends) > dnow + margin)
            .map(|l| (l.addr, format!("{:?}", client_of(&l.chaddr))))
            .collect();
        let near = |m: &BTreeMap<Ipv4Addr, String>, a: &Ipv4Addr| m.contains_key(a);
        let mut differ = vec![];
        for (a, c) in &ours {
            match theirs.get(a) {
                Some(x) if x != c => differ.push(format!("{a}: tandem {c}, dhcpd {x}")),
                None if !self.ends_soon_at_dhcpd(a) => differ.push(format!("{a}: tandem {c} only")),
                _ => {}
            }
        }
        for (a, c) in &theirs {
            if !near(&ours, a) && !self.ends_soon_at_tandem(a) {
                differ.push(format!("{a}: dhcpd {c} only"));
            }
        }
        if differ.is_empty() {
            Ok(())
        } else {
            Err(self.violation(format!("bindings differ after settling: {differ:?}")))
        }
    }

    /// Whether dhcpd holds `a` bound but ending within the margin.
    fn ends_soon_at_dhcpd(&self, a: &Ipv4Addr) -> bool {
        self.dhcpd
            .as_ref()
            .and_then(|d| d.file.leases.get(a))
            .is_some_and(|l| l.status == ACTIVE)
    }

    /// Whether tandem holds `a` bound but ending within the margin.
    fn ends_soon_at_tandem(&self, a: &Ipv4Addr) -> bool {
        self.tandem
            .as_ref()
            .and_then(|h| h.node.store().get(*a))
            .is_some_and(|l| l.state == LeaseState::Active)
    }
}
