//! What the failover state lets the DHCP engine do (DESIGN.md 3.1 and 3.2).

use super::hash;
use super::mclt;
use super::state::{Serving, State};
use crate::dhcp::Policy;
use crate::dhcp::ended_for_client;
use crate::lease::{Lease, LeaseState, Owner};
use crate::proto::ClientKey;
use crate::time::Time;

/// The failover side of `dhcp::Policy`: a snapshot of the peer's state and settings,
/// taken per request, that answers the engine's questions with the draft's safety rules.
#[derive(Copy, Clone, Debug)]
pub struct PairPolicy {
    /// This server's role, the owner of the free addresses it allocates from.
    pub me: Owner,
    /// The current failover state.
    pub state: State,
    /// Hash buckets (of 256) the primary serves, from the config.
    pub split: u16,
    /// Client `secs` from which a foreign-bucket client is answered anyway.
    pub load_balance_max_secs: u16,
    /// Maximum Client Lead Time, seconds.
    pub mclt: u64,
    /// When this server entered PARTNER-DOWN, while it is there (persisted).
    pub partner_down_since: Option<Time>,
    /// The last PARTNER-DOWN or RECOVER episode (entered, left), if any.
    pub guard: Option<(Time, Time)>,
    /// This server restarted and has neither reached its partner since nor
    /// judged it down again (operator or `auto_partner_down`): the partner
    /// may have entered PARTNER-DOWN meanwhile and be serving our
    /// pool (DESIGN.md 3.2: one peer in PARTNER-DOWN means the other must
    /// not be serving).
    pub partner_unknown: bool,
    /// PARTNER-DOWN was declared without word from the partner since this
    /// start (or since a stall): the partner may have been in PARTNER-DOWN
    /// itself meanwhile and given our free addresses to its clients, so
    /// ours wait MCLT as its own do (simulator seed 11051 of the evidence
    /// family: declared down while we were dead, it granted our address,
    /// then died; our own declaration, after our restart, found the
    /// address free).
    pub own_at_risk: bool,
}

impl PairPolicy {
    /// In COMMUNICATIONS-INTERRUPTED or a resumed PARTNER-DOWN straight
    /// after a restart, without word from the partner (and without judging
    /// it down again): nothing new is given, and renewals stay within MCLT
    /// of what the partner acknowledged, which a partner in PARTNER-DOWN
    /// honours too (it reuses an address only MCLT past every potential
    /// expiry it knows).
    pub fn blind(&self) -> bool {
        self.partner_unknown
            && matches!(
                self.state,
                State::CommunicationsInterrupted | State::PartnerDown
            )
    }

    /// In PARTNER-DOWN, whether MCLT has passed since entering it.
    fn partner_surely_idle(&self, now: Time) -> bool {
        self.state == State::PartnerDown
            && self
                .partner_down_since
                .is_some_and(|t| now >= t.plus(self.mclt))
    }
}

impl Policy for PairPolicy {
    fn me(&self) -> Owner {
        self.me
    }

    fn responsive(&self) -> bool {
        self.state.serving() != Serving::None
    }

    fn serves(&self, client: &ClientKey, secs: u16) -> bool {
        match self.state.serving() {
            Serving::All => true,
            Serving::None => false,
            Serving::Balanced => {
                let primary = hash::primary_serves(client.hash_input(), self.split);
                primary == (self.me == Owner::Primary) || secs >= self.load_balance_max_secs
            }
        }
    }

    fn may_allocate(&self, owner: Owner, now: Time) -> bool {
        match self.state.serving() {
            Serving::None => false,
            _ if self.blind() => false,
            _ if owner == self.me && !self.own_at_risk => true,
            _ => self.partner_surely_idle(now),
        }
    }

    fn may_reuse(&self, lease: &Lease, now: Time, synced: bool) -> bool {
        let history = lease.has_history();
        // A free record the partner knows about and that was never bound is
        // free (whose it is, is `may_allocate`'s question).
        if lease.state == LeaseState::Free && synced && !history {
            return true;
        }
        if self.state == State::PartnerDown {
            // The partner may have granted or extended this binding before it
            // went down, and an acknowledgement from a partner that has since
            // lost its database proves nothing: wait out the MCLT rule.
            return self
                .partner_down_since
                .is_some_and(|pd| now >= mclt::reusable_at(lease, pd, self.mclt));
        }
        // After a PARTNER-DOWN episode, bindings last changed before it ended
        // may have been extended by the partner in ways it has since forgotten.
        if let Some((pd, back)) = self.guard
            && lease.cltt < back
            && now < mclt::reusable_at(lease, pd, self.mclt)
        {
            return false;
        }
        synced && ended_for_client(lease, now)
    }

    fn lease_cap(&self, previous: Option<&Lease>, now: Time) -> Option<u64> {
        // In every state, PARTNER-DOWN included (as ISC dhcpd does): the
        // partner may have been judged down too while we were away, or our
        // disk may be lost, and the MCLT bound is then all that tells the
        // other server when a binding it never heard of has ended
        // (simulator seeds 20973975, 21256616).
        let acked = previous.map_or(Time::ZERO, |l| l.acked_potential_expiry);
        if self.blind() {
            return Some(acked.plus(self.mclt).0.saturating_sub(now.0));
        }
        Some(mclt::cap(now, acked, self.mclt))
    }

