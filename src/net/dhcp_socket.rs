//! One UDP socket per served interface, bound to 0.0.0.0 so it hears
//! broadcasts, pinned to its device, with IP_PKTINFO so we learn which local
//! address a request reached (our server identifier) and can send from it.

use super::frame;
use super::iface::Interface;
use super::packet_socket::{self, PacketSocket};
use crate::config::DirectUnicast;
use crate::dhcp::{Reply, ReplyRoute};
use nix::sys::socket::{self as nsock, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll, ready};
use tokio::io::Interest;

/// The receive buffer asked for, in octets: the queue a burst of requests
/// waits in while the server is busy (a few thousand datagrams).
const RECEIVE_BUFFER: usize = 4 << 20;

/// Sets the receive buffer to [`RECEIVE_BUFFER`]: beyond `net.core.rmem_max`
/// where the process may (CAP_NET_ADMIN), else as far as that limit allows,
/// with a warning that says how to raise it. A short buffer only costs burst
/// headroom (the drops are counted as overloaded), so nothing here is fatal.
fn receive_buffer(s: &Socket, iface: &str) {
    if nsock::setsockopt(s, nsock::sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err()
        && let Err(e) = s.set_recv_buffer_size(RECEIVE_BUFFER)
    {
        tracing::warn!(%iface, error = %e, "cannot enlarge the receive buffer");
    }
    // Linux reports twice what it was given (its bookkeeping overhead).
    let got = s.recv_buffer_size().unwrap_or(0) / 2;
    if got < RECEIVE_BUFFER {
        tracing::warn!(
            %iface,
            kib = got / 1024,
            "the receive buffer is smaller than tandem asks for (net.core.rmem_max caps it): a burst of more than about {} requests while the server is busy is dropped and counted as overloaded; raise it with `sysctl -w net.core.rmem_max={RECEIVE_BUFFER}` (and in /etc/sysctl.d/) or give tandem CAP_NET_ADMIN",
            got / 1024,
        );
    }
}

/// How this socket reaches a client with no address yet, after start-up checks.
enum Direct {
    Packet(PacketSocket),
    Arp,
    Broadcast,
}

/// The DHCP socket of one served interface, and how it delivers replies.
pub struct DhcpSocket {
    /// The interface this socket is pinned to.
    pub iface: Interface,
    sock: tokio::net::UdpSocket,
    direct: Direct,
    server_port: u16,
    client_port: u16,
}

/// One received datagram and where it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Octets received (the datagram's full length when `truncated`).
    pub len: usize,
    /// Larger than the buffer: cut short, to be dropped.
    pub truncated: bool,
    /// Sender's address and port: a relay at 67, or a client at 68 (0.0.0.0
    /// before it has an address).
    pub src: SocketAddrV4,
    /// Index of the interface it arrived on.
    pub ifindex: u32,
    /// The local address the datagram reached (ipi_spec_dst).
    pub local: Ipv4Addr,
    /// The destination in the IP header.
    pub dst: Ipv4Addr,
    /// Datagrams the kernel has dropped on this socket since it was opened
    /// because its receive buffer was full (SO_RXQ_OVFL; wraps at 2^32).
    /// `None` until the first drop.
    pub dropped: Option<u32>,
    /// When the kernel received it (SO_TIMESTAMP), Unix seconds.
    pub arrived: Option<u64>,
}

