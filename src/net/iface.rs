//! Facts about the interfaces tandem serves, read once at start.

use std::net::Ipv4Addr;

#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub addrs: Vec<Ipv4Addr>,
    pub mac: Option<[u8; 6]>,
}

#[derive(Debug, thiserror::Error)]
pub enum IfaceError {
    #[error("interface {0:?} does not exist")]
    Missing(String),
    #[error("cannot list interfaces: {0}")]
    List(nix::Error),
}

impl Interface {
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
