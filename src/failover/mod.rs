//! The failover pair (DESIGN.md section 3), sans-IO: states and transitions
//! (`state`), MCLT arithmetic (`mclt`), the partner's clock (`clock`), load balancing (`hash`), the domain
//! messages (`message`) and their authenticated encoding (`codec`), conflict
//! resolution (`reconcile`), the policy the DHCP engine consults (`policy`),
//! client evidence that a silent partner is down (`evidence`), the witness
//! both peers heartbeat (`witness`), the peer state machine that ties
//! them together (`peer`), and ISC dhcpd's failover wire format (`isc`).

pub mod clock;
pub mod codec;
pub mod evidence;
pub mod hash;
pub mod isc;
pub mod mclt;
pub mod message;
pub mod peer;
pub mod policy;
pub mod reconcile;
pub mod state;
pub mod witness;

pub use peer::{Action, EvidenceGauges, Peer, PeerConfig, PeerGauges, Persisted};
pub use policy::PairPolicy;
pub use state::State;
