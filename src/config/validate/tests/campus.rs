//! Shared networks, client classes and pools with class rules.

use super::{BASE, problems};
use crate::config::Config;

#[test]
fn shared_networks_are_named_and_each_has_subnets() {
    let text = format!(
        r#"{BASE}
[[shared_network]]
name = "hall"
lease_time = "5s"

[[shared_network]]
name = "hall"

[[shared_network]]
name = "empty"

[[subnet]]
cidr = "10.0.0.0/24"
shared_network = "hal"

[[subnet]]
cidr = "10.0.1.0/24"
shared_network = "hall"
"#
    );
    let p = problems(&text);
    let has = |key: &str, words: &str| p.iter().any(|(_, k, m)| k == key && m.contains(words));
    assert!(has("shared_network[0].lease_time", "between 10s"), "{p:?}");
    assert!(
        has("shared_network[1].name", "another [[shared_network]]"),
        "{p:?}"
    );
    assert!(has("shared_network[2]", "no [[subnet]] names it"), "{p:?}");
    assert!(
        has(
            "subnet[0].shared_network",
            "no [[shared_network]] is named \"hal\""
        ),
        "{p:?}"
    );
}

#[test]
fn a_subnet_inherits_what_its_shared_network_sets_unless_it_sets_its_own() {
    let text = format!(
        r#"{BASE}
[[shared_network]]
name = "hall"
lease_time = "2h"
authoritative = true
dns_servers = ["10.9.0.53"]
boot_file = "net.efi"

[[shared_network.option]]
code = 150
type = "ipv4"
value = "10.9.0.5"

[[subnet]]
cidr = "10.0.0.0/24"
shared_network = "hall"
lease_time = "1h"
authoritative = false

[[subnet.option]]
code = 6
type = "ipv4-list"
value = ["10.0.0.53"]

[[subnet]]
cidr = "10.0.1.0/24"
shared_network = "hall"

[[subnet]]
cidr = "10.0.2.0/24"
"#
    );
    let c = Config::parse(&text, "t").unwrap();
    let (a, b, alone) = (&c.subnets[0], &c.subnets[1], &c.subnets[2]);
    let data = |s: &crate::config::Subnet, code: u8| {
        s.options
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.data.clone())
    };
    assert_eq!((a.lease.default, a.authoritative), (3600, false));
    assert_eq!((b.lease.default, b.authoritative), (7200, true));
    assert_eq!(
        data(a, 6),
        Some(vec![10, 0, 0, 53]),
        "its own [[option]] 6 wins"
    );
    assert_eq!(data(b, 6), Some(vec![10, 9, 0, 53]));
    assert_eq!(data(a, 150), Some(vec![10, 9, 0, 5]));
    assert_eq!(b.boot_file.as_deref(), Some("net.efi"));
    assert_eq!(alone.boot_file, None);
    assert_eq!(c.shared_networks.len(), 1);
    assert_eq!(c.shared_networks[0].subnets, [a.id, b.id]);
    assert_eq!((a.shared_network, alone.shared_network), (Some(0), None));
    assert_eq!(c.link_of(b).map(|s| s.id).collect::<Vec<_>>(), [a.id, b.id]);
    assert_eq!(
        c.link_of(alone).map(|s| s.id).collect::<Vec<_>>(),
        [alone.id]
    );
    assert_eq!(
        c.on_link(a, "10.0.1.9".parse().unwrap()).map(|s| s.id),
        Some(b.id)
    );
    assert_eq!(
        c.on_link(a, "10.0.2.9".parse().unwrap()).map(|s| s.id),
        None
    );

    // Both peers must agree on which subnets share a link.
    let split = text.replace(
        "cidr = \"10.0.1.0/24\"\nshared_network = \"hall\"\n",
        "cidr = \"10.0.1.0/24\"\n",
    );
    assert_ne!(split, text);
    let c2 = Config::parse(&split, "t").unwrap();
    assert_ne!(c.fingerprint(), c2.fingerprint());
}

