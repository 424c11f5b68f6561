//! Packets: strict parsing of client requests (`packet`), client identity
//! (`identity`), and reply encoding with options in the client's order (`reply`).
//!
//! dhcproto is the codec of record for message types and relay sub-options and
//! the independent decoder our tests check replies with; the request path uses
//! our own bounds-checked walk because dhcproto silently truncates malformed
//! option lists and panics on hlen > 16 (see DESIGN.md section 6).

pub mod code;
pub mod identity;
pub mod packet;
pub mod reply;

pub use identity::{ClientKey, HwAddr};
pub use packet::{ParseError, Request};
pub use reply::ReplyBuilder;
