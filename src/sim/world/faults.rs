//! The fault schedule and what each fault does.

use super::*;

impl World {
    pub(super) fn schedule_faults(&mut self) {
        let n = self.rng.range(2, 8);
        for _ in 0..n {
            let t = self.rng.range(60, CHAOS - 100);
            let ev = self.draw_fault(t);
            self.at(t, ev);
        }
        for _ in 0..self.rng.range(0, 12) {
            let t = self.rng.range(30, CHAOS);
            let c = self.rng.range(0, self.opts.clients as u64 - 1) as usize;
            self.at(t, Ev::ClientFault(c));
        }
        match self.opts.family {
            Some(Family::PartnerDownExpiry) => self.partner_down_expiry(),
            Some(Family::DiskFailure) => self.disk_failures(),
            Some(Family::Maintenance) => self.maintenance_rounds(),
            Some(Family::PartnerDownFreshGrants) => self.fresh_grants_lost(),
            Some(Family::Evidence) => self.evidence_rounds(),
            Some(Family::Witness) => self.witness_rounds(),
            // The squatters are in the config and the pings: no schedule.
            Some(Family::Squatters | Family::Ddns | Family::Isc) | None => {}
        }
        self.at(CHAOS, Ev::EndChaos);
    }

    /// One fault of the chaos phase, due at `t`: a crash (wiping the disk
    /// 40 % of the time), a two-way or one-way partition, an operator's
    /// partner-down (behind a long partition in dangerous mode), a clock
    /// jump (dangerous mode only), or a client fault.
    fn draw_fault(&mut self, t: u64) -> Ev {
        match self.rng.range(0, 9) {
            0 | 1 => Ev::Crash {
                node: self.rng.range(0, 1) as usize,
                wipe: self.rng.chance(0.4),
            },
            2 | 3 => Ev::Partition {
                dir: None,
                secs: self.rng.range(5, 400),
            },
            4 => Ev::Partition {
                dir: Some(self.rng.range(0, 1) as usize),
                secs: self.rng.range(5, 200),
            },
            5 => {
                if self.opts.dangerous {
                    // The draft's operator error: the partner is only unreachable, not down.
                    self.at(
                        t.saturating_sub(1),
                        Ev::Partition {
                            dir: None,
                            secs: 600,
                        },
                    );
                }
                Ev::PartnerDown {
                    node: self.rng.range(0, 1) as usize,
                }
            }
            6 | 7 if self.opts.dangerous => {
                let secs = self.rng.range(1, 30) as i64;
                Ev::Jump {
                    node: self.rng.range(0, 1) as usize,
                    secs: if self.rng.chance(0.5) { secs } else { -secs },
                }
            }
            _ => Ev::ClientFault(self.rng.range(0, self.opts.clients as u64 - 1) as usize),
        }
    }

    /// See [`Family::PartnerDownExpiry`]: a two-way partition long enough
    /// for renewals at T1 (half the 300 s lease) to stay on one side, the
    /// renewing server's crash inside it, and partner-down on the other
    /// soon after, while its clients' leases run out on the survivor's
    /// books.
    fn partner_down_expiry(&mut self) {
        let t = self.rng.range(200, CHAOS - 700);
        let victim = self.rng.range(0, 1) as usize;
        let cut = self.rng.range(100, 300);
        self.at(
            t,
            Ev::Partition {
                dir: None,
                secs: cut,
            },
        );
        let crash = t + self.rng.range(cut / 2, cut);
        self.at(
            crash,
            Ev::Crash {
                node: victim,
                wipe: false,
            },
        );
        let declared = crash + self.rng.range(1, 60);
        self.at(declared, Ev::PartnerDown { node: 1 - victim });
    }

    /// See [`Family::DiskFailure`]: one to three spells of failing commits,
    /// on either server, some long enough to fail the restart too.
    fn disk_failures(&mut self) {
        for _ in 0..self.rng.range(1, 3) {
            let t = self.rng.range(60, CHAOS - 100);
            let node = self.rng.range(0, 1) as usize;
            let secs = self.rng.range(1, 300);
            self.at(t, Ev::DiskFail { node, secs });
        }
    }

    pub(super) fn disk_fail(&mut self, node: usize, secs: u64) {
        let until = self.now + secs;
        self.summary_note(format!("server {node}'s disk fails commits until {until}"));
        match self.nodes[node].as_mut() {
            Some(n) => n.disk.fails_until = until,
            None => self.disks[node].fails_until = until,
        }
    }

    pub(super) fn crash(&mut self, node: usize, wipe: bool) {
        // Losing the only copy of a lease loses it in any design. A wipe
        // keeps a copy only while the partner holds our database: it is
        // running and not itself still recovering from a lost database, and
        // it has acknowledged all we granted since we were last in
        // PARTNER-DOWN, where we may give the partner's free addresses to
        // new clients: the partner, back, knows nothing of them. That holds
        // after leaving PARTNER-DOWN too, until the partner has acknowledged
        // every change (seed 20973975: a wipe just after PARTNER-DOWN gave
        // way to NORMAL).
        // Other wipes are the dangerous kind: shown, not survived.
        let partner_whole = self.nodes[1 - node].as_ref().is_some_and(|p| {
            !matches!(
                p.node.state(),
                Some(State::Recover | State::RecoverWait | State::Startup)
            )
        });
        let sole_copy = self.nodes[node]
            .as_ref()
            .is_some_and(|n| n.partner_down_debt);
        let safe = partner_whole && !sole_copy;
        let wipe = wipe && (safe || self.opts.dangerous);
        if wipe && !safe {
            self.dangerous = true;
            self.summary.dangerous_events += 1;
        }
        self.collect_acked(node);
        let Some(n) = self.nodes[node].take() else {
            return;
        };
        let blind = n.node.peer().is_some_and(|p| p.blind());
        self.summary.reached.faults_while_blind += u64::from(blind);
        self.summary.crashes += 1;
        // What was committed survives; the queue is lost with the process.
        self.disks[node] = if wipe {
            self.epochs += 1;
            self.wiped = true;
            Disk {
                epoch: self.epochs,
                lost: true,
                ..Disk::default()
            }
        } else {
            n.disk
        };
        self.close_end(node, &format!("server {node} crashed"));
        let back = self.now + self.rng.range(5, 200);
        self.summary_note(format!(
            "server {node} crashed (wipe: {wipe}); back at {back}"
        ));
        self.at(back, Ev::Restart { node });
    }

