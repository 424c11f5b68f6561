//! The peer's side of partner-down evidence (`failover::evidence`): when
//! it is collected, what the node reports to it, what the automatic
//! partner-down requires of it, and the decision as `status` shows it.

use super::*;
use crate::failover::evidence::Gate;
use crate::proto::ClientKey;

impl Peer {
    /// Whether the partner's requests are held back now for evidence:
    /// silent in COMMUNICATIONS-INTERRUPTED with `auto_partner_down` and
    /// evidence configured, and able to decide (`may_judge_blind`).
    pub fn collecting_evidence(&self) -> bool {
        self.state == State::CommunicationsInterrupted
            && self.link.is_none()
            && self.cfg.auto_partner_down.is_some()
            && self.cfg.evidence.is_some()
            && self.may_judge_blind()
            && self.evidence.collecting()
    }

    /// A request the partner owes an answer to, from `client`, exchange
    /// `xid` (a DISCOVER if `discover`), at `now`: hold it back or answer
    /// it (`Evidence::observe`). Answering everything while not
    /// collecting. A client just counted may complete the evidence, so the
    /// transitions are evaluated.
    pub fn observe_client(
        &mut self,
        now: Time,
        client: &ClientKey,
        xid: u32,
        discover: bool,
    ) -> Gate {
        let Some(cfg) = self.cfg.evidence.filter(|_| self.collecting_evidence()) else {
            return Gate::Answer;
        };
        let gate = self.evidence.observe(now, &cfg, client, xid, discover);
        if gate == Gate::Counted {
            self.evaluate(now);
        }
        gate
    }

    /// A client chose the offer of a server other than this one at `now`
    /// (SELECTING): some server answers, so what was counted is dropped.
    pub fn client_chose_other(&mut self, now: Time) {
        if self.collecting_evidence() {
            tracing::debug!("a client chose another server's offer: partner-down evidence dropped");
            self.evidence.counter(now);
        }
    }

    /// Whether the partner surely had a free address for a new client of
    /// its bucket whose pools hold `free` of its free addresses as we last
    /// knew them: a margin of `clients` beyond the DISCOVER clients of its
    /// bucket seen since the pair was last in NORMAL (each may have taken
    /// one). A live partner that ran out answers no DISCOVER, so its
    /// silence proves nothing then.
    pub fn partner_had_free(&self, free: usize) -> bool {
        let margin = self.cfg.evidence.map_or(0, |c| c.clients);
        let need = u64::from(self.evidence.discovered()) + u64::from(margin);
        u64::try_from(free).unwrap_or(u64::MAX) >= need
    }

    /// Automatic partner-down decisions since this start.
    pub fn auto_partner_downs(&self) -> u64 {
        self.auto_decisions
    }

    /// What `auto_partner_down` requires besides silence: nothing with
    /// evidence off; else the evidence, and sight of the partner since
    /// this start unless a witness is configured (`may_judge_blind`).
    pub(super) fn evidence_allows(&self, now: Time) -> bool {
        match &self.cfg.evidence {
            None => true,
            Some(cfg) => self.may_judge_blind() && self.evidence.holds(now, cfg),
        }
    }

    /// Whether this server may gather evidence and judge its partner down
    /// by itself as it stands: not blind, or blind with a witness. Blind,
    /// we cannot know whether the partner declared us down; without a
    /// witness, two servers restarted blind during a cut would each see
    /// evidence against the other. With one, the partner is declared only
    /// once the witness has long stopped hearing it, by which time it is
    /// dead or fenced (`peer::witness`) whatever state it was in; the
    /// witness must also have heard it since the witness started, or the
    /// partner may not be using it (`witness_allows`).
    fn may_judge_blind(&self) -> bool {
        !self.blind() || self.cfg.witness.is_some()
    }

    /// A fresh collection when the silence starts (or starts again), none
    /// otherwise: called on every state and link change.
    pub(super) fn restart_evidence(&mut self, now: Time) {
        if self.state == State::CommunicationsInterrupted && self.link.is_none() {
            self.evidence.start(now);
        } else {
            self.evidence.stop();
        }
    }

    /// Logs and keeps why the partner is being declared down automatically.
    pub(super) fn record_decision(&mut self, now: Time) {
        let quiet = self.quiet_since().until(now);
        let why = match &self.cfg.evidence {
            None => {
                format!("partner silent for {quiet} s (auto_partner_down, without client evidence)")
            }
            Some(cfg) => format!(
                "partner silent for {quiet} s and {} of its clients unanswered for {} s or more within {} s",
                self.evidence.status(now, cfg).counted,
                cfg.secs,
                cfg.window
            ),
        };
        let why = match self.witness_partner_silent() {
            Some(s) => format!("{why}; the witness has not heard it for {s} s"),
            None => why,
        };
        tracing::warn!(reason = %why, "declaring the partner down automatically");
        self.decided = Some((now, why));
        self.auto_decisions += 1;
        self.judge_down(now);
    }

    /// The evidence gauges of the metrics; `None` unless both
    /// `auto_partner_down` and evidence are on.
    pub(super) fn evidence_gauges(&self, now: Time) -> Option<status::EvidenceGauges> {
        let cfg = self
            .cfg
            .evidence
            .filter(|_| self.cfg.auto_partner_down.is_some())?;
        Some(status::EvidenceGauges {
            collecting: self.collecting_evidence(),
            counted: self.evidence.status(now, &cfg).counted,
            needed: cfg.clients,
        })
    }

    /// The `partner_down_evidence` object of `status --json`; `null` when
    /// `auto_partner_down` is off.
    pub(super) fn evidence_status(&self, now: Time) -> serde_json::Value {
        if self.cfg.auto_partner_down.is_none() {
            return serde_json::Value::Null;
        }
        let decision = self
            .decided
            .as_ref()
            .map(|(t, why)| serde_json::json!({"at": t.rfc3339(), "reason": why}));
        let Some(cfg) = &self.cfg.evidence else {
            return serde_json::json!({"enabled": false, "last_decision": decision});
        };
        let st = self.evidence.status(now, cfg);
        serde_json::json!({
            "enabled": true,
            "collecting": self.collecting_evidence(),
            "since": st.since.map(Time::rfc3339),
            "clients_counted": st.counted,
            "clients_needed": cfg.clients,
            "clients_waiting": st.waiting,
            "secs": cfg.secs,
            "window_s": cfg.window,
            "holds": self.evidence.holds(now, cfg),
            "restarts": st.restarts,
            "last_counter_evidence": st.last_counter.map(Time::rfc3339),
            "last_decision": decision,
        })
    }
}
