//! A message from the partner, checked (order, form, rate) and handed to
//! the step that handles its kind; the timestamps and states it carries.

use super::*;

impl Peer {
    /// A message from the partner at `now`. Out-of-order or flooding
    /// messages close the link (with the reason logged), never panic.
    pub fn receive(&mut self, now: Time, msg: Message, store: &mut LeaseStore) {
        let Some(link) = &mut self.link else { return };
        link.last_rx = now;
        self.last_contact = Some(now);
        if self.partner.is_none()
            && !matches!(msg, Message::Connect(_) | Message::Disconnect { .. })
        {
            return self.close(now, format!("{} before connect", msg.name()));
        }
        let msg = match msg.normalized() {
            Ok(m) => m,
            Err(why) => return self.close(now, why),
        };
        if !self.may_chatter(now, &msg) {
            return self.close(now, format!("partner is flooding {} messages", msg.name()));
        }
        match msg {
            Message::Connect(c) => {
                let their = c.time;
                self.on_connect(now, c);
                self.partner_sent(their);
            }
            Message::ConnectAck(ConnectAck { time, floor }) => {
                tracing::debug!(partner_time = time, floor, "connect acknowledged");
                self.on_clock(now, time, Some(floor));
            }
            Message::State { state, .. } => self.on_state(now, state),
            Message::Contact { time, floor } => self.on_clock(now, time, floor),
            Message::BindingUpdate {
                batch,
                time,
                leases,
            } => {
                self.observe_clock(now, time);
                self.on_update(now, batch, leases, store)
            }
            Message::BindingAck { batch, rejects } => self.on_ack(now, batch, rejects, store),
            Message::UpdateRequest { since } => {
                self.on_update_request(now, UpdateRequest::Since(since), store)
            }
            Message::UpdateRequestAll => self.on_update_request(now, UpdateRequest::All, store),
            Message::UpdateDone => self.on_update_done(now, store),
            Message::PoolRequest { pool, wanted } => {
                self.on_pool_request(now, PoolId(pool), wanted, store)
            }
            Message::PoolResponse { pool, given } => {
                tracing::info!(pool, given, "partner gave free addresses");
                self.pool_request_until.remove(&PoolId(pool));
            }
            Message::PairConfig {
                fingerprint,
                answer,
            } => self.on_pair_config(now, fingerprint, answer),
            Message::Disconnect { reason } => {
                self.close(now, format!("partner disconnected: {reason}"))
            }
            // `normalized` above turned it into a BindingUpdate.
            Message::BindingUpdateDns { .. } | Message::BindingUpdateStale { .. } => {}
            Message::Reservations { entries } => self.on_reservations(now, entries),
        }
    }

    /// A timestamp from the partner (its time, seconds), with its own
    /// bound on our offset when it reports one.
    fn on_clock(&mut self, now: Time, time: u64, floor: Option<i64>) {
        self.observe_clock(now, time);
        if let (Some(f), Some(p)) = (floor, &mut self.partner) {
            p.clock.report(f);
        }
    }

    /// The partner announced a state (an unknown one closes the link).
    fn on_state(&mut self, now: Time, state: WireState) {
        let Some(s) = state.state() else {
            return self.close(now, format!("unknown partner state {}", state.0));
        };
        if let Some(p) = &mut self.partner {
            if p.state != s {
                tracing::info!(partner = %s, "partner state");
            }
            p.state = s;
        }
        self.heard |= s != State::Startup;
        self.evaluate(now);
    }
}