    fn potential_expiry(&self, now: Time, desired: u64, granted: u64) -> Time {
        mclt::potential_expiry(now, desired, granted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(state: State, me: Owner) -> PairPolicy {
        PairPolicy {
            me,
            state,
            split: 128,
            load_balance_max_secs: 3,
            mclt: 100,
            partner_down_since: Some(Time(1000)),
            guard: None,
            partner_unknown: false,
            own_at_risk: false,
        }
    }

    #[test]
    fn load_balancing_by_bucket_and_secs() {
        let k = ClientKey::Hw(1, vec![0].into()); // bucket 175: the secondary's under split 128
        assert!(!p(State::Normal, Owner::Primary).serves(&k, 0));
        assert!(p(State::Normal, Owner::Secondary).serves(&k, 0));
        assert!(
            p(State::Normal, Owner::Primary).serves(&k, 3),
            "unanswered long enough: served anyway"
        );
        assert!(p(State::CommunicationsInterrupted, Owner::Primary).serves(&k, 0));
        assert!(!p(State::Recover, Owner::Primary).serves(&k, 0));
        assert!(!p(State::Recover, Owner::Primary).responsive());
    }

    #[test]
    fn partner_addresses_only_mclt_after_partner_down() {
        let pd = p(State::PartnerDown, Owner::Primary);
        assert!(pd.may_allocate(Owner::Primary, Time(1000)));
        assert!(!pd.may_allocate(Owner::Secondary, Time(1099)));
        assert!(pd.may_allocate(Owner::Secondary, Time(1100)));
        assert!(
            !p(State::CommunicationsInterrupted, Owner::Primary)
                .may_allocate(Owner::Secondary, Time(9999))
        );
    }

    #[test]
    fn declared_down_without_word_from_the_partner_our_addresses_wait_mclt_too() {
        let mut pd = p(State::PartnerDown, Owner::Primary);
        pd.own_at_risk = true;
        assert!(!pd.may_allocate(Owner::Primary, Time(1099)));
        assert!(pd.may_allocate(Owner::Primary, Time(1100)));
        assert!(pd.may_allocate(Owner::Secondary, Time(1100)));
    }

    #[test]
    fn after_a_restart_without_word_from_the_partner_only_bounded_renewals() {
        let mut ci = p(State::CommunicationsInterrupted, Owner::Primary);
        ci.partner_unknown = true;
        assert!(!ci.may_allocate(Owner::Primary, Time(5000)));
        let mut l = Lease::free("10.0.0.1".parse().unwrap(), Owner::Primary);
        l.acked_potential_expiry = Time(5030);
        assert_eq!(ci.lease_cap(Some(&l), Time(5000)), Some(130));
        assert_eq!(
            ci.lease_cap(Some(&l), Time(5200)),
            Some(0),
            "nothing past ack + MCLT"
        );
        assert_eq!(ci.lease_cap(None, Time(5000)), Some(0));
        ci.partner_unknown = false;
        assert!(ci.may_allocate(Owner::Primary, Time(5000)));
        // A PARTNER-DOWN resumed after a restart is just as blind.
        let mut pd = p(State::PartnerDown, Owner::Primary);
        pd.partner_unknown = true;
        assert!(!pd.may_allocate(Owner::Primary, Time(5000)));
        assert!(!pd.may_allocate(Owner::Secondary, Time(5000)));
        assert_eq!(pd.lease_cap(Some(&l), Time(5000)), Some(130));
    }

    #[test]
    fn mclt_caps_in_every_state() {
        let n = p(State::Normal, Owner::Primary);
        assert_eq!(n.lease_cap(None, Time(5000)), Some(100));
        let mut l = Lease::free("10.0.0.1".parse().unwrap(), Owner::Primary);
        l.acked_potential_expiry = Time(9000);
        assert_eq!(n.lease_cap(Some(&l), Time(5000)), Some(4100));
        let pd = p(State::PartnerDown, Owner::Primary);
        assert_eq!(pd.lease_cap(Some(&l), Time(5000)), Some(4100));
        assert_eq!(pd.lease_cap(None, Time(5000)), Some(100));
    }

    /// The engine asks `responsive` first, but `may_allocate` stands on
    /// its own: nothing is allocated in a state that serves no one.
    #[test]
    fn no_allocation_in_a_state_that_serves_no_one() {
        for state in [State::Recover, State::Shutdown, State::PotentialConflict] {
            assert!(!p(state, Owner::Primary).may_allocate(Owner::Primary, Time(5000)));
        }
    }

    /// In PARTNER-DOWN a free address that was never bound and that the
    /// partner knows of is free at once; only a record with history waits
    /// out the MCLT rule.
    #[test]
    fn a_never_bound_free_address_is_reusable_at_once_in_partner_down() {
        let pd = p(State::PartnerDown, Owner::Primary);
        let free = Lease::free("10.0.0.1".parse().unwrap(), Owner::Primary);
        assert!(pd.may_reuse(&free, Time(1000), true));
        assert!(
            !pd.may_reuse(&free, Time(1000), false),
            "unknown to the partner"
        );
    }

    /// The guard after a PARTNER-DOWN episode (entered 1000, left 2000)
    /// holds a binding changed before it ended until MCLT (100) and the
    /// client's margin past its times, and not one second longer; one
    /// changed as it ended is not held.
    #[test]
    fn the_guard_after_partner_down_ends_exactly_at_its_bound() {
        let mut n = p(State::Normal, Owner::Primary);
        n.guard = Some((Time(1000), Time(2000)));
        let mut l = Lease::free("10.0.0.1".parse().unwrap(), Owner::Primary);
        l.state = LeaseState::Expired;
        (l.cltt, l.expires, l.potential_expiry) = (Time(1500), Time(1500), Time(1500));
        let at = mclt::reusable_at(&l, Time(1000), 100);
        assert_eq!(at, Time(1610));
        assert!(!n.may_reuse(&l, Time(1609), true));
        assert!(n.may_reuse(&l, Time(1610), true));
        (l.cltt, l.expires, l.potential_expiry) = (Time(2000), Time(2000), Time(2000));
        assert!(
            n.may_reuse(&l, Time(2050), true),
            "changed as the episode ended"
        );
    }
}
