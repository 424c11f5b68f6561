//! The model dhcpd's binding updates (failover.c 2812-3003, 5170-5891):
//! its update queue sent within the partner's window, the ack queue of
//! what is in flight, the partner's updates judged by dhcpd's rules
//! (`rules`) and acknowledged in batches (half the partner's window, or 2
//! s after the last), UPDREQ and UPDREQALL answered and followed by
//! UPDDONE, the partner's UPDDONE, and the pool balance that gives the
//! secondary its BACKUP addresses.

use super::super::rules::{self, IscLease};
use super::{Dhcpd, IscState};
use crate::failover::isc::binding::status::{ACTIVE, BACKUP, EXPIRED, FREE, RELEASED, RESET};
use crate::failover::isc::session::reject;
use crate::failover::isc::{Binding, IscMessage, Rejection};
use std::net::Ipv4Addr;

/// Seconds between pool balances in NORMAL (dhcpd: min-balance 60 s to
/// max-balance 3600 s).
const BALANCE_EVERY: u32 = 120;

impl Dhcpd {
    /// Puts `addr` on the update queue (once).
    pub(super) fn queue_update(&mut self, addr: Ipv4Addr) {
        self.ack_queue_remove(addr);
        if !self.update_queue.contains(&addr) {
            self.update_queue.push_back(addr);
        }
    }

    /// `dhcp_failover_ack_queue_remove`: off the ack queue, its
    /// transaction forgotten.
    fn ack_queue_remove(&mut self, addr: Ipv4Addr) {
        if self.ack_queue.remove(&addr).is_some() {
            self.last_xid.remove(&addr);
            if let Some(c) = self.conn.as_mut() {
                c.unacked = c.unacked.saturating_sub(1);
            }
        }
    }

    /// `dhcp_failover_rescind_updates`: what is in flight goes back on the
    /// update queue, first.
    pub(super) fn rescind(&mut self) {
        let mut back: Vec<Ipv4Addr> = self.ack_queue.drain().map(|(a, _)| a).collect();
        back.sort();
        for a in back.into_iter().rev() {
            if !self.update_queue.contains(&a) {
                self.update_queue.push_front(a);
            }
        }
        if let Some(c) = self.conn.as_mut() {
            c.unacked = 0;
        }
    }

    /// `dhcp_failover_generate_update_queue`: every lease (`all`), or
    /// those the partner has not acknowledged and the expired ones.
    pub(super) fn generate_update_queue(&mut self, all: bool) {
        let due: Vec<Ipv4Addr> = self
            .file
            .leases
            .values()
            .filter(|l| all || l.tstp > l.atsfp || matches!(l.status, EXPIRED | RELEASED | RESET))
            .map(|l| l.addr)
            .collect();
        for a in due {
            if !self.ack_queue.contains_key(&a) && !self.update_queue.contains(&a) {
                self.update_queue.push_back(a);
            }
        }
    }

    /// `dhcp_failover_send_updates`: the acks owed first, then updates
    /// while the partner's window has room.
    pub(super) fn send_updates(&mut self, now: u32) {
        if !self.link_up() {
            return;
        }
        if !self.toack.is_empty() {
            self.send_acks(now);
        }
        let window = self.partner_window();
        while self.conn.as_ref().is_some_and(|c| c.unacked < window) {
            let Some(addr) = self.update_queue.pop_front() else {
                break;
            };
            let Some(l) = self.file.leases.get_mut(&addr) else {
                continue;
            };
            // What the partner is told is what an unreported end may go
            // back to (failover.c 4731).
            l.rewind = l.status;
            let m = IscMessage::BndUpd(binding(l));
            let Some(c) = self.conn.as_mut() else { return };
            let xid = c.next_xid;
            c.unacked += 1;
            self.send_message(now, m);
            self.ack_queue.insert(addr, xid);
            self.sent_on.insert(addr, self.connections);
            self.last_xid.insert(addr, xid);
        }
    }

    /// Sends every ack owed.
    pub(super) fn send_acks(&mut self, now: u32) {
        self.toack_due = None;
        for (xid, addr) in std::mem::take(&mut self.toack) {
            let m = IscMessage::BndAck {
                addr: Some(addr),
                reject: None,
            };
            self.reply(now, m, xid);
        }
    }

    /// `dhcp_failover_queue_ack`.
    fn queue_ack(&mut self, now: u32, xid: u32, addr: Ipv4Addr) {
        self.toack.push((xid, addr));
        if self.toack.len() as u32 >= self.partner_window() / 2 {
            self.send_acks(now);
        } else {
            self.toack_due = Some(now + 2);
        }
    }

