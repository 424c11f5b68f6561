//! The isc family's faults: cuts of the connection (some outlasting
//! either side's max-response-delay), crashes of either server, back 5 to
//! 200 s later on what its disk or lease file holds, or on nothing
//! (tandem re-installed, dhcpd restarted without its lease file) where
//! the partner holds a copy of everything; the operator's partner-down
//! on the survivor of a crash that lasts; client releases, declines,
//! reboots and departures.

use super::*;
use crate::failover::State;
use crate::node::Input;

impl World {
    pub(super) fn schedule_faults(&mut self) {
        for _ in 0..self.rng.range(2, 8) {
            let t = self.rng.range(120, CHAOS - 100);
            let ev = match self.rng.range(0, 5) {
                0 | 1 => Ev::Cut {
                    secs: self.rng.range(2, 300),
                },
                2 | 3 => Ev::Crash {
                    node: self.rng.range(0, 1) as usize,
                    wipe: self.rng.chance(0.3),
                },
                _ => Ev::ClientFault(self.rng.range(0, self.opts.clients as u64 - 1) as usize),
            };
            self.at(t, ev);
        }
        for _ in 0..self.rng.range(0, 12) {
            let t = self.rng.range(30, CHAOS);
            let c = self.rng.range(0, self.opts.clients as u64 - 1) as usize;
            self.at(t, Ev::ClientFault(c));
        }
        self.at(CHAOS, Ev::EndChaos);
    }

    /// Whether `node` may lose its database now without losing a binding:
    /// its partner runs, holds a whole copy (not itself recovering) and has
    /// acknowledged everything of ours.
    fn wipe_safe(&self, node: usize) -> bool {
        let dhcpd_whole = self.dhcpd.as_ref().is_some_and(|d| {
            !d.starting()
                && !matches!(
                    d.state(),
                    IscState::Recover | IscState::RecoverWait | IscState::RecoverDone
                )
        });
        let tandem_whole = self.tandem.as_ref().is_some_and(|h| {
            !matches!(
                h.node.state(),
                Some(State::Recover | State::RecoverWait | State::RecoverDone | State::Startup)
            )
        });
        if node == TANDEM {
            let h = self.tandem.as_ref();
            let owes = h.is_none_or(|h| h.node.store().unacked() > 0 || h.partner_down_debt);
            dhcpd_whole && !owes
        } else {
            let d = self.dhcpd.as_ref();
            let owes = d.is_none_or(|d| {
                d.state() == IscState::PartnerDown
                    || d.file.leases.values().any(|l| l.tstp > l.atsfp)
            });
            tandem_whole && !owes
        }
    }

    pub(super) fn crash(&mut self, node: usize, wipe: bool) -> Result<(), Violation> {
        let wipe = wipe && self.wipe_safe(node);
        if node == TANDEM {
            let Some(h) = self.tandem.take() else {
                return Ok(());
            };
            self.tandem_fell_in_partner_down =
                h.node.state() == Some(crate::failover::State::PartnerDown);
            self.disk = if wipe {
                self.epochs += 1;
                Disk {
                    epoch: self.epochs,
                    lost: true,
                    ..Disk::default()
                }
            } else {
                h.disk
            };
            self.session = None;
        } else {
            let Some(d) = self.dhcpd.take() else {
                return Ok(());
            };
            self.lease_file = (!wipe).then_some(d.file);
        }
        self.summary.crashes += 1;
        self.down_since[node] = Some(self.now);
        let back = self.now + self.rng.range(5, 200);
        self.note(format!(
            "server {node} crashed (wipe: {wipe}); back at {back}"
        ));
        if self.rng.chance(0.5) && back > self.now + 70 {
            let t = self.now + self.rng.range(5, 60);
            self.at(t, Ev::PartnerDown { node: 1 - node });
        }
        self.at(back, Ev::Restart { node });
        self.close_end(node, &format!("server {node} crashed"))
    }

    pub(super) fn restart(&mut self, node: usize) -> Result<(), Violation> {
        if node == TANDEM && self.tandem.is_none() {
            self.boot_tandem();
            self.note("tandem restarted".into());
            return self.after_tandem();
        }
        if node == DHCPD && self.dhcpd.is_none() {
            self.boot_dhcpd();
            self.note("dhcpd restarted".into());
            return self.after_dhcpd();
        }
        Ok(())
    }

    /// The operator declares `node`'s partner down, if it is.
    pub(super) fn partner_down(&mut self, node: usize) -> Result<(), Violation> {
        if self.down_since[1 - node].is_none() {
            return Ok(());
        }
        self.note(format!("operator: server {node} partner-down"));
        if node == TANDEM {
            let (now, dd) = (self.now, self.disk_delay);
            if let Some(h) = self.tandem.as_mut() {
                h.control(now, dd, crate::node::Command::PartnerDown);
            }
            return self.after_tandem();
        }
        // Not on a dhcpd still recovering its lease file: every address is
        // FREE there and a primary in PARTNER-DOWN gives FREE ones at once
        // (`lease_mine_to_reallocate`); ISC's own warning, and MIGRATION.md's.
        let t = self.dhcpd_time(self.now);
        if let Some(d) = self.dhcpd.as_mut().filter(|d| {
            !matches!(
                d.state(),
                IscState::Recover | IscState::RecoverWait | IscState::RecoverDone
            )
        }) {
            d.partner_down(t);
        }
        self.after_dhcpd()
    }

    pub(super) fn client_fault(&mut self, c: usize) {
        let now = self.now;
        let kind = self.rng.range(0, 4);
        let out = self.clients[c].misbehave(kind, now, self.chaos);
        if let Some((to, bytes, held)) = out {
            self.release_hold(c, held);
            self.client_send(to, bytes);
        }
        let w = self.clients[c].wake.max(now);
        self.at(w, Ev::ClientWake(c));
    }

    /// The faults end: cuts heal, both servers run.
    pub(super) fn end_chaos(&mut self) -> Result<(), Violation> {
        self.chaos = false;
        self.client_loss = 0.0;
        while self.conn.cut > 0 {
            self.heal()?;
        }
        self.restart(TANDEM)?;
        self.restart(DHCPD)?;
        let (now, dd) = (self.now, self.disk_delay);
        if let Some(h) = self.tandem.as_mut() {
            h.input(now, dd, Input::Tick);
        }
        self.note("chaos over: connection healed, both servers running".into());
        self.after_tandem()
    }
}
