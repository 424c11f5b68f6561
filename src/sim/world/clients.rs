//! Client datagrams both ways: a request reaching a server (its grant
//! checked), replies going back, and the faults on the way (loss,
//! duplication, delay, the witness family's client cuts).

use super::*;

impl World {
    /// A client's packet reaches a server; its grant is checked.
    pub(super) fn deliver(&mut self, node: usize, bytes: &[u8]) -> Result<(), Violation> {
        let (now, dd) = (self.now, self.faults.disk_delay);
        let Some(n) = self.node(node) else {
            return Ok(());
        };
        if let Some(g) = n.packet(now, bytes, dd) {
            let l = &g.lease;
            let msg = format!(
                "server {node} ({}) ACK {} to {:?} for {} s at {} until {} pe {} ape {}",
                n.node.state().map_or("down".into(), |s| s.to_string()),
                l.addr,
                l.client(),
                l.lease_time,
                g.local_now.0,
                l.expires.0,
                l.potential_expiry.0,
                l.acked_potential_expiry.0
            );
            self.summary_note(msg);
            self.check_mclt(node, &g)?;
            if self.opts.family == Some(Family::Squatters) && crate::sim::squatted(l.addr) {
                return Err(self.violation(format!(
                    "server {node} ACKed {}, an address a host squats on (its ping is answered)",
                    l.addr
                )));
            }
        }
        self.after_node(node)
    }

    /// The replies server `i` released go to their clients, unless lost.
    pub(super) fn send_replies(&mut self, i: usize) {
        let replies = self.nodes[i]
            .as_mut()
            .map(|n| std::mem::take(&mut n.replies))
            .unwrap_or_default();
        for r in replies {
            let Some(c) = self.client_of(&r.bytes) else {
                continue;
            };
            if self.cut_off(i, c) || self.rng.chance(self.faults.client_loss) {
                continue;
            }
            let d = self.rng.range(0, 2);
            let bytes = r.bytes.clone();
            self.at(self.now + d, Ev::ToClient { client: c, bytes });
        }
    }

    /// Whether client `c` and server `node` cannot reach each other (the
    /// witness family's client cuts: 1 all clients, 2 the odd ones).
    fn cut_off(&self, node: usize, c: usize) -> bool {
        match self.client_cut[node] {
            0 => false,
            1 => true,
            _ => c % 2 == 1,
        }
    }

    pub(super) fn client_send(&mut self, c: usize, to: Target, bytes: Vec<u8>) {
        let targets: Vec<usize> = match to {
            Target::Both => vec![0, 1],
            Target::Server(sid) => (0..2)
                .filter(|i| self.configs[*i].server.server_id == Some(sid))
                .collect(),
        };
        for node in targets {
            if self.cut_off(node, c) {
                continue;
            }
            if self.rng.chance(self.faults.client_loss) {
                continue;
            }
            let copies = if self.rng.chance(self.faults.client_dup) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let d = self.rng.range(0, 2);
                self.at(
                    self.now + d,
                    Ev::ToServer {
                        node,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
    }

    fn client_of(&self, bytes: &[u8]) -> Option<usize> {
        let mac = bytes.get(28..34)?;
        self.clients.iter().position(|c| c.mac == mac)
    }
}
