//! Failover states (draft-ietf-dhc-failover-12 section 9) and what each lets
//! a server do for clients.

use serde::{Deserialize, Serialize};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    Startup,
    Normal,
    CommunicationsInterrupted,
    PartnerDown,
    PotentialConflict,
    ConflictDone,
    Recover,
    RecoverWait,
    RecoverDone,
}

/// Whom a server in a state answers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Serving {
    /// No one: its database may be incomplete or in conflict.
    None,
    /// Its own load-balancing share of new clients, renewals from anyone.
    Balanced,
    /// Every client.
    All,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Startup,
        State::Normal,
        State::CommunicationsInterrupted,
        State::PartnerDown,
        State::PotentialConflict,
        State::ConflictDone,
        State::Recover,
        State::RecoverWait,
        State::RecoverDone,
    ];

    /// The draft's name, lower case with hyphens (the `status --json` contract).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Startup => "startup",
            State::Normal => "normal",
            State::CommunicationsInterrupted => "communications-interrupted",
            State::PartnerDown => "partner-down",
            State::PotentialConflict => "potential-conflict",
            State::ConflictDone => "conflict-done",
            State::Recover => "recover",
            State::RecoverWait => "recover-wait",
            State::RecoverDone => "recover-done",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn serving(self) -> Serving {
        match self {
            State::Normal => Serving::Balanced,
            State::CommunicationsInterrupted | State::PartnerDown => Serving::All,
            _ => Serving::None,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            State::CommunicationsInterrupted.as_str(),
            "communications-interrupted"
        );
        assert_eq!(State::Recover.serving(), Serving::None);
        assert_eq!(State::PartnerDown.serving(), Serving::All);
    }
}
