//! A server stopped and resumed as by SIGSTOP and SIGCONT: while frozen its
//! process handles nothing, its sockets keep what arrives (up to their
//! buffers), its timers are lost; resumed, it reads everything at once.

use super::*;

/// Client datagrams a frozen server's sockets keep: beyond this they are
/// lost, as a full receive buffer loses them (TCP and the control socket
/// lose nothing).
const BACKLOG: usize = 256;

impl Host {
    /// Stops the process: from now on inputs wait.
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// An input that reached a frozen process: kept in the socket buffers
    /// (ticks are timers, which do not pile up).
    pub(super) fn hold(&mut self, input: Input) {
        let requests = || {
            let r = self
                .backlog
                .iter()
                .filter(|i| matches!(i, Input::Request(_)));
            r.count()
        };
        match input {
            Input::Tick => {}
            Input::Request(_) if requests() >= BACKLOG => {}
            input => self.backlog.push(input),
        }
    }

    /// Resumes the process at global time `global`: it reads what waited,
    /// in order, at that time. Returns the grants it made on the way, for
    /// the checker.
    pub fn thaw(&mut self, global: u64, disk_delay: u64) -> Vec<Grant> {
        self.frozen = false;
        let mut grants = vec![];
        for input in std::mem::take(&mut self.backlog) {
            self.input(global, disk_delay, input);
            grants.extend(self.node.take_grants());
        }
        self.input(global, disk_delay, Input::Tick);
        grants
    }
}
