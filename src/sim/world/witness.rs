//! The witness family (`Family::Witness`): a simulated `tandem witness`
//! (`failover::witness::Witness`, on the global clock with millisecond
//! jitter) that both servers heartbeat; links to it that fail on their
//! own, both ways or only the reports; servers cut from all or half of
//! their clients, whose clients then reboot (evidence against a server
//! that may be alive); a site split that leaves one server with half its
//! clients but neither its partner nor the witness, sometimes followed by
//! that server's stall or restart; a peer link that loses one side's
//! frames only, half-open once a side closes its end; the witness
//! restarting; and the evidence family's cut, freeze and death. Any
//! combination may overlap: a server that loses both its partner and the
//! witness must fence itself (`failover::peer::witness`), and stay fenced
//! through a stall or a restart.

use super::*;
use crate::failover::witness::{Heartbeat, NONCE_LEN, Witness};
use crate::time::Time;

/// The longest `max_response_delay` of the family's timings (`setup`).
pub(super) const MRD_MAX: u64 = 15;

/// What travels to and from the witness, and what cuts it.
#[derive(Clone, Debug)]
pub(super) enum WitnessEv {
    /// Server `node`'s heartbeat, sent at its local time `asked`, arrives.
    Heartbeat { node: usize, asked: Time },
    /// The witness's report reaches server `node`.
    Report {
        node: usize,
        asked: Time,
        silent_ms: u64,
        heard: bool,
    },
    /// Server `node` cannot reach the witness for `secs` seconds: both
    /// ways, or (`one_way`) its heartbeats arrive but no report returns.
    Cut {
        node: usize,
        secs: u64,
        one_way: bool,
    },
    /// The end of a cut of server `node` from the witness (`one_way` as
    /// it began).
    Heal { node: usize, one_way: bool },
    /// Server `node` cannot reach its clients (nor they it) for `secs`:
    /// all of them (`half` false) or the odd ones; the clients of its hash
    /// bucket reboot 5 s in.
    ClientCut { node: usize, secs: u64, half: bool },
    /// Server `node` reaches its clients again.
    ClientHeal { node: usize },
    /// The witness restarts, having heard no one.
    Restart,
}

impl World {
    /// See [`Family::Witness`]: the evidence family's schedule, one or two
    /// client cuts, up to three witness cuts (a third of them one-way), in
    /// half the seeds a site split inside the chaos phase, in half a
    /// one-way peer link, and in a third a witness restart.
    pub(super) fn witness_rounds(&mut self) {
        self.witness = Some(Witness::new(0));
        // A slow witness path in a third of the seeds: a round trip of up
        // to 6 s outlives a report's freshness.
        self.witness_delay = if self.rng.chance(0.3) { 3 } else { 1 };
        self.evidence_rounds();
        for _ in 0..self.rng.range(1, 2) {
            let node = self.rng.range(0, 1) as usize;
            let t = self.rng.range(100, CHAOS - 700);
            let (secs, half) = (self.rng.range(100, 600), self.rng.chance(0.5));
            self.at(t, Ev::Witness(WitnessEv::ClientCut { node, secs, half }));
        }
        for _ in 0..self.rng.range(0, 3) {
            let t = self.rng.range(60, CHAOS - 100);
            let secs = self.rng.range(5, 300);
            let node = self.rng.range(0, 1) as usize;
            let one_way = self.rng.chance(0.3);
            self.at(
                t,
                Ev::Witness(WitnessEv::Cut {
                    node,
                    secs,
                    one_way,
                }),
            );
        }
        if self.rng.chance(0.5) {
            self.site_split();
        }
        if self.rng.chance(0.5) {
            let t = self.rng.range(60, CHAOS - 300);
            let dir = Some(self.rng.range(0, 1) as usize);
            let secs = self.rng.range(20, 400);
            self.at(t, Ev::Partition { dir, secs });
        }
        if self.rng.chance(0.3) {
            let t = self.rng.range(60, CHAOS - 100);
            self.at(t, Ev::Witness(WitnessEv::Restart));
        }
    }

    pub(super) fn witness_event(&mut self, ev: WitnessEv) -> Result<(), Violation> {
        match ev {
            WitnessEv::Heartbeat { node, asked } => self.at_witness(node, asked),
            WitnessEv::Report {
                node,
                asked,
                silent_ms,
                heard,
            } => return self.report(node, asked, silent_ms, heard),
            WitnessEv::Cut {
                node,
                secs,
                one_way,
            } => self.cut_witness(node, secs, one_way),
            WitnessEv::Heal { node, one_way } => {
                let cuts = if one_way {
                    &mut self.witness_deaf[node]
                } else {
                    &mut self.witness_cut[node]
                };
                *cuts = cuts.saturating_sub(1);
            }
            WitnessEv::ClientCut { node, secs, half } => {
                self.client_cut[node] = if half { 2 } else { 1 };
                self.summary.reached.client_cuts += 1;
                let which = if half { "half its" } else { "its" };
                self.summary_note(format!(
                    "server {node} cut from {which} clients for {secs} s"
                ));
                self.at(self.now + secs, Ev::Witness(WitnessEv::ClientHeal { node }));
                // Its clients reboot: unanswered, they are evidence against it.
                self.at(self.now + 5, Ev::Reboots { dead: node });
            }
            WitnessEv::ClientHeal { node } => self.client_cut[node] = 0,
            WitnessEv::Restart => {
                self.summary_note("the witness restarted".into());
                self.witness = Some(Witness::new(self.now * 1000));
            }
        }
        Ok(())
    }

