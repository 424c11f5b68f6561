//! Offers: an address set aside for a client between OFFER and REQUEST.
//! An offered address is out of the free sets until the offer is taken,
//! replaced, or runs out.

use super::*;

impl LeaseStore {
    /// The address currently offered to `client`, if any.
    pub fn offer_for(&self, client: &ClientKey) -> Option<Ipv4Addr> {
        self.offer_by_client.get(client).copied()
    }

    /// Whether `addr` is set aside for some client by an outstanding offer.
    pub fn is_offered(&self, addr: Ipv4Addr) -> bool {
        self.offers.contains_key(&addr)
    }

    /// Whether `addr` is set aside for a client other than `client`.
    pub fn offered_to_other(&self, addr: Ipv4Addr, client: &ClientKey) -> bool {
        self.offers.get(&addr).is_some_and(|o| &o.client != client)
    }

    /// Sets `addr` aside for `client` until `until`, replacing its previous offer.
    pub fn hold_offer(&mut self, addr: Ipv4Addr, client: ClientKey, until: Time) {
        if let Some(prev) = self.offer_by_client.get(&client).copied() {
            self.drop_offer(prev);
        }
        self.drop_offer(addr);
        self.unindex_free(addr);
        self.offer_by_client.insert(client.clone(), addr);
        self.offers.insert(addr, Offer { client, until });
        self.offer_timers.insert((until, addr));
    }

    /// Returns an offered address to the free addresses.
    pub fn drop_offer(&mut self, addr: Ipv4Addr) {
        if let Some(o) = self.offers.remove(&addr) {
            self.offer_timers.remove(&(o.until, addr));
            if self.offer_by_client.get(&o.client) == Some(&addr) {
                self.offer_by_client.remove(&o.client);
            }
            self.index_free(addr);
        }
    }

    /// Expires offers due at `now`.
    pub fn expire_offers(&mut self, now: Time) {
        while let Some(&(t, a)) = self.offer_timers.first() {
            if t > now {
                break;
            }
            self.drop_offer(a);
        }
    }
}
