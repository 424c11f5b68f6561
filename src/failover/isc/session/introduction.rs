//! The partner's introduction: ISC's first STATE of a connection becomes
//! the CONNECT the peer expects (see the session's module doc), with the
//! identity of dhcpd's database and the updates asked for on its behalf;
//! what ISC sends before it waits.

use super::*;

impl IscSession {
    /// A message from ISC after the handshake.
    pub(super) fn inbound(
        &mut self,
        now: Time,
        m: IscMessage,
        xid: u32,
        time: u32,
    ) -> Vec<SessionOutput> {
        if self.introduced {
            return self.translate(now, m, xid, time);
        }
        // The partner is introduced on its first STATE, and only once the
        // peer's own CONNECT has come (`ours`): the partner's CONNECT
        // carries the peer's fingerprint, which a reload made while no
        // link was up may have changed (review of session 19: the partner
        // was refused once for a stale one).
        let IscMessage::State { state, flags, .. } = m else {
            return self.wait(m, xid, time);
        };
        if self.ours.is_none() {
            return self.wait(m, xid, time);
        }
        let s = match partner_state(state, flags) {
            Ok(s) => s,
            Err(why) => return vec![SessionOutput::Close(why)],
        };
        self.introduced = true;
        let acts_as = isc_state(state).unwrap_or(s);
        let epoch = self.database(now, acts_as);
        let connect = Message::Connect(self.introduce(s, time, epoch));
        let mut out = vec![SessionOutput::Message(connect)];
        // ISC asks for our updates only in RECOVER (UPDREQALL) and in
        // conflict resolution (UPDREQ), but the peer sends none, not even
        // new grants, before it has answered a request on the connection,
        // and leaves RECOVER or POTENTIAL-CONFLICT only once it has. So it
        // is asked on ISC's behalf, once per connection, for what ISC has
        // not acknowledged: the answer to an UPDREQ exactly, so the UPDDONE
        // that follows it is right for an UPDREQ ISC sends meanwhile too
        // (and stays here otherwise: `outbound`). Not when ISC is in
        // RECOVER: its UPDREQALL is coming, and an UPDDONE sent before the
        // whole answer would end its RECOVER with part of our database.
        // Without this, the migration's first meeting (dhcpd in
        // PARTNER-DOWN, tandem in RECOVER) never ended, and after a link
        // blip tandem's grants never reached dhcpd (review of session 19).
        // Like ISC's own, it waits for dhcpd's answer to the peer's request
        // (`request_for_peer`).
        if acts_as != State::Recover {
            out.extend(self.request_for_peer(Message::UpdateRequest { since: u64::MAX }));
        } else {
            self.behalf_put_off = true;
        }
        out.extend(self.partner_in(now, state, s));
        for (m, xid, time) in std::mem::take(&mut self.early) {
            out.extend(self.translate(now, m, xid, time));
        }
        out
    }

    /// `m` waits for the partner's introduction, up to [`MAX_EARLY`]
    /// messages; then the connection is closed.
    fn wait(&mut self, m: IscMessage, xid: u32, time: u32) -> Vec<SessionOutput> {
        if self.early.len() >= MAX_EARLY {
            let why = format!("the ISC partner sent {MAX_EARLY} messages before its state");
            return vec![SessionOutput::Close(why)];
        }
        self.early.push((m, xid, time));
        vec![]
    }

    /// The peer's CONNECT came: a STATE of ISC's that waited for it
    /// introduces the partner now, and what waited with it follows.
    pub(super) fn introduce_waiting(&mut self, now: Time) -> Vec<SessionOutput> {
        if self.introduced {
            return vec![];
        }
        let first = self
            .early
            .iter()
            .position(|(m, ..)| matches!(m, IscMessage::State { .. }));
        let Some(i) = first else { return vec![] };
        let (m, xid, time) = self.early.remove(i);
        self.inbound(now, m, xid, time)
    }

    /// The identity of dhcpd's database for the peer: [`ISC_EPOCH`], "the
    /// one met last", unless dhcpd is in RECOVER, where it starts only
    /// when its lease file holds no failover state (research section
    /// 3.1): its database is lost, or new. Then a new identity, kept
    /// across connections while dhcpd stays in RECOVER, so that the peer
    /// asks for everything and holds back what the lost database may have
    /// granted, once per loss (`Peer::hold_lost_grants`; review of session
    /// 19: with a constant identity a dhcpd restarted on an empty lease
    /// file was never taken for one that lost its renewals).
    fn database(&mut self, now: Time, isc: State) -> u64 {
        if isc != State::Recover {
            return ISC_EPOCH; // and `partner_in` drops a minted one
        }
        // Below the top 16 bits, which mark an ISC identity
        // (`peer::is_isc_epoch`).
        let minted =
            ISC_EPOCH ^ ((now.0 << 16) & 0xFFFF_FFFF_FFFF) ^ (self.cfg.connection & 0xFFFF);
        *self.recover_epoch.get_or_insert(minted)
    }

    /// The identity [`IscSession::database`] gave dhcpd's database in
    /// RECOVER, for the next connection's session.
    pub fn recover_epoch(&self) -> Option<u64> {
        self.recover_epoch
    }

    /// The partner's CONNECT as the peer expects it (see the module doc).
    fn introduce(&self, s: State, time: u32, epoch: u64) -> Connect {
        let (hello, mclt) = self.partner.clone().unwrap_or_default();
        let vendor = String::from_utf8_lossy(hello.vendor_class.as_deref().unwrap_or(b"isc"));
        Connect {
            version: PROTOCOL_VERSION,
            name: format!(
                "{} ({vendor})",
                String::from_utf8_lossy(&self.cfg.link.name)
            ),
            primary: !self.cfg.link.primary,
            time: u64::from(time),
            fingerprint: self.fingerprint.clone(),
            epoch,
            seen_epoch: None,
            state: WireState::from(s),
            mclt: u64::from(mclt.unwrap_or(self.cfg.link.mclt)),
            covers: matches!(
                s,
                State::Normal | State::CommunicationsInterrupted | State::PartnerDown
            ),
            max_unacked: hello.max_unacked,
        }
    }
}

/// The partner's state from a STATE's number and flags: STARTUP when the
/// flag says so (ISC sends its saved state then); an error for a state
/// tandem does not have.
pub(super) fn partner_state(number: Option<u8>, flags: Option<u8>) -> Result<State, String> {
    if flags.is_some_and(|f| f & 1 != 0) {
        return Ok(State::Startup);
    }
    let n = number.ok_or("a STATE without a server-state")?;
    // RESOLUTION-INTERRUPTED is POTENTIAL-CONFLICT without the link (the
    // draft's section 9.8), which ISC announces first on every new link
    // after one broke during conflict resolution; it leaves it only on
    // our STATE. Closing on it would keep both from ever resolving.
    if n == state::RESOLUTION_INTERRUPTED {
        return Ok(State::PotentialConflict);
    }
    state::from_isc(n).ok_or_else(|| {
        format!("the ISC partner is in state {n}, which tandem does not have: closing")
    })
}

/// The state ISC reacts by: the number it sent, with or without the
/// STARTUP flag (in STARTUP it sends, and acts on, its saved state).
pub(super) fn isc_state(number: Option<u8>) -> Option<State> {
    match number? {
        state::RESOLUTION_INTERRUPTED => Some(State::PotentialConflict),
        n => state::from_isc(n),
    }
}
