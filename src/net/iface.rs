//! Facts about the interfaces tandem serves, read once at start.

use std::net::Ipv4Addr;

/// One interface to serve on, as found at start.
#[derive(Clone, Debug)]
pub struct Interface {
    /// Kernel name, e.g. "eth0".
    pub name: String,
    /// Kernel interface index (as in IP_PKTINFO).
    pub index: u32,
    /// Its IPv4 addresses; any may serve as server identifier on this link.
    pub addrs: Vec<Ipv4Addr>,
    /// Its Ethernet address, if it has a non-zero one.
    pub mac: Option<[u8; 6]>,
}

/// Why an interface named in the config cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum IfaceError {
    /// No interface of that name (if_nametoindex failed).
    #[error("interface {0:?} does not exist")]
    Missing(String),
    /// getifaddrs(3) failed.
    #[error("cannot list interfaces: {0}")]
    List(nix::Error),
}

impl Interface {
    /// Reads the index, IPv4 addresses and MAC of interface `name`.
    /// Errors: `Missing` if it does not exist, `List` if the addresses cannot be listed.
    pub fn lookup(name: &str) -> Result<Interface, IfaceError> {
        let index = nix::net::if_::if_nametoindex(name)
            .map_err(|_| IfaceError::Missing(name.to_string()))?;
        let mut addrs = Vec::new();
        let mut mac = None;
        for ifa in nix::ifaddrs::getifaddrs().map_err(IfaceError::List)? {
            if ifa.interface_name != name {
                continue;
            }
            let Some(a) = ifa.address else { continue };
            if let Some(sin) = a.as_sockaddr_in() {
                addrs.push(sin.ip());
            } else if let Some(ll) = a.as_link_addr() {
                mac = ll.addr().filter(|m| *m != [0; 6]);
            }
        }
        Ok(Interface {
            name: name.to_string(),
            index,
            addrs,
            mac,
        })
    }

    /// Every IPv4 address on the host: a client may name any as server identifier.
    pub fn all_host_addrs() -> Vec<Ipv4Addr> {
        nix::ifaddrs::getifaddrs()
            .map(|it| {
                it.filter_map(|i| i.address.and_then(|a| a.as_sockaddr_in().map(|s| s.ip())))
                    .collect()
            })
            .unwrap_or_default()
    }
}