    /// Cuts server `node` from the witness for `secs` seconds: both ways,
    /// or (`one_way`) only the reports back. Cuts may overlap; each heals
    /// its own.
    fn cut_witness(&mut self, node: usize, secs: u64, one_way: bool) {
        let how = if one_way {
            self.witness_deaf[node] += 1;
            self.summary.reached.one_way_witness_cuts += 1;
            "reports from "
        } else {
            self.witness_cut[node] += 1;
            ""
        };
        self.summary_note(format!(
            "server {node} cut from {how}the witness for {secs} s"
        ));
        let heal = WitnessEv::Heal { node, one_way };
        self.at(self.now + secs, Ev::Witness(heal));
    }

    /// A site split: server `node` loses its partner, the witness and half
    /// its clients at once, for 100-600 s, and keeps the other half. In
    /// half the seeds only its own frames are lost: it still hears the
    /// partner, which hears nothing of it. In half, once it has fenced
    /// itself, it stalls (SIGSTOP) or restarts inside the split: fenced,
    /// it must not come back unfenced.
    fn site_split(&mut self) {
        let node = self.rng.range(0, 1) as usize;
        let t = self.rng.range(100, CHAOS - 700);
        let secs = self.rng.range(100, 600);
        let dir = self.rng.chance(0.5).then_some(node);
        self.at(t, Ev::Partition { dir, secs });
        let one_way = false;
        self.at(
            t,
            Ev::Witness(WitnessEv::Cut {
                node,
                secs,
                one_way,
            }),
        );
        let half = true;
        self.at(t, Ev::Witness(WitnessEv::ClientCut { node, secs, half }));
        if self.rng.chance(0.5) {
            // Once fenced: its partner's FIN reaches it after the partner's
            // silence timeout, and the fence falls by then (its partner
            // unheard for FENCE_SILENCE, the witness for longer).
            let fenced = t + MRD_MAX + 6;
            let later = fenced + self.rng.range(0, secs.saturating_sub(MRD_MAX + 6));
            let ev = if self.rng.chance(0.5) {
                let secs = self.rng.range(5, 60);
                Ev::Freeze { node, secs }
            } else {
                Ev::Crash { node, wipe: false }
            };
            self.at(later, ev);
        }
    }

    /// Sends the heartbeats server `i` asked for, unless it is cut from
    /// the witness (or there is none).
    pub(super) fn send_heartbeats(&mut self, i: usize) {
        let Some(n) = self.nodes[i].as_mut() else {
            return;
        };
        let asked = std::mem::take(&mut n.heartbeats);
        if self.witness.is_none() || self.witness_cut[i] > 0 {
            return;
        }
        for asked in asked {
            let d = self.rng.range(0, self.witness_delay);
            let ev = Ev::Witness(WitnessEv::Heartbeat { node: i, asked });
            self.at(self.now + d, ev);
        }
    }

    /// A heartbeat reaches the witness, whose report goes back.
    fn at_witness(&mut self, node: usize, asked: Time) {
        let Some(w) = self
            .witness
            .as_mut()
            .filter(|_| self.witness_cut[node] == 0)
        else {
            return;
        };
        let h = Heartbeat {
            primary: node == 0,
            nonce: [0; NONCE_LEN],
        };
        let r = w.heartbeat(self.now * 1000 + self.rng.range(0, 999), &h);
        let d = self.rng.range(0, self.witness_delay);
        let ev = WitnessEv::Report {
            node,
            asked,
            silent_ms: r.partner_silent_ms,
            heard: r.partner_heard,
        };
        self.at(self.now + d, Ev::Witness(ev));
    }

    /// A report reaches server `node`: lost if it is cut from the witness,
    /// down or frozen (its socket's backlog would arrive stale).
    fn report(
        &mut self,
        node: usize,
        asked: Time,
        silent_ms: u64,
        heard: bool,
    ) -> Result<(), Violation> {
        let (now, dd) = (self.now, self.faults.disk_delay);
        let cut = self.witness_cut[node] + self.witness_deaf[node] > 0;
        let Some(n) = self.node(node).filter(|n| !n.frozen && !cut) else {
            return Ok(());
        };
        let input = Input::WitnessReport {
            asked,
            partner_silent_ms: silent_ms,
            partner_heard: heard,
        };
        n.input(now, dd, input);
        self.after_node(node)
    }
}
