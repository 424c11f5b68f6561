use crate::config::{Config, ConfigError, DirectUnicast};

fn problems(text: &str) -> Vec<(usize, String, String)> {
    match Config::parse(text, "t.toml") {
        Err(ConfigError::Invalid { problems, .. }) => problems
            .into_iter()
            .map(|p| (p.line, p.key, p.message))
            .collect(),
        Err(e) => panic!("expected validation problems, got {e}"),
        Ok(_) => panic!("expected validation problems, config was accepted"),
    }
}

const BASE: &str = r#"[server]
interfaces = ["eth0"]
lease_db = "/tmp/x.sqlite"
"#;

#[test]
fn shipped_examples_are_valid() {
    for f in [
        "config/single.toml",
        "config/lab.toml",
        "config/pair-a.toml",
        "config/pair-b.toml",
        "config/campus-a.toml",
        "config/campus-b.toml",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f);
        let c = Config::load(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!c.subnets.is_empty());
    }
    // The campus pair's halves agree on everything both must.
    let load =
        |f: &str| Config::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap();
    let (a, b) = (load("config/campus-a.toml"), load("config/campus-b.toml"));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert!(!a.classes.is_empty() && !a.shared_networks.is_empty());
}

#[test]
fn defaults_and_typed_values() {
    let c = Config::parse(&format!("{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\npools = [\"10.0.0.10-10.0.0.20\"]\nrouters = [\"10.0.0.1\"]\n"), "t").unwrap();
    let s = &c.subnets[0];
    assert_eq!(s.lease.default, 43_200);
    assert_eq!((s.lease.min, s.lease.max), (43_200, 43_200));
    assert_eq!(c.server.port, 67);
    assert_eq!(c.server.direct_unicast, DirectUnicast::Packet);
    assert_eq!(s.options[0].code, 3);
    assert_eq!(c.pools[0].range.len(), 11);
}

#[test]
fn syntax_error_names_line() {
    let e = Config::parse(
        &format!("{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\nlease_time = \"12x\"\n"),
        "t.toml",
    )
    .unwrap_err();
    let s = e.to_string();
    assert!(s.contains("line 6"), "{s}");
    assert!(s.contains("lease_time"), "{s}");
    assert!(s.contains("invalid duration"), "{s}");
}

#[test]
fn unknown_key_is_an_error() {
    let e = Config::parse(&format!("{BASE}lease_dbb = \"x\"\n"), "t.toml").unwrap_err();
    assert!(e.to_string().contains("lease_dbb"), "{e}");
}

#[test]
fn pool_outside_subnet() {
    let p = problems(&format!(
        "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\npools = [\"10.0.1.10-10.0.1.20\"]\n"
    ));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, 6);
    assert_eq!(p[0].1, "subnet[0].pools");
    assert!(p[0].2.contains("not inside"));
}

#[test]
fn overlapping_pools_and_subnets() {
    let p = problems(&format!(
        "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\npools = [\"10.0.0.10-10.0.0.20\", \"10.0.0.15-10.0.0.30\"]\n[[subnet]]\ncidr = \"10.0.0.0/16\"\n"
    ));
    assert!(
        p.iter()
            .any(|x| x.1 == "subnet[0].pools" && x.2.contains("overlaps")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|x| x.1 == "subnet[1].cidr" && x.0 == 8),
        "{p:?}"
    );
}

#[test]
fn lease_time_bounds() {
    let p = problems(&format!(
        "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\nlease_time = \"1h\"\nmin_lease_time = \"2h\"\nt1 = \"3h\"\n"
    ));
    assert!(
        p.iter()
            .any(|x| x.1 == "subnet[0].min_lease_time" && x.0 == 7),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.1 == "subnet[0].t1"), "{p:?}");
}

#[test]
fn option_rules() {
    let p = problems(&format!(
        "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\nrouters = [\"10.0.0.1\"]\n[[subnet.option]]\ncode = 3\ntype = \"ipv4\"\nvalue = \"10.0.0.1\"\n[[subnet.option]]\ncode = 53\ntype = \"u8\"\nvalue = 1\n[[subnet.option]]\ncode = 200\ntype = \"u8\"\nvalue = 300\n"
    ));
    assert!(p.iter().any(|x| x.2.contains("already set")), "{p:?}");
    assert!(
        p.iter()
            .any(|x| x.1 == "subnet[0].option.code" && x.0 == 12),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|x| x.1 == "subnet[0].option.value" && x.0 == 18),
        "{p:?}"
    );
}

