//! Failover states as ISC dhcpd numbers them in a STATE message (its
//! `includes/failover.h`, the draft's section 12.24 plus 254 for
//! RECOVER-WAIT, which the draft leaves unnumbered).

use crate::failover::State;

/// ISC's RECOVER-WAIT.
pub const RECOVER_WAIT: u8 = 254;

/// ISC's RESOLUTION-INTERRUPTED, which tandem reads as POTENTIAL-CONFLICT.
pub const RESOLUTION_INTERRUPTED: u8 = 10;

/// ISC's STARTUP, which it reads but never sends as a state.
pub const STARTUP: u8 = 1;

/// The number ISC uses for `s`; `None` for STARTUP, which must never go
/// out as a state: ISC in CONFLICT-DONE exits (`log_fatal`) on it. (ISC
/// starting up sends its saved state with the STARTUP flag, research
/// section 3.6; tandem sends nothing until it has left STARTUP.)
pub fn to_isc(s: State) -> Option<u8> {
    Some(match s {
        State::Startup => return None,
        State::Normal => 2,
        State::CommunicationsInterrupted => 3,
        State::PartnerDown => 4,
        State::PotentialConflict => 5,
        State::Recover => 6,
        State::Shutdown => 8,
        State::RecoverDone => 9,
        State::ConflictDone => 11,
        State::RecoverWait => RECOVER_WAIT,
    })
}

/// The state ISC's number `n` stands for; `None` for the two tandem does
/// not have, PAUSED (7) and RESOLUTION-INTERRUPTED (10), and for numbers
/// with no state (ISC moves itself to SHUTDOWN on those).
pub fn from_isc(n: u8) -> Option<State> {
    if n == STARTUP {
        return Some(State::Startup);
    }
    State::ALL.into_iter().find(|s| to_isc(*s) == Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_one_number_and_back() {
        for s in State::ALL.into_iter().filter(|s| *s != State::Startup) {
            assert_eq!(to_isc(s).and_then(from_isc), Some(s));
        }
        assert_eq!(to_isc(State::Startup), None, "never sent");
        assert_eq!(from_isc(STARTUP), Some(State::Startup));
        for n in [0, 7, 10, 12, 253, 255] {
            assert_eq!(from_isc(n), None, "{n}");
        }
    }

    #[test]
    fn the_captured_pair_went_through_isc_s_numbers() {
        use crate::failover::isc::{Frame, IscMessage};
        let seen: Vec<Option<State>> = crate::failover::isc::golden_frames()
            .into_iter()
            .filter_map(|(_, b)| match IscMessage::read(&Frame::decode(&b).ok()?)? {
                IscMessage::State { state, .. } => Some(state.and_then(from_isc)),
                _ => None,
            })
            .collect();
        for s in [
            State::Recover,
            State::RecoverWait,
            State::RecoverDone,
            State::Normal,
        ] {
            assert!(seen.contains(&Some(s)), "{s:?} in {seen:?}");
        }
        assert!(seen.contains(&Some(State::PartnerDown)));
        assert!(!seen.contains(&None), "every captured state is one of ours");
    }
}
