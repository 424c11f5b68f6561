//! The peer's side of the witness (`failover::witness`): when to
//! heartbeat it, what its reports say of the partner, and whether they
//! allow an automatic partner-down. The edge seals, sends, receives and
//! checks the datagrams (`server::witness`); the decision is here.

use super::*;

/// Seconds between heartbeats to the witness.
pub const WITNESS_EVERY: u64 = 1;

/// Seconds after which the latest report says nothing: the witness may
/// since have heard the partner (a few heartbeats lost on the way).
pub const WITNESS_FRESH: u64 = 5;

/// What the witness last said of the partner.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WitnessView {
    /// When the latest heartbeat went.
    sent: Option<Time>,
    /// When the latest report came.
    reply: Option<Time>,
    /// The latest time, on our clock, at which the witness may have heard
    /// the partner: a report's arrival less the silence it reports (the
    /// latest of them, which is the cautious side).
    partner_heard_by: Time,
    /// Whether the witness had heard the partner since it started.
    partner_heard: bool,
}

impl Peer {
    /// Whether a heartbeat to the witness is due at `now` (one every
    /// [`WITNESS_EVERY`] seconds while a witness is configured); a due one
    /// is taken as sent.
    pub fn witness_heartbeat(&mut self, now: Time) -> bool {
        let recent = self
            .witness
            .sent
            .is_some_and(|t| t <= now && now < t.plus(WITNESS_EVERY));
        if self.cfg.witness.is_none() || recent {
            return false;
        }
        self.witness.sent = Some(now);
        true
    }

    /// The witness's report, received at `now`, to the heartbeat sent at
    /// `asked`: it had not heard the partner for `partner_silent_ms`
    /// milliseconds (since it started, unless `partner_heard`). A report
    /// that took longer than [`WITNESS_FRESH`] seconds is ignored.
    pub fn witness_report(
        &mut self,
        now: Time,
        asked: Time,
        partner_silent_ms: u64,
        partner_heard: bool,
    ) {
        if self.cfg.witness.is_none() || asked.until(now) > WITNESS_FRESH || asked > now {
            return;
        }
        let heard_by = Time(now.0.saturating_sub(partner_silent_ms / 1000));
        let w = &mut self.witness;
        w.reply = Some(w.reply.map_or(now, |t| t.max(now)));
        w.partner_heard_by = w.partner_heard_by.max(heard_by);
        w.partner_heard = partner_heard;
        self.evaluate(now);
    }

    /// Whether a report came within the last [`WITNESS_FRESH`] seconds.
    pub fn witness_reachable(&self, now: Time) -> bool {
        self.witness
            .reply
            .is_some_and(|t| t.until(now) <= WITNESS_FRESH)
    }

    /// Seconds the partner has gone unheard at the witness, as its reports
    /// show at `now` (`None` before the first report).
    pub(super) fn witness_partner_silent(&self, now: Time) -> Option<u64> {
        self.witness
            .reply
            .map(|_| self.witness.partner_heard_by.until(now))
    }

    /// What the witness lets an automatic partner-down do at `now`:
    /// anything without a witness; else a fresh report must show the
    /// partner unheard there for `max_response_delay` or more. A witness
    /// that does not answer forbids it: it fails safe.
    pub(super) fn witness_allows(&self, now: Time) -> bool {
        if self.cfg.witness.is_none() {
            return true;
        }
        self.witness_reachable(now)
            && self
                .witness_partner_silent(now)
                .is_some_and(|s| s >= self.cfg.max_response_delay)
    }

    /// The `witness` object of `status --json`; `null` without one.
    pub(super) fn witness_status(&self, now: Time) -> serde_json::Value {
        let Some(address) = self.cfg.witness else {
            return serde_json::Value::Null;
        };
        serde_json::json!({
            "address": address.to_string(),
            "reachable": self.witness_reachable(now),
            "last_reply": self.witness.reply.map(Time::rfc3339),
            "partner_silent_s": self.witness_partner_silent(now),
            "partner_heard": self.witness.partner_heard,
            "allows_partner_down": self.witness_allows(now),
        })
    }

    /// The witness gauges of the metrics: whether it answers, and how long
    /// it has not heard the partner (seconds); `None` without a witness.
    pub(super) fn witness_gauges(&self, now: Time) -> Option<(bool, Option<u64>)> {
        self.cfg.witness?;
        Some((
            self.witness_reachable(now),
            self.witness_partner_silent(now),
        ))
    }
}
