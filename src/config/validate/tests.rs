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
        // Every shipped pair declares a dead partner down by itself, and
        // only on client evidence (issue 18).
        if let Some(fo) = &c.failover {
            assert_eq!(fo.auto_partner_down, Some(60), "{f}");
            assert_eq!(fo.partner_down_evidence, Some(Default::default()), "{f}");
        }
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

const PAIR: &str = "[failover]\nrole = \"primary\"\nlisten = \"10.0.0.1\"\npeer = \"10.0.0.2\"\nsecret_file = \"/k\"\nauto_partner_down = \"1m\"\n";
const SUBNET: &str = "[[subnet]]\ncidr = \"10.0.0.0/24\"\n";

#[test]
fn partner_down_evidence_is_on_by_default_and_validated() {
    use crate::failover::evidence::EvidenceConfig;
    let c = Config::parse(&format!("{BASE}{PAIR}{SUBNET}"), "t").unwrap();
    let f = c.failover.unwrap();
    assert_eq!(f.partner_down_evidence, Some(EvidenceConfig::default()));
    let table = "[failover.partner_down_evidence]\nclients = 3\nwindow = \"5m\"\nsecs = 20\n";
    let c = Config::parse(&format!("{BASE}{PAIR}{table}{SUBNET}"), "t").unwrap();
    let e = c.failover.unwrap().partner_down_evidence.unwrap();
    assert_eq!((e.clients, e.window, e.secs), (3, 300, 20));
    let off = "[failover.partner_down_evidence]\nenabled = false\n";
    let c = Config::parse(&format!("{BASE}{PAIR}{off}{SUBNET}"), "t").unwrap();
    assert_eq!(c.failover.unwrap().partner_down_evidence, None);
    let bad = "[failover.partner_down_evidence]\nclients = 0\nwindow = \"10s\"\nsecs = 900\n";
    let p = problems(&format!("{BASE}{PAIR}{bad}{SUBNET}"));
    for key in ["clients", "window", "secs"] {
        let key = format!("failover.partner_down_evidence.{key}");
        assert!(p.iter().any(|x| x.1 == key), "{key} reported: {p:?}");
    }
    let long = "[failover.partner_down_evidence]\nwindow = \"1m\"\nsecs = 60\n";
    let p = problems(&format!("{BASE}{PAIR}{long}{SUBNET}"));
    assert!(
        p.iter().any(|x| x.2.contains("shorter than the window")),
        "{p:?}"
    );
    let unknown = "[failover.partner_down_evidence]\nclient = 3\n";
    assert!(Config::parse(&format!("{BASE}{PAIR}{unknown}{SUBNET}"), "t").is_err());
}

#[test]
fn the_witness_is_a_third_host_on_udp_647_by_default() {
    let c = Config::parse(&format!("{BASE}{PAIR}{SUBNET}"), "t").unwrap();
    assert_eq!(c.failover.unwrap().witness, None);
    let w = "witness = \"10.0.0.9\"\n";
    let c = Config::parse(&format!("{BASE}{PAIR}{w}{SUBNET}"), "t").unwrap();
    let want = "10.0.0.9:647".parse().ok();
    assert_eq!(c.failover.unwrap().witness, want);
    for bad in ["10.0.0.2", "10.0.0.1:6470", "witness.example"] {
        let w = format!("witness = \"{bad}\"\n");
        let p = problems(&format!("{BASE}{PAIR}{w}{SUBNET}"));
        assert!(p.iter().any(|x| x.1 == "failover.witness"), "{bad}: {p:?}");
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

mod campus;
mod ddns;
mod isc;
