//! ISC bindings as tandem records: every captured BNDUPD, and the edges.

use super::*;
use crate::failover::clock::OffsetBounds;
use crate::failover::isc::{Frame, IscMessage};
use std::net::Ipv4Addr;

fn captured_bindings() -> Vec<Binding> {
    let frames = crate::failover::isc::golden_frames().into_iter();
    frames
        .filter_map(|(_, b)| match IscMessage::read(&Frame::decode(&b).ok()?)? {
            IscMessage::BndUpd(b) => Some(b),
            _ => None,
        })
        .collect()
}

#[test]
fn every_captured_binding_is_a_valid_lease_and_maps_back() {
    let bindings = captured_bindings();
    let statuses: std::collections::BTreeSet<u8> =
        bindings.iter().filter_map(|b| b.status).collect();
    assert!(
        statuses.len() >= 4,
        "FREE, BACKUP, ACTIVE, RELEASED: {statuses:?}"
    );
    for b in bindings {
        let w = to_wire(&b).expect("maps");
        let lease = w.to_lease(OffsetBounds::exact(0)).expect("a valid lease");
        assert_eq!(lease.addr, b.addr.expect("an address"));
        // A binding without a transaction time gets its start of state.
        let mut back = b.clone();
        back.cltt = transaction_time(&b, b.status.unwrap()).filter(|t| *t != 0);
        assert_eq!(from_wire(&w), back, "{lease:?}");
    }
}

#[test]
fn free_addresses_belong_as_isc_says() {
    let b = |status| Binding {
        addr: Some(Ipv4Addr::new(10, 0, 0, 9)),
        status: Some(status),
        ..Binding::default()
    };
    let owner_of = |s| {
        let w = to_wire(&b(s)).expect("maps");
        (
            LeaseState::from_code(i64::from(w.state)),
            Owner::from_code(i64::from(w.owner)),
        )
    };
    let primary = |st| (Some(st), Some(Owner::Primary));
    assert_eq!(owner_of(status::FREE), primary(LeaseState::Free));
    assert_eq!(
        owner_of(status::BACKUP),
        (Some(LeaseState::Free), Some(Owner::Secondary))
    );
    assert_eq!(owner_of(status::RESET), primary(LeaseState::Free));
    // Whatever is bound falls back to the primary when freed, in ISC.
    assert_eq!(owner_of(status::EXPIRED), primary(LeaseState::Expired));
    assert_eq!(owner_of(status::ABANDONED), primary(LeaseState::Declined));
    assert_eq!(to_wire(&b(8)), Err(BindingError::Status(8)));
    assert_eq!(to_wire(&Binding::default()), Err(BindingError::Missing));
    let mut long = b(status::ACTIVE);
    long.chaddr = Some(vec![1; 18]);
    assert_eq!(to_wire(&long), Err(BindingError::Chaddr(18)));
}

#[test]
fn times_keep_their_meaning() {
    let active = Binding {
        addr: Some(Ipv4Addr::new(10, 0, 0, 9)),
        status: Some(status::ACTIVE),
        chaddr: Some(vec![1, 2, 3, 4, 5, 6, 7]),
        ends: Some(MAX_TIME),
        potential_expiry: Some(MAX_TIME),
        start_time_of_state: Some(1_700_000_000),
        ..Binding::default()
    };
    let w = to_wire(&active).expect("maps");
    let never = u64::from(MAX_TIME);
    assert_eq!(
        (w.expires, w.potential_expiry),
        (never, never),
        "2038, not 'unset'"
    );
    assert_eq!(w.lease_time, (never - 1_700_000_000) as u32);
    assert_eq!((w.htype, w.chaddr.as_slice()), (1, &[2, 3, 4, 5, 6, 7][..]));
    assert_eq!(from_wire(&w), active);
    let mut far = w.clone();
    far.expires = 1 << 40;
    assert_eq!(
        from_wire(&far).ends,
        Some(MAX_TIME),
        "clamped at ISC's 2038"
    );
    far.potential_expiry = 0;
    assert_eq!(
        from_wire(&far).potential_expiry,
        Some(0),
        "unset stays unset"
    );
}

#[test]
fn what_isc_requires_or_refuses_of_a_client_is_kept() {
    let mut w = to_wire(&Binding {
        addr: Some(Ipv4Addr::new(10, 0, 0, 9)),
        status: Some(status::ACTIVE),
        client_id: Some(vec![0, 9, 9]),
        ..Binding::default()
    })
    .expect("maps");
    // A client with no hardware address still sends its type octet.
    assert_eq!(from_wire(&w).chaddr, Some(vec![0]));
    // ABANDONED with a client is refused by ISC (reject 6).
    w.state = LeaseState::Declined.code() as u8;
    w.chaddr = vec![1, 2, 3, 4, 5, 6];
    let b = from_wire(&w);
    assert_eq!(
        (b.status, b.chaddr, b.client_id),
        (Some(status::ABANDONED), None, None)
    );
    // A free address carries the client it remembers, if any, as ISC's
    // BACKUP moves do.
    w.state = LeaseState::Free.code() as u8;
    assert_eq!(from_wire(&w).chaddr, Some(vec![0, 1, 2, 3, 4, 5, 6]));
    w.chaddr.clear();
    assert_eq!(from_wire(&w).chaddr, None);
}

/// The lab's loop (issue 19): tandem granted a lease at `t0` until
/// `t0 + 20`; then ISC's own timer expired it and sent EXPIRED with no
/// last transaction time, only its start of state. tandem takes it, the
/// grant's end being due; read as a transaction at time 0 it was older
/// than the grant and refused, again and again.
#[test]
fn isc_s_own_expiry_of_a_grant_is_taken() {
    use crate::failover::reconcile::{Resolution, resolve};
    let t0 = 1_800_000_000u32;
    let hw = vec![1, 0, 0x0c, 1, 2, 3, 6];
    let grant = Binding {
        addr: Some(Ipv4Addr::new(10, 128, 1, 16)),
        status: Some(status::ACTIVE),
        chaddr: Some(hw.clone()),
        ends: Some(t0 + 20),
        potential_expiry: Some(t0 + 610),
        start_time_of_state: Some(t0),
        cltt: Some(t0),
        ..Binding::default()
    };
    let expired = Binding {
        status: Some(status::EXPIRED),
        ends: Some(t0 + 20),
        potential_expiry: Some(t0 - 39),
        start_time_of_state: Some(t0 + 20),
        cltt: None,
        ..grant.clone()
    };
    let lease = |b: &Binding| {
        to_wire(b)
            .unwrap()
            .to_lease(OffsetBounds::exact(0))
            .unwrap()
    };
    let now = crate::time::Time(u64::from(t0 + 20));
    let verdict = resolve(Some(&lease(&grant)), &lease(&expired), now, true);
    assert!(matches!(verdict, Resolution::Accept(_)), "{verdict:?}");
}
