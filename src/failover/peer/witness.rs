//! The peer's side of the witness (`failover::witness`): when to
//! heartbeat it, what its reports say of the partner, whether they allow
//! an automatic partner-down, and the fence that makes that safe. The
//! edge seals, sends, receives and checks the datagrams
//! (`server::witness`); the decisions are here.
//!
//! The argument, as a quorum's. A server fences itself (serves blind: no
//! new address) once it has had no report for [`WITNESS_FRESH`] seconds
//! and nothing the partner sent in the last [`FENCE_SILENCE`] seconds, by
//! the partner's own clock (a frame TCP delivers late is old news); it
//! stays blind until it reaches its partner. Its partner declares it
//! down only when the witness has not heard it for [`WITNESS_SILENCE`]
//! seconds (so the fenced server's last report is at least 14 s old: it
//! answered a heartbeat at most [`WITNESS_FRESH`] + 1 s older than its
//! arrival) and the declaring side has sent it nothing for
//! [`QUIET_BEFORE_JUDGING`] seconds (so it has heard nothing of ours for
//! [`FENCE_SILENCE`]), both checked at the same input, which the fenced
//! server's fence precedes (`Peer::wake` runs first for every input). A
//! one-way or half-open link is covered: what counts is what each side
//! last sent, not what it last received. So a server is declared down
//! only after it stopped allocating (dead, frozen or fenced), and what it
//! gave before runs out within MCLT, which the declaring server waits
//! before it touches its free addresses. The witness must have heard the
//! partner since it started: a partner that never heartbeats it (no
//! witness, or another one, configured) never fences by it.

use super::*;

/// Seconds between heartbeats to the witness.
pub const WITNESS_EVERY: u64 = 1;

/// Seconds after which the latest report says nothing: the witness may
/// since have heard the partner, and may have stopped hearing us. Also the
/// longest a report may take to come back.
pub const WITNESS_FRESH: u64 = 5;

/// The least silence at the witness, seconds, after which the partner may
/// be judged down (`max_response_delay` if longer); see the module docs.
pub const WITNESS_SILENCE: u64 = 20;

/// Seconds without anything the partner sent (by its send time) after
/// which, with the witness silent too, a server fences itself. Keepalives
/// go every 2 s with a witness (`Peer::keepalive_every`); the newest one
/// heard looks as old as its trip, the gap to the next, the shortest
/// recent trip of ours to the partner (the offset's upper bound includes
/// it) and a second of rounding, so a healthy link whose round trip stays
/// under about 7 s never fences (5 s fenced links of up to 4 s each way
/// whose witness was slow, docs/SIMULATION.md). A constant, not
/// `max_response_delay`: the
/// partner's [`QUIET_BEFORE_JUDGING`] must cover ours whatever either
/// peer is configured with, and neither knows the other's settings.
pub const FENCE_SILENCE: u64 = 10;

/// Seconds we must have sent the partner nothing before judging it down
/// with a witness: twice [`FENCE_SILENCE`], for frames in flight and the
/// clock offset's error.
pub const QUIET_BEFORE_JUDGING: u64 = 2 * FENCE_SILENCE;

/// What the witness last said of the partner.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WitnessView {
    /// When the latest heartbeat went.
    sent: Option<Time>,
    /// When the latest report taken came, and when its heartbeat went.
    reply: Option<Time>,
    asked: Option<Time>,
    /// Whole seconds the witness had not heard the partner, by that report.
    partner_silent: u64,
    /// Whether the witness had heard the partner since it started.
    partner_heard: bool,
    /// When we last sent the partner anything.
    last_sent: Option<Time>,
    /// The earliest local time at which the partner may have sent its
    /// latest keepalive (its clock, less the highest offset it may have).
    partner_sent: Option<Time>,
}

