//! Failover states (draft-ietf-dhc-failover-12 section 9) and what each lets
//! a server do for clients.

use serde::{Deserialize, Serialize};

/// A server's failover state, after the draft's state machine; it decides whom the
/// server answers (`serving`) and is announced to the partner on every change.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// Just started: waits to hear the partner (or for its wait to end) before resuming
    /// the saved state. Serves no one.
    Startup,
    /// Both peers in contact and synchronised: each answers its load-balancing share.
    Normal,
    /// The partner is unreachable but may be running: serve every client, but only from
    /// this server's own free addresses and within MCLT of what the partner acknowledged.
    CommunicationsInterrupted,
    /// The partner is known to be down (operator, or `auto_partner_down`): serve every
    /// client, still within MCLT of what the partner acknowledged (its disk may be all
    /// that is left if ours is lost), and, once MCLT has passed since entering the
    /// state, allocate the partner's free addresses too.
    PartnerDown,
    /// Both peers may have served alone with conflicting bindings: serve no one until
    /// the databases are exchanged and reconciled.
    PotentialConflict,
    /// This server has resolved a POTENTIAL-CONFLICT; waits for the partner to reach NORMAL.
    ConflictDone,
    /// Catching up from the partner after a lost or missing database: serve no one
    /// until every binding the partner holds has arrived.
    Recover,
    /// RECOVER's updates are in, but MCLT must pass (after a lost database) before serving.
    RecoverWait,
    /// Recovery finished; waits for the partner to agree before entering NORMAL.
    RecoverDone,
    /// Going down for maintenance (`tandem maintenance start`, the draft's
    /// SHUTDOWN): serves no one, so the partner may take over in
    /// PARTNER-DOWN. Left by `maintenance stop` once the partner is reached
    /// again, or by a restart (resumed as COMMUNICATIONS-INTERRUPTED).
    Shutdown,
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
    /// Every state, in the order whose index is the state's number on the wire (`WireState`).
    pub const ALL: [State; 10] = [
        State::Startup,
        State::Normal,
        State::CommunicationsInterrupted,
        State::PartnerDown,
        State::PotentialConflict,
        State::ConflictDone,
        State::Recover,
        State::RecoverWait,
        State::RecoverDone,
        State::Shutdown,
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
            State::Shutdown => "shutdown",
        }
    }

    /// The state named by `as_str`'s text, or `None`.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whom a server in this state answers: NORMAL its share, COMMUNICATIONS-INTERRUPTED
    /// and PARTNER-DOWN everyone, the rest no one.
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
