//! The evidence family (`Family::Evidence`): its schedule (a long cut of
//! the peer link, a freeze, a death with rebooting clients) and the checks
//! of automatic partner-down, which hold in every family.

use super::*;
use crate::failover::evidence::partners_client;
use crate::lease::Owner;

/// Seconds a PARTNER-DOWN server and a partner that may allocate may
/// coexist before it is a violation (see `check_partner_down`): well
/// under MCLT (60 s), above a link delay and a keepalive period.
const BOTH_ALLOCATING_GRACE: u64 = 20;

impl World {
    /// See [`Family::Evidence`].
    pub(super) fn evidence_rounds(&mut self) {
        let t = self.rng.range(100, CHAOS - 900);
        let secs = self.rng.range(300, 800);
        self.at(t, Ev::Partition { dir: None, secs });
        let t = self.rng.range(60, CHAOS - 500);
        let node = self.rng.range(0, 1) as usize;
        let secs = self.rng.range(5, 400);
        self.at(t, Ev::Freeze { node, secs });
        let t = self.rng.range(60, CHAOS - 600);
        let node = self.rng.range(0, 1) as usize;
        let secs = self.rng.range(300, 500);
        self.at(t, Ev::Death { node, secs });
    }

    /// Server `node` dies for `secs` seconds (no random restart brings it
    /// back sooner), and five seconds later the clients of its hash bucket
    /// that hold a lease reboot (INIT-REBOOT): evidence for the survivor.
    pub(super) fn death(&mut self, node: usize, secs: u64) {
        let survivor = 1 - node;
        let eligible = self.nodes[survivor]
            .as_ref()
            .is_some_and(|s| s.up && !s.frozen && s.node.peer().is_some_and(|p| !p.blind()));
        self.crash(node, false);
        self.dead_until[node] = self.now + secs;
        self.at(self.now + secs, Ev::Restart { node });
        self.at(self.now + 5, Ev::Reboots { dead: node });
        if eligible {
            self.summary.deaths.0 += 1;
            self.death_watch = Some(survivor);
        }
    }

    /// The clients of dead server `dead`'s hash bucket (under the
    /// configured split) that hold a lease reboot.
    pub(super) fn reboots(&mut self, dead: usize) {
        let dead_role = if dead == 0 {
            Owner::Primary
        } else {
            Owner::Secondary
        };
        let (me, split) = (dead_role.other(), self.configs[0].split());
        for c in 0..self.clients.len() {
            let hw = crate::proto::HwAddr::new(1, &self.clients[c].mac);
            let key = crate::proto::ClientKey::new(None, &hw);
            if self.clients[c].held.is_some() && partners_client(&key, split, me) {
                self.clients[c].reboot(self.now);
                self.at(self.now, Ev::ClientWake(c));
            }
        }
    }

    /// A dead server comes back: the death counts as declared if its
    /// survivor reached PARTNER-DOWN meanwhile.
    pub(super) fn revive(&mut self, node: usize) {
        if let Some(s) = self.death_watch.take() {
            let st = self.nodes[s].as_ref().and_then(|n| n.node.state());
            if s != node && st == Some(State::PartnerDown) {
                self.summary.deaths.1 += 1;
            }
        }
    }

    /// Freezes server `node` for `secs` seconds, as SIGSTOP would.
    pub(super) fn freeze(&mut self, node: usize, secs: u64) {
        if let Some(n) = self.node(node).filter(|n| !n.frozen) {
            let blind = n.node.peer().is_some_and(|p| p.blind());
            n.freeze();
            self.summary.reached.faults_while_blind += u64::from(blind);
            self.summary.freezes += 1;
            self.summary_note(format!("server {node} frozen for {secs} s"));
            self.at(self.now + secs, Ev::Thaw { node });
        }
    }

    /// Resumes a frozen server: what waited in its sockets arrives now,
    /// and its grants are checked as any.
    pub(super) fn thaw(&mut self, node: usize) -> Result<(), Violation> {
        let (now, dd) = (self.now, self.faults.disk_delay);
        let Some(n) = self.nodes[node].as_mut().filter(|n| n.frozen) else {
            return Ok(());
        };
        let grants = n.thaw(now, dd);
        self.summary_note(format!("server {node} thawed"));
        for g in grants {
            self.check_mclt(node, &g)?;
        }
        self.after_node(node)
    }

    /// Whether server `i` answers clients as a server that may allocate:
    /// up, not frozen, in a serving state, and not blind.
    fn serving(&self, i: usize) -> bool {
        self.nodes[i].as_ref().is_some_and(|n| {
            n.up && !n.frozen
                && matches!(
                    n.node.state(),
                    Some(State::Normal | State::CommunicationsInterrupted | State::PartnerDown)
                )
                && n.node.peer().is_some_and(|p| !p.blind())
        })
    }

    /// After server `i` acted: a partner-down it decided by itself must
    /// find its partner not serving (dead, frozen, blind or recovering);
    /// and at every step, a server that may allocate in PARTNER-DOWN never
    /// has a partner that may allocate too (in NORMAL,
    /// COMMUNICATIONS-INTERRUPTED or PARTNER-DOWN, not blind).
    pub(super) fn check_partner_down(&mut self, i: usize) -> Result<(), Violation> {
        let Some(n) = self.nodes[i].as_mut() else {
            return Ok(());
        };
        let count = n.node.peer().map_or(0, |p| p.auto_partner_downs());
        let decided = count > n.auto_seen;
        n.auto_seen = count;
        if decided {
            self.summary.auto_partner_downs += 1;
            self.summary_note(format!("server {i} declared its partner down by itself"));
        }
        if self.dangerous {
            return Ok(());
        }
        let j = 1 - i;
        if decided && self.serving(j) {
            let st = self.nodes[j].as_ref().and_then(|n| n.node.state());
            return Err(self.violation(format!(
                "server {i} declared its partner down by itself while server {j} serves ({st:?})"
            )));
        }
        let pd = |k: usize| {
            self.serving(k)
                && self.nodes[k].as_ref().and_then(|n| n.node.state()) == Some(State::PartnerDown)
        };
        let Some(k) = (0..2).find(|k| pd(*k) && self.serving(1 - k)) else {
            self.both_allocating = None;
            return Ok(());
        };
        // Messages that cross when the link comes back (a server leaving
        // maintenance meets a partner just entering PARTNER-DOWN) make a
        // moment of it, settled by the next exchange; a PARTNER-DOWN
        // server takes no partner's address before MCLT. What lasts a
        // link delay and a keepalive round is a violation.
        let since = *self.both_allocating.get_or_insert(self.now);
        if self.now < since + BOTH_ALLOCATING_GRACE {
            return Ok(());
        }
        let st = self.nodes[1 - k].as_ref().and_then(|n| n.node.state());
        Err(self.violation(format!(
            "server {k} in PARTNER-DOWN since {since} while server {} may allocate too ({st:?})",
            1 - k
        )))
    }
}
