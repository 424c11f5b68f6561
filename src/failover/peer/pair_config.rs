//! The pair's shared configuration on a live link: a reload that changes
//! what both peers must agree on (subnets, pools, reservations; split and
//! MCLT cannot change by reload) sends the new fingerprint, and each side
//! reports in `status` and the log whether the other's matches, without
//! dropping the link (issue 16). A mismatch at connection is refused
//! outright instead (`link::check_connect`): there it may be anything,
//! while a reload can only add pools or move reservations outside them,
//! which is safe while one side lags. Free addresses are not rebalanced
//! while the two may number their pools differently.

use super::*;

/// The status alarm while the partner's pair configuration differs.
const MISMATCH: &str = "pool configuration differs from the partner's since a reload (fingerprint mismatch): reload both peers with the same subnets, pools and reservations";

impl Peer {
    /// Takes the peer settings of a reloaded configuration at `now` (its
    /// pools and fingerprint, and this server's own failover knobs;
    /// `config::reload` refuses what must not change). A changed
    /// fingerprint goes to a connected partner at once (protocol 5); an
    /// older partner compares it at the next connection, which `status`
    /// says meanwhile.
    pub fn reconfigure(&mut self, now: Time, cfg: PeerConfig) {
        let changed = cfg.fingerprint != self.cfg.fingerprint;
        self.pool_request_until.clear();
        self.cfg = cfg;
        let Some(version) = self.partner.as_ref().map(|p| p.version) else {
            return;
        };
        if !changed || !self.connected() {
            return;
        }
        if version < 5 {
            let why = format!(
                "the pair configuration changed by a reload; the partner (peer protocol {version}) compares it only at the next connection"
            );
            tracing::warn!("{why}");
            self.pair_alarm = Some(why);
            return;
        }
        // Until the answer, the pools may be numbered differently on the
        // two sides: no POOLREQ is sent or answered (`pools_agreed`).
        self.pair_alarm = Some(
            "the pair configuration changed by a reload; comparing it with the partner's".into(),
        );
        self.send_pair_config(now, false);
    }

    /// Whether both sides are known to number the pools alike, as POOLREQ
    /// and POOLRESP name a pool by its number: not between a reload and the
    /// partner's matching fingerprint.
    pub(super) fn pools_agreed(&self) -> bool {
        self.pair_alarm.is_none()
    }

    fn send_pair_config(&mut self, now: Time, answer: bool) {
        let fingerprint = self.cfg.fingerprint.clone();
        self.send(
            now,
            Message::PairConfig {
                fingerprint,
                answer,
            },
        );
    }

    /// The partner's fingerprint after its reload (or its answer to ours):
    /// compared with ours, the verdict logged and kept for `status`; a
    /// first one is answered with ours so that both sides know.
    pub(super) fn on_pair_config(&mut self, now: Time, theirs: &str, answer: bool) {
        if theirs == self.cfg.fingerprint {
            if self.pair_alarm.take().is_some() {
                tracing::info!("the partner's pool configuration matches ours again");
            }
        } else {
            tracing::warn!("{MISMATCH}");
            self.pair_alarm = Some(MISMATCH.into());
        }
        if !answer {
            self.send_pair_config(now, true);
        }
    }

    /// What `status` shows as the alarm: a pair mismatch first, else the
    /// link's own (a refused connection, a clock offset).
    pub(super) fn alarm(&self) -> Option<&String> {
        self.pair_alarm.as_ref().or(self.alarm.as_ref())
    }

    /// A connection accepted: the fingerprints matched at CONNECT.
    pub(super) fn pair_config_matched(&mut self) {
        self.pair_alarm = None;
    }
}
