//! Client classes (`[[class]]`): what a class matches and what its members
//! get. Matching itself is a DHCP decision (`dhcp::classify`).

use super::OptionValue;
use std::net::Ipv4Addr;

/// Index of a class in `Config::classes`, in file order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(pub u16);

/// One `[[class]]`.
#[derive(Clone, Debug)]
pub struct Class {
    /// This class's index in `Config::classes`.
    pub id: ClassId,
    /// Its name, as pools' `allow` and `deny` lists give it.
    pub name: String,
    /// What a client must show to be a member.
    pub rule: ClassRule,
    /// Options for members, after a reservation's and before the subnet's.
    pub options: Vec<OptionValue>,
    /// `siaddr` for members (network boot).
    pub next_server: Option<Ipv4Addr>,
    /// Boot file for members: the BOOTP `file` field, and option 67 when asked for.
    pub boot_file: Option<String>,
    /// TFTP server name for members: `sname`, and option 66 when asked for.
    pub server_hostname: Option<String>,
}

/// A class's match table: every criterion given must hold, and a criterion
/// with several values holds when any of them does. At least one is given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassRule {
    /// Option 60 (vendor class identifier) is exactly one of these.
    pub vendor_class: Vec<Vec<u8>>,
    /// Option 60 starts with one of these (e.g. "PXEClient", "MSFT").
    pub vendor_class_prefix: Vec<Vec<u8>>,
    /// Option 77 (user class) is one of these, whole or as one of the
    /// RFC 3004 instances in it (iPXE sends "iPXE" either way).
    pub user_class: Vec<Vec<u8>>,
    /// Option 93 (client system architecture, RFC 4578) names one of these
    /// types: 0 BIOS, 7 and 9 UEFI x64, 6 UEFI x86, 11 UEFI arm64.
    pub arch: Vec<u16>,
    /// The hardware address (chaddr) starts with one of these octet strings
    /// (an OUI, say).
    pub mac_prefix: Vec<Vec<u8>>,
    /// Option 82 sub-option 1 (circuit id) is exactly one of these.
    pub circuit_id: Vec<Vec<u8>>,
    /// Option 82 sub-option 2 (remote id) is exactly one of these.
    pub remote_id: Vec<Vec<u8>>,
    /// The client has (true) or has not (false) a reservation on its link.
    pub known: Option<bool>,
}

impl ClassRule {
    /// Whether no criterion is given (such a class would match everyone).
    pub fn is_empty(&self) -> bool {
        *self == ClassRule::default()
    }
}
