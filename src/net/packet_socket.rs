//! Reaching a client that has no address yet (RFC 2131 section 4.1, last
//! case): either an AF_PACKET socket that sends the IP datagram straight to
//! its MAC (as ISC dhcpd and Kea do), or an ARP entry for the client so the
//! kernel can route an ordinary UDP reply to it (as dnsmasq does).
#![allow(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A send-only packet socket (protocol 0: the kernel delivers it nothing).
pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Opens a send-only AF_PACKET datagram socket. Errors: typically `EPERM` without CAP_NET_RAW.
    pub fn open() -> io::Result<PacketSocket> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(PacketSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Sends an IPv4 datagram to `mac` on interface `ifindex`; the kernel adds the Ethernet header.
    pub fn send(&self, ifindex: u32, mac: [u8; 6], datagram: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_ll is plain old data; zeroed is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        sa.sll_ifindex = ifindex as i32;
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&mac);
        // SAFETY: the buffer and address are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&sa as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

/// Adds (or replaces) a complete ARP entry `ip` → `mac` on `iface`.
pub fn set_arp(sock: &impl AsRawFd, iface: &str, ip: Ipv4Addr, mac: [u8; 6]) -> io::Result<()> {
    // SAFETY: arpreq is plain old data; zeroed is a valid value.
    let mut req: libc::arpreq = unsafe { std::mem::zeroed() };
    // SAFETY: sockaddr_in fits in sockaddr, which arp_pa is; we write its fields only.
    let pa = unsafe { &mut *(&mut req.arp_pa as *mut libc::sockaddr).cast::<libc::sockaddr_in>() };
    pa.sin_family = libc::AF_INET as u16;
    pa.sin_addr.s_addr = u32::from(ip).to_be();
    req.arp_ha.sa_family = libc::ARPHRD_ETHER;
    for (d, s) in req.arp_ha.sa_data.iter_mut().zip(mac) {
        *d = s as libc::c_char;
    }
    req.arp_flags = libc::ATF_COM;
    for (d, s) in req.arp_dev.iter_mut().zip(iface.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    // SAFETY: SIOCSARP takes a pointer to an arpreq, which lives across the call.
    let r = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCSARP,
            &req as *const libc::arpreq,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
