use super::*;

fn key() -> WitnessKey {
    WitnessKey::derive(b"0123456789abcdef0123456789abcdef")
}

fn report() -> Report {
    Report {
        primary: false,
        nonce: [7; NONCE_LEN],
        partner_silent_ms: 12_345,
        partner_heard: true,
    }
}

#[test]
fn heartbeats_and_reports_round_trip() {
    let k = key();
    let h = Heartbeat {
        primary: true,
        nonce: [3; NONCE_LEN],
    };
    let b = k.seal_heartbeat(&h);
    assert_eq!(b.len(), HEARTBEAT_LEN);
    assert_eq!(k.open_heartbeat(&b), Ok(h));
    let b = k.seal_report(&report());
    assert_eq!(b.len(), REPORT_LEN);
    assert_eq!(k.open_report(&b), Ok(report()));
}

#[test]
fn every_altered_octet_is_refused() {
    let k = key();
    let b = k.seal_report(&report());
    for i in 0..b.len() {
        let mut c = b.clone();
        c[i] ^= 0x01;
        assert!(k.open_report(&c).is_err(), "octet {i} altered");
    }
}

#[test]
fn another_key_kind_or_length_is_refused() {
    let k = key();
    let other = WitnessKey::derive(b"another pair's key, 32 octets!!!");
    let r = k.seal_report(&report());
    assert_eq!(other.open_report(&r), Err(WitnessError::BadTag));
    // A report is no heartbeat, and the other way round.
    assert_eq!(k.open_heartbeat(&r), Err(WitnessError::Kind(2)));
    let h = k.seal_heartbeat(&Heartbeat {
        primary: false,
        nonce: [0; NONCE_LEN],
    });
    assert_eq!(k.open_report(&h), Err(WitnessError::Kind(1)));
    assert_eq!(k.open_report(&r[..40]), Err(WitnessError::Length(40)));
    assert_eq!(k.open_report(b"TD"), Err(WitnessError::Length(2)));
    assert_eq!(
        k.open_report(b"GET / HTTP/1.1\r\n\r\nxxxxxx"),
        Err(WitnessError::Magic)
    );
    let mut longer = r.clone();
    longer.push(0);
    assert_eq!(k.open_report(&longer), Err(WitnessError::Length(64)));
}

#[test]
fn the_witness_key_is_not_the_peer_key() {
    let psk = b"0123456789abcdef0123456789abcdef";
    assert_ne!(WitnessKey::derive(psk).0.as_slice(), psk.as_slice());
}

#[test]
fn the_witness_reports_the_askers_partner() {
    let mut w = Witness::new(1_000);
    let from = |primary| Heartbeat {
        primary,
        nonce: [u8::from(primary); NONCE_LEN],
    };
    // Nothing heard of the secondary yet: silent since the start.
    let r = w.heartbeat(4_000, &from(true));
    assert_eq!((r.partner_silent_ms, r.partner_heard), (3_000, false));
    assert_eq!(r.nonce, [1; NONCE_LEN]);
    let r = w.heartbeat(5_000, &from(false));
    assert_eq!((r.partner_silent_ms, r.partner_heard), (1_000, true));
    let r = w.heartbeat(9_000, &from(true));
    assert_eq!((r.partner_silent_ms, r.partner_heard), (4_000, true));
    assert_eq!(w.silent_ms(9_500, false), Some(4_500));
    // A clock read out of order does not move a peer back in time.
    w.heartbeat(4_000, &from(false));
    assert_eq!(w.silent_ms(9_500, false), Some(4_500));
}
