//! Sockets. Everything that talks to the kernel about packets lives here; the
//! engine's `ReplyRoute` is carried out by `DhcpSocket::send_reply`. The
//! peer link's streams are cut by `peer_link` (tandem's protocol) and
//! `isc_codec` (ISC dhcpd's).

pub mod dhcp_socket;
pub mod frame;
pub mod iface;
pub mod isc_codec;
pub mod isc_link;
pub mod packet_socket;
pub mod peer_link;
pub mod ping;
pub mod tcp;

pub use dhcp_socket::DhcpSocket;
pub use iface::Interface;