    /// A message after the handshake that is not a STATE.
    pub(super) fn on_update_message(&mut self, now: u32, xid: u32, m: IscMessage) {
        match m {
            IscMessage::BndUpd(b) => self.on_bndupd(now, xid, &b),
            IscMessage::BndAck { addr, reject } => self.on_bndack(now, xid, addr, reject),
            IscMessage::UpdReq | IscMessage::UpdReqAll => {
                self.generate_update_queue(m == IscMessage::UpdReqAll);
                self.updxid = xid;
                self.send_update_done = self.update_queue.back().copied();
                if self.send_update_done.is_some() {
                    self.send_updates(now);
                } else {
                    self.reply(now, IscMessage::UpdDone, xid);
                    self.note_done();
                }
            }
            IscMessage::UpdDone => self.on_upddone(now),
            IscMessage::PoolReq => {
                let moved = self.pool_balance(now);
                self.reply(
                    now,
                    IscMessage::PoolResp {
                        transferred: Some(moved),
                    },
                    xid,
                );
            }
            _ => {}
        }
    }

    fn refuse(&mut self, now: u32, xid: u32, addr: Option<Ipv4Addr>, reason: u8) {
        let reject = Some(Rejection {
            reason: Some(reason),
            message: None,
        });
        self.reply(now, IscMessage::BndAck { addr, reject }, xid);
    }

    /// `dhcp_failover_process_bind_update`.
    fn on_bndupd(&mut self, now: u32, xid: u32, b: &Binding) {
        let (Some(addr), Some(status)) = (b.addr, b.status) else {
            return self.refuse(now, xid, b.addr, reject::MISSING_BINDING_INFO);
        };
        let Some(ours) = self.file.leases.get(&addr).cloned() else {
            return self.refuse(now, xid, Some(addr), reject::ILLEGAL_ADDRESS);
        };
        let cltt = b.cltt.unwrap_or(0);
        let (lost_with_earlier, unsent) = self.untold(addr);
        if self.ack_queue.contains_key(&addr) {
            if rules::prefers_its_own(&ours, status, cltt, self.cfg.primary) {
                return self.refuse(now, xid, Some(addr), reject::LESS_CRITICAL);
            }
            self.ack_queue_remove(addr);
        }
        if b.chaddr.is_none() && matches!(status, ACTIVE | EXPIRED | RELEASED) {
            return self.refuse(now, xid, Some(addr), reject::MISSING_BINDING_INFO);
        }
        let pe = b.potential_expiry.unwrap_or(0);
        let normal = self.state() == IscState::Normal;
        if !rules::transition_ok(&ours, status, pe, now, self.cfg.primary, normal) {
            self.log
                .push(format!("dhcpd refuses {addr}: {} to {status}", ours.status));
            return self.refuse(now, xid, Some(addr), 2);
        }
        self.note_overwrite(
            &ours,
            status,
            (cltt, b.ends.unwrap_or(0), now),
            (
                lost_with_earlier,
                unsent,
                b.chaddr.as_deref() == Some(&ours.chaddr[..]),
            ),
        );
        self.take(now, addr, status, b);
        self.queue_ack(now, xid, addr);
    }

    /// Whether dhcpd's own version of `addr` went untold on this
    /// connection: (sent last on an earlier connection and not queued to
    /// go on this one: on the ack queue, or taken off it by a refused
    /// update of the partner's, which does not queue it again, sweep seed
    /// 1025300; still queued when dhcpd sent its UPDDONE on this
    /// connection: that UPDDONE went early, and the renewal, sent after
    /// it, may cross tandem's end, sweep seed 1016509. Before it, tandem,
    /// which waits for it, sent nothing over the renewal).
    fn untold(&self, addr: Ipv4Addr) -> (bool, bool) {
        let lost_with_earlier = !self.update_queue.contains(&addr)
            && self
                .sent_on
                .get(&addr)
                .is_some_and(|c| *c < self.connections);
        let unsent = self.done_sent == self.connections && self.queued_at_done.contains(&addr);
        (lost_with_earlier, unsent)
    }

    /// Writes the partner's binding `b` of `addr` (its `status`) on the
    /// lease file, an end going straight to FREE.
    fn take(&mut self, now: u32, addr: Ipv4Addr, status: u8, b: &Binding) {
        let pe = b.potential_expiry.unwrap_or(0);
        let next = if matches!(status, EXPIRED | RELEASED | RESET) {
            FREE
        } else {
            status
        };
        let l = self.file.leases.get_mut(&addr).expect("looked up");
        if let Some(ch) = &b.chaddr {
            l.chaddr = ch.clone();
        }
        l.status = next;
        l.rewind = next;
        l.ends = b.ends.unwrap_or(0);
        l.tsfp = pe;
        l.atsfp = pe;
        l.granted_here = false;
        // dhcpd keeps its own cltt (failover.c compares the partner's and
        // never stores it).
        l.starts = b.start_time_of_state.unwrap_or(l.starts);
        self.log.push(format!(
            "dhcpd takes {addr} status {status} pe {pe} ends {} at {now}",
            l.ends
        ));
    }

    /// dhcpd sent an UPDDONE: what its update queue still holds went after.
    fn note_done(&mut self) {
        self.done_sent = self.connections;
        self.queued_at_done = self.update_queue.iter().copied().collect();
    }

