//! A real dhcpd primary's frames, captured in the lab, replayed into the
//! session: what the peer is told of them.

use super::*;

#[test]
fn the_captured_primary_reaches_the_peer_as_tandem_messages() {
    let primary = captured("primary");
    let now = Time(u64::from(primary[0].time));
    let (mut s, _) = IscSession::open(cfg(false), now);
    s.send(now, peer_connect(now, State::Recover));
    let mut out = Vec::new();
    let mut asked = None;
    for f in &primary {
        let mut f = f.clone();
        // The captured UPDDONE answered the captured secondary's request;
        // here it answers the peer's, made when told of the partner.
        if f.kind == MessageType::UpdDone {
            f.xid = asked.expect("the peer asked first");
        }
        let told = s.receive(Time(u64::from(f.time)), &f);
        if messages(&told)
            .iter()
            .any(|m| matches!(m, Message::Connect(_)))
        {
            let ask = s.send(now, Message::UpdateRequestAll);
            asked = frames_of(&ask).first().map(|f| f.xid);
            out.extend(told);
            out.extend(ask);
        } else {
            out.extend(told);
        }
    }
    assert!(!closed(&out), "{out:?}");
    let sent = frames_of(&out);
    assert_eq!(sent[0].kind, MessageType::ConnectAck);
    assert_eq!(
        (sent[1].kind, sent[1].u8(OptionCode::SERVER_STATE)),
        (MessageType::State, Some(6)),
        "our RECOVER goes out once the connection is up"
    );
    let told = messages(&out);
    let Message::Connect(c) = &told[0] else {
        panic!("{told:?}")
    };
    assert!(c.primary && c.fingerprint == "ours");
    // dhcpd starts in RECOVER only without a saved failover state: a
    // database new (or lost), named anew for the peer.
    assert_ne!(c.epoch, ISC_EPOCH);
    assert_eq!(s.recover_epoch(), None, "dropped once dhcpd left RECOVER");
    assert_eq!(c.mclt, 30, "the primary's MCLT");
    let updates: Vec<_> = told
        .iter()
        .filter_map(|m| match m {
            Message::BindingUpdate { batch, leases, .. } => Some((*batch, leases.len())),
            _ => None,
        })
        .collect();
    let bndupds: Vec<u64> = primary
        .iter()
        .filter(|f| f.kind == MessageType::BndUpd)
        .map(|f| isc_batch(f.xid))
        .collect();
    assert!(!bndupds.is_empty());
    assert_eq!(updates, bndupds.iter().map(|x| (*x, 1)).collect::<Vec<_>>());
    assert!(told.contains(&Message::UpdateRequestAll));
    assert!(told.contains(&Message::UpdateDone));
}
