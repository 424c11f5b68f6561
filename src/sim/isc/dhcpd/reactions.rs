//! The model dhcpd's reactions to its partner's state
//! (`dhcp_failover_peer_state_changed`, failover.c 2024-2441): what it
//! moves to, by its own state (the saved one in STARTUP), and where it
//! shuts down or exits (`log_fatal`), which the world reports.

use super::{Dhcpd, IscState};

impl Dhcpd {
    /// `dhcp_failover_peer_state_changed`: the partner says `new` (with
    /// the STARTUP flag when `startup`).
    pub(super) fn peer_state_changed(&mut self, now: u32, new: Option<IscState>, startup: bool) {
        use IscState::*;
        let previous = self.file.partner;
        if previous == new && self.unchanged(now) {
            return;
        }
        self.file.partner = new;
        let Some(new) = new else { return };
        let me = self.state();
        match me {
            Normal => self.normal_sees(now, new, previous),
            Recover => self.recover_sees(now, new),
            PotentialConflict => self.conflict_sees(now, new, previous),
            ConflictDone => match new {
                Normal | Shutdown => self.set_state(now, new),
                PotentialConflict | ResolutionInterrupted => {}
                _ => self.faults.push(format!(
                    "dhcpd exits (log_fatal): partner moved to {new:?} while dhcpd is in CONFLICT-DONE"
                )),
            },
            PartnerDown if !startup => match new {
                Recover | RecoverWait => {}
                RecoverDone => self.set_state(now, Normal),
                Shutdown => {}
                _ => self.set_state(now, PotentialConflict),
            },
            CommunicationsInterrupted => match new {
                Recover => self.set_state(now, PartnerDown),
                Normal | CommunicationsInterrupted | RecoverDone | RecoverWait => {
                    self.send_updates(now);
                    self.set_state(now, Normal);
                }
                Shutdown => self.set_state(now, PartnerDown),
                _ => self.set_state(now, PotentialConflict),
            },
            ResolutionInterrupted => match new {
                Shutdown => self.set_state(now, PartnerDown),
                _ => self.set_state(now, PotentialConflict),
            },
            RecoverDone => match new {
                RecoverDone | Normal => self.set_state(now, Normal),
                Shutdown => self.set_state(now, PartnerDown),
                _ => {}
            },
            _ => {}
        }
        if self.starting() {
            let saved = self.state();
            self.set_state(now, saved);
        }
    }

    /// The partner says the state it said before: nothing to do in most
    /// states; in STARTUP, the saved state resumes (POTENTIAL-CONFLICT for
    /// a saved RESOLUTION-INTERRUPTED). Whether that ends the handling.
    fn unchanged(&mut self, now: u32) -> bool {
        use IscState::*;
        let saved = self.state();
        if self.starting() {
            let to = if saved == ResolutionInterrupted {
                PotentialConflict
            } else {
                saved
            };
            self.set_state(now, to);
            return true;
        }
        matches!(
            saved,
            Normal | PotentialConflict | RecoverDone | Shutdown | RecoverWait
        )
    }

    fn normal_sees(&mut self, now: u32, new: IscState, previous: Option<IscState>) {
        use IscState::*;
        match new {
            // A saved NORMAL in STARTUP (failover.c 2133-2134).
            PartnerDown if self.starting() => self.set_state(now, Recover),
            PartnerDown => self.set_state(now, PotentialConflict),
            PotentialConflict | ResolutionInterrupted | ConflictDone => {
                self.faults.push(format!(
                    "dhcpd shuts down: partner moved from {previous:?} to {new:?} while dhcpd is in NORMAL"
                ));
                self.set_state(now, Shutdown);
            }
            Recover | Shutdown => self.set_state(now, PartnerDown),
            _ => {}
        }
    }

    fn recover_sees(&mut self, now: u32, new: IscState) {
        use IscState::*;
        match new {
            Recover | PartnerDown | CommunicationsInterrupted if !self.starting() => {
                self.send_message(now, crate::failover::isc::IscMessage::UpdReqAll);
            }
            PotentialConflict | ResolutionInterrupted | ConflictDone | Normal => {
                self.set_state(now, PotentialConflict)
            }
            Shutdown => self.set_state(now, PartnerDown),
            _ => {}
        }
    }

    fn conflict_sees(&mut self, now: u32, new: IscState, previous: Option<IscState>) {
        use IscState::*;
        match new {
            Normal => {
                self.faults.push(
                    "dhcpd shuts down: partner moved to NORMAL during conflict resolution".into(),
                );
                self.set_state(now, Shutdown);
            }
            ConflictDone if previous == Some(PotentialConflict) => {
                self.send_message(now, crate::failover::isc::IscMessage::UpdReq);
            }
            Recover => self.set_state(now, Recover),
            Shutdown => self.set_state(now, PartnerDown),
            _ => {}
        }
    }
}