    /// `dhcp_failover_process_bind_ack` (failover.c 5530-5687): a refusal
    /// or an ack of a lease not awaiting one only takes it off the ack
    /// queue; an ack with another transaction id is ignored ("xid
    /// mismatch"); the UPDDONE owed follows the ack of the lease it waits
    /// for.
    fn on_bndack(
        &mut self,
        now: u32,
        xid: u32,
        addr: Option<Ipv4Addr>,
        refusal: Option<Rejection>,
    ) {
        let Some(addr) = addr.filter(|a| self.file.leases.contains_key(a)) else {
            return;
        };
        match (refusal, self.last_xid.get(&addr).copied()) {
            (Some(r), _) => self
                .log
                .push(format!("dhcpd: update of {addr} refused: {r:?}")),
            (None, None) => {}
            (None, Some(sent)) if sent != xid => return,
            (None, Some(_)) => {
                let l = self.file.leases.get_mut(&addr).expect("checked");
                l.tsfp = l.tstp;
                l.atsfp = l.tstp;
                if matches!(l.status, EXPIRED | RELEASED | RESET) {
                    l.status = FREE;
                    l.rewind = FREE;
                }
            }
        }
        self.ack_queue_remove(addr);
        if self.send_update_done == Some(addr) {
            self.send_update_done = None;
            let x = self.updxid;
            self.reply(now, IscMessage::UpdDone, x);
            self.note_done();
        }
        self.send_updates(now);
    }

    /// `dhcp_failover_process_update_done`.
    fn on_upddone(&mut self, now: u32) {
        use IscState::*;
        match self.state() {
            PotentialConflict if self.file.partner == Some(ConflictDone) => {
                if self.cfg.primary {
                    self.faults
                        .push("dhcpd shuts down: secondary in CONFLICT-DONE".into());
                    self.set_state(now, Shutdown);
                } else {
                    self.set_state(now, Normal);
                }
            }
            PotentialConflict if self.cfg.primary => self.set_state(now, ConflictDone),
            Recover => {
                let partner_recovering = matches!(self.file.partner, Some(Recover | RecoverDone));
                if self.file.stos + self.file.mclt > now && !partner_recovering {
                    self.set_state(now, RecoverWait);
                } else {
                    self.set_state(now, RecoverDone);
                }
            }
            _ => {}
        }
    }

    /// `dhcp_failover_pool_dobalance`'s second pass (the first moves the
    /// addresses the partner's clients hash to, which this model skips):
    /// in NORMAL, hands the partner half the difference of the free
    /// addresses, stopping at the hold (10 %) for used ones. Returns how
    /// many moved.
    pub(super) fn pool_balance(&mut self, now: u32) -> u32 {
        self.balance_at = now + BALANCE_EVERY;
        if self.state() != IscState::Normal {
            return 0;
        }
        let (mine, theirs) = if self.cfg.primary {
            (FREE, BACKUP)
        } else {
            (BACKUP, FREE)
        };
        let count = |s: u8| self.file.leases.values().filter(|l| l.status == s).count() as i64;
        let (m, t) = (count(mine), count(theirs));
        let total = m + t;
        let hold = (total * 10 + 50) / 100;
        let mut lts = (m - t) / 2;
        let candidates: Vec<Ipv4Addr> = self
            .file
            .leases
            .values()
            .filter(|l| l.status == mine && !self.ack_queue.contains_key(&l.addr))
            .map(|l| l.addr)
            .collect();
        let mut moved = 0;
        for a in candidates {
            let used = self.file.leases[&a].ends != 0;
            if (used && lts <= hold) || (!used && lts <= 0) {
                continue;
            }
            lts -= 1;
            moved += 1;
            let l = self.file.leases.get_mut(&a).expect("listed");
            l.status = theirs;
            l.tstp = now;
            l.starts = now;
            l.chaddr.clear();
            self.queue_update(a);
        }
        self.send_updates(now);
        moved
    }

    /// Bindings past their end become EXPIRED and go to the partner.
    pub(super) fn expire(&mut self, now: u32) {
        let ended: Vec<Ipv4Addr> = self
            .file
            .leases
            .values()
            .filter(|l| l.status == ACTIVE && l.ends <= now)
            .map(|l| l.addr)
            .collect();
        for a in ended {
            self.end_binding(now, a, EXPIRED);
        }
    }
}

/// The BNDUPD dhcpd sends of `l` (failover.c 4739-4772).
fn binding(l: &IscLease) -> Binding {
    Binding {
        addr: Some(l.addr),
        status: Some(l.status),
        client_id: None,
        chaddr: (!l.chaddr.is_empty()).then(|| l.chaddr.clone()),
        ends: Some(l.ends),
        potential_expiry: Some(l.tstp),
        start_time_of_state: Some(l.starts),
        cltt: (l.cltt != 0).then_some(l.cltt),
        ip_flags: None,
    }
}
