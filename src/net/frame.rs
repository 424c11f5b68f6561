//! IPv4 + UDP headers for replies sent on a packet socket, where the kernel's
//! IP stack is bypassed and we must write them ourselves.

use std::net::Ipv4Addr;

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for c in chunks {
        let mut it = c.chunks_exact(2);
        for w in &mut it {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = it.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 datagram carrying `payload` in UDP from `src:sport` to `dst:dport`.
pub fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0x10]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ipsum = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&ipsum.to_be_bytes());
    let mut udp = Vec::with_capacity(8);
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    let pseudo = [
        &src.octets()[..],
        &dst.octets()[..],
        &[0, 17],
        &(udp_len as u16).to_be_bytes()[..],
    ]
    .concat();
    let mut usum = checksum(&[&pseudo, &udp, payload]);
    if usum == 0 {
        usum = 0xffff;
    }
    udp[6..8].copy_from_slice(&usum.to_be_bytes());
    p.extend_from_slice(&udp);
    p.extend_from_slice(payload);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify_to_zero() {
        let src = Ipv4Addr::new(192, 168, 77, 1);
        let dst = Ipv4Addr::new(192, 168, 77, 100);
        let payload = b"hello, client!!";
        let p = ipv4_udp(src, dst, 67, 68, payload);
        assert_eq!(p.len(), 20 + 8 + payload.len());
        assert_eq!(checksum(&[&p[..20]]), 0, "IP header checksum");
        let udp_len = (p.len() - 20) as u16;
        let pseudo = [
            &src.octets()[..],
            &dst.octets()[..],
            &[0, 17],
            &udp_len.to_be_bytes()[..],
        ]
        .concat();
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0, "UDP checksum");
        assert_eq!(&p[20..24], &[0, 67, 0, 68]);
    }
}
