//! Property tests of the codecs: whatever the bytes, decoding never panics;
//! whatever the message, encoding then decoding gives it back.

use proptest::prelude::*;
use std::net::Ipv4Addr;
use tandem::failover::State;
use tandem::failover::clock::OffsetBounds;
use tandem::failover::codec::{Hello, Session};
use tandem::failover::message::{Connect, ConnectAck, Message, Reject, WireLease, WireState};
use tandem::lease::{Lease, LeaseState, Owner};
use tandem::proto::{HwAddr, Request};
use tandem::time::Time;

fn sessions() -> (Session, Session) {
    let a = Hello {
        version: 1,
        primary: true,
        nonce: [3; 32],
    };
    let b = Hello {
        version: 1,
        primary: false,
        nonce: [4; 32],
    };
    (
        Session::new(b"prop-key-0123456789", &a, &b).unwrap(),
        Session::new(b"prop-key-0123456789", &b, &a).unwrap(),
    )
}

fn wire_lease() -> impl Strategy<Value = WireLease> {
    (
        any::<u32>(),
        0u8..5,
        0u8..2,
        proptest::option::of(proptest::collection::vec(any::<u8>(), 2..40)),
        proptest::collection::vec(any::<u8>(), 0..17),
        proptest::option::of("[a-z0-9-]{1,30}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                addr,
                state,
                owner,
                client_id,
                chaddr,
                hostname,
                relay_info,
                (s, e, c, lt, pe, seq),
            )| WireLease {
                addr,
                state,
                owner,
                client_id,
                htype: 1,
                chaddr,
                hostname,
                relay_info,
                starts: u64::from(s),
                expires: u64::from(e),
                cltt: u64::from(c),
                lease_time: lt,
                potential_expiry: u64::from(pe),
                seq,
                dns: None,
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            any::<u64>(),
            any::<u64>(),
            proptest::option::of(any::<u64>()),
            0u8..9,
            "[a-z]{0,20}"
        )
            .prop_map(|(time, epoch, seen, st, name)| {
                Message::Connect(Connect {
                    version: 1,
                    name,
                    primary: st % 2 == 0,
                    time,
                    fingerprint: "f".into(),
                    epoch,
                    seen_epoch: seen,
                    state: WireState(st),
                    mclt: 3600,
                    covers: st % 3 == 0,
                    max_unacked: None,
                })
            }),
        (any::<u64>(), any::<i64>())
            .prop_map(|(time, floor)| Message::ConnectAck(ConnectAck { time, floor })),
        (0u8..9, any::<u64>()).prop_map(|(s, since)| Message::State {
            state: WireState(s),
            since
        }),
        (any::<u64>(), proptest::option::of(any::<i64>()))
            .prop_map(|(time, floor)| Message::Contact { time, floor }),
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(wire_lease(), 0..20)
        )
            .prop_map(|(batch, time, leases)| Message::BindingUpdate {
                batch,
                time,
                leases
            }),
        (
            any::<u64>(),
            proptest::collection::vec((any::<u32>(), "[a-z ]{0,30}"), 0..5)
        )
            .prop_map(|(batch, r)| Message::BindingAck {
                batch,
                rejects: r
                    .into_iter()
                    .map(|(addr, reason)| Reject { addr, reason })
                    .collect()
            }),
        any::<u64>().prop_map(|since| Message::UpdateRequest { since }),
        Just(Message::UpdateRequestAll),
        Just(Message::UpdateDone),
        (any::<u32>(), any::<u32>())
            .prop_map(|(pool, wanted)| Message::PoolRequest { pool, wanted }),
        (any::<u32>(), any::<u32>())
            .prop_map(|(pool, given)| Message::PoolResponse { pool, given }),
        "[a-z ]{0,50}".prop_map(|reason| Message::Disconnect { reason }),
        ("[0-9a-f]{0,64}", any::<bool>()).prop_map(|(fingerprint, answer)| {
            Message::PairConfig {
                fingerprint,
                answer,
            }
        }),
        proptest::collection::vec(
            (
                any::<[u8; 6]>(),
                proptest::option::of(any::<u32>()),
                any::<u64>()
            ),
            0..4
        )
        .prop_map(|v| Message::Reservations {
            entries: v
                .into_iter()
                .map(|(m, a, changed)| tandem::config::runtime::RuntimeEntry {
                    client: tandem::config::runtime::ReservedClient::Mac(m),
                    address: a.map(std::net::Ipv4Addr::from),
                    hostname: None,
                    changed,
                })
                .collect()
        }),
    ]
}

