//! The model dhcpd's answers to clients (server/dhcp.c, failover parts):
//! it answers only in NORMAL, COMMUNICATIONS-INTERRUPTED and PARTNER-DOWN,
//! and not while the partner is in PARTNER-DOWN or resolving a conflict
//! (`dhcp_failover_set_service_state`); a new client gets an address
//! `lease_mine_to_reallocate` allows, a client its own binding; a grant
//! runs at most MCLT past what the partner acknowledged, and is on the
//! lease file before the ACK leaves, its BNDUPD queued after (dhcpd's
//! lazy update). Load balancing of DISCOVERs is off (dhcpd 4.4's default
//! `load balance max seconds` 0): both servers answer every one.

use super::super::rules::{self, IscLease};
use super::{Dhcpd, IscState};
use crate::failover::isc::binding::status::{ABANDONED, ACTIVE, BACKUP, FREE, RELEASED};
use dhcproto::{Decodable, Encodable, v4};
use std::net::Ipv4Addr;

/// How long an offer holds its address for the client, seconds.
const OFFER_HOLD: u32 = 30;

impl Dhcpd {
    /// Whether dhcpd answers clients now.
    fn responding(&self) -> bool {
        use IscState::*;
        if self.starting() {
            return false;
        }
        let ours = matches!(
            self.state(),
            Normal | CommunicationsInterrupted | PartnerDown
        );
        let partner_demands = matches!(
            self.file.partner,
            Some(PartnerDown | PotentialConflict | ConflictDone | ResolutionInterrupted)
        );
        ours && !partner_demands
    }

    /// A client's datagram at `now`; the reply, if dhcpd answers.
    pub fn dhcp(&mut self, now: u32, bytes: &[u8]) -> Option<Vec<u8>> {
        let m = v4::Message::decode(&mut dhcproto::Decoder::new(bytes)).ok()?;
        if !self.responding() {
            return None;
        }
        let mut hw = vec![1];
        hw.extend_from_slice(m.chaddr());
        let reply = match m.opts().msg_type()? {
            v4::MessageType::Discover => self.discover(now, &hw),
            v4::MessageType::Request => self.request(now, &m, &hw),
            v4::MessageType::Release => {
                self.release(now, m.ciaddr(), &hw);
                None
            }
            v4::MessageType::Decline => {
                self.decline(now, requested(&m)?, &hw);
                None
            }
            _ => None,
        }?;
        Some(self.encode(&m, reply))
    }

    fn discover(&mut self, now: u32, hw: &[u8]) -> Option<(v4::MessageType, Ipv4Addr, u32)> {
        let standing = self.standing(now);
        let held = |l: &IscLease| {
            self.offers
                .iter()
                .any(|(c, (a, until))| *a == l.addr && c.as_slice() != hw && *until > now)
        };
        let own = self
            .file
            .leases
            .values()
            .find(|l| l.bound() && l.chaddr == hw)
            .or_else(|| {
                self.file
                    .leases
                    .values()
                    .filter(|l| rules::mine_to_reallocate(l, standing) && l.status != ABANDONED)
                    .filter(|l| !held(l))
                    .min_by_key(|l| (l.chaddr != hw, l.cltt, l.addr))
            })?;
        let (addr, time) = (own.addr, self.grant_time(own, now));
        self.offers.insert(hw.to_vec(), (addr, now + OFFER_HOLD));
        Some((v4::MessageType::Offer, addr, time))
    }

    fn grant_time(&self, l: &IscLease, now: u32) -> u32 {
        rules::granted(self.cfg.lease_time, l.tsfp, now, self.file.mclt)
    }

    fn request(
        &mut self,
        now: u32,
        m: &v4::Message,
        hw: &[u8],
    ) -> Option<(v4::MessageType, Ipv4Addr, u32)> {
        if let Some(v4::DhcpOption::ServerIdentifier(sid)) =
            m.opts().get(v4::OptionCode::ServerIdentifier)
            && *sid != self.cfg.server_id
        {
            return None; // the client chose the partner's offer
        }
        let addr = requested(m).unwrap_or(m.ciaddr());
        let l = self.file.leases.get(&addr)?.clone();
        let theirs = l.bound() && l.chaddr == hw;
        let free = !l.bound() && rules::mine_to_reallocate(&l, self.standing(now));
        // dhcpd NAKs an address bound to another client; one it may not
        // give (the partner's free address, an ended binding it may not
        // rewind) it leaves unanswered (dhcp.c 591-611, 4573-4575).
        if l.bound() && !theirs {
            return Some((v4::MessageType::Nak, Ipv4Addr::UNSPECIFIED, 0));
        }
        if !theirs && !free {
            return None;
        }
        Some((v4::MessageType::Ack, addr, self.ack(now, &l, hw)))
    }