#[test]
fn classes_need_a_unique_name_a_criterion_and_pools_name_real_ones() {
    let text = format!(
        r#"{BASE}
[[class]]
name = "pxe"
arch = [70000]

[[class]]
name = "pxe"
mac_prefix = ["52:54:00:00:00:00:01"]

[[class]]
name = "everyone"

[[subnet]]
cidr = "10.0.0.0/24"

[[subnet.pool]]
range = "10.0.0.10-10.0.0.20"
allow = ["pxe", "phones"]
deny = ["nobody"]
"#
    );
    let p = problems(&text);
    let has = |key: &str, words: &str| p.iter().any(|(_, k, m)| k == key && m.contains(words));
    assert!(has("class[0].arch", "0 to 65535"), "{p:?}");
    assert!(has("class[1].name", "another [[class]]"), "{p:?}");
    assert!(has("class[1].mac_prefix", "longer than a MAC"), "{p:?}");
    assert!(has("class[2]", "matches every client"), "{p:?}");
    assert!(
        has("subnet[0].pool.allow", "no [[class]] is named \"phones\""),
        "{p:?}"
    );
    assert!(
        has("subnet[0].pool.deny", "no [[class]] is named \"nobody\""),
        "{p:?}"
    );
}

#[test]
fn class_rules_options_and_pool_rules_are_read() {
    let text = format!(
        r#"{BASE}
[[class]]
name = "floor-3"
circuit_id = ["down0"]
remote_id_hex = ["01:02"]
known = false
dns_servers = ["10.0.0.99"]
boot_file = "x.efi"

[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.20"]

[[subnet.pool]]
range = "10.0.0.30-10.0.0.40"
deny = ["floor-3"]
"#
    );
    let c = Config::parse(&text, "t").unwrap();
    let cl = &c.classes[0];
    assert_eq!(cl.rule.circuit_id, [b"down0".to_vec()]);
    assert_eq!(cl.rule.remote_id, [vec![1, 2]]);
    assert_eq!(cl.rule.known, Some(false));
    assert_eq!(cl.options[0].data, [10, 0, 0, 99]);
    assert_eq!(cl.boot_file.as_deref(), Some("x.efi"));
    assert_eq!(c.pools.len(), 2);
    assert!(c.pools[0].allow.is_empty() && c.pools[0].deny.is_empty());
    assert_eq!(
        (c.pools[1].range.first.to_string(), &c.pools[1].deny),
        ("10.0.0.30".into(), &vec![cl.id])
    );
    assert_eq!(c.subnets[0].pools, [c.pools[0].id, c.pools[1].id]);

    // Both peers must classify alike.
    let other = Config::parse(
        &text.replace("deny = [\"floor-3\"]", "allow = [\"floor-3\"]"),
        "t",
    )
    .unwrap();
    assert_ne!(c.fingerprint(), other.fingerprint());
}

#[test]
fn what_only_a_subnet_may_set_and_clashes_across_a_shared_network_are_refused() {
    let text = format!(
        r#"{BASE}
[[class]]
name = "phones"
vendor_class_prefix = [""]

[[class.option]]
code = 3
type = "ipv4-list"
value = ["10.0.0.1"]

[[shared_network]]
name = "hall"

[[shared_network.option]]
code = 121
type = "hex"
value = "00:0a:00:00:01"

[[subnet]]
cidr = "10.0.0.0/24"
shared_network = "hall"

[[subnet.reservation]]
mac = "52:54:00:00:00:01"
address = "10.0.0.9"

[[subnet.pool]]
range = "10.0.0.10-10.0.0.20"
allow = ["phones"]
deny = ["phones"]

[[subnet]]
cidr = "10.0.1.0/24"
shared_network = "hall"

[[subnet.reservation]]
mac = "52:54:00:00:00:01"
address = "10.0.1.9"

[[subnet.pool]]
range = "10.0.2.10-10.0.2.20"
"#
    );
    let p = problems(&text);
    let has = |key: &str, words: &str| p.iter().any(|(_, k, m)| k == key && m.contains(words));
    assert!(has("class[0].vendor_class_prefix", "empty value"), "{p:?}");
    assert!(
        has("class[0].option", "option 3 depends on the subnet"),
        "{p:?}"
    );
    assert!(
        has(
            "shared_network[0].option",
            "option 121 depends on the subnet"
        ),
        "{p:?}"
    );
    assert!(has("subnet[0].pool", "both allowed and denied"), "{p:?}");
    assert!(
        has(
            "subnet[1].reservation",
            "same client has a reservation at 10.0.0.9"
        ),
        "{p:?}"
    );
    assert!(
        has("subnet[1].pool.range", "not inside 10.0.1.0/24"),
        "{p:?}"
    );
    let lines: Vec<(usize, &str)> = p.iter().map(|(l, _, m)| (*l, m.as_str())).collect();
    let mut unique = lines.clone();
    unique.dedup();
    assert_eq!(lines, unique, "each problem once");
}
