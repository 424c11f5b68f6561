use super::*;
use crate::proto::reply::{ReplyBuilder, ReplyKind, reply_limit};
use dhcproto::{Decodable, Encodable, v4};

/// Builds a request with dhcproto, the independent codec.
fn build(kind: v4::MessageType, extra: &[v4::DhcpOption]) -> Vec<u8> {
    let mut m = v4::Message::new(
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &[2, 0, 0, 0, 0, 7],
    );
    m.set_xid(0x1234_5678);
    m.opts_mut().insert(v4::DhcpOption::MessageType(kind));
    for o in extra {
        m.opts_mut().insert(o.clone());
    }
    m.to_vec().unwrap()
}

#[test]
fn parses_a_discover() {
    let b = build(
        v4::MessageType::Discover,
        &[
            v4::DhcpOption::ParameterRequestList(vec![
                v4::OptionCode::Router,
                v4::OptionCode::SubnetMask,
            ]),
            v4::DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 9)),
            v4::DhcpOption::Hostname("pc-1".into()),
        ],
    );
    let r = Request::parse(&b).unwrap();
    assert_eq!(r.kind, MessageType::Discover);
    assert_eq!(r.xid, 0x1234_5678);
    assert_eq!(r.hw.bytes(), &[2, 0, 0, 0, 0, 7]);
    assert_eq!(r.requested_ip(), Some(Ipv4Addr::new(10, 0, 0, 9)));
    assert_eq!(r.parameter_list(), &[3, 1]);
    assert_eq!(r.hostname().as_deref(), Some("pc-1"));
    assert_eq!(
        r.client_key(),
        ClientKey::Hw(1, vec![2, 0, 0, 0, 0, 7].into())
    );
}

#[test]
fn rejects_malformed() {
    let good = build(v4::MessageType::Discover, &[]);
    assert_eq!(
        Request::parse(&good[..200]).unwrap_err(),
        ParseError::TooShort(200)
    );
    let mut b = good.clone();
    b[2] = 17;
    assert_eq!(Request::parse(&b).unwrap_err(), ParseError::BadHlen(17));
    let mut b = good.clone();
    b[236] = 0;
    assert_eq!(Request::parse(&b).unwrap_err(), ParseError::BadMagic);
    let mut b = good.clone();
    b[0] = 2;
    assert_eq!(Request::parse(&b).unwrap_err(), ParseError::NotRequest(2));
    let mut b = good[..240].to_vec();
    b.extend_from_slice(&[53, 1, 1, 50, 4, 10, 0]);
    assert_eq!(
        Request::parse(&b).unwrap_err(),
        ParseError::TruncatedOption(50)
    );
    let mut b = good[..240].to_vec();
    b.extend_from_slice(&[53, 1, 2, 255]);
    assert_eq!(
        Request::parse(&b).unwrap_err(),
        ParseError::UnsupportedType(2)
    );
    let mut b = good[..240].to_vec();
    b.extend_from_slice(&[53, 1, 1, 50, 3, 10, 0, 0, 255]);
    assert_eq!(
        Request::parse(&b).unwrap_err(),
        ParseError::BadOptionLength { code: 50, len: 3 }
    );
    let mut b = good[..240].to_vec();
    b.extend_from_slice(&[12, 3, b'a', b'b', b'c', 255]);
    assert_eq!(Request::parse(&b).unwrap_err(), ParseError::NoMessageType);
    let mut b = good.clone();
    b[2] = 0;
    assert_eq!(Request::parse(&b).unwrap_err(), ParseError::NoIdentity);
    assert_eq!(
        Request::parse(&vec![0u8; 2000]).unwrap_err(),
        ParseError::TooLong(2000)
    );
}

#[test]
fn long_options_concatenate_and_overload_is_read() {
    let mut b = build(v4::MessageType::Request, &[])[..240].to_vec();
    b.extend_from_slice(&[53, 1, 3, 12, 2, b'a', b'b', 12, 1, b'c', 52, 1, 1, 255]);
    // option 54 lives in the file field (overload = 1)
    b[108..114].copy_from_slice(&[54, 4, 10, 0, 0, 1]);
    b[114] = 255;
    let r = Request::parse(&b).unwrap();
    assert_eq!(r.hostname().as_deref(), Some("abc"));
    assert_eq!(r.server_id(), Some(Ipv4Addr::new(10, 0, 0, 1)));
}

#[test]
fn relay_link_selection() {
    let mut b = build(v4::MessageType::Discover, &[])[..240].to_vec();
    b.extend_from_slice(&[
        53, 1, 1, 82, 12, 1, 4, b'e', b't', b'h', b'0', 5, 4, 10, 40, 0, 0, 255,
    ]);
    let r = Request::parse(&b).unwrap();
    assert_eq!(r.link_selection(), Some(Ipv4Addr::new(10, 40, 0, 0)));
    assert_eq!(r.relay_info().unwrap().len(), 12);
}

#[test]
fn reply_keeps_push_order_pads_and_splits_long_options() {
    let req = Request::parse(&build(v4::MessageType::Discover, &[])).unwrap();
    let mut rb = ReplyBuilder::new(&req, ReplyKind::Offer, reply_limit(&req));
    rb.set_yiaddr(Ipv4Addr::new(10, 0, 0, 50));
    assert!(rb.push(6, &[10, 0, 0, 53]));
    assert!(rb.push(1, &[255, 255, 255, 0]));
    assert!(!rb.push(1, &[255, 255, 255, 0]), "duplicates are refused");
    let bytes = rb.finish();
    assert_eq!(bytes.len(), 300);
    assert_eq!(&bytes[240..249], &[53, 1, 2, 6, 4, 10, 0, 0, 53]);
    let m = v4::Message::decode(&mut dhcproto::Decoder::new(&bytes)).unwrap();
    assert_eq!(m.yiaddr(), Ipv4Addr::new(10, 0, 0, 50));
    assert_eq!(m.opts().msg_type(), Some(v4::MessageType::Offer));
    assert_eq!(m.xid(), 0x1234_5678);

    let mut rb = ReplyBuilder::new(&req, ReplyKind::Ack, 1472);
    assert!(rb.push(77, &[7u8; 300]));
    let bytes = rb.finish();
    let r = Request::parse(&{
        let mut x = bytes.clone();
        x[0] = 1;
        x[242] = 1;
        x
    })
    .unwrap();
    assert_eq!(r.option(77).unwrap().len(), 300);
}

#[test]
fn reply_respects_size_limit() {
    let req = Request::parse(&build(v4::MessageType::Discover, &[])).unwrap();
    assert_eq!(reply_limit(&req), 548);
    let mut rb = ReplyBuilder::new(&req, ReplyKind::Offer, reply_limit(&req));
    assert!(rb.push(43, &[1u8; 250]));
    assert!(!rb.push(44, &[1u8; 60]), "would pass 548 bytes");
    assert!(rb.push(45, &[1u8; 40]));
    assert!(rb.finish().len() <= 548);
}
