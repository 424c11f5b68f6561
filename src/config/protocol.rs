//! `[failover] protocol`: which protocol the peer link speaks, and what
//! each needs (a key, or an ISC relationship name).

use std::path::PathBuf;

/// The protocol of the peer link (`[failover] protocol`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerProtocol {
    /// tandem's own: every frame authenticated with a pre-shared key.
    Tandem {
        /// File holding the key (hex, at least 16 octets).
        secret_file: PathBuf,
    },
    /// ISC dhcpd 4.4's draft-ietf-dhc-failover-12, to pair with a running
    /// dhcpd during a migration (`failover::isc`). It has no
    /// authentication: the link is pinned to the peer's address.
    IscDraft12 {
        /// The relationship name, as in dhcpd.conf's `failover peer "name"`.
        relationship: String,
    },
}

impl PeerProtocol {
    /// The pre-shared key's file, for tandem's own protocol.
    pub fn secret_file(&self) -> Option<&std::path::Path> {
        match self {
            PeerProtocol::Tandem { secret_file } => Some(secret_file),
            PeerProtocol::IscDraft12 { .. } => None,
        }
    }
}
