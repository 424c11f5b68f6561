//! The operator's commands to the failover state machine: partner-down
//! and maintenance (`tandem partner-down`, `tandem maintenance`), each
//! refused with its reason where it would be unsafe.

use super::*;

impl Peer {
    /// The operator declares the partner down (`tandem partner-down`).
    /// Refused, with the reason, while the partner is connected or while
    /// this server is still recovering (RECOVER, RECOVER-WAIT,
    /// RECOVER-DONE): it would serve a database it has not finished
    /// receiving.
    pub fn operator_partner_down(&mut self, now: Time) -> Result<(), String> {
        if self.connected() {
            return Err(
                "the partner is connected; partner-down is only for a partner that is down".into(),
            );
        }
        match self.state {
            State::PartnerDown => {
                // A resumed PARTNER-DOWN confirmed: judged now.
                if !self.declared {
                    self.judge_down(now);
                    self.persist(now);
                }
                Ok(())
            }
            // RECOVER-DONE too: the partner, in PARTNER-DOWN, went on
            // granting leases after it sent us its bindings, and they are on
            // its disk only (simulator seed 8181606).
            State::Recover | State::RecoverWait | State::RecoverDone => {
                Err("this server is recovering its database; it cannot serve alone until the partner helps it (the partner may have granted leases since it sent its bindings)".into())
            }
            _ => {
                tracing::warn!(from = %self.state, "operator declared the partner down");
                self.judge_down(now);
                self.enter(now, State::PartnerDown);
                Ok(())
            }
        }
    }

    /// `tandem maintenance start`: this server hands every client to its
    /// partner and serves no one (SHUTDOWN), so the partner enters
    /// PARTNER-DOWN. Only from NORMAL with the partner connected, in NORMAL
    /// and speaking protocol 4: a partner that could not take over would
    /// leave the clients with no server. Errors: why not, for the operator.
    pub fn maintenance_start(&mut self, now: Time) -> Result<(), String> {
        let Some(p) = self.partner.as_ref().filter(|_| self.connected()) else {
            return Err(
                "the partner is not connected: it could not take over this server's clients".into(),
            );
        };
        if p.version < 4 {
            return Err(format!(
                "the partner speaks peer protocol {}, which has no maintenance: upgrade it first",
                p.version
            ));
        }
        if self.state == State::Shutdown {
            return Ok(());
        }
        if (self.state, p.state) != (State::Normal, State::Normal) {
            return Err(format!(
                "maintenance needs both peers in normal; this server is in {}, the partner in {}",
                self.state, p.state
            ));
        }
        tracing::warn!("maintenance: handing every client to the partner and serving no one");
        self.leaving_shutdown = false;
        self.enter(now, State::Shutdown);
        Ok(())
    }

    /// `tandem maintenance stop`: leave SHUTDOWN. The partner may have
    /// served our clients in PARTNER-DOWN, with addresses we have not heard
    /// of yet, so the link is reopened and we leave only through a fresh
    /// connection's update exchange: RECOVER if the partner took over,
    /// else COMMUNICATIONS-INTERRUPTED and on to NORMAL. Until the partner
    /// is reached we keep serving no one. Errors: not in maintenance.
    pub fn maintenance_stop(&mut self, now: Time) -> Result<(), String> {
        if self.state != State::Shutdown {
            return Err(format!(
                "this server is not in maintenance (it is in {})",
                self.state
            ));
        }
        tracing::warn!("maintenance over: catching up with the partner before serving again");
        self.leaving_shutdown = true;
        if self.link.is_some() {
            self.close(now, "maintenance over: reconnecting to catch up".into());
        }
        Ok(())
    }
}