    /// Binds `l` to `hw` at `now`: on the lease file, then queued for the
    /// partner. Returns the lease time given.
    fn ack(&mut self, now: u32, l: &IscLease, hw: &[u8]) -> u32 {
        let desired = self.cfg.lease_time;
        let granted = self.grant_time(l, now);
        let cooperating = self.state() == IscState::Normal;
        let e = self.file.leases.get_mut(&l.addr).expect("looked up");
        e.tstp = rules::potential_expiry(desired, granted, now);
        if e.tstp < e.tsfp {
            e.tsfp = e.tstp;
        }
        if !(e.bound() && e.chaddr == hw) {
            e.starts = now;
        }
        e.status = ACTIVE;
        e.chaddr = hw.to_vec();
        e.ends = now + granted;
        e.cltt = now;
        e.granted_here = true;
        if cooperating {
            e.rewind = ACTIVE;
        }
        self.log.push(format!(
            "dhcpd ACK {} for {granted} s (tsfp {} tstp {})",
            l.addr, e.tsfp, e.tstp
        ));
        self.offers.remove(hw);
        if let Some(&(until, why)) = self.hazards.get(&l.addr)
            && until > now
            && l.chaddr != hw
        {
            self.hazard_grants.push((l.addr, why));
        }
        if let Some(why) = self.partner_down_hazard(now, l, hw) {
            self.hazard_grants.push((l.addr, why));
        }
        self.queue_update(l.addr);
        self.send_updates(now);
        granted
    }

    /// A binding given back, or run out (`expired`), goes to RELEASED or
    /// EXPIRED for the partner to hear, or straight back to free where
    /// the partner never heard of it (mdb.c 1800-1816, 2005-2015). In
    /// PARTNER-DOWN the ended binding may go MCLT past `stos` (its `tsfp`
    /// set so on entering EXPIRED or RELEASED, mdb.c 1647-1662).
    pub(super) fn end_binding(&mut self, now: u32, addr: Ipv4Addr, ended: u8) {
        let not_cooperating = self.state() == IscState::CommunicationsInterrupted;
        let mine = if self.cfg.primary { FREE } else { BACKUP };
        let cooperating = self.state() == IscState::Normal;
        let free_at = (self.state() == IscState::PartnerDown)
            .then(|| self.file.stos.saturating_add(self.file.mclt));
        let Some(l) = self.file.leases.get_mut(&addr) else {
            return;
        };
        l.status = if not_cooperating && l.rewind == mine {
            mine
        } else {
            ended
        };
        if let Some(at) = free_at.filter(|_| l.status == ended) {
            l.tsfp = at;
        }
        if cooperating {
            l.rewind = l.status;
        }
        self.log.push(format!("dhcpd: {addr} ends as {}", l.status));
        self.queue_update(addr);
        self.send_updates(now);
    }

    fn release(&mut self, now: u32, addr: Ipv4Addr, hw: &[u8]) {
        if self
            .file
            .leases
            .get(&addr)
            .is_some_and(|l| l.bound() && l.chaddr == hw)
        {
            self.end_binding(now, addr, RELEASED);
        }
    }

    fn decline(&mut self, now: u32, addr: Ipv4Addr, hw: &[u8]) {
        let Some(l) = self.file.leases.get_mut(&addr) else {
            return;
        };
        if !(l.bound() && l.chaddr == hw) {
            return;
        }
        l.status = ABANDONED;
        l.chaddr.clear();
        l.ends = now + 86_400;
        self.queue_update(addr);
        self.send_updates(now);
    }

    fn encode(
        &self,
        m: &v4::Message,
        (kind, addr, time): (v4::MessageType, Ipv4Addr, u32),
    ) -> Vec<u8> {
        let mut r = v4::Message::new(
            Ipv4Addr::UNSPECIFIED,
            addr,
            Ipv4Addr::UNSPECIFIED,
            m.giaddr(),
            m.chaddr(),
        );
        r.set_opcode(v4::Opcode::BootReply).set_xid(m.xid());
        r.opts_mut().insert(v4::DhcpOption::MessageType(kind));
        r.opts_mut()
            .insert(v4::DhcpOption::ServerIdentifier(self.cfg.server_id));
        if kind != v4::MessageType::Nak {
            r.opts_mut().insert(v4::DhcpOption::AddressLeaseTime(time));
        }
        r.to_vec().unwrap_or_default()
    }
}

/// Option 50, the address a client asks for.
fn requested(m: &v4::Message) -> Option<Ipv4Addr> {
    match m.opts().get(v4::OptionCode::RequestedIpAddress) {
        Some(v4::DhcpOption::RequestedIpAddress(a)) => Some(*a),
        _ => None,
    }
}
