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
const MISMATCH: &str = "pool configuration differs from the partner's since a reload (fingerprint mismatch): reload both peers with the same subnets, pools, reservations, classes and DDNS naming; free addresses are not rebalanced meanwhile";

/// The first peer protocol version that carries `Message::PairConfig`.
const PAIR_CONFIG_VERSION: u16 = 5;

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
        if !changed {
            return;
        }
        if let Some(p) = self.partner.as_ref().filter(|_| self.connected()) {
            if p.version >= PAIR_CONFIG_VERSION {
                self.send_pair_config(now, false);
            } else if let Some(why) = self.pair_alarm() {
                tracing::warn!("{why}");
            }
        }
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
    /// kept, the verdict logged when it changes; a first one is answered
    /// with ours so that both sides know. On a link that agreed an older
    /// protocol, where the partner cannot mean it, it closes the link.
    pub(super) fn on_pair_config(&mut self, now: Time, theirs: String, answer: bool) {
        let version = self.partner.as_ref().map_or(0, |p| p.version);
        if version < PAIR_CONFIG_VERSION {
            return self.close(now, format!("pair-config on peer protocol {version}"));
        }
        let before = self.pools_agreed();
        self.partner_fingerprint = Some(theirs);
        let agreed = self.pools_agreed();
        if agreed && !before {
            tracing::info!("the partner's pool configuration matches ours again");
        } else if !agreed && (before || answer) {
            // Once per change, or in answer to our own reload's.
            tracing::warn!("{MISMATCH}");
        }
        if !answer {
            self.send_pair_config(now, true);
        }
    }

    /// Whether the partner is known to hold our pair configuration (its
    /// fingerprint at CONNECT, or in its latest `PairConfig`), so that both
    /// number the pools alike, as POOLREQ and POOLRESP name a pool by
    /// number.
    pub(super) fn pools_agreed(&self) -> bool {
        self.partner_fingerprint.as_deref() == Some(self.cfg.fingerprint.as_str())
    }

    /// Why the pair configuration is not known to match on a live link.
    fn pair_alarm(&self) -> Option<String> {
        let p = self.partner.as_ref().filter(|_| self.connected())?;
        if self.pools_agreed() {
            return None;
        }
        Some(if p.version >= PAIR_CONFIG_VERSION {
            MISMATCH.into()
        } else {
            format!(
                "the pair configuration changed by a reload; the partner (peer protocol {}) compares it only at the next connection, and free addresses are not rebalanced until then",
                p.version
            )
        })
    }

    /// What `status` shows as the alarm: a pair mismatch first, else the
    /// link's own (a refused connection, a clock offset).
    pub(super) fn alarm(&self) -> Option<String> {
        self.pair_alarm().or_else(|| self.alarm.clone())
    }
}
