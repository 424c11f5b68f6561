//! Who holds each address by the clients' own view (a lease runs from
//! when its request was sent, RFC 2131 section 4.4.5): the simulator's
//! check that no address is ACKed to a client while another holds it.

use super::client::Held;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Per address, the client holding it and until when (global seconds).
#[derive(Debug, Default)]
pub struct Holders(HashMap<Ipv4Addr, (usize, u64)>);

impl Holders {
    /// Client `c` bound `h` at `now`, giving up `before` if it held another
    /// address. `Err((other, until))`: another client holds the address.
    pub fn bind(
        &mut self,
        c: usize,
        h: Held,
        before: Option<Held>,
        now: u64,
    ) -> Result<(), (usize, u64)> {
        if let Some(b) = before.filter(|b| b.addr != h.addr) {
            self.release(c, b, now);
        }
        if let Some(&(other, until)) = self.0.get(&h.addr)
            && other != c
            && until > now
        {
            return Err((other, until));
        }
        self.0.insert(h.addr, (c, h.expiry()));
        Ok(())
    }

    /// Client `c` gave up `h` at `now` (a release, a decline, a NAK).
    pub fn release(&mut self, c: usize, h: Held, now: u64) {
        if self.0.get(&h.addr).is_some_and(|(who, _)| *who == c) {
            self.0.insert(h.addr, (c, now));
        }
    }
}
