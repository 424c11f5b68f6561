//! Option codes the server reads or writes itself (RFC 2132 and successors).

pub const PAD: u8 = 0;
pub const SUBNET_MASK: u8 = 1;
pub const HOSTNAME: u8 = 12;
pub const REQUESTED_IP: u8 = 50;
pub const LEASE_TIME: u8 = 51;
pub const OVERLOAD: u8 = 52;
pub const MESSAGE_TYPE: u8 = 53;
pub const SERVER_ID: u8 = 54;
pub const PARAMETER_LIST: u8 = 55;
pub const MESSAGE: u8 = 56;
pub const MAX_MESSAGE_SIZE: u8 = 57;
pub const RENEWAL_TIME: u8 = 58;
pub const REBINDING_TIME: u8 = 59;
pub const CLIENT_ID: u8 = 61;
pub const TFTP_SERVER: u8 = 66;
pub const BOOT_FILE: u8 = 67;
pub const RELAY_AGENT_INFO: u8 = 82;
pub const SUBNET_SELECTION: u8 = 118;
pub const END: u8 = 255;

/// Relay agent sub-option carrying the client's link (RFC 3527).
pub const RELAY_LINK_SELECTION: u8 = 5;