#[test]
fn reservation_rules() {
    let p = problems(&format!(
        "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\n[[subnet.reservation]]\naddress = \"10.0.0.5\"\n[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\naddress = \"10.0.1.5\"\n[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\naddress = \"10.0.0.6\"\n"
    ));
    assert!(
        p.iter().any(|x| x.2.contains("exactly one of mac")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|x| x.1 == "subnet[0].reservation.address" && x.2.contains("not a usable")),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.2.contains("duplicates")), "{p:?}");
}

#[test]
fn empty_config_needs_interfaces_and_subnets() {
    let p = problems("[server]\nlease_db = \"/tmp/x\"\n");
    assert!(p.iter().any(|x| x.1 == "server.interfaces"), "{p:?}");
    assert!(p.iter().any(|x| x.1 == "subnet"), "{p:?}");
}

#[test]
fn pair_configs_share_a_fingerprint_and_differ_in_role() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let a = Config::load(&dir.join("config/pair-a.toml")).unwrap();
    let b = Config::load(&dir.join("config/pair-b.toml")).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(
        a.failover.as_ref().unwrap().role,
        b.failover.as_ref().unwrap().role
    );
    let mut c = a.clone();
    c.pools[0].range.last = "10.20.255.200".parse().unwrap();
    assert_ne!(
        a.fingerprint(),
        c.fingerprint(),
        "pools are part of the fingerprint"
    );
}

#[test]
fn failover_section_is_validated() {
    let p = problems(&format!(
        "{BASE}[failover]\nrole = \"tertiary\"\nlisten = \"nowhere\"\npeer = \"10.0.0.2:647\"\nsecret_file = \"/k\"\nsplit = 300\nmclt = \"1s\"\n[[subnet]]\ncidr = \"10.0.0.0/24\"\n"
    ));
    for key in [
        "failover.role",
        "failover.listen",
        "failover.split",
        "failover.mclt",
    ] {
        assert!(p.iter().any(|x| x.1 == key), "{key} reported: {p:?}");
    }
}

#[test]
fn option_values_outside_their_rfc_rules_are_refused() {
    let opt = |code: u32, kind: &str, value: &str| {
        format!(
            "{BASE}[[subnet]]\ncidr = \"10.0.0.0/24\"\n\n[[subnet.option]]\ncode = {code}\ntype = \"{kind}\"\nvalue = {value}\n"
        )
    };
    for (code, kind, value, says) in [
        (23, "u8", "0", "1 to 255"),
        (37, "u8", "0", "1 to 255"),
        (22, "u16", "575", "576"),
        (26, "u16", "67", "68"),
        (
            21,
            "ipv4-list",
            r#"["10.0.0.0", "255.0.0.0", "10.1.0.0"]"#,
            "pairs",
        ),
        (33, "ipv4-list", r#"["10.9.0.0"]"#, "pairs"),
        (23, "u16", "64", "one octet"),
        (19, "u8", "2", "flag"),
    ] {
        let p = problems(&opt(code, kind, value));
        assert_eq!(p.len(), 1, "{code}: {p:?}");
        let (line, key, message) = &p[0];
        assert_eq!(*line, 10, "{code}: the value's line");
        assert_eq!(key, "subnet[0].option.value");
        assert!(message.contains(says), "{code}: {message}");
        assert!(message.contains("RFC"), "{code}: {message}");
    }
    assert!(Config::parse(&opt(23, "u8", "64"), "t").is_ok());
    assert!(Config::parse(&opt(33, "ipv4-list", r#"["10.9.0.0", "10.0.0.1"]"#), "t").is_ok());
}

#[test]
fn the_metrics_address_takes_a_default_port_and_a_bad_one_is_named() {
    let subnet = "[[subnet]]\ncidr = \"10.0.0.0/24\"\n";
    let with = |m: &str| {
        format!("[server]\nmetrics = \"{m}\"\ninterfaces = [\"eth0\"]\nlease_db = \"/x\"\n{subnet}")
    };
    let c = Config::parse(&with("127.0.0.1"), "t").unwrap();
    assert_eq!(c.server.metrics, Some("127.0.0.1:9267".parse().unwrap()));
    let c = Config::parse(&with("0.0.0.0:9100"), "t").unwrap();
    assert_eq!(c.server.metrics, Some("0.0.0.0:9100".parse().unwrap()));
    let c = Config::parse(&format!("{BASE}{subnet}"), "t").unwrap();
    assert_eq!(c.server.metrics, None, "no listener unless asked for");
    let p = problems(&with("localhost:x"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].0, p[0].1.as_str()), (2, "server.metrics"));
}

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
