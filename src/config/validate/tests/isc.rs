//! `[failover] protocol`: tandem's own needs its key; ISC's needs the
//! relationship name and takes no key and no witness.

use super::*;
use crate::config::PeerProtocol;

const SUBNET: &str = "[[subnet]]\ncidr = \"10.0.0.0/24\"\n";

fn pair(extra: &str) -> String {
    format!(
        "{BASE}[failover]\nrole = \"secondary\"\nlisten = \"10.0.0.2\"\npeer = \"10.0.0.1\"\n{extra}{SUBNET}"
    )
}

fn keys(text: &str) -> Vec<String> {
    problems(text).into_iter().map(|(_, k, _)| k).collect()
}

#[test]
fn an_isc_partner_is_named_by_its_relationship() {
    let text = pair("protocol = \"isc-draft12\"\nrelationship = \"campus\"\n");
    let c = Config::parse(&text, "t").expect("valid");
    let f = c.failover.unwrap();
    assert_eq!(
        f.protocol,
        PeerProtocol::IscDraft12 {
            relationship: "campus".into()
        }
    );
    assert_eq!(f.protocol.secret_file(), None);
}

#[test]
fn tandem_s_protocol_is_the_default_and_needs_its_key() {
    let c = Config::parse(&pair("secret_file = \"/k\"\n"), "t").expect("valid");
    let f = c.failover.unwrap();
    assert_eq!(f.protocol.secret_file(), Some(std::path::Path::new("/k")));
    assert_eq!(keys(&pair("")), ["failover.secret_file"]);
    let named = pair("secret_file = \"/k\"\nrelationship = \"campus\"\n");
    assert_eq!(keys(&named), ["failover.relationship"]);
    assert_eq!(
        keys(&pair("protocol = \"dhcpd\"\nsecret_file = \"/k\"\n")),
        ["failover.protocol"]
    );
}

#[test]
fn isc_s_protocol_takes_no_key_and_no_witness_and_needs_a_name() {
    let isc = "protocol = \"isc-draft12\"\n";
    assert_eq!(keys(&pair(isc)), ["failover.relationship"]);
    let keyed = pair(&format!(
        "{isc}relationship = \"campus\"\nsecret_file = \"/k\"\n"
    ));
    assert_eq!(keys(&keyed), ["failover.secret_file"]);
    let witnessed = pair(&format!(
        "{isc}relationship = \"campus\"\nwitness = \"10.0.0.9\"\n"
    ));
    assert_eq!(keys(&witnessed), ["failover.witness"]);
    let empty = pair(&format!("{isc}relationship = \"\"\n"));
    assert_eq!(keys(&empty), ["failover.relationship"]);
    let fast = pair(&format!(
        "{isc}relationship = \"c\"\nmax_response_delay = \"2s\"\n"
    ));
    assert_eq!(keys(&fast), ["failover.max_response_delay"]);
    let any = format!(
        "{BASE}[failover]\nrole = \"secondary\"\nlisten = \"0.0.0.0\"\npeer = \"10.0.0.1\"\n{isc}relationship = \"c\"\n{SUBNET}"
    );
    assert_eq!(keys(&any), ["failover.listen"]);
}
