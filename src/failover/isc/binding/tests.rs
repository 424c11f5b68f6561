//! ISC bindings as tandem records: every captured BNDUPD, and the edges.

use super::*;
use crate::failover::clock::OffsetBounds;
use crate::failover::isc::{Frame, IscMessage};
use std::net::Ipv4Addr;

fn captured_bindings() -> Vec<Binding> {
    let frames = crate::failover::isc::golden().into_iter();
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
        let w = to_wire(&b, Owner::Secondary).expect("maps");
        let lease = w.to_lease(OffsetBounds::exact(0)).expect("a valid lease");
        assert_eq!(lease.addr, b.addr.expect("an address"));
        assert_eq!(from_wire(&w), b, "{lease:?}");
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
        let w = to_wire(&b(s), Owner::Secondary).expect("maps");
        (
            LeaseState::from_code(i64::from(w.state)),
            Owner::from_code(i64::from(w.owner)),
        )
    };
    assert_eq!(
        owner_of(status::FREE),
        (Some(LeaseState::Free), Some(Owner::Primary))
    );
    assert_eq!(
        owner_of(status::BACKUP),
        (Some(LeaseState::Free), Some(Owner::Secondary))
    );
    assert_eq!(
        owner_of(status::RESET),
        (Some(LeaseState::Free), Some(Owner::Primary))
    );
    assert_eq!(
        owner_of(status::ABANDONED),
        (Some(LeaseState::Declined), Some(Owner::Secondary))
    );
    assert_eq!(to_wire(&b(8), Owner::Primary), Err(BindingError::Status(8)));
    assert_eq!(
        to_wire(&Binding::default(), Owner::Primary),
        Err(BindingError::Missing)
    );
    let mut long = b(status::ACTIVE);
    long.chaddr = Some(vec![1; 18]);
    assert_eq!(
        to_wire(&long, Owner::Primary),
        Err(BindingError::Chaddr(18))
    );
}

#[test]
fn never_and_not_set_keep_their_meaning() {
    let active = Binding {
        addr: Some(Ipv4Addr::new(10, 0, 0, 9)),
        status: Some(status::ACTIVE),
        chaddr: Some(vec![1, 2, 3, 4, 5, 6, 7]),
        ends: Some(MAX_TIME),
        potential_expiry: Some(MAX_TIME),
        start_time_of_state: Some(1_700_000_000),
        ..Binding::default()
    };
    let w = to_wire(&active, Owner::Primary).expect("maps");
    assert_eq!((w.expires, w.potential_expiry), (0, 0), "tandem's never");
    assert_eq!((w.htype, w.chaddr.as_slice()), (1, &[2, 3, 4, 5, 6, 7][..]));
    assert_eq!(from_wire(&w), active, "never is MAX_TIME again");
    let mut far = w.clone();
    far.expires = 1 << 40;
    assert_eq!(
        from_wire(&far).ends,
        Some(MAX_TIME),
        "clamped at ISC's 2038"
    );
    far.state = LeaseState::Free.code() as u8;
    far.expires = 0;
    assert_eq!(from_wire(&far).ends, Some(0), "a free address's unset time");
}