impl DhcpSocket {
    /// Opens the socket for `iface`: UDP on 0.0.0.0:`server_port` with SO_BINDTODEVICE,
    /// SO_BROADCAST and IP_PKTINFO; replies to clients go to `client_port`. `mode`
    /// chooses direct delivery; `Packet` falls back to broadcast, with a warning, when
    /// an AF_PACKET socket cannot be opened (no CAP_NET_RAW).
    ///
    /// Errors: any socket, option or bind failure (e.g. port 67 without privilege).
    pub fn open(
        iface: Interface,
        server_port: u16,
        client_port: u16,
        mode: DirectUnicast,
    ) -> io::Result<DhcpSocket> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_reuse_address(true)?;
        s.bind_device(Some(iface.name.as_bytes()))?;
        s.set_broadcast(true)?;
        nsock::setsockopt(&s, nsock::sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
        nsock::setsockopt(&s, nsock::sockopt::RxqOvfl, &1).map_err(io::Error::from)?;
        nsock::setsockopt(&s, nsock::sockopt::ReceiveTimestamp, &true).map_err(io::Error::from)?;
        receive_buffer(&s, &iface.name);
        s.set_nonblocking(true)?;
        s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, server_port)).into())?;
        let sock = tokio::net::UdpSocket::from_std(s.into())?;
        let direct = match mode {
            DirectUnicast::Packet => match PacketSocket::open() {
                Ok(p) => Direct::Packet(p),
                Err(e) => {
                    tracing::warn!(iface = %iface.name, error = %e, "cannot open a packet socket (needs CAP_NET_RAW); replies to clients without an address will be broadcast");
                    Direct::Broadcast
                }
            },
            DirectUnicast::Arp => Direct::Arp,
            DirectUnicast::Broadcast => Direct::Broadcast,
        };
        Ok(DhcpSocket {
            iface,
            sock,
            direct,
            server_port,
            client_port,
        })
    }

    /// Reads the next datagram into `buf` if one is waiting, with where it
    /// arrived (from IP_PKTINFO); `Pending`, with `cx` woken on the next one,
    /// if none is. Several sockets can be polled in turn from one task, so a
    /// request goes from the socket to the node without a hand-off.
    /// Errors: the socket's pending error (e.g. an ICMP error for an earlier
    /// send); the socket stays usable.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<Received>> {
        loop {
            ready!(self.sock.poll_recv_ready(cx))?;
            match self.sock.try_io(Interest::READABLE, || self.recvmsg(buf)) {
                // Readiness is cleared: poll again so the waker is registered.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    /// One `recvmsg` without waiting: the datagram, its IP_PKTINFO and the
    /// socket's drop counter (SO_RXQ_OVFL).
    fn recvmsg(&self, buf: &mut [u8]) -> io::Result<Received> {
        let mut iov = [IoSliceMut::new(buf)];
        let mut cmsg = nix::cmsg_space!(libc::in_pktinfo, u32, libc::timeval);
        let msg = nsock::recvmsg::<SockaddrIn>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_TRUNC,
        )
        .map_err(io::Error::from)?;
        let src = msg.address.map_or(
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            SocketAddrV4::from,
        );
        let mut r = Received {
            len: msg.bytes,
            truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
            src,
            ifindex: self.iface.index,
            local: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            dropped: None,
            arrived: None,
        };
        for c in msg.cmsgs().into_iter().flatten() {
            match c {
                ControlMessageOwned::Ipv4PacketInfo(pi) => {
                    r.ifindex = pi.ipi_ifindex as u32;
                    r.local = Ipv4Addr::from(u32::from_be(pi.ipi_spec_dst.s_addr));
                    r.dst = Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr));
                }
                ControlMessageOwned::RxqOvfl(n) => r.dropped = Some(n),
                ControlMessageOwned::ScmTimestamp(tv) => {
                    r.arrived = u64::try_from(tv.tv_sec()).ok();
                }
                _ => {}
            }
        }
        Ok(r)
    }

    /// Sends `reply` along its route, from local address `src`. A full socket
    /// buffer drops the reply (the client retransmits), it never blocks.
    pub fn send_reply(&self, reply: &Reply, src: Ipv4Addr) -> io::Result<()> {
        match &reply.route {
            ReplyRoute::Relay { giaddr } => self.send_udp(
                &reply.bytes,
                SocketAddrV4::new(*giaddr, self.server_port),
                src,
            ),
            ReplyRoute::Unicast { ciaddr } => self.send_udp(
                &reply.bytes,
                SocketAddrV4::new(*ciaddr, self.client_port),
                src,
            ),
            ReplyRoute::Broadcast => self.broadcast(&reply.bytes, src),
            ReplyRoute::HwUnicast { yiaddr, hw } => {
                let Some(mac) = hw.ethernet() else {
                    return self.broadcast(&reply.bytes, src);
                };
                match &self.direct {
                    Direct::Packet(p) => {
                        let dgram = frame::ipv4_udp(
                            src,
                            *yiaddr,
                            self.server_port,
                            self.client_port,
                            &reply.bytes,
                        );
                        p.send(self.iface.index, mac, &dgram)
                    }
                    Direct::Arp => {
                        match packet_socket::set_arp(&self.sock, &self.iface.name, *yiaddr, mac) {
                            Ok(()) => self.send_udp(
                                &reply.bytes,
                                SocketAddrV4::new(*yiaddr, self.client_port),
                                src,
                            ),
                            Err(e) => {
                                tracing::debug!(error = %e, "cannot add ARP entry; broadcasting");
                                self.broadcast(&reply.bytes, src)
                            }
                        }
                    }
                    Direct::Broadcast => self.broadcast(&reply.bytes, src),
                }
            }
        }
    }

    fn broadcast(&self, bytes: &[u8], src: Ipv4Addr) -> io::Result<()> {
        self.send_udp(
            bytes,
            SocketAddrV4::new(Ipv4Addr::BROADCAST, self.client_port),
            src,
        )
    }

    fn send_udp(&self, bytes: &[u8], dst: SocketAddrV4, src: Ipv4Addr) -> io::Result<()> {
        let pi = libc::in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(src).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let cmsg = [ControlMessage::Ipv4PacketInfo(&pi)];
        let with_src: &[ControlMessage] = if src.is_unspecified() { &[] } else { &cmsg };
        let to = SockaddrIn::from(dst);
        nsock::sendmsg(
            self.sock.as_raw_fd(),
            &[IoSlice::new(bytes)],
            with_src,
            MsgFlags::MSG_DONTWAIT,
            Some(&to),
        )
        .map(|_| ())
        .map_err(io::Error::from)
    }
}