proptest! {
    #[test]
    fn request_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let _ = Request::parse(&bytes);
    }

    #[test]
    fn request_parse_never_panics_past_a_valid_header(tail in proptest::collection::vec(any::<u8>(), 0..400), hlen in any::<u8>()) {
        let mut b = vec![0u8; 240];
        b[0] = 1;
        b[1] = 1;
        b[2] = hlen;
        b[236..240].copy_from_slice(&[99, 130, 83, 99]);
        b.extend_from_slice(&tail);
        if let Ok(r) = Request::parse(&b) {
            prop_assert!(r.hw.bytes().len() <= 16);
            let _ = (r.client_key(), r.link_selection(), r.hostname(), r.parameter_list());
        }
    }

    #[test]
    fn every_message_round_trips_through_the_codec(m in message()) {
        let (mut a, mut b) = sessions();
        if let Ok(frame) = a.seal(&m) {
            prop_assert_eq!(b.open(&frame).unwrap(), m);
        }
    }

    #[test]
    fn frame_and_hello_decoding_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let (_, mut b) = sessions();
        prop_assert!(b.open(&bytes).is_err(), "random bytes never authenticate");
        let _ = Hello::decode(&bytes);
        let _ = postcard::from_bytes::<Message>(&bytes);
        tandem::fuzzing::peer_frames(&bytes);
    }

    #[test]
    fn lease_records_round_trip_on_the_wire(
        addr in any::<u32>(), state in 0i64..5, owner in 0i64..2, mac in proptest::collection::vec(any::<u8>(), 1..17),
        times in (1u64..u32::MAX as u64, 1u64..u32::MAX as u64, 1u64..u32::MAX as u64, 1u64..u32::MAX as u64),
        offset in -300i64..300,
        spread in 0i64..5,
    ) {
        let l = Lease {
            addr: Ipv4Addr::from(addr),
            state: LeaseState::from_code(state).unwrap(),
            owner: Owner::from_code(owner).unwrap(),
            client_id: None,
            hw: HwAddr::new(1, &mac),
            hostname: Some("h".into()),
            relay_info: None,
            starts: Time(times.0 + 1000),
            expires: Time(times.1 + 1000),
            cltt: Time(times.2 + 1000),
            lease_time: 60,
            potential_expiry: Time(times.3 + 1000),
            acked_potential_expiry: Time::ZERO,
            update_seq: 5,
            dns: None,
        };
        let bounds = OffsetBounds { low: offset, high: offset + spread };
        let back = WireLease::from_lease(&l).to_lease(bounds).unwrap();
        prop_assert_eq!(back.addr, l.addr);
        prop_assert_eq!(back.state, l.state);
        prop_assert_eq!(back.hw, l.hw);
        prop_assert_eq!(back.expires.0 as i64, l.expires.0 as i64 - offset);
        // Each time on its safe side of the offset range: the end of the
        // binding at its latest, the bound for our own grants at its earliest.
        prop_assert_eq!(back.potential_expiry.0 as i64, l.potential_expiry.0 as i64 - offset);
        prop_assert_eq!(back.acked_potential_expiry.0 as i64, l.potential_expiry.0 as i64 - offset - spread);
        prop_assert_eq!(back.update_seq, 0);
    }

    #[test]
    fn config_parsing_never_panics(text in "\\PC{0,400}") {
        tandem::fuzzing::config_text(text.as_bytes());
    }

    #[test]
    fn state_names_parse_back(i in 0usize..9) {
        let s = State::ALL[i];
        prop_assert_eq!(State::parse(s.as_str()), Some(s));
        prop_assert_eq!(WireState::from(s).state(), Some(s));
    }
}