impl WitnessView {
    /// We sent the partner a frame at `now`.
    pub(super) fn sent_to_partner(&mut self, now: Time) {
        self.last_sent = Some(now);
    }
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
    /// milliseconds (since it started, unless `partner_heard`). Ignored if
    /// it took longer than [`WITNESS_FRESH`] seconds, or answers an older
    /// heartbeat than the report already taken (a report overtaken on the
    /// way says less than the one that overtook it).
    pub fn witness_report(
        &mut self,
        now: Time,
        asked: Time,
        partner_silent_ms: u64,
        partner_heard: bool,
    ) {
        let late = asked > now || asked.until(now) > WITNESS_FRESH;
        // A clock stepped back leaves the latest `asked` in the future:
        // it no longer orders anything.
        let overtaken = self.witness.asked.is_some_and(|t| t <= now && asked < t);
        if self.cfg.witness.is_none() || late || overtaken {
            return;
        }
        self.witness = WitnessView {
            reply: Some(now),
            asked: Some(asked),
            partner_silent: partner_silent_ms / 1000,
            partner_heard,
            ..self.witness
        };
        self.evaluate(now);
    }

    /// Whether a report came within the last [`WITNESS_FRESH`] seconds.
    pub fn witness_reachable(&self, now: Time) -> bool {
        self.witness
            .reply
            .is_some_and(|t| t <= now && t.until(now) <= WITNESS_FRESH)
    }

    /// Seconds the partner had gone unheard at the witness, by its latest
    /// report (`None` before the first). Not extrapolated: the witness may
    /// have heard the partner since.
    pub(super) fn witness_partner_silent(&self) -> Option<u64> {
        self.witness.reply.map(|_| self.witness.partner_silent)
    }

    /// What the witness lets an automatic partner-down do at `now`:
    /// anything without a witness; else a fresh report must show the
    /// partner unheard there for [`WITNESS_SILENCE`] seconds or
    /// `max_response_delay`, whichever is longer, a witness that has heard
    /// the partner since it started, and nothing sent to the partner for
    /// [`QUIET_BEFORE_JUDGING`] seconds (see the module docs). A witness
    /// that does not answer forbids it: it fails safe.
    pub(super) fn witness_allows(&self, now: Time) -> bool {
        if self.cfg.witness.is_none() {
            return true;
        }
        let needed = self.cfg.max_response_delay.max(WITNESS_SILENCE);
        let quiet = self
            .witness
            .last_sent
            .is_none_or(|t| t <= now && t.until(now) >= QUIET_BEFORE_JUDGING);
        self.witness_reachable(now)
            && self.witness.partner_silent >= needed
            && self.witness.partner_heard
            && quiet
    }

    /// The partner's keepalive, stamped `their` on its clock: when, on
    /// ours, it may have been sent at the earliest.
    pub(super) fn partner_sent(&mut self, their: u64) {
        let high = self.offset().high;
        let local = Time(their.saturating_add_signed(-high));
        self.witness.partner_sent = self.witness.partner_sent.max(Some(local));
    }

    /// Whether the fence falls at `now` (see the module docs): a witness
    /// configured, no fresh report, nothing the partner sent in the last
    /// [`FENCE_SILENCE`] seconds, and not blind already. The server then
    /// serves blind until it reaches the partner (`Peer::wake`). A time
    /// after `now` (our clock stepped back) is no news, as a report from
    /// the future is none (`witness_reachable`): the fence fails safe.
    pub(super) fn fenced(&self, now: Time) -> bool {
        let partner_heard = self.link.is_some()
            && self
                .witness
                .partner_sent
                .is_some_and(|t| t <= now && t.until(now) < FENCE_SILENCE);
        self.cfg.witness.is_some()
            && !partner_heard
            && !self.partner_unknown()
            && !self.witness_reachable(now)
    }

    /// When the latest report came, if one did.
    pub(super) fn witness_last_reply(&self) -> Option<Time> {
        self.witness.reply
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
            "partner_silent_s": self.witness_partner_silent(),
            "partner_heard": self.witness.partner_heard,
            "allows_partner_down": self.witness_allows(now),
        })
    }

    /// The witness gauges of the metrics: whether it answers, and how long
    /// it had not heard the partner by its latest report (seconds); `None`
    /// without a witness.
    pub(super) fn witness_gauges(&self, now: Time) -> Option<(bool, Option<u64>)> {
        self.cfg.witness?;
        Some((self.witness_reachable(now), self.witness_partner_silent()))
    }
}