    /// See [`Family::PartnerDownFreshGrants`]: frames from the victim are
    /// lost for 60-300 s; it dies 20-60 s in, and the survivor is declared
    /// partner-down 1-10 s later.
    fn fresh_grants_lost(&mut self) {
        let t = self.rng.range(200, CHAOS - 700);
        let victim = self.rng.range(0, 1) as usize;
        let secs = self.rng.range(60, 300);
        self.at(
            t,
            Ev::Partition {
                dir: Some(victim),
                secs,
            },
        );
        let crash = t + self.rng.range(20, 60);
        self.at(
            crash,
            Ev::Crash {
                node: victim,
                wipe: false,
            },
        );
        let declared = crash + self.rng.range(1, 10);
        self.at(declared, Ev::PartnerDown { node: 1 - victim });
    }

    /// See [`Family::Maintenance`]: one or two rounds, each a `start` on a
    /// server (sometimes on both at once) ended by `stop` or by a crash and
    /// restart, all inside the chaos phase.
    fn maintenance_rounds(&mut self) {
        for _ in 0..self.rng.range(1, 2) {
            let node = self.rng.range(0, 1) as usize;
            let t = self.rng.range(100, CHAOS - 900);
            self.at(t, Ev::Maintenance { node, start: true });
            if self.rng.chance(0.2) {
                let both = t + self.rng.range(0, 5);
                self.at(
                    both,
                    Ev::Maintenance {
                        node: 1 - node,
                        start: true,
                    },
                );
                let stop = both + self.rng.range(30, 300);
                self.at(
                    stop,
                    Ev::Maintenance {
                        node: 1 - node,
                        start: false,
                    },
                );
            }
            let end = t + self.rng.range(30, 600);
            let ev = if self.rng.chance(0.5) {
                Ev::Maintenance { node, start: false }
            } else {
                Ev::Crash { node, wipe: false }
            };
            self.at(end, ev);
        }
    }

    /// The operator's `maintenance start` or `stop` on `node`, if it runs.
    pub(super) fn maintenance(&mut self, node: usize, start: bool) {
        let (now, dd) = (self.now, self.faults.disk_delay);
        let Some(n) = self.node(node) else { return };
        let cmd = if start {
            crate::node::Command::MaintenanceStart
        } else {
            crate::node::Command::MaintenanceStop
        };
        let answer = n.control(now, dd, cmd);
        if start && answer["ok"] == true {
            self.summary.maintenances += 1;
        }
        let verb = if start { "start" } else { "stop" };
        self.summary_note(format!(
            "operator: server {node} maintenance {verb}: {}",
            if answer["ok"] == true {
                "done".to_string()
            } else {
                answer["error"].to_string()
            }
        ));
    }

    pub(super) fn partner_down(&mut self, node: usize) {
        let other = 1 - node;
        let partner_alive = self.nodes[other].is_some();
        if partner_alive && !self.opts.dangerous {
            return;
        }
        let (now, dd) = (self.now, self.faults.disk_delay);
        // A frozen server's control socket does not answer: the operator
        // gives up rather than have the command run at the thaw.
        let Some(n) = self.node(node).filter(|n| !n.frozen) else {
            return;
        };
        let answer = n.control(now, dd, crate::node::Command::PartnerDown);
        if answer["ok"] == true {
            if partner_alive {
                self.dangerous = true;
                self.summary.dangerous_events += 1;
            }
            self.summary_note(format!(
                "operator: server {node} partner-down (partner alive: {partner_alive})"
            ));
        }
    }

    pub(super) fn client_fault(&mut self, c: usize) {
        let now = self.now;
        let kind = self.rng.range(0, 4);
        let out = self.clients[c].misbehave(kind, now, self.chaos);
        if let Some((to, bytes, held)) = out {
            self.release_hold(c, held);
            self.client_send(c, to, bytes);
        }
        let w = self.clients[c].wake.max(now);
        self.at(w, Ev::ClientWake(c));
    }

    pub(super) fn end_chaos(&mut self) {
        self.chaos = false;
        self.link.blocked = [0, 0];
        self.witness_cut = [0, 0];
        self.witness_deaf = [0, 0];
        self.client_cut = [0, 0];
        self.faults = Faults {
            client_loss: 0.0,
            client_dup: 0.0,
            link_loss: 0.0,
            link_dup: 0.0,
            link_reorder: 0.0,
            disk_delay: self.faults.disk_delay,
        };
        for i in 0..2 {
            if self.nodes[i].is_none() {
                self.boot(i);
            } else if self.nodes[i]
                .as_ref()
                .is_some_and(|n| n.node.state() == Some(crate::failover::State::Shutdown))
            {
                // The operator ends any maintenance still under way.
                self.maintenance(i, false);
            }
        }
        self.summary_note("chaos over: network healed, both servers running".into());
    }
}
