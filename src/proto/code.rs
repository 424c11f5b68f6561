//! Option codes the server reads or writes itself (RFC 2132 and successors).

/// Pad: one octet, no length (RFC 2132 section 3.1).
pub const PAD: u8 = 0;
/// Subnet mask (RFC 2132 section 3.3).
pub const SUBNET_MASK: u8 = 1;
/// Host name (RFC 2132 section 3.14).
pub const HOSTNAME: u8 = 12;
/// Requested IP address (RFC 2132 section 9.1).
pub const REQUESTED_IP: u8 = 50;
/// IP address lease time, seconds (RFC 2132 section 9.2).
pub const LEASE_TIME: u8 = 51;
/// Option overload: options continue in `file` (1), `sname` (2) or both (3) (RFC 2132 section 9.3).
pub const OVERLOAD: u8 = 52;
/// DHCP message type (RFC 2132 section 9.6).
pub const MESSAGE_TYPE: u8 = 53;
/// Server identifier (RFC 2132 section 9.7).
pub const SERVER_ID: u8 = 54;
/// Parameter request list (RFC 2132 section 9.8).
pub const PARAMETER_LIST: u8 = 55;
/// Message: text explaining a NAK (RFC 2132 section 9.9).
pub const MESSAGE: u8 = 56;
/// Maximum DHCP message size the client accepts, octets (RFC 2132 section 9.10).
pub const MAX_MESSAGE_SIZE: u8 = 57;
/// Renewal (T1) time, seconds (RFC 2132 section 9.11).
pub const RENEWAL_TIME: u8 = 58;
/// Rebinding (T2) time, seconds (RFC 2132 section 9.12).
pub const REBINDING_TIME: u8 = 59;
/// Client identifier (RFC 2132 section 9.14).
pub const CLIENT_ID: u8 = 61;
/// Vendor class identifier (RFC 2132 section 9.13).
pub const VENDOR_CLASS: u8 = 60;
/// TFTP server name (RFC 2132 section 9.4).
pub const TFTP_SERVER: u8 = 66;
/// Bootfile name (RFC 2132 section 9.5).
pub const BOOT_FILE: u8 = 67;
/// User class (RFC 3004).
pub const USER_CLASS: u8 = 77;
/// Relay agent information (RFC 3046).
pub const RELAY_AGENT_INFO: u8 = 82;
/// Client FQDN (RFC 4702).
pub const CLIENT_FQDN: u8 = 81;
/// Client system architecture type (RFC 4578 section 2.1).
pub const CLIENT_ARCH: u8 = 93;
/// Subnet selection (RFC 3011).
pub const SUBNET_SELECTION: u8 = 118;
/// End: one octet, no length (RFC 2132 section 3.2).
pub const END: u8 = 255;

/// Relay agent sub-option: the agent's circuit id (RFC 3046 section 3.1).
pub const RELAY_CIRCUIT_ID: u8 = 1;
/// Relay agent sub-option: the agent's remote id (RFC 3046 section 3.2).
pub const RELAY_REMOTE_ID: u8 = 2;
/// Relay agent sub-option: the server identifier to use instead of ours
/// (RFC 5107).
pub const RELAY_SERVER_ID_OVERRIDE: u8 = 11;
/// Relay agent sub-option carrying the client's link (RFC 3527).
pub const RELAY_LINK_SELECTION: u8 = 5;
